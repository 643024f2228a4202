"""The classic GAN task: noise -> G -> D (Goodfellow et al. 2014), unconditional or class-conditional.

Two phases a step: ``n_critic`` discriminator updates, then one generator update.

* **D** learns real -> 1 and fake -> 0 (or the loss's equivalent) on a detached fake batch. When D
  has no batch norm, real and fake go through D in one concatenated forward pass (the same numbers,
  one larger matrix product instead of two). Optional WGAN-GP (Gulrajani et al. 2017) and lazy R1
  (Mescheder et al. 2018; StyleGAN2's lazy interval) penalties, and an AC-GAN head (Odena et al. 2017).
* **G** learns to make D call its samples real, through a frozen D (no D weight gradients). As in
  the PyTorch DCGAN example, it reuses the fake batch of the last D update (one G forward per
  step); with micro-batches it runs G again on that update's noise instead.

Class-conditional runs (projection, Miyato & Koyama 2018, or concat) feed the real batch's labels to
both networks. DiffAugment (Zhao et al. 2020) transforms everything D sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.diffaugment import diff_augment
from gankit.data import Data
from gankit.errors import GankitError
from gankit.losses import LOSSES, GANLoss, gradient_penalty, r1_penalty
from gankit.tasks.base import OptimizerSetting, Phase, PhaseContext, Task, adam_settings, averaged
from gankit.tasks.trained import balanced_classes, class_names


def has_batchnorm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def num_classes(cfg, data: Data) -> int:
    """Number of classes for a conditional run (0 = unconditional); refuses unlabelled data."""
    if cfg.conditional.mode == "none" and not cfg.conditional.acgan:
        return 0
    if data.labels is None or not data.classes:
        raise GankitError(f"conditional.mode={cfg.conditional.mode} needs labelled data, but {data.name} has no "
                          f"labels (use digits, mnist, fashion-mnist, an image folder with one sub-folder per "
                          f"class, or a table with data.label_column=NAME); or set conditional.mode=none")
    return len(data.classes)


def build_networks(cfg, data: Data, k: int, device: torch.device) -> tuple[nn.Module, nn.Module]:
    """G then D (in this order: their initial weights come from the global RNG)."""
    from gankit.models import build_discriminator, build_generator

    try:
        G = build_generator(cfg.generator, data.shape, k, heads=data.modality.heads(data)).to(device)
        D = build_discriminator(cfg.discriminator, data.shape, k, cfg.conditional.mode,
                                cfg.conditional.acgan).to(device)
    except (MemoryError, RuntimeError) as e:
        if isinstance(e, RuntimeError) and "alloc" not in str(e).lower() and "memory" not in str(e).lower():
            raise
        raise GankitError(f"not enough memory for the networks ({str(e).splitlines()[0][:120]}); "
                          f"use smaller generator.hidden / discriminator.hidden") from None
    return G, D


@dataclass(frozen=True)
class NoiseSettings:
    latent_dim: int
    n_critic: int
    gp_weight: float
    r1_gamma: float
    r1_interval: int
    r1_start: int
    acgan_weight: float
    augment: tuple[str, ...]
    noise_seed: int | None


class NoiseGAN(Task):
    name = "noise"
    columns = ("d_loss", "g_loss", "d_real", "d_fake")
    evaluable = True  # gankit.metrics scores its samples during training (eval.every)

    def __init__(self, G: nn.Module, D: nn.Module, loss: GANLoss, s: NoiseSettings, *, num_classes: int = 0,
                 optimizers: dict[str, OptimizerSetting] | None = None, ema_decay: float = 0.0,
                 data: Data | None = None, meta: dict | None = None) -> None:
        self.G, self.D, self.loss_fn, self.s = G, D, loss, s
        self.nets = {"G": G, "D": D}
        self.optimizers = optimizers or {"G": OptimizerSetting(("G",), 2e-4, (0.5, 0.999)),
                                         "D": OptimizerSetting(("D",), 2e-4, (0.5, 0.999))}
        self.ema = averaged(ema_decay)
        self.probability = loss.probability
        self.num_classes = num_classes
        self.conditional = num_classes > 0  # G(z, y) and D(x, y): the fake batch takes the real batch's labels
        self.concat_d = not has_batchnorm(D)  # batch norm couples a batch: then real and fake go through D apart
        self.data, self.meta = data, meta or {}
        # the noise of a step comes from its own generator when seeded (every process draws the same
        # global batch and takes its slice: distributed.py), else from torch's global RNG
        device = next(G.parameters()).device
        self.noise_gen = torch.Generator(device).manual_seed(s.noise_seed) if s.noise_seed is not None else None

    @classmethod
    def from_config(cls, cfg, data: Data, device: torch.device) -> "NoiseGAN":
        from gankit.config.schema import parse_policy, to_dict

        k = num_classes(cfg, data)
        G, D = build_networks(cfg, data, k, device)
        p = cfg.penalty
        s = NoiseSettings(cfg.generator.latent_dim, cfg.train.n_critic, p.gp_weight, p.r1_gamma, p.r1_interval,
                          p.r1_start, cfg.conditional.acgan_weight if cfg.conditional.acgan else 0.0,
                          tuple(parse_policy(cfg.augment.policy)), cfg.train.seed + 2)  # + 1: the grids' noise
        opts = adam_settings(cfg)
        c = cfg.conditional  # how D sees the class, for the start-up line
        how = " + ".join([m for m in (c.mode,) if m != "none"] + (["AC-GAN"] if c.acgan else []))
        meta = {"generator": to_dict(cfg)["generator"], "preset": cfg.preset, "conditional": how}
        return cls(G, D, LOSSES.get(cfg.loss), s, num_classes=k, optimizers=opts, ema_decay=cfg.ema.decay,
                   data=data, meta=meta)

    # ------------------------------------------------------------------ phases

    def phases(self) -> list[Phase]:
        return [Phase("D", opt="D", trains=("D",), repeat=self.s.n_critic, loss_stat="d_loss"),
                Phase("G", opt="G", trains=("G",), frozen=("D",), batch=False, loss_stat="g_loss")]

    def noise(self, n: int, device: torch.device, ctx: PhaseContext) -> Tensor:  # (n, latent_dim)
        if self.noise_gen is None:
            return torch.randn(n, self.s.latent_dim, device=device)
        size, rank = ctx.world_size, ctx.rank  # the global batch's noise, this rank's slice
        z = torch.randn(n * size, self.s.latent_dim, generator=self.noise_gen, device=self.noise_gen.device)
        return z[rank * n : (rank + 1) * n].to(device)

    def inputs(self, phase: Phase, batch, ctx: PhaseContext) -> dict[str, Tensor | None]:
        if phase.name == "D":
            real, y = batch["x"], batch.get("y") if self.conditional else None
            z = self.noise(real.shape[0], real.device, ctx)
            keep = ctx.accumulate == 1  # with micro-batches, G's update runs G again instead
            # G's graph only where G's update uses it: the last D update of the step
            with torch.set_grad_enabled(keep and ctx.repeat == ctx.repeats - 1):
                fake = self.generate(z, y, ctx.train_nets["G"])
            ctx.carry.update(fake=fake if keep else None, z=z, y=y)
            return {"real": real, "fake": fake.detach(), "y": y}
        c = ctx.carry
        return {"fake": c["fake"], "y": c["y"]} if c["fake"] is not None else {"z": c["z"], "y": c["y"]}

    def loss(self, phase: Phase, inputs, ctx: PhaseContext) -> tuple[Tensor, dict[str, Tensor]]:
        if phase.name == "D":
            r1 = self.s.r1_gamma > 0 and ctx.step >= self.s.r1_start and ctx.updates % self.s.r1_interval == 0
            return self._d_loss(inputs["real"], inputs["fake"], inputs["y"], r1, ctx)
        fake = inputs.get("fake")
        if fake is None:
            fake = self.generate(inputs["z"], inputs["y"], ctx.train_nets["G"])
        return self._g_loss(fake, inputs["y"]), {}

    # ------------------------------------------------------------------ the maths

    def generate(self, z: Tensor, y: Tensor | None, G: nn.Module | None = None) -> Tensor:
        G = self.G if G is None else G
        return G(z, y) if self.conditional else G(z)

    def discriminate(self, x: Tensor, y: Tensor | None, D: nn.Module | None = None) -> tuple[Tensor, Tensor | None]:
        """D's logits (N, 1) and, for AC-GAN, class logits (N, K); x is augmented first."""
        D = self.D if D is None else D
        if self.s.augment:
            x = diff_augment(x, list(self.s.augment))
        if not self.conditional:
            return D(x), None
        if self.s.acgan_weight > 0:
            return D(x, y, aux=True)
        return D(x, y), None

    def _readout(self, logits: Tensor) -> Tensor:
        return torch.sigmoid(logits).mean() if self.loss_fn.probability else logits.mean()

    def _d_loss(self, real: Tensor, fake: Tensor, y: Tensor | None, r1: bool, ctx: PhaseContext):
        """D's loss on one (micro-)batch, and mean D(x), mean D(G(z))."""
        if r1:
            real = real.detach().requires_grad_(True)
        n = real.shape[0]
        D_train = ctx.train_nets["D"]
        if self.concat_d:
            logits, aux = self.discriminate(torch.cat([real, fake]), None if y is None else torch.cat([y, y]), D_train)
            real_logits, fake_logits = logits[:n], logits[n:]
        else:  # one forward through the DDP wrapper per backward; its gradient hooks see both
            (real_logits, aux_r), (fake_logits, aux_f) = self.discriminate(real, y, D_train), self.discriminate(fake, y)
            aux = None if aux_r is None else torch.cat([aux_r, aux_f])
        loss = self.loss_fn.d(real=real_logits, fake=fake_logits)
        if aux is not None:  # AC-GAN: D classifies real and fake alike
            loss = loss + self.s.acgan_weight * F.cross_entropy(aux, torch.cat([y, y]))
        if self.loss_fn.gradient_penalty:  # penalties differentiate scaled outputs, then unscale (fp16)
            critic = lambda x: self.discriminate(x, y)[0]  # noqa: E731
            loss = loss + self.s.gp_weight * gradient_penalty(critic, real=real, fake=fake, scale=ctx.scale)
        if r1:  # lazy R1: every r1_interval updates, scaled by the interval
            loss = loss + (self.s.r1_gamma / 2) * self.s.r1_interval * r1_penalty(real_logits, real, scale=ctx.scale)
        return loss, {"d_real": self._readout(real_logits.detach()), "d_fake": self._readout(fake_logits.detach())}

    def _g_loss(self, fake: Tensor, y: Tensor | None) -> Tensor:
        logits, aux = self.discriminate(fake, y)
        loss = self.loss_fn.g(fake=logits)
        if aux is not None:  # AC-GAN: G makes samples D classifies as the asked-for class
            loss = loss + self.s.acgan_weight * F.cross_entropy(aux, y)
        return loss

    # ------------------------------------------------------------------ state and use

    def state_dict(self) -> dict:
        return {"noise": self.noise_gen.get_state()} if self.noise_gen is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.noise_gen is not None and "noise" in state:
            self.noise_gen.set_state(state["noise"])

    def export(self, nets: dict[str, nn.Module], step: int) -> tuple[str, dict[str, Tensor], dict]:
        d = self.data
        data = {"name": d.name, "kind": d.kind, "shape": list(d.shape), **d.codec.to_dict(), "classes": d.classes,
                "columns": d.columns, "label_name": d.label_name,
                **({"label_position": d.label_position} if d.label_position is not None else {})}
        meta = self.model_meta(step, data, num_classes=self.num_classes, ema=bool(self.ema))
        return "generator", {"G": nets["G"].state_dict()}, meta

    def usage(self, run) -> str:
        """A conditional run's hint shows ``--label`` with one of its classes: choosing the class is
        what such a model is for."""
        import shlex

        out = self.data.modality.example_out if self.data is not None else (lambda stem: f"{stem}.png")
        plain = f"gankit sample {run} --n 64 --out {out('samples')}"
        if not self.num_classes:
            return plain
        names = [str(c) for c in (self.data.classes if self.data is not None and self.data.classes
                                  else range(self.num_classes))]
        shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        return (f"{plain}; one class: gankit sample {run} --label {shlex.quote(names[-1])} "
                f"--n 64 --out {shlex.quote(out(names[-1]))} (classes: {shown})")

    def fixed_inputs(self, n: int, seed: int) -> dict[str, Tensor]:
        z = torch.randn(n, self.s.latent_dim, generator=torch.Generator().manual_seed(seed))
        return {"z": z.to(next(self.G.parameters()).device)}

    def preview_classes(self, n: int) -> Tensor | None:
        """The classes of the n preview samples: balanced sorted blocks (several grid rows per class)."""
        return balanced_classes(n, self.num_classes)

    def preview_labels(self, n: int) -> list[str] | None:
        return class_names(self.preview_classes(n), self.data.classes, self.num_classes)

    def preview(self, nets: dict[str, nn.Module], fixed: dict[str, Tensor]) -> tuple[np.ndarray, int | None]:
        """For a conditional G the samples go through the classes in blocks (labelled grid rows)."""
        G, z = nets["G"], fixed["z"]
        was = G.training
        G.eval()
        nrow, y = None, self.preview_classes(len(z))
        with torch.inference_mode():
            if y is not None:
                nrow = max(1, len(z) // self.num_classes) if self.num_classes <= len(z) else None
                out = G(z, y.to(z.device))
            else:
                out = G(z)
            x = self.data.codec.decode(out).float().cpu().numpy()
        G.train(was)
        return x, nrow

    @classmethod
    def load_trained(cls, state: dict, meta: dict, source: str, device: str = "cpu"):
        """The exported generator on its own (gankit.tasks.trained.TrainedGenerator)."""
        from gankit.tasks.trained import load_generator

        return load_generator(state, meta, source, device)

    @classmethod
    def trained(cls, G: nn.Module, meta: dict):
        from gankit.tasks.trained import TrainedGenerator

        return TrainedGenerator(G, meta)

    def describe(self) -> str:
        """"conditional on cultivar (3 classes, projection)" or "unconditional"."""
        if not self.conditional:
            return "unconditional"
        d = self.data
        on = (d.label_name if d is not None and d.label_name else "the class")
        how = self.meta.get("conditional") or "projection"
        return f"conditional on {on} ({self.num_classes} classes, {how})"

    def summary(self) -> str:
        from gankit.models.summary import gan_summary

        return gan_summary(self.G, self.D, self.s.latent_dim, self.num_classes)

    @classmethod
    def summarize(cls, cfg) -> str:
        """G, D and the combined model of a config, from the data's shape alone (no data loaded for
        the built-in sets)."""
        from gankit.data import data_info
        from gankit.models import build_discriminator, build_generator
        from gankit.models.summary import gan_summary

        shape, classes = data_info(cfg.data)
        k = classes if (cfg.conditional.mode != "none" or cfg.conditional.acgan) else 0
        G = build_generator(cfg.generator, shape, k)
        D = build_discriminator(cfg.discriminator, shape, k, cfg.conditional.mode, cfg.conditional.acgan)
        return gan_summary(G, D, cfg.generator.latent_dim, k)

