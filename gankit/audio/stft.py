"""The short-time Fourier transform of fixed-length clips, laid out as a fixed number of frames.

A clip of ``samples`` samples becomes ``frames`` columns: the hop is ``samples // (frames - 1)``, the
frames are centred on ``0, hop, 2*hop, ...`` (``torch.stft(center=True)``, reflect padding at the ends)
with a periodic Hann window of ``n_fft`` samples, and the first ``frames`` of them are kept. With
this hop the frames cover the whole clip (8,000 samples, 64 frames: hop 126, the last frame centred at
sample 7,938). The inverse puts back any frames that were left out as zeros and overlap-adds to
exactly ``samples`` samples (``torch.istft(length=samples)``).

Shapes: waveforms (N, samples) <-> complex spectra (N, n_fft // 2 + 1, frames).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Frames:
    """How clips are cut into STFT frames."""

    samples: int  # samples per clip
    n_fft: int  # window (and FFT) length
    frames: int  # frames kept per clip

    @property
    def hop(self) -> int:
        return max(1, self.samples // max(1, self.frames - 1))

    @property
    def bins(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def full(self) -> int:
        """Frames ``torch.stft(center=True)`` makes for a clip."""
        return 1 + self.samples // self.hop

    def window(self, device=None) -> Tensor:
        return torch.hann_window(self.n_fft, periodic=True, device=device)


def stft(x: Tensor, f: Frames) -> Tensor:
    """(N, samples) float -> (N, bins, frames) complex."""
    spec = torch.stft(x, f.n_fft, f.hop, window=f.window(x.device), center=True, pad_mode="reflect",
                      return_complex=True)
    return spec[..., : f.frames]


def istft(spec: Tensor, f: Frames) -> Tensor:
    """(N, bins, frames) complex -> (N, samples) float: the overlap-add inverse of :func:`stft`."""
    missing = f.full - spec.shape[-1]
    if missing > 0:
        spec = torch.cat([spec, spec.new_zeros(*spec.shape[:-1], missing)], -1)
    return torch.istft(spec, f.n_fft, f.hop, window=f.window(spec.device), center=True, length=f.samples)


def magnitude(x: Tensor, f: Frames) -> Tensor:
    """(N, samples) -> (N, bins, frames) |STFT|."""
    return stft(x, f).abs()
