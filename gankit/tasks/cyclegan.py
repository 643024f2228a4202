"""Unpaired image-to-image translation and style transfer (CycleGAN, Zhu et al. 2017) on the one loop.

G_ab maps domain A to B and G_ba B to A (``generator.arch=resnet``); D_a judges A images and D_b B
images (``discriminator.arch=patchgan``). A and B batches are drawn independently. Per step, in the
reference code's order:

* **G** (both generators, the discriminators frozen), with fake_b = G_ab(a), fake_a = G_ba(b):
  ``adv + λ (|G_ba(fake_b) - a| + |G_ab(fake_a) - b|) + λ · identity · (|G_ab(b) - b| + |G_ba(a) - a|)``
  where adv = (D_b(fake_b) - 1)^2 + (D_a(fake_a) - 1)^2 with ``loss=lsgan`` (the paper's least squares;
  any registered loss's G term otherwise), λ = ``translate.cycle_weight`` (10), identity =
  ``translate.identity`` (0.5), each |.| a mean over pixels;
* **D** (both discriminators, one optimiser): each sees real images of its domain and fakes from a
  :class:`gankit.tasks.translation.ImagePool` of ``translate.pool`` (50) past fakes:
  ``0.5 (D(real) - 1)^2 + 0.5 D(pooled fake)^2`` per discriminator (lsgan; halved as the paper does).

Generators use instance norm and no dropout: inference runs them in evaluation mode (the same output
either way). Learning rates stay constant for the first ``translate.decay_start`` of the run, then
decay linearly to 0 (``schedule=linear``), as the paper's 100 + 100 epochs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.tasks.base import Phase, PhaseContext
from gankit.tasks.translation import ImagePool, Translation, patch_logits

G_NETS, D_NETS = ("G_ab", "G_ba"), ("D_a", "D_b")


class CycleGAN(Translation):
    name = "cyclegan"
    columns = ("cycle", "identity", "g_loss", "d_loss", "d_real", "d_fake")
    paired = False

    def __init__(self, cfg, data, device) -> None:
        self.setup(cfg, data, device, G_NETS)
        self.nets = {k: v.to(device) for k, v in self.build_nets(cfg, data.shape[0]).items()}
        self.optimizers = self.settings(cfg, G_NETS, D_NETS)
        seed = cfg.train.seed
        self.pools = {"a": ImagePool(cfg.translate.pool, seed + 11), "b": ImagePool(cfg.translate.pool, seed + 13)}

    @staticmethod
    def build_nets(cfg, channels: int) -> dict[str, nn.Module]:
        from gankit.models import build_discriminator, build_generator

        shape = (channels, cfg.translate.size, cfg.translate.size)
        return {**{n: build_generator(cfg.generator, shape) for n in G_NETS},
                **{n: build_discriminator(cfg.discriminator, shape) for n in D_NETS}}

    @classmethod
    def from_config(cls, cfg, data, device) -> "CycleGAN":
        if not hasattr(data, "a"):
            raise GankitError("task=cyclegan trains on folders A/ and B/ of images (or side-by-side A|B images)")
        return cls(cfg, data, device)

    def phases(self) -> list[Phase]:
        return [Phase("G", opt="G", trains=G_NETS, frozen=D_NETS, loss_stat="g_loss"),
                Phase("D", opt="D", trains=D_NETS, batch=False, loss_stat="d_loss")]

    def inputs(self, phase: Phase, batch, ctx: PhaseContext) -> dict[str, Tensor | None]:
        if phase.name == "G":
            a, b = self.encode(batch["a"]), self.encode(batch["b"])
            ctx.carry.update(a=a, b=b, fake_a=[], fake_b=[])
            return {"a": a, "b": b}
        c = ctx.carry
        return {"a": c["a"], "b": c["b"], "fake_a": self.pools["a"].query(torch.cat(c["fake_a"])),
                "fake_b": self.pools["b"].query(torch.cat(c["fake_b"]))}

    def loss(self, phase: Phase, x, ctx: PhaseContext) -> tuple[Tensor, dict[str, Tensor]]:
        if phase.name == "G":
            total, stats, fakes = self.g_loss(ctx.train_nets, x["a"], x["b"])
            ctx.carry["fake_a"].append(fakes["a"].detach())
            ctx.carry["fake_b"].append(fakes["b"].detach())
            return total, stats
        return self.d_loss(ctx.train_nets, x)

    def g_loss(self, n: dict[str, nn.Module], a: Tensor, b: Tensor):
        """(total, statistics, the fakes) of the generators' objective (module docstring)."""
        fake_b, fake_a = n["G_ab"](a), n["G_ba"](b)
        cycle = F.l1_loss(n["G_ba"](fake_b), a) + F.l1_loss(n["G_ab"](fake_a), b)
        adv = self.loss_fn.g(fake=patch_logits(self.nets["D_b"](fake_b))) + \
            self.loss_fn.g(fake=patch_logits(self.nets["D_a"](fake_a)))
        lam, idt_w = self.t.cycle_weight, self.t.identity
        identity = (F.l1_loss(n["G_ab"](b), b) + F.l1_loss(n["G_ba"](a), a)) if idt_w > 0 else cycle.new_zeros(())
        total = self.g_weight * adv + lam * cycle + lam * idt_w * identity
        return total, {"cycle": cycle.detach(), "identity": identity.detach()}, {"a": fake_a, "b": fake_b}

    def d_loss(self, n: dict[str, nn.Module], x: dict) -> tuple[Tensor, dict[str, Tensor]]:
        """Both discriminators' objective: each on real images of its domain and pooled fakes."""
        total, reals, fakes = 0.0, [], []
        for dom in ("a", "b"):
            D = n[f"D_{dom}"]
            real, fake = D(x[dom]), D(x[f"fake_{dom}"])
            total = total + self.d_weight * self.loss_fn.d(real=patch_logits(real), fake=patch_logits(fake))
            reals.append(real.detach().mean())
            fakes.append(fake.detach().mean())
        read = torch.sigmoid if self.loss_fn.probability else (lambda t: t)
        return total, {"d_real": read(torch.stack(reals)).mean(), "d_fake": read(torch.stack(fakes)).mean()}

    def state_dict(self) -> dict:
        return {f"pool_{k}": p.state_dict() for k, p in self.pools.items()}

    def load_state_dict(self, state: dict) -> None:
        for k, p in self.pools.items():
            if f"pool_{k}" in state:
                p.load_state_dict(state[f"pool_{k}"], self.device)

    def export(self, nets: dict[str, nn.Module], step: int):
        return "generator", {n: nets[n].state_dict() for n in G_NETS}, self.export_meta(step)

    def preview(self, nets: dict[str, nn.Module], fixed: dict[str, Tensor]):
        """Rows of (input, translation, translated back) in [0, 1] for the ``src`` -> ``dst`` direction."""
        from gankit.tasks.trained_translate import run_generator

        there, back = (nets["G_ab"], nets["G_ba"]) if self.src == "a" else (nets["G_ba"], nets["G_ab"])
        out = run_generator(there, self.encode(fixed[self.src]), noise=False)
        rec = run_generator(back, out, noise=False)
        return self.strips([fixed[self.src].float() / 255.0, self.decode(out), self.decode(rec)])
