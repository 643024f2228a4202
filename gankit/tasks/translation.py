"""What pix2pix and CycleGAN share on the one loop: their data, batches, previews, export and evaluation.

:class:`Translation` is the base of both tasks (gankit/tasks/pix2pix.py, cyclegan.py). The data are two
image domains A and B (gankit.data.pairs); ``data.direction`` says which one is translated into the
other (``src`` -> ``dst``). Batches are random ``translate.size`` crops with random horizontal flips:

* :class:`FlipCropBatches`, paired: the same crop and flip of both images of a pair;
* :class:`UnpairedBatches`, unpaired: A and B images drawn, cropped and flipped independently (an
  epoch is a pass over the larger domain, as CycleGAN's dataset length is the larger one's).

:class:`ImagePool` is Shrivastava et al. 2017's history of generated images, as CycleGAN uses it.
Everything random here has its own ``torch.Generator`` whose state the checkpoints keep.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from gankit.losses import LOSSES
from gankit.tasks.base import OptimizerSetting, Task, adam_settings, averaged
from gankit.training.batches import CropBatches


class FlipCropBatches(CropBatches):
    """:class:`CropBatches` with a random horizontal flip per item (the same for every list)."""

    def __init__(self, images: dict, size: int, batch_size: int, seed: int, shard=(0, 1), flip: bool = True) -> None:
        super().__init__(images, size, batch_size, seed, shard)
        self.flip, self.flip_gen = flip, torch.Generator().manual_seed(seed + 2)

    def next(self) -> dict[str, Tensor]:
        out = super().next()
        if self.flip:
            mask = (torch.rand(len(next(iter(out.values()))), generator=self.flip_gen) < 0.5).to(self.device)
            out = {k: torch.where(mask[:, None, None, None], v.flip(-1), v) for k, v in out.items()}
        return out

    def state_dict(self) -> dict:
        return {**super().state_dict(), "flip": self.flip_gen.get_state()}

    def load_state_dict(self, s: dict) -> None:
        super().load_state_dict(s)
        self.flip_gen.set_state(s["flip"])


class UnpairedBatches:
    """Batches ``{"a": ..., "b": ...}`` of independently drawn A and B crops."""

    def __init__(self, a: list, b: list, size: int, batch_size: int, seed: int, shard=(0, 1), flip: bool = True):
        self.parts = {"a": FlipCropBatches({"a": a}, size, batch_size, seed, shard, flip),
                      "b": FlipCropBatches({"b": b}, size, batch_size, seed + 7919, shard, flip)}
        self.lead = self.parts["a" if len(a) >= len(b) else "b"]  # the larger domain counts the epochs
        self.per_epoch, self.items = self.lead.per_epoch, max(len(a), len(b))  # items: what a resume checks

    @property
    def epoch(self) -> int:
        return self.lead.epoch

    def next(self) -> dict[str, Tensor]:
        return {k: p.next()[k] for k, p in self.parts.items()}

    def state_dict(self) -> dict:
        return {"items": self.items, **{k: p.state_dict() for k, p in self.parts.items()}}

    def load_state_dict(self, s: dict) -> None:
        for k, p in self.parts.items():
            p.load_state_dict(s[k])


class ImagePool:
    """A buffer of up to ``size`` past fakes: while filling, each new image goes in and comes back; once
    full, each new image is, with probability 1/2, swapped for a random stored one (which is returned
    and replaced by it), else returned itself. ``size=0``: the new images, untouched."""

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.images = size, []
        self.gen = torch.Generator().manual_seed(seed)

    def query(self, fakes: Tensor) -> Tensor:
        if self.size == 0:
            return fakes
        out = []
        for img in fakes.detach():
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
            elif float(torch.rand((), generator=self.gen)) > 0.5:
                i = int(torch.randint(0, self.size, (), generator=self.gen))
                out.append(self.images[i].clone())
                self.images[i] = img.clone()
            else:
                out.append(img)
        return torch.stack(out)

    def state_dict(self) -> dict:
        s = {"gen": self.gen.get_state(), "count": len(self.images)}
        return s | ({"images": torch.stack(self.images).cpu()} if self.images else {})

    def load_state_dict(self, s: dict, device) -> None:
        self.gen.set_state(s["gen"])
        self.images = list(s["images"].to(device).unbind(0)) if int(s["count"]) else []


def paper_weights(loss: str) -> tuple[float, float]:
    """(D factor, G factor) on gankit's loss functions giving the papers' objectives: D's objective
    halved (both papers); with lsgan, G's term is (D(G(x)) - 1)^2, twice gankit's lsgan_g."""
    return (1.0, 2.0) if loss == "lsgan" else (0.5, 1.0)


def patch_logits(t: Tensor) -> Tensor:
    """(N, 1, h, w) patch logits -> (N * h * w, 1): every patch a sample of gankit's loss functions."""
    return t.reshape(-1, 1)


