"""ResNet generator and discriminator of SNGAN (Miyato et al. 2018), with BigGAN's conditioning.

Any image size whose sides divide by 2^len(channels), 1 or 3 channels; CIFAR-10's networks are

    G: z (N, 128) -> Linear -> (256, 4, 4) -> 3 x up-block(256) -> BN -> ReLU -> conv3x3 -> tanh -> (N, 3, 32, 32)
       generator.channels=[256, 256, 256]: the width entering each up-block, coarse to fine
    D: x (N, 3, 32, 32) -> down-block(128) -> down-block(128) -> 2 x block(128) -> ReLU -> sum over H, W
       -> (N, 128) features -> Linear -> (N, 1) logit
       discriminator.channels=[128, 128]: each down-block's width, fine to coarse; discriminator.blocks=2

* **Up-block** (G): BN -> ReLU -> nearest 2x -> conv3x3 -> BN -> ReLU -> conv3x3, plus a 1x1-conv
  shortcut of the upsampled input (computed before the upsampling: a 1x1 conv and nearest upsampling
  commute, and it is four times cheaper).
* **Down-block** (D): ReLU -> conv3x3 -> ReLU -> conv3x3 -> 2x2 average pool, plus a 1x1-conv shortcut
  (pooled first: both are linear, so they commute). The first block skips the leading ReLU (the
  image is not an activation: SNGAN's "optimized" block). Spectral norm on every layer of D
  (``discriminator.norm=spectral``), global *sum* pooling, ReLU throughout, as in the paper.
* **Class conditioning** (``num_classes`` > 0): G's batch norms take their gain and bias from the class
  (:class:`gankit.models.cbn.ClassBatchNorm2d`): a one-hot class (a gain and bias per class, as the
  projection paper's generator, Miyato & Koyama 2018) or, with ``shared_dim``, one class embedding
  shared by every layer (BigGAN, Brock et al. 2019). ``hierarchical`` splits z into len(channels) + 1
  chunks: the first feeds the linear layer, each of the others joins the class in one block's batch
  norms (BigGAN). D is conditioned outside, by projection (gankit.models.conditional): it exposes
  ``features`` and ``head`` for that. ``projection="pooled"`` (the paper's) projects the class on the
  summed (N, C) features; ``"spatial"`` on the whole (N, C·H·W) last map, the sum moved into ``head``
  (:class:`PositionSumHead`), so that the class embedding weighs every position, as a DCGAN D's flattened
  features let it. D's logit without the class is the same function either way.
* Optional self-attention (SAGAN, Zhang et al. 2019) after the block that makes a chosen side
  (:mod:`gankit.models.attention`).

Weights start orthogonal (Saxe et al. 2014), as BigGAN initialises them; biases 0.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.models.attention import SelfAttention2d
from gankit.models.cbn import ClassBatchNorm2d
from gankit.models.layers import orthogonal_init, ortho_sn, output_activation


def check_size(shape: tuple[int, ...], stages: int, who: str) -> tuple[int, int]:
    """(H, W) / 2^stages: the side of the coarsest feature map; a one-line error when it does not divide."""
    if len(shape) != 3:
        raise GankitError(f"{who}.arch=sngan needs image data (C, H, W); this data has shape {shape}")
    c, h, w = shape
    f = 2**stages
    if h % f or w % f:
        raise GankitError(f"{who}.channels has {stages} stages, so the image sides must divide by {f}, but the "
                          f"images are {h}x{w}; use fewer stages or set data.image_size to a multiple of {f}")
    if who == "generator" and c not in (1, 3):
        raise GankitError(f"the sngan generator makes 1 or 3 channels, the data has {c}")
    return h // f, w // f


def attention_at(side: int | None, sides: list[int], who: str) -> int | None:
    """The index of the block after which self-attention runs (the one that makes ``side``, an even side),
    or None."""
    if side is None:
        return None
    if side not in sides or side % 2:  # keys and values are pooled 2x2
        raise GankitError(f"{who}.attention={side}: no block of this {who} makes {side}x{side} feature maps (its "
                          f"blocks make {', '.join(map(str, sides))}); choose one of them, or null for none")
    return sides.index(side)


# ----------------------------------------------------------------------------- the generator


class UpBlock(nn.Module):
    """(N, cin, H, W), (N, cond_dim) -> (N, cout, 2H, 2W)."""

    summary_leaf = True  # gankit summary shows the block as one row

    def __init__(self, cin: int, cout: int, cond_dim: int) -> None:
        super().__init__()
        self.bn1, self.bn2 = ClassBatchNorm2d(cin, cond_dim), ClassBatchNorm2d(cout, cond_dim)
        self.conv1, self.conv2 = nn.Conv2d(cin, cout, 3, 1, 1), nn.Conv2d(cout, cout, 3, 1, 1)
        self.shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        h = F.interpolate(F.relu(self.bn1(x, cond)), scale_factor=2.0, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h), cond)))
        return h + F.interpolate(self.shortcut(x), scale_factor=2.0, mode="nearest")


class SNGANGenerator(nn.Module):
    """z (N, latent_dim) [, y (N,) class indices] -> (N, C, H, W) in the output activation's range."""

    def __init__(self, latent_dim: int, out_shape: tuple[int, ...], channels: list[int], *, num_classes: int = 0,
                 shared_dim: int = 0, hierarchical: bool = False, attention: int | None = None,
                 output: str = "tanh") -> None:
        super().__init__()
        sh, sw = check_size(out_shape, len(channels), "generator")
        n = len(channels)
        if hierarchical and latent_dim % (n + 1):
            raise GankitError(f"generator.hierarchical splits the latent into {n + 1} chunks (one per block and one "
                              f"for the input), so generator.latent_dim must divide by {n + 1}, got {latent_dim}")
        self.latent_dim, self.num_classes, self.out_shape = latent_dim, num_classes, tuple(out_shape)
        self.chunk = latent_dim // (n + 1) if hierarchical else latent_dim
        self.hierarchical, self.base = hierarchical, (channels[0], sh, sw)
        self.shared = nn.Embedding(num_classes, shared_dim) if num_classes and shared_dim else None
        class_dim = (shared_dim or num_classes) if num_classes else 0
        cond_dim = class_dim + (self.chunk if hierarchical else 0)
        self.linear = nn.Linear(self.chunk, channels[0] * sh * sw)
        widths = [*channels[1:], channels[-1]]  # each block's output; the last keeps its width
        self.blocks = nn.ModuleList(UpBlock(cin, cout, cond_dim) for cin, cout in zip(channels, widths))
        self.attn_at = attention_at(attention, [sh * 2 ** (i + 1) for i in range(n)], "generator")
        self.attention = SelfAttention2d(widths[self.attn_at]) if self.attn_at is not None else None
        act = output_activation(output)
        self.out = nn.Sequential(nn.BatchNorm2d(widths[-1]), nn.ReLU(), nn.Conv2d(widths[-1], out_shape[0], 3, 1, 1),
                                 *([act] if act is not None else []))
        self.apply(orthogonal_init)

    def class_vector(self, y: Tensor | None, like: Tensor) -> Tensor | None:  # (N,) -> (N, class_dim)
        if not self.num_classes:
            return None
        if y is None:
            raise TypeError("this generator is class-conditional: call it as G(z, y)")
        return self.shared(y) if self.shared is not None else F.one_hot(y, self.num_classes).to(like.dtype)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        zs = z.split(self.chunk, 1) if self.hierarchical else (z,)
        c = self.class_vector(y, z)
        h = self.linear(zs[0]).reshape(z.shape[0], *self.base)  # (N, c0, H/2^n, W/2^n)
        for i, block in enumerate(self.blocks):
            parts = [t for t in (c, zs[i + 1] if self.hierarchical else None) if t is not None]
            h = block(h, torch.cat(parts, 1) if len(parts) > 1 else (parts[0] if parts else None))
            if i == self.attn_at:
                h = self.attention(h)
        return self.out(h)  # (N, C, H, W)


