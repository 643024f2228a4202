"""Differentiable augmentation (DiffAugment, Zhao et al. 2020) for data-efficient GAN training.

The same random transforms are applied to every image D sees — real in D's step, fake in both D's
and G's step — and they are differentiable, so G learns through them. Without this, D memorises a
small dataset and training collapses; augmenting only the real images would instead teach G to
produce augmented-looking images. Policies: ``color`` (brightness, saturation, contrast),
``translation`` (shift by up to 1/8 of the size, zero padded), ``cutout`` (a zeroed square of half
the size). Images are (N, C, H, W) in the generator's range.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.config.schema import AUGMENTATIONS, parse_policy  # noqa: F401 (re-exported)

def diff_augment(x: Tensor, policy: list[str]) -> Tensor:
    for p in policy:
        x = _FUNCS[p](x)
    return x


def _color(x: Tensor) -> Tensor:
    n = x.shape[0]
    x = x + (torch.rand(n, 1, 1, 1, dtype=x.dtype, device=x.device) - 0.5)  # brightness
    if x.shape[1] > 1:
        mean = x.mean(1, keepdim=True)
        x = (x - mean) * (torch.rand(n, 1, 1, 1, dtype=x.dtype, device=x.device) * 2) + mean  # saturation
    mean = x.mean((1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(n, 1, 1, 1, dtype=x.dtype, device=x.device) + 0.5) + mean  # contrast


def _translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    tx = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device)
    ty = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device)
    gb, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                                torch.arange(w, device=x.device), indexing="ij")
    gx = torch.clamp(gx + tx + 1, 0, h + 1)
    gy = torch.clamp(gy + ty + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return padded.permute(0, 2, 3, 1).contiguous()[gb, gx, gy].permute(0, 3, 1, 2)


def _cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ox = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device)
    oy = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device)
    gb, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(ch, device=x.device),
                                torch.arange(cw, device=x.device), indexing="ij")
    gx = torch.clamp(gx + ox - ch // 2, 0, h - 1)
    gy = torch.clamp(gy + oy - cw // 2, 0, w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[gb, gx, gy] = 0
    return x * mask.unsqueeze(1)


_FUNCS = {"color": _color, "translation": _translation, "cutout": _cutout}
