"""WaveGAN's generator and discriminator (Donahue et al. 2019, section 3): DCGAN flattened to one dimension.

The paper turns DCGAN's 5x5 two-dimensional filters into length-25 one-dimensional ones and its stride 2
into stride 4, so five stages go from 16 samples to 16,384 (about 1 s at 16 kHz):

G: z (N, latent) -> Linear -> (c0, T/4^n) -> n x [ConvTranspose1d k=25 stride 4 -> norm -> ReLU]
   (the last one to the waveform's channels, then tanh) -> (N, C, T)
D: x (N, C, T) -> n x [Conv1d k=25 stride 4 -> norm (not on the first) -> LeakyReLU 0.2 -> phase shuffle
   (not after the last)] -> flatten -> Linear -> (N, 1) logit

``channels`` lists the feature maps per stage as for the DCGAN (G coarse to fine, D fine to coarse); the
paper's are 1024-512-256-128-64 (``d = 64``). Any length divisible by 4^stages works; sound clips are padded with
silence to one by the waveform representation (:mod:`gankit.audio.waveform`: FSDD's 8,000 samples at 8 kHz ->
8,192 for 5 stages from 8). The paper uses no batch norm in either network; ``norm`` offers it (G) and
spectral norm (both) as for the DCGAN. Weights keep PyTorch's default initialisation.

**Phase shuffle** (section 3.3): transposed convolutions leave periodic artefacts at the stride's
frequencies, which D could use to tell real from fake by phase alone. Each of D's activations is shifted in
time by a random whole number of samples k in [-n, n], drawn per example, with reflection at the edges, so
the same waveform is seen at several phases; n = 2 in the paper. It acts in training mode only.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import spectral_norm

from gankit.errors import GankitError
from gankit.models.layers import Reshape, activation, output_activation

STRIDE = 4  # the paper's: each stage makes the waveform 4 times longer (G) or shorter (D)


def check_length(shape: tuple[int, ...], stages: int, who: str) -> int:
    """The waveform length at the coarsest stage, T / 4^stages; refuses data that is not (C, T)."""
    if len(shape) != 2:
        raise GankitError(f"{who}.arch=wavegan needs waveforms (C, samples), this data has shape {shape}: for sound "
                          f"set data.representation=waveform; for spectrograms and images use {who}.arch=dcgan")
    c, t = shape
    f = STRIDE**stages
    if t % f:
        raise GankitError(f"{who}.channels has {stages} stages, so a clip's length must divide by 4^{stages} = {f}, "
                          f"but it is {t} samples; set data.length={math.ceil(t / f) * f} (silence appended) or leave "
                          f"it unset to round up automatically, or use fewer stages")
    return t // f


def padding(kernel: int) -> tuple[int, int]:
    """(padding, output_padding) so that a stride-4 (transposed) conv exactly divides (multiplies) length by 4."""
    if kernel < STRIDE:
        raise GankitError(f"wavegan: kernel_size must be >= the stride {STRIDE}, got {kernel}")
    pad = math.ceil((kernel - STRIDE) / 2)
    return pad, 2 * pad - (kernel - STRIDE)


def norm_1d(name: str, ch: int) -> nn.Module | None:
    if name in ("none", "spectral"):
        return None
    if name == "batch":
        return nn.BatchNorm1d(ch)
    if name == "layer":
        return nn.GroupNorm(1, ch)  # layer norm over (C, T)
    raise GankitError(f"unknown norm {name!r}; choose none, batch, layer or spectral")


def _sn(m: nn.Module, on: bool) -> nn.Module:
    return spectral_norm(m) if on else m


class PhaseShuffle(nn.Module):
    """Shift each example of (N, C, T) in time by k ~ U{-n, ..., n} samples, reflecting at the edges."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def forward(self, x: Tensor) -> Tensor:  # (N, C, T) -> (N, C, T)
        if not self.training or self.n == 0:
            return x
        n, (b, c, t) = self.n, x.shape
        k = torch.randint(-n, n + 1, (b, 1), device=x.device)
        padded = F.pad(x, (n, n), mode="reflect")  # padded[:, :, j] = x[:, :, j - n]
        index = torch.arange(t, device=x.device)[None, :] + n - k  # out[t] = x[t - k]
        return padded.gather(2, index[:, None, :].expand(b, c, t))

    def extra_repr(self) -> str:
        return f"n={self.n}"


class WaveGANGenerator(nn.Sequential):
    def __init__(self, latent_dim: int, out_shape: tuple[int, ...], channels: list[int], kernel_size: int = 25,
                 norm: str = "none", output: str = "tanh", act: str = "relu", negative_slope: float = 0.2) -> None:
        length = check_length(out_shape, len(channels), "generator")
        pad, out_pad = padding(kernel_size)
        sn, c0 = norm == "spectral", channels[0]
        layers: list[nn.Module] = [_sn(nn.Linear(latent_dim, c0 * length), sn), Reshape((c0, length))]
        layers += [m for m in (norm_1d(norm, c0),) if m is not None] + [activation(act, negative_slope)]
        for i, (cin, cout) in enumerate(zip(channels, [*channels[1:], out_shape[0]])):
            last = i == len(channels) - 1  # to the waveform's channels: no norm, the output activation
            layers.append(_sn(nn.ConvTranspose1d(cin, cout, kernel_size, STRIDE, pad, out_pad), sn))
            if not last:
                layers += [m for m in (norm_1d(norm, cout),) if m is not None] + [activation(act, negative_slope)]
        out = output_activation(output)
        layers += [out] if out is not None else []
        super().__init__(*layers)
        self.latent_dim, self.out_shape = latent_dim, tuple(out_shape)

    def forward(self, z: Tensor) -> Tensor:  # (N, latent) -> (N, C, T)
        return super().forward(z)


class WaveGANDiscriminator(nn.Module):
    """``features`` (N, C, T) -> (N, F); ``head`` (N, F) -> (N, 1) logit."""

    def __init__(self, in_shape: tuple[int, ...], channels: list[int], kernel_size: int = 25, norm: str = "none",
                 act: str = "leaky_relu", negative_slope: float = 0.2, phase_shuffle: int = 2) -> None:
        super().__init__()
        length = check_length(in_shape, len(channels), "discriminator")
        pad, _ = padding(kernel_size)
        sn, cin = norm == "spectral", in_shape[0]
        layers: list[nn.Module] = []
        for i, cout in enumerate(channels):
            layers.append(_sn(nn.Conv1d(cin, cout, kernel_size, STRIDE, pad), sn))
            layers += [m for m in (norm_1d(norm, cout) if i > 0 else None,) if m is not None]
            layers.append(activation(act, negative_slope))
            if i < len(channels) - 1 and phase_shuffle > 0:
                layers.append(PhaseShuffle(phase_shuffle))
            cin = cout
        layers.append(nn.Flatten())
        self.features = nn.Sequential(*layers)
        self.feature_dim = channels[-1] * length
        self.head = _sn(nn.Linear(self.feature_dim, 1), sn)
        self.in_shape = tuple(in_shape)

    def forward(self, x: Tensor) -> Tensor:  # (N, C, T) -> (N, 1) logits
        return self.head(self.features(x))
