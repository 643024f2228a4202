"""The mel filter bank on Slaney's scale (the Auditory Toolbox's, and librosa's default), and its inverse.

**Scale** (Slaney 1998): linear below 1 kHz, 200/3 Hz per mel (so 1 kHz is 15 mel), logarithmic
above, 27 mel per factor 6.4 (``mel = 15 + ln(f / 1000) / (ln 6.4 / 27)``). Chosen over HTK's
``2595 log10(1 + f/700)`` because it is librosa's default (so the benchmark can check against it) and
because its linear part spaces the low filters evenly, like the FFT's bins: 64 bands of 0-4 kHz start
36 Hz apart (HTK's: 21 Hz, less than the 31 Hz between the bins of a 256-point FFT at 8 kHz).

**Filters**: ``n_mels`` triangles whose edges are ``n_mels + 2`` points equally spaced in mel between
``fmin`` and ``fmax`` (default 0 and the Nyquist frequency): filter ``i`` rises from point ``i`` to
1 at point ``i + 1`` and falls to 0 at point ``i + 2``, evaluated at the FFT bins' frequencies, then
scaled by ``2 / (f[i+2] - f[i])`` (Slaney's area normalisation: each filter has the same area, so
broad high filters do not dominate). A filter that covers no FFT bin is refused: the sample rate or
FFT is too small for that many bands.

**Inverse** (mel -> linear magnitudes, for Griffin–Lim): the filter bank ``M`` (n_mels, bins) has
more columns than rows, so ``M s = m`` has many solutions; ``pinv`` takes the minimum-norm one
(Moore–Penrose pseudo-inverse) and clips negatives to 0, ``nnls`` solves
``min ||M s - m||^2 subject to s >= 0`` by projected gradient (step 1 / ||M||_2^2, started from the
clipped pseudo-inverse, so it is never worse), batched over every frame at once.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from gankit.errors import GankitError

F_SP = 200.0 / 3  # Hz per mel below 1 kHz
MIN_LOG_HZ = 1000.0
MIN_LOG_MEL = MIN_LOG_HZ / F_SP  # 15
LOGSTEP = math.log(6.4) / 27.0


def hz_to_mel(f: Tensor) -> Tensor:
    f = torch.as_tensor(f, dtype=torch.float64)
    log = MIN_LOG_MEL + torch.log(torch.clamp(f, min=MIN_LOG_HZ) / MIN_LOG_HZ) / LOGSTEP
    return torch.where(f >= MIN_LOG_HZ, log, f / F_SP)


def mel_to_hz(m: Tensor) -> Tensor:
    m = torch.as_tensor(m, dtype=torch.float64)
    log = MIN_LOG_HZ * torch.exp(LOGSTEP * (torch.clamp(m, min=MIN_LOG_MEL) - MIN_LOG_MEL))
    return torch.where(m >= MIN_LOG_MEL, log, m * F_SP)


def mel_points(n_mels: int, fmin: float, fmax: float) -> Tensor:
    """The ``n_mels + 2`` filter edges in Hz (float64)."""
    lo, hi = hz_to_mel(torch.tensor(fmin)), hz_to_mel(torch.tensor(fmax))
    return mel_to_hz(torch.linspace(float(lo), float(hi), n_mels + 2, dtype=torch.float64))


def mel_filters(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None) -> Tensor:
    """(n_mels, n_fft // 2 + 1) float32 Slaney-normalised triangular filters."""
    fmax = sample_rate / 2 if fmax is None else fmax
    freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)  # the FFT bins
    f = mel_points(n_mels, fmin, fmax)
    rise = (freqs[None, :] - f[:-2, None]) / (f[1:-1] - f[:-2])[:, None]
    fall = (f[2:, None] - freqs[None, :]) / (f[2:] - f[1:-1])[:, None]
    weights = torch.clamp(torch.minimum(rise, fall), min=0.0) * (2.0 / (f[2:] - f[:-2]))[:, None]
    empty = int((weights.sum(1) == 0).sum())
    if empty:
        raise GankitError(f"{empty} of {n_mels} mel bands cover no frequency bin: at {sample_rate} Hz with "
                          f"n_fft={n_fft} the bins are {sample_rate / n_fft:g} Hz apart, too coarse for {n_mels} "
                          f"bands; lower data.n_mels, raise data.n_fft or lower data.sample_rate")
    return weights.float()


def mel_inverse(filters: Tensor, method: str = "pinv") -> Tensor:
    """(bins, n_mels) matrix taking mel magnitudes to linear ones (method ``pinv``; ``nnls`` starts from it)."""
    return torch.linalg.pinv(filters.double()).float()


def to_linear(mel: Tensor, filters: Tensor, method: str = "pinv", iterations: int = 200) -> Tensor:
    """(N, n_mels, T) mel magnitudes -> (N, bins, T) non-negative linear magnitudes (module docstring)."""
    s = torch.clamp(torch.einsum("fm,nmt->nft", mel_inverse(filters).to(mel), mel), min=0.0)
    if method == "pinv":
        return s
    if method != "nnls":
        raise GankitError(f"data.mel_inverse must be pinv or nnls, got {method!r}")
    M = filters.to(mel)
    step = 1.0 / float(torch.linalg.matrix_norm(M.double(), ord=2)) ** 2  # 1 / Lipschitz constant of the gradient
    for _ in range(iterations):
        residual = torch.einsum("mf,nft->nmt", M, s) - mel
        s = torch.clamp(s - step * torch.einsum("mf,nmt->nft", M, residual), min=0.0)
    return s