# ----------------------------------------------------------------------------- the discriminator


class DownBlock(nn.Module):
    """(N, cin, H, W) -> (N, cout, H/2, W/2) with ``down``, else (N, cout, H, W)."""

    summary_leaf = True

    def __init__(self, cin: int, cout: int, *, down: bool, first: bool = False, sn: bool = True) -> None:
        super().__init__()
        self.down, self.first = down, first
        self.conv1 = ortho_sn(nn.Conv2d(cin, cout, 3, 1, 1), sn)
        self.conv2 = ortho_sn(nn.Conv2d(cout, cout, 3, 1, 1), sn)
        self.shortcut = ortho_sn(nn.Conv2d(cin, cout, 1), sn) if (cin != cout or down) else None

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(x if self.first else F.relu(x))
        h = self.conv2(F.relu(h))
        if self.down:
            h, x = F.avg_pool2d(h, 2), F.avg_pool2d(x, 2)
        return h + (self.shortcut(x) if self.shortcut is not None else x)


class SumPool(nn.Module):
    """(N, C, H, W) -> (N, C): ReLU, then the sum over positions (SNGAN's global sum pooling)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x).sum((2, 3))


class SpatialFeatures(nn.Module):
    """(N, C, H, W) -> (N, C·H·W): ReLU, every position kept, times √(H·W).

    The factor keeps a spectrally normalised class embedding's term as large as with sum pooling: the
    pooled term ⟨e, Σ_p h_p⟩ is a flat embedding of ``e`` repeated over the H·W positions, whose norm is
    √(H·W)·‖e‖."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x).flatten(1) * math.sqrt(x.shape[2] * x.shape[3])


