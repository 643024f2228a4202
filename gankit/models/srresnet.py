"""SRResNet and the SRGAN discriminator (Ledig et al. 2017).

**Generator** (low-resolution image in, ``scale`` times larger image out, any size, 1 or 3 channels):
conv 9x9 + PReLU; ``blocks`` residual blocks (conv 3x3, BN, PReLU, conv 3x3, BN, + skip); conv 3x3 + BN
and the long skip; upsampling by pixel shuffle (Shi et al. 2016): one x2 stage per factor 2 (x2: one,
x4: two, x8: three), a single x3 stage for x3; conv 9x9 to the image channels (and the output
activation, ``generator.output``). Every layer is a convolution, so each output pixel depends on a
window of the input only: :meth:`SRResNet.margin` is that window's radius in input pixels, the overlap
tiled upscaling needs to give the whole-image output exactly (batch norm in evaluation mode).

**Discriminator** (any patch size): conv 3x3 + LeakyReLU(0.2); per entry of ``channels`` a conv 3x3
(stride 1) and a conv 3x3 (stride 2), each with BN and LeakyReLU (the paper's 64-64-128-128-256-256-
512-512 ladder is ``channels=[64, 128, 256, 512]``); then global average pooling in place of the
paper's flatten (so any patch size works), a 1x1 conv to 1024 (the dense layer), LeakyReLU and one
logit.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.models.layers import output_activation

SCALES = (2, 3, 4, 8)


def upsample_stages(scale: int) -> list[int]:
    """Pixel-shuffle factors of the upsampling stages: [2, 2] for x4, [3] for x3."""
    if scale not in SCALES:
        raise GankitError(f"generator.scale must be one of {', '.join(map(str, SCALES))}, got {scale}")
    return [3] if scale == 3 else [2] * int(math.log2(scale))


class ResidualBlock(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.PReLU(),
                                  nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class SRResNet(nn.Module):
    """(N, C, h, w) in training space -> (N, C, h * scale, w * scale)."""

    def __init__(self, channels: int = 3, width: int = 64, blocks: int = 16, scale: int = 4,
                 output: str = "none") -> None:
        super().__init__()
        self.scale, self.blocks, self.stages = scale, blocks, upsample_stages(scale)
        self.head = nn.Sequential(nn.Conv2d(channels, width, 9, padding=4), nn.PReLU())
        self.body = nn.Sequential(*[ResidualBlock(width) for _ in range(blocks)],
                                  nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width))
        up = []
        for f in self.stages:
            up += [nn.Conv2d(width, width * f * f, 3, padding=1), nn.PixelShuffle(f), nn.PReLU()]
        self.up = nn.Sequential(*up)
        tail = [nn.Conv2d(width, channels, 9, padding=4)]
        act = output_activation(output)
        self.tail = nn.Sequential(*tail, *([act] if act is not None else []))

    def forward(self, x: Tensor) -> Tensor:
        h = self.head(x)
        return self.tail(self.up(h + self.body(h)))

    def margin(self) -> int:
        """Radius, in input pixels, of the window one output pixel depends on (rounded up)."""
        r = 4 + 2 * self.blocks + 1  # head 9x9, two 3x3 per block, the body's last 3x3
        f = 1
        for s in self.stages:
            r += 1 / f  # the 3x3 before each shuffle, at the resolution reached so far
            f *= s
        return math.ceil(r + 4 / f)  # the 9x9 tail at the output resolution


class SRGANDiscriminator(nn.Module):
    """(N, C, H, W), any H, W >= 2^stages -> (N, 1) logits."""

    def __init__(self, channels: int, ladder: list[int], slope: float = 0.2, dense: int = 1024) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, ladder[0], 3, padding=1), nn.LeakyReLU(slope)]
        prev = ladder[0]
        for i, ch in enumerate(ladder):
            if i > 0:
                layers += [nn.Conv2d(prev, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.LeakyReLU(slope)]
            layers += [nn.Conv2d(ch, ch, 3, stride=2, padding=1), nn.BatchNorm2d(ch), nn.LeakyReLU(slope)]
            prev = ch
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(prev, dense, 1), nn.LeakyReLU(slope),
                                  nn.Conv2d(dense, 1, 1), nn.Flatten())

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


def image_channels(shape: tuple[int, ...], who: str) -> int:
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise GankitError(f"{who}.arch=srresnet/srgan needs images with 1 or 3 channels; this data has items of "
                          f"shape {tuple(shape)}")
    return shape[0]
