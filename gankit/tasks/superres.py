"""Super-resolution (SRGAN, Ledig et al. 2017) on the one training loop.

Phases (``sr.pretrain`` = P steps):

* **G_pixel**, steps [0, P): the PSNR stage (SRResNet): G learns ``content(G(lr), hr)`` alone, with
  content = mean |G(lr) - hr| (``sr.content=l1``) or mean (G(lr) - hr)^2 (``mse``) in training space;
* **D**, from P on: the discriminator learns real HR crops -> real, G(lr) -> fake (``loss=``, bce by
  default; real and fake go through D apart, as D has batch norm);
* **G**, from P on: ``content + sr.adv_weight * adversarial`` (the loss's generator term on D(G(lr));
  the paper's 1e-3), reusing the D phase's G(lr).

Batches are random (lr, hr) crops of the whole images (:class:`gankit.training.batches.CropBatches`,
``sr.patch`` HR pixels), uint8 in memory, mapped to training space per batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.losses import LOSSES, GANLoss
from gankit.tasks.base import OptimizerSetting, Phase, PhaseContext, Task, adam_settings, averaged


def content_loss(kind: str, out: Tensor, target: Tensor) -> Tensor:
    """mean |out - target| (l1) or mean (out - target)^2 (mse)."""
    return F.l1_loss(out, target) if kind == "l1" else F.mse_loss(out, target)


@dataclass(frozen=True)
class SRSettings:
    content: str
    adv_weight: float
    pretrain: int
    patch: int
    scale: int


class SuperResolution(Task):
    name = "superres"
    columns = ("content", "g_loss", "d_loss", "d_real", "d_fake")
    evaluable = False  # scored by gankit eval (PSNR/SSIM), not by the distribution metrics during training
    num_classes = 0

    def __init__(self, G: nn.Module, D: nn.Module, loss: GANLoss, s: SRSettings,
                 optimizers: dict[str, OptimizerSetting], data, meta: dict, ema_decay: float = 0.0) -> None:
        self.G, self.D, self.loss_fn, self.s = G, D, loss, s
        self.nets = {"G": G, "D": D}
        self.optimizers, self.ema = optimizers, averaged(ema_decay)
        self.probability = loss.probability
        self.data, self.meta = data, meta

    @classmethod
    def load_data(cls, cfg):
        """Whole images of any sizes with their low-resolution versions (gankit.data.imageset)."""
        from gankit.data.imageset import load_image_set

        return load_image_set(cfg, seed=cfg.train.seed)

    @classmethod
    def from_config(cls, cfg, data, device) -> "SuperResolution":
        from gankit.config.schema import to_dict
        from gankit.models import build_discriminator, build_generator

        if not hasattr(data, "lr"):
            raise GankitError("task=superres trains on a folder of images of any sizes (data.path=FOLDER)")
        G = build_generator(cfg.generator, data.shape).to(device)
        D = build_discriminator(cfg.discriminator, data.shape).to(device)
        sr = cfg.sr
        s = SRSettings(sr.content, sr.adv_weight, sr.pretrain, sr.patch, cfg.generator.scale)
        opts = adam_settings(cfg)
        meta = {"generator": to_dict(cfg)["generator"], "preset": cfg.preset, "tile": sr.tile}
        return cls(G, D, LOSSES.get(cfg.loss), s, opts, data, meta, cfg.ema.decay)

    def batch_tensors(self, data) -> dict:
        """Image indices: the images differ in size, so :meth:`batches` crops them from ``data`` itself."""
        return {"index": torch.arange(len(data.lr))}

    def batches(self, tensors, batch_size: int, seed: int, shard: tuple[int, int]):
        from gankit.training.batches import CropBatches

        device = tensors["index"].device
        images = {"lr": [t.to(device) for t in self.data.lr], "hr": [t.to(device) for t in self.data.hr]}
        return CropBatches(images, self.s.patch // self.s.scale, batch_size, seed, shard)

    # ------------------------------------------------------------------ phases

    def phases(self) -> list[Phase]:
        p = self.s.pretrain
        return [Phase("G_pixel", opt="G", trains=("G",), stop=p, loss_stat="content"),
                Phase("D", opt="D", trains=("D",), start=p, loss_stat="d_loss"),
                Phase("G", opt="G", trains=("G",), frozen=("D",), batch=False, start=p, loss_stat="g_loss")]

    def encode(self, x: Tensor) -> Tensor:
        """uint8 pixels -> training space."""
        c = self.data.codec
        return (x.float() / 255.0 - c.offset.to(x.device)) / c.scale.to(x.device)

    def inputs(self, phase: Phase, batch, ctx: PhaseContext) -> dict[str, Tensor | None]:
        if phase.name == "G" and batch is None:
            c = ctx.carry
            return {"fake": c["fake"], "hr": c["hr"]} if c["fake"] is not None else {"lr": c["lr"], "hr": c["hr"]}
        lr, hr = self.encode(batch["lr"]), self.encode(batch["hr"])
        if phase.name == "G_pixel":
            return {"lr": lr, "hr": hr}
        keep = ctx.accumulate == 1  # with micro-batches, G's update runs G again instead
        with torch.set_grad_enabled(keep):
            fake = ctx.train_nets["G"](lr)
        ctx.carry.update(fake=fake if keep else None, lr=lr, hr=hr)
        return {"real": hr, "fake": fake.detach()}

    def loss(self, phase: Phase, inputs, ctx: PhaseContext) -> tuple[Tensor, dict[str, Tensor]]:
        if phase.name == "G_pixel":
            c = content_loss(self.s.content, ctx.train_nets["G"](inputs["lr"]), inputs["hr"])
            return c, {"content": c.detach()}
        if phase.name == "D":
            D = ctx.train_nets["D"]
            real, fake = D(inputs["real"]), D(inputs["fake"])
            read = torch.sigmoid if self.loss_fn.probability else (lambda t: t)
            return self.loss_fn.d(real=real, fake=fake), {"d_real": read(real.detach()).mean(),
                                                          "d_fake": read(fake.detach()).mean()}
        fake = inputs.get("fake")
        if fake is None:
            fake = ctx.train_nets["G"](inputs["lr"])
        c = content_loss(self.s.content, fake, inputs["hr"])
        return c + self.s.adv_weight * self.loss_fn.g(fake=self.D(fake)), {"content": c.detach()}

    # ------------------------------------------------------------------ use

    def export(self, nets: dict[str, nn.Module], step: int) -> tuple[str, dict[str, Tensor], dict]:
        d = self.data
        meta = self.model_meta(step, {"name": d.name, "kind": d.kind, "shape": list(d.shape), **d.codec.to_dict()},
                               scale=self.s.scale, tile=self.meta["tile"])
        return "generator", {"G": nets["G"].state_dict()}, meta

    @classmethod
    def load_trained(cls, state: dict, meta: dict, source: str, device: str = "cpu"):
        from gankit.tasks.trained_sr import load_upscaler

        return load_upscaler(state, meta, source, device)

    @classmethod
    def trained(cls, G: nn.Module, meta: dict):
        from gankit.tasks.trained_sr import TrainedUpscaler

        return TrainedUpscaler(G, meta)

    @classmethod
    def evaluate_run(cls, run, g, cfg, seed: int = 0) -> dict:
        """``gankit eval``: PSNR / SSIM on Y and sharpness, beside bicubic's (gankit.metrics.sr_eval)."""
        from gankit.metrics.sr_eval import evaluate_upscaler

        return evaluate_upscaler(run, g, cfg, seed)

    def usage(self, run) -> str:
        return f"gankit upscale {run} photo.png --out big.png; scores: gankit eval {run}"

    def fixed_inputs(self, n: int, seed: int) -> dict[str, Tensor]:
        """Up to 4 fixed (lr, hr) crops of the first images, for input / output / target strips."""
        k = min(4, len(self.data.lr))
        p, s = self.s.patch // self.s.scale, self.s.scale
        lr, hr = [], []
        for a, b in zip(self.data.lr[:k], self.data.hr[:k]):
            top, left = (a.shape[1] - p) // 2, (a.shape[2] - p) // 2
            lr.append(a[:, top:top + p, left:left + p])
            hr.append(b[:, top * s:(top + p) * s, left * s:(left + p) * s])
        device = next(self.G.parameters()).device
        return {"lr": torch.stack(lr).to(device), "hr": torch.stack(hr).to(device)}

    def preview(self, nets: dict[str, nn.Module], fixed: dict[str, Tensor]) -> tuple[np.ndarray, int | None]:
        """Rows of (input enlarged by pixel repetition, output, target, then output and target zoomed: their
        central half enlarged twice by pixel repetition, where fine detail, or its absence, shows) in [0, 1]."""
        G, s = nets["G"], self.s.scale
        was = G.training
        G.eval()
        with torch.inference_mode():
            out = self.data.codec.decode(G(self.encode(fixed["lr"]))).float()
        G.train(was)
        lr = F.interpolate(fixed["lr"].float() / 255.0, scale_factor=s, mode="nearest")
        hr = fixed["hr"].float() / 255.0
        strips = torch.stack([lr, out, hr, zoom(out), zoom(hr)], 1).flatten(0, 1)
        return strips.cpu().numpy(), 5

    def summary(self) -> str:
        from gankit.models.summary import summary

        p = self.s.patch
        c = self.data.shape[0]
        return "\n\n".join([summary(self.G, torch.zeros(1, c, p // self.s.scale, p // self.s.scale),
                                    "generator (input: low-resolution crop)"),
                            summary(self.D, torch.zeros(2, c, p, p), "discriminator (input: high-resolution crop)")])


def zoom(x: Tensor) -> Tensor:
    """(N, C, H, W) -> (N, C, H - H % 2, W - W % 2): the central half of each side, enlarged twice by pixel
    repetition."""
    h, w = x.shape[2] // 2, x.shape[3] // 2
    top, left = (x.shape[2] - h) // 2, (x.shape[3] - w) // 2
    return F.interpolate(x[:, :, top:top + h, left:left + w], scale_factor=2, mode="nearest")
