"""Paired image-to-image translation (pix2pix, Isola et al. 2017) on the one training loop.

G (``generator.arch=unet``) maps a ``src`` image to a ``dst`` image (``data.direction``); D
(``discriminator.arch=patchgan``) judges (input, output) pairs, the two images stacked as channels,
one logit per 70x70 patch (with the paper's ladder). Per step, as the reference code:

* **D**: G(src) is made once; D learns ``(src, dst)`` -> real, ``(src, G(src))`` -> fake, its
  objective halved: ``0.5 * loss.d`` (``loss=bce``: the paper's cGAN loss; every patch a sample);
* **G**: ``loss.g(D(src, G(src))) + translate.l1_weight * mean |G(src) - dst|`` (the paper's 100),
  reusing the D phase's G(src). Dropout in G (``generator.dropout``, 0.5) is the only noise.

At inference G runs as the paper says (section 3.3) and the reference code does without ``--eval``:
dropout on, batch norm on the statistics of the image itself (batch norm in training mode, one image at
a time: instance normalisation), the running statistics neither used nor updated
(:func:`gankit.tasks.trained_translate.generator_mode`); seeded, so a translation is reproducible.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.tasks.base import Phase, PhaseContext
from gankit.tasks.translation import Translation, patch_logits


class Pix2Pix(Translation):
    name = "pix2pix"
    columns = ("l1", "g_loss", "d_loss", "d_real", "d_fake")
    paired = True

    def __init__(self, cfg, data, device) -> None:
        self.setup(cfg, data, device)
        self.nets = {k: v.to(device) for k, v in self.build_nets(cfg, data.shape[0]).items()}
        self.G, self.D = self.nets["G"], self.nets["D"]
        self.optimizers = self.settings(cfg, ("G",), ("D",))

    @staticmethod
    def build_nets(cfg, channels: int) -> dict[str, nn.Module]:
        """G on ``channels``-channel images, D on (input, output) pairs stacked as channels."""
        from gankit.models import build_discriminator, build_generator

        s = cfg.translate.size
        return {"G": build_generator(cfg.generator, (channels, s, s)),
                "D": build_discriminator(cfg.discriminator, (2 * channels, s, s))}

    @classmethod
    def from_config(cls, cfg, data, device) -> "Pix2Pix":
        if not hasattr(data, "a"):
            raise GankitError("task=pix2pix trains on side-by-side A|B images or folders A/ and B/ (data.path=FOLDER)")
        return cls(cfg, data, device)

    def phases(self) -> list[Phase]:
        return [Phase("D", opt="D", trains=("D",), loss_stat="d_loss"),
                Phase("G", opt="G", trains=("G",), frozen=("D",), batch=False, loss_stat="g_loss")]

    def inputs(self, phase: Phase, batch, ctx: PhaseContext) -> dict[str, Tensor | None]:
        if phase.name == "G":
            c = ctx.carry
            return {"src": c["src"], "dst": c["dst"], "fake": c["fake"]}
        src, dst = self.encode(batch[self.src]), self.encode(batch[self.dst])
        keep = ctx.accumulate == 1  # with micro-batches, G's update runs G again instead
        with torch.set_grad_enabled(keep):
            fake = ctx.train_nets["G"](src)
        ctx.carry.update(src=src, dst=dst, fake=fake if keep else None)
        return {"src": src, "dst": dst, "fake": fake.detach()}

    def loss(self, phase: Phase, x, ctx: PhaseContext) -> tuple[Tensor, dict[str, Tensor]]:
        if phase.name == "D":
            D = ctx.train_nets["D"]
            real = D(torch.cat([x["src"], x["dst"]], 1))
            fake = D(torch.cat([x["src"], x["fake"]], 1))
            read = torch.sigmoid if self.loss_fn.probability else (lambda t: t)
            loss = self.d_weight * self.loss_fn.d(real=patch_logits(real), fake=patch_logits(fake))
            return loss, {"d_real": read(real.detach()).mean(), "d_fake": read(fake.detach()).mean()}
        fake = x["fake"] if x.get("fake") is not None else ctx.train_nets["G"](x["src"])
        return self.g_loss(fake, x["src"], x["dst"], self.D)

    def g_loss(self, fake: Tensor, src: Tensor, dst: Tensor, D: nn.Module) -> tuple[Tensor, dict[str, Tensor]]:
        """``g_weight * loss.g(D(src, fake)) + l1_weight * mean |fake - dst|`` and the L1 term."""
        l1 = F.l1_loss(fake, dst)
        adv = self.loss_fn.g(fake=patch_logits(D(torch.cat([src, fake], 1))))
        return self.g_weight * adv + self.t.l1_weight * l1, {"l1": l1.detach()}

    def export(self, nets: dict[str, nn.Module], step: int):
        return "generator", {"G": nets["G"].state_dict()}, self.export_meta(step)

    def preview(self, nets: dict[str, nn.Module], fixed: dict[str, Tensor]):
        """Rows of (input, output, target) in [0, 1], G run as at inference (seeded dropout)."""
        from gankit.tasks.trained_translate import run_generator

        src = self.encode(fixed[self.src])
        out = self.decode(run_generator(nets["G"], src, noise=True, seed=0))
        return self.strips([fixed[self.src].float() / 255.0, out, fixed[self.dst].float() / 255.0])
