"""Sample-rate conversion by polyphase filtering (``scipy.signal.resample_poly``): upsample by ``up``,
low-pass (a Kaiser-windowed FIR that scipy designs for the ratio), downsample by ``down``, where
``up / down`` is the rate ratio in lowest terms. Exact for rational ratios, no FFT of the whole clip,
and the anti-aliasing filter removes what the new rate cannot hold (everything above its Nyquist).
"""

from __future__ import annotations

import math

import numpy as np


def resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``x`` (T,) at ``rate`` Hz -> (ceil(T * target / rate),) float32 at ``target`` Hz."""
    if rate == target:
        return np.asarray(x, np.float32)
    from scipy.signal import resample_poly

    g = math.gcd(int(rate), int(target))
    up, down = int(target) // g, int(rate) // g
    return resample_poly(np.asarray(x, np.float64), up, down).astype(np.float32)