class PositionSumHead(nn.Module):
    """(N, C·P) :class:`SpatialFeatures` -> (N, 1): the linear head of the sum over the P positions, the
    logit that :class:`SumPool` and a linear layer give."""

    def __init__(self, channels: int, positions: int, sn: bool) -> None:
        super().__init__()
        self.channels, self.positions = channels, positions
        self.linear = ortho_sn(nn.Linear(channels, 1, bias=False), sn)

    def forward(self, f: Tensor) -> Tensor:
        pooled = f.reshape(f.shape[0], self.channels, self.positions).sum(2) / math.sqrt(self.positions)
        return self.linear(pooled)


class SNGANDiscriminator(nn.Module):
    """``features`` (N, C, H, W) -> (N, F); ``head`` (N, F) -> (N, 1) logit; ``self(x)`` = head(features(x)).

    F is C with ``projection="pooled"`` and C·H·W of the last map with ``"spatial"`` (module docstring)."""

    def __init__(self, in_shape: tuple[int, ...], channels: list[int], blocks: int = 2, norm: str = "spectral",
                 attention: int | None = None, projection: Literal["pooled", "spatial"] = "pooled") -> None:
        super().__init__()
        sh, sw = check_size(in_shape, len(channels), "discriminator")
        sn = norm == "spectral"
        self.spectral_embedding = sn  # the projection's class embedding is spectrally normalised too
        layers: list[nn.Module] = []
        cin = in_shape[0]
        for i, cout in enumerate(channels):
            layers.append(DownBlock(cin, cout, down=True, first=i == 0, sn=sn))
            cin = cout
        layers += [DownBlock(cin, cin, down=False, sn=sn) for _ in range(blocks)]
        sides = [in_shape[1] // 2 ** min(i + 1, len(channels)) for i in range(len(layers))]
        at = attention_at(attention, sides, "discriminator")
        if at is not None:
            layers.insert(at + 1, SelfAttention2d(channels[min(at, len(channels) - 1)], spectral=sn))
        if projection == "spatial":
            self.features = nn.Sequential(*layers, SpatialFeatures())
            self.head: nn.Module = PositionSumHead(cin, sh * sw, sn)
            self.feature_dim = cin * sh * sw
        else:
            self.features = nn.Sequential(*layers, SumPool())
            self.head = ortho_sn(nn.Linear(cin, 1, bias=False), sn)  # the authors' final layer has no bias
            self.feature_dim = cin
        self.in_shape = tuple(in_shape)

    def forward(self, x: Tensor) -> Tensor:  # (N, C, H, W) -> (N, 1) logits
        return self.head(self.features(x))