class Translation(Task):
    """The shared half of pix2pix and CycleGAN; subclasses set ``paired`` and the networks."""

    evaluable = False  # scored by gankit eval (L1/PSNR/SSIM, KID), not by the in-training metrics
    num_classes = 0
    paired = True

    def setup(self, cfg, data, device, generators: tuple[str, ...] = ("G",)) -> None:
        """What both tasks keep; ``generators`` are the networks ``ema.decay`` averages."""
        from gankit.config.schema import to_dict

        self.data, self.t, self.device = data, cfg.translate, device
        self.src, self.dst = ("a", "b") if cfg.data.direction == "AtoB" else ("b", "a")
        self.direction = cfg.data.direction
        self.loss_fn, self.loss_name = LOSSES.get(cfg.loss), cfg.loss
        self.d_weight, self.g_weight = paper_weights(cfg.loss)
        self.g_weight *= cfg.translate.gan_weight
        # the health monitor reads D's balance only where G learns from D (gan_weight 0: G ignores it)
        self.probability = self.loss_fn.probability and self.g_weight > 0
        self.meta = {"generator": to_dict(cfg)["generator"], "preset": cfg.preset}
        self.ema = averaged(cfg.ema.decay, generators)

    @staticmethod
    def settings(cfg, g_nets: tuple, d_nets: tuple) -> dict[str, OptimizerSetting]:
        return adam_settings(cfg, g_nets, d_nets, hold=cfg.translate.decay_start)

    @classmethod
    def load_data(cls, cfg):
        from gankit.data.pairs import load_translation_set

        return load_translation_set(cfg, paired=cls.paired)

    def batch_tensors(self, data) -> dict:
        return {"index": torch.arange(len(data))}

    def batches(self, tensors, batch_size: int, seed: int, shard: tuple[int, int]):
        device = tensors["index"].device
        a, b = [t.to(device) for t in self.data.a], [t.to(device) for t in self.data.b]
        if self.paired:
            return FlipCropBatches({"a": a, "b": b}, self.t.size, batch_size, seed, shard, self.t.flip)
        return UnpairedBatches(a, b, self.t.size, batch_size, seed, shard, self.t.flip)

    def encode(self, x: Tensor) -> Tensor:
        """uint8 pixels -> training space."""
        c = self.data.codec
        return (x.float() / 255.0 - c.offset.to(x.device)) / c.scale.to(x.device)

    def decode(self, x: Tensor) -> Tensor:
        return self.data.codec.decode(x).float()

    # ------------------------------------------------------------------ use

    def export_meta(self, step: int) -> dict:
        d = self.data
        data = {"name": d.name, "kind": d.kind, "shape": [d.shape[0], self.t.size, self.t.size], **d.codec.to_dict()}
        return self.model_meta(step, data, direction=self.direction, size=self.t.size,
                               load=self.t.load or self.t.size)

    @classmethod
    def load_trained(cls, state: dict, meta: dict, source: str, device: str = "cpu"):
        from gankit.tasks.trained_translate import load_translator

        return load_translator(state, meta, source, device)

    @classmethod
    def trained(cls, G: nn.Module, meta: dict):
        from gankit.tasks.trained_translate import TrainedTranslator

        return TrainedTranslator({"ab" if meta["direction"] == "AtoB" else "ba": G}, meta)

    @classmethod
    def evaluate_run(cls, run, g, cfg, seed: int = 0) -> dict:
        """``gankit eval``: L1 / PSNR / SSIM on pairs and KID (gankit.metrics.translate_eval)."""
        from gankit.metrics.translate_eval import evaluate_translator

        return evaluate_translator(run, g, cfg, seed)

    def usage(self, run) -> str:
        return f"gankit translate {run} in.png --out out.png; scores: gankit eval {run}"

    def fixed_inputs(self, n: int, seed: int) -> dict[str, Tensor]:
        """Up to 4 centre crops of the first images of each domain, for the preview strips."""
        from gankit.data.pairs import centre

        d, k = self.data, min(4, len(self.data.a), len(self.data.b))
        return {key: torch.stack([centre(t, self.t.size) for t in getattr(d, key)[:k]]).to(self.device)
                for key in ("a", "b")}

    def strips(self, rows: list[Tensor]) -> tuple[np.ndarray, int]:
        """Rows of the given pictures (each (k, C, H, W) in [0, 1]) side by side."""
        return torch.stack(rows, 1).flatten(0, 1).cpu().numpy(), len(rows)

    def summary(self) -> str:
        return self.tables(self.nets, self.data.shape[0], self.t.size)

    @classmethod
    def tables(cls, nets: dict, c: int, s: int) -> str:
        from gankit.models.summary import summary

        parts = []
        for name, net in nets.items():
            cin = c * (2 if name.startswith("D") and cls.paired else 1)
            parts.append(summary(net, torch.zeros(2, cin, s, s), f"{name} (input: {cin} x {s} x {s})"))
        return "\n\n".join(parts)

    @classmethod
    def summarize(cls, cfg) -> str:
        """Model tables of a config without its data (images of data.channels, by default 3)."""
        c = cfg.data.channels or 3
        return cls.tables(cls.build_nets(cfg, c), c, cfg.translate.size)
