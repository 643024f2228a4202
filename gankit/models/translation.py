"""Image-to-image networks: pix2pix's U-Net (Isola et al. 2017), CycleGAN's ResNet generator (Zhu et al.
2017, after Johnson et al. 2016) and the PatchGAN discriminator both use, as the reference code
(pytorch-CycleGAN-and-pix2pix, ``networks.py``) builds them.

**U-Net** (``generator.arch=unet``, ``generator.blocks`` = levels L): L stride-2 4x4 convolutions down
(LeakyReLU 0.2; norm on all but the first and the innermost), L transposed convolutions up (ReLU, norm),
each up level fed with its down level's features (skip connections), tanh out. Base width
``generator.channels=[ngf]``, doubling per level up to 8 ngf. Dropout (``generator.dropout``, the
paper's 0.5, its only noise) on the up path of the 8 ngf levels between level 4 and the innermost, as
``unet_256`` (L=8: three) and ``unet_128`` (L=7: two). Input sides must divide by 2^L.

**ResNet** (``generator.arch=resnet``, ``generator.blocks`` residual blocks): reflection-padded 7x7
conv, two stride-2 3x3 convs down, the residual blocks (3x3, norm, ReLU, 3x3, norm, + skip), two
transposed convs up, 7x7 conv and tanh; instance norm by default. Input sides must divide by 4.

**PatchGAN** (``discriminator.arch=patchgan``, ``discriminator.channels`` = the ladder): 4x4 convs,
stride 2 for all but the last entry (stride 1), LeakyReLU 0.2, norm on all but the first, then a 4x4
conv to one logit per patch. ``[64, 128, 256, 512]`` is the paper's 70x70 PatchGAN. Any input size
of at least 2^(entries - 1) * 8 pixels gives a map of logits.

Inputs of any size go through :func:`pad_to`: reflection-padded on the bottom and right to the next
multiple of the generator's :attr:`multiple`, and the output cut back to the input's size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import GankitError

NORMS = ("batch", "instance", "none")


def norm_layer(kind: str, ch: int) -> nn.Module:
    """BatchNorm (affine, running statistics), InstanceNorm (no affine, no running statistics, as the
    reference), or nothing."""
    if kind == "batch":
        return nn.BatchNorm2d(ch)
    if kind == "instance":
        return nn.InstanceNorm2d(ch, affine=False, track_running_stats=False)
    if kind == "none":
        return nn.Identity()
    raise GankitError(f"norm must be one of {', '.join(NORMS)} for the translation networks, got {kind!r}")


def _bias(norm: str) -> bool:
    return norm != "batch"  # the reference: no conv bias before a batch norm


def level_width(ngf: int, i: int) -> int:
    return ngf * min(2 ** i, 8)


class UNetGenerator(nn.Module):
    """(N, C, H, W), sides divisible by 2^levels -> (N, C, H, W) in [-1, 1]."""

    def __init__(self, channels: int = 3, ngf: int = 64, levels: int = 8, norm: str = "batch",
                 dropout: float = 0.5, out_channels: int | None = None) -> None:
        super().__init__()
        if levels < 2:
            raise GankitError(f"generator.blocks (U-Net levels) must be >= 2, got {levels}")
        self.levels, self.multiple = levels, 2 ** levels
        out_channels = channels if out_channels is None else out_channels
        bias, downs, ups = _bias(norm), [], []
        for i in range(levels):
            cin = channels if i == 0 else level_width(ngf, i - 1)
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2)]
            layers.append(nn.Conv2d(cin, level_width(ngf, i), 4, 2, 1, bias=bias))
            if 0 < i < levels - 1:
                layers.append(norm_layer(norm, level_width(ngf, i)))
            downs.append(nn.Sequential(*layers))
        for i in range(levels):
            cin = level_width(ngf, i) * (1 if i == levels - 1 else 2)
            if i == 0:
                layers = [nn.ReLU(), nn.ConvTranspose2d(cin, out_channels, 4, 2, 1), nn.Tanh()]
            else:
                layers = [nn.ReLU(), nn.ConvTranspose2d(cin, level_width(ngf, i - 1), 4, 2, 1, bias=bias),
                          norm_layer(norm, level_width(ngf, i - 1))]
                if 4 <= i <= levels - 2 and dropout > 0:
                    layers.append(nn.Dropout(dropout))
            ups.append(nn.Sequential(*layers))
        self.downs, self.ups = nn.ModuleList(downs), nn.ModuleList(ups)

    def forward(self, x: Tensor) -> Tensor:
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
        h = self.ups[-1](skips[-1])
        for i in range(self.levels - 2, -1, -1):
            h = self.ups[i](torch.cat([skips[i], h], 1))
        return h


class ResnetBlock(nn.Module):
    def __init__(self, ch: int, norm: str, dropout: float = 0.0) -> None:
        super().__init__()
        bias = _bias(norm)
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3, bias=bias), norm_layer(norm, ch), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3, bias=bias), norm_layer(norm, ch)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """(N, C, H, W), sides divisible by 4 -> (N, C, H, W) in [-1, 1]."""

    multiple = 4

    def __init__(self, channels: int = 3, ngf: int = 64, blocks: int = 9, norm: str = "instance",
                 dropout: float = 0.0) -> None:
        super().__init__()
        bias = _bias(norm)
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(channels, ngf, 7, bias=bias),
                                   norm_layer(norm, ngf), nn.ReLU()]
        for k in (1, 2):
            layers += [nn.Conv2d(ngf * k, ngf * 2 * k, 3, 2, 1, bias=bias), norm_layer(norm, ngf * 2 * k), nn.ReLU()]
        layers += [ResnetBlock(ngf * 4, norm, dropout) for _ in range(blocks)]
        for k in (4, 2):
            layers += [nn.ConvTranspose2d(ngf * k, ngf * k // 2, 3, 2, 1, output_padding=1, bias=bias),
                       norm_layer(norm, ngf * k // 2), nn.ReLU()]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class PatchGAN(nn.Module):
    """(N, C, H, W) -> (N, 1, h, w): one logit per overlapping patch."""

    def __init__(self, channels: int, ladder: list[int], norm: str = "batch", slope: float = 0.2) -> None:
        super().__init__()
        bias = _bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(channels, ladder[0], 4, 2, 1), nn.LeakyReLU(slope)]
        for k in range(1, len(ladder)):
            stride = 2 if k < len(ladder) - 1 else 1
            layers += [nn.Conv2d(ladder[k - 1], ladder[k], 4, stride, 1, bias=bias), norm_layer(norm, ladder[k]),
                       nn.LeakyReLU(slope)]
        layers.append(nn.Conv2d(ladder[-1], 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def receptive_field(self) -> int:
        """Side of the input patch one logit sees (70 for the paper's four-entry ladder)."""
        r = 1
        for m in reversed([m for m in self.net if isinstance(m, nn.Conv2d)]):
            r = (r - 1) * m.stride[0] + m.kernel_size[0]
        return r


def pad_to(x: Tensor, multiple: int) -> tuple[Tensor, tuple[int, int]]:
    """``x`` padded on the bottom and right to sides divisible by ``multiple`` (reflection where the
    image is large enough, else edge replication), and its original (H, W) to cut the output back to."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)


def image_channels(shape: tuple[int, ...], who: str) -> int:
    if len(shape) != 3 or shape[0] not in (1, 2, 3, 6):
        raise GankitError(f"{who}: the translation networks need images with 1 or 3 channels; got items of shape "
                          f"{tuple(shape)}")
    return shape[0]
