"""DCGAN-style convolutional generator and discriminator (Radford et al. 2016).

Any image size whose sides are divisible by 2^stages works (8×8 to 64×64 and beyond), 1 or 3 channels.

G: z (N, latent) -> Linear -> (c0, H/2^n, W/2^n) -> n × [ConvTranspose stride 2 -> norm -> ReLU]
   (the last one to the image channels, then the output activation) -> (N, C, H, W)
D: x (N, C, H, W) -> n × [Conv stride 2 -> norm (not on the first) -> LeakyReLU 0.2]
   -> flatten -> Linear -> (N, 1) logit

``channels`` lists the feature maps per stage: G's from coarse to fine ([128, 64] for 28×28 makes
7×7×128 -> 14×14×64 -> 28×28×1, the classic MNIST DCGAN), D's from fine to coarse ([64, 128]).
Weights are initialised as in the paper: conv N(0, 0.02), norm scale N(1, 0.02), biases 0.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.utils import spectral_norm

from gankit.errors import GankitError
from gankit.models.layers import Reshape, activation, output_activation


def same_padding(k: int) -> tuple[int, int]:
    """(padding, output_padding) so that a stride-2 (transposed) conv exactly halves (doubles) size."""
    if k < 2:
        raise GankitError(f"kernel_size must be >= 2, got {k}")
    return ((k - 1) // 2, 1) if k % 2 else (k // 2 - 1, 0)


def check_size(shape: tuple[int, ...], stages: int, who: str) -> tuple[int, int]:
    if len(shape) != 3:
        raise GankitError(f"{who}.arch=dcgan needs image data (C, H, W); this data has shape {shape}: "
                          f"use {who}.arch=mlp for tables, {who}.arch=wavegan for waveforms")
    c, h, w = shape
    f = 2**stages
    if h % f or w % f:
        raise GankitError(
            f"{who}.channels has {stages} stages, so the image size must be divisible by {f}, but it "
            f"is {h}x{w}; use fewer stages or set data.image_size to a multiple of {f}"
        )
    if who == "generator" and c not in (1, 3):
        raise GankitError(f"the dcgan generator makes 1 or 3 channels, the data has {c}")
    return h // f, w // f


def conv_norm(name: str, ch: int) -> nn.Module | None:
    if name in ("none", "spectral"):
        return None
    if name == "batch":
        return nn.BatchNorm2d(ch)
    if name == "layer":
        return nn.GroupNorm(1, ch)  # layer norm over (C, H, W)
    raise GankitError(f"unknown norm {name!r}; choose none, batch, layer or spectral")


def dcgan_init(m: nn.Module) -> None:
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.BatchNorm1d)):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def _sn(m: nn.Module, on: bool) -> nn.Module:
    return spectral_norm(m) if on else m


class DCGANGenerator(nn.Sequential):
    def __init__(self, latent_dim: int, out_shape: tuple[int, ...], channels: list[int], kernel_size: int = 4,
                 norm: str = "batch", output: str = "tanh", act: str = "relu", negative_slope: float = 0.2) -> None:
        sh, sw = check_size(out_shape, len(channels), "generator")
        pad, out_pad = same_padding(kernel_size)
        sn = norm == "spectral"
        c0 = channels[0]
        layers: list[nn.Module] = [_sn(nn.Linear(latent_dim, c0 * sh * sw), sn), Reshape((c0, sh, sw))]
        n = conv_norm(norm, c0)
        layers += [n] if n is not None else []
        layers.append(activation(act, negative_slope))
        for i, (cin, cout) in enumerate(zip(channels, [*channels[1:], out_shape[0]])):
            last = i == len(channels) - 1  # to the image channels: no norm, the output activation
            layers.append(_sn(nn.ConvTranspose2d(cin, cout, kernel_size, 2, pad, out_pad, bias=last or norm != "batch"), sn))
            if not last:
                n = conv_norm(norm, cout)
                layers += [n] if n is not None else []
                layers.append(activation(act, negative_slope))
        out = output_activation(output)
        if out is not None:
            layers.append(out)
        super().__init__(*layers)
        self.apply(dcgan_init)
        self.latent_dim, self.out_shape = latent_dim, tuple(out_shape)

    def forward(self, z: Tensor) -> Tensor:  # (N, latent) -> (N, C, H, W)
        return super().forward(z)


class DCGANDiscriminator(nn.Module):
    """``features`` (N, C, H, W) -> (N, F); ``head`` (N, F) -> (N, 1) logit."""

    def __init__(self, in_shape: tuple[int, ...], channels: list[int], kernel_size: int = 4,
                 norm: str = "batch", act: str = "leaky_relu", negative_slope: float = 0.2,
                 dropout: float = 0.0) -> None:
        super().__init__()
        sh, sw = check_size(in_shape, len(channels), "discriminator")
        pad, _ = same_padding(kernel_size)
        sn = norm == "spectral"
        layers: list[nn.Module] = []
        cin = in_shape[0]
        for i, cout in enumerate(channels):
            layers.append(_sn(nn.Conv2d(cin, cout, kernel_size, 2, pad, bias=i == 0 or norm != "batch"), sn))
            n = conv_norm(norm, cout) if i > 0 else None  # DCGAN: no norm on D's first layer
            layers += [n] if n is not None else []
            layers.append(activation(act, negative_slope))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            cin = cout
        layers.append(nn.Flatten())
        self.features = nn.Sequential(*layers)
        self.feature_dim = channels[-1] * sh * sw
        self.head = _sn(nn.Linear(self.feature_dim, 1), sn)
        self.apply(dcgan_init)
        self.in_shape = tuple(in_shape)

    def forward(self, x: Tensor) -> Tensor:  # (N, C, H, W) -> (N, 1) logits
        return self.head(self.features(x))
