"""Phase from magnitudes: Griffin & Lim (1984), with the momentum of Perraudin et al. (2013).

A magnitude spectrogram ``S`` has lost its phase. Griffin–Lim alternates two projections: give the
current estimate the target magnitudes (``S * e^{i angle}``), then go to the time domain and back
(``stft(istft(.))``), which makes it a consistent STFT. Each round lowers the distance between the
rebuilt magnitudes and ``S``. The "fast" variant adds momentum ``alpha`` to the projection,
``t_n = c_n + alpha * (c_n - c_{n-1})``: with alpha = 0.99 (Perraudin et al.'s choice) it reaches in
tens of iterations what the plain algorithm (alpha = 0) reaches in hundreds (tests/audio measure it).

The starting phase is random but drawn from a fixed seed, so decoding the same spectrogram gives the
same clip every time (``gankit sample --seed`` reproduces sound, not only spectrograms).

:func:`spectral_convergence` is the usual quality figure of such a round trip:
``||S - |STFT(x)| ||_F / ||S||_F`` (0 = the clip has exactly the asked-for magnitudes).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from gankit.audio.stft import Frames, istft, stft


def griffin_lim(mag: Tensor, f: Frames, iterations: int = 32, momentum: float = 0.99, seed: int = 0) -> Tensor:
    """(N, bins, frames) magnitudes -> (N, samples) waveforms whose STFT magnitudes approach them."""
    gen = torch.Generator().manual_seed(seed)
    phase = torch.rand(mag.shape, generator=gen, dtype=torch.float32).to(mag.device) * (2 * math.pi)
    angles = torch.polar(torch.ones_like(mag), phase)
    previous = None
    for _ in range(iterations):
        rebuilt = stft(istft(mag * angles, f), f)  # the nearest consistent spectrogram
        t = rebuilt if previous is None or momentum == 0 else rebuilt + momentum * (rebuilt - previous)
        previous = rebuilt
        angles = t / t.abs().clamp_min(1e-12)
    return istft(mag * angles, f)


def spectral_convergence(target: Tensor, x: Tensor, f: Frames) -> float:
    """||target - |STFT(x)| ||_F / ||target||_F over a batch: target (N, bins, frames), x (N, samples)."""
    got = stft(x, f).abs()
    return float(torch.linalg.vector_norm(target - got) / torch.linalg.vector_norm(target).clamp_min(1e-12))
