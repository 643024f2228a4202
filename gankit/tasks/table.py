"""The table task: CTGAN (Xu et al. 2019) on mixed-type tables, on the one training loop.

Each step: ``n_critic`` critic updates, then one generator update, as in the noise task, with

* rows encoded by :class:`gankit.tables.transform.MixedCodec` (mode-specific normalisation, one-hot
  categories) and made by a generator with one output head per block (tanh / Gumbel-softmax);
* a conditional vector on the discrete columns and training-by-sampling
  (:mod:`gankit.tables.condition`): the batch source draws anchor rows by log-frequency, the
  generator gets ``cat([z, cond])`` and writes the conditions into its output, the critic sees
  ``cat([row, cond])`` for real anchors and generated rows alike;
* PacGAN (``discriminator.pac``; 10 in the ``table`` preset) and WGAN-GP with the penalty taken per
  pac group, as CTGAN does (any registered loss may be chosen instead).

The batch norm of the generator runs in evaluation mode whenever rows are sampled for use (ctgan
samples in training mode, issue #235).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.losses import LOSSES, GANLoss, gradient_penalty
from gankit.tables.condition import ConditionedBatches, Conditions
from gankit.tasks.base import OptimizerSetting, Phase, PhaseContext, Task, adam_settings, averaged


@dataclass(frozen=True)
class TableSettings:
    latent_dim: int
    n_critic: int
    gp_weight: float
    pac: int
    noise_seed: int


def check_pac(cfg, world_size: int = 1) -> None:
    """Each micro-batch of each process must hold whole pac groups."""
    pac, b = cfg.discriminator.pac, cfg.train.batch_size
    micro = b // max(1, world_size) // max(1, cfg.train.accumulate)
    if micro % pac:
        raise GankitError(f"train.batch_size={b} must split into micro-batches that are multiples of "
                          f"discriminator.pac={pac} (e.g. train.batch_size={max(pac, b // pac * pac)})")


class TableGAN(Task):
    name = "table"
    columns = ("d_loss", "g_loss", "d_real", "d_fake")
    evaluable = True
    reads_tables = True  # the data comes typed (gankit.tables): numbers, categories, dates, missing cells
    num_classes = 0  # conditions are on any discrete column (--where), not on one class label

    def __init__(self, G: nn.Module, D: nn.Module, loss: GANLoss, s: TableSettings, conditions: Conditions,
                 optimizers: dict[str, OptimizerSetting], data, meta: dict, ema_decay: float = 0.0) -> None:
        self.G, self.D, self.loss_fn, self.s, self.cond = G, D, loss, s, conditions
        self.nets = {"G": G, "D": D}
        self.optimizers = optimizers
        self.ema = averaged(ema_decay)  # sampling uses G's moving average
        self.probability = loss.probability
        self.data, self.meta = data, meta
        device = next(G.parameters()).device
        self.noise_gen = torch.Generator(device).manual_seed(s.noise_seed)

    @classmethod
    def from_config(cls, cfg, data, device: torch.device) -> "TableGAN":
        from gankit.config.schema import to_dict
        from gankit.models import build_discriminator, build_generator
        from gankit.tables.transform import MixedCodec

        if not isinstance(data.codec, MixedCodec):
            raise GankitError(f"task=table trains on tables (a .csv or .parquet file, or a pandas DataFrame); "
                              f"{data.name} is {data.kind} data: use a noise-task preset such as digits-dcgan")
        check_pac(cfg)
        codec = data.codec
        conditions = Conditions(codec, data.values, device)  # the training rows' categories: training-by-sampling
        width = codec.width
        G = build_generator(replace(cfg.generator, latent_dim=cfg.generator.latent_dim + conditions.dim), (width,),
                            heads=codec.heads()).to(device)
        D = build_discriminator(cfg.discriminator, (width + conditions.dim,)).to(device)
        s = TableSettings(cfg.generator.latent_dim, cfg.train.n_critic, cfg.penalty.gp_weight, cfg.discriminator.pac,
                          cfg.train.seed + 2)
        opts = adam_settings(cfg)
        meta = {"generator": to_dict(cfg)["generator"], "preset": cfg.preset, "cond_dim": conditions.dim}
        return cls(G, D, LOSSES.get(cfg.loss), s, conditions, opts, data, meta, cfg.ema.decay)

    def batches(self, tensors: dict[str, Tensor], batch_size: int, seed: int, shard: tuple[int, int]):
        """Anchor rows drawn by training-by-sampling, with their conditional vectors."""
        return ConditionedBatches(tensors, batch_size, seed, shard, self.cond)

    # ------------------------------------------------------------------ phases

    def phases(self) -> list[Phase]:
        return [Phase("D", opt="D", trains=("D",), repeat=self.s.n_critic, loss_stat="d_loss"),
                Phase("G", opt="G", trains=("G",), frozen=("D",), batch=False, loss_stat="g_loss")]

    def noise(self, n: int, ctx: PhaseContext) -> Tensor:  # (n, latent) this rank's slice of the global noise
        gen = self.noise_gen
        z = torch.randn(n * ctx.world_size, self.s.latent_dim, generator=gen, device=gen.device)
        return z[ctx.rank * n : (ctx.rank + 1) * n]

    def generate(self, z: Tensor, cond: Tensor, mask: Tensor, G: nn.Module | None = None) -> Tensor:
        """(n, D) rows in the generator's space, the conditioned blocks set to their conditions."""
        G = self.G if G is None else G
        return self.cond.enforce(G(torch.cat([z, cond], dim=1)), cond, mask)

    def inputs(self, phase: Phase, batch, ctx: PhaseContext) -> dict[str, Tensor | None]:
        if phase.name == "D":
            real, cond, mask = batch["x"], batch["cond"], batch["mask"]
            z = self.noise(real.shape[0], ctx).to(real.device)
            keep = ctx.accumulate == 1  # with micro-batches, G's update runs G again instead
            with torch.set_grad_enabled(keep and ctx.repeat == ctx.repeats - 1):
                fake = self.generate(z, cond, mask, ctx.train_nets["G"])
            ctx.carry.update(fake=fake if keep else None, z=z, cond=cond, mask=mask)
            return {"real": torch.cat([real, cond], 1), "fake": torch.cat([fake.detach(), cond], 1)}
        c = ctx.carry
        if c["fake"] is not None:
            return {"fake": torch.cat([c["fake"], c["cond"]], 1)}
        return {"z": c["z"], "cond": c["cond"], "mask": c["mask"]}

    def loss(self, phase: Phase, inputs, ctx: PhaseContext) -> tuple[Tensor, dict[str, Tensor]]:
        if phase.name == "D":
            return self._d_loss(inputs["real"], inputs["fake"], ctx)
        fake = inputs.get("fake")
        if fake is None:
            rows = self.generate(inputs["z"], inputs["cond"], inputs["mask"], ctx.train_nets["G"])
            fake = torch.cat([rows, inputs["cond"]], 1)
        return self.loss_fn.g(fake=self.D(fake)), {}

    def _d_loss(self, real: Tensor, fake: Tensor, ctx: PhaseContext):
        D = ctx.train_nets["D"]
        logits = D(torch.cat([real, fake]))  # no batch norm in D: one forward for both (pac groups never mix)
        real_logits, fake_logits = logits.chunk(2)
        loss = self.loss_fn.d(real=real_logits, fake=fake_logits)
        if self.loss_fn.gradient_penalty:  # per pac group: alpha per group, the norm over the group's rows
            width, pac = real.shape[1], self.s.pac
            critic = lambda g: self.D(g.reshape(-1, width))  # noqa: E731
            loss = loss + self.s.gp_weight * gradient_penalty(critic, real=real.reshape(-1, pac * width),
                                                             fake=fake.reshape(-1, pac * width), scale=ctx.scale)
        read = torch.sigmoid if self.loss_fn.probability else (lambda t: t)
        return loss, {"d_real": read(real_logits.detach()).mean(), "d_fake": read(fake_logits.detach()).mean()}

    # ------------------------------------------------------------------ state and use

    def state_dict(self) -> dict:
        return {"noise": self.noise_gen.get_state()}

    def load_state_dict(self, state: dict) -> None:
        if "noise" in state:
            self.noise_gen.set_state(state["noise"])

    def export(self, nets: dict[str, nn.Module], step: int) -> tuple[str, dict[str, Tensor], dict]:
        d = self.data
        data = {"name": d.name, "kind": d.kind, "shape": list(d.shape), "table": d.codec.to_dict()}
        meta = self.model_meta(step, data, cond_dim=self.cond.dim)
        return "generator", {"G": nets["G"].state_dict()}, meta

    @classmethod
    def load_trained(cls, state: dict, meta: dict, source: str, device: str = "cpu"):
        from gankit.tasks.trained_table import load_table_generator

        return load_table_generator(state, meta, source, device)

    @classmethod
    def trained(cls, G: nn.Module, meta: dict):
        from gankit.tables.transform import MixedCodec
        from gankit.tasks.trained_table import TrainedTable

        return TrainedTable(G, meta, MixedCodec.from_dict(meta["data"]["table"]))

    def usage(self, run) -> str:
        import shlex

        example = ""
        if self.cond.columns:
            col = self.data.codec.schema.used[self.cond.columns[0]]
            example = (f"; rows with a given value: gankit sample {run} --n 1000 --where "
                       f"{shlex.quote(col.name + '=' + col.categories[0].strip())} --out some.csv")
        return f"gankit sample {run} --n 1000 --out synthetic.csv{example}"

    def fixed_inputs(self, n: int, seed: int) -> dict[str, Tensor]:
        gen = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.s.latent_dim, generator=gen)
        cond, mask = self.cond.sample_free(n, gen)
        device = next(self.G.parameters()).device
        return {"z": z.to(device), "cond": cond.to(device), "mask": mask.to(device)}

    def preview(self, nets: dict[str, nn.Module], fixed: dict[str, Tensor]) -> tuple[np.ndarray, int | None]:
        """Rows in column space (numbers, category indices, NaN for missing) for the column plots."""
        G = nets["G"]
        was = G.training
        G.eval()
        with torch.inference_mode(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # the Gumbel noise of the fixed rows
            rows = self.generate(fixed["z"], fixed["cond"], fixed["mask"], G)
            x = self.data.codec.decode(rows).numpy()
        G.train(was)
        return x, None

    def describe(self) -> str:
        k = len(self.cond.columns)
        return f"conditional vector over {k} discrete column{'s' if k != 1 else ''}" if k else ""

    def summary(self) -> str:
        return table_summary(self.G, self.D, self.s.latent_dim, self.cond.dim, self.s.pac)

    @classmethod
    def summarize(cls, cfg) -> str:
        """The networks for the table in ``data.path`` (its columns decide the widths)."""
        from gankit.data import load_data

        data = load_data(cfg.data, typed=True, seed=cfg.train.seed)
        return cls.from_config(cfg, data, torch.device("cpu")).summary()


def table_summary(G: nn.Module, D: nn.Module, latent: int, cond: int, pac: int) -> str:
    """Layer tables of G (input: noise and conditional vector) and D (input: pac rows with their conditions)."""
    from gankit.models.summary import summary

    z = torch.zeros(pac, latent + cond)
    was = G.training
    G.eval()
    with torch.no_grad():
        rows = G(z)
    G.train(was)
    note = f"D judges {pac} rows at once (PacGAN) and outputs one critic value for them." if pac > 1 else ""
    return "\n\n".join([summary(G, z, "generator (input: noise + conditional vector)"),
                         summary(D, torch.zeros(pac, rows.shape[1] + cond), "discriminator (input: row + conditional "
                                 "vector)", note=note)])
