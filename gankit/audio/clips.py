"""Clips of one length, by a stated rule (nothing is dropped; what was changed is counted).

* a clip shorter than ``n`` samples is **centred** in the window, with silence (zeros) on both sides
  (the extra sample of an odd difference goes after it);
* a clip longer than ``n`` keeps its **loudest** ``n`` samples: the window with the largest energy
  (sum of squares, from a cumulative sum; the earliest of equal windows). A spoken word in a longer
  recording is kept whole, and leading or trailing silence or noise goes first;
* a clip of exactly ``n`` samples is kept as it is.

:func:`fit_all` returns the counts, for the start-up line (and run.json) to say how many clips were
padded and how many cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def loudest_start(x: np.ndarray, n: int) -> int:
    """Start of the length-``n`` window of ``x`` with the most energy (the first of equal ones)."""
    energy = np.concatenate([[0.0], np.cumsum(np.asarray(x, np.float64) ** 2)])
    window = energy[n:] - energy[:-n]  # window[i] = sum x[i:i+n]^2
    return int(np.argmax(window))


def fit_length(x: np.ndarray, n: int) -> tuple[np.ndarray, str]:
    """(``x`` padded or cut to ``n`` samples, "padded" | "cut" | "kept")."""
    t = len(x)
    if t == n:
        return np.asarray(x, np.float32), "kept"
    if t < n:
        out = np.zeros(n, np.float32)
        left = (n - t) // 2
        out[left : left + t] = x
        return out, "padded"
    start = loudest_start(x, n)
    return np.asarray(x[start : start + n], np.float32), "cut"


@dataclass
class Fitted:
    clips: np.ndarray  # (N, n) float32
    padded: int
    cut: int

    def note(self, seconds: float) -> str | None:
        """"12 of 3,000 clips longer than 1 s cut to their loudest 1 s; 2,988 padded" (None: none changed)."""
        n = len(self.clips)
        parts = []
        if self.cut:
            parts.append(f"{self.cut:,} of {n:,} clips longer than {seconds:g} s cut to their loudest {seconds:g} s")
        if self.padded:
            parts.append(f"{self.padded:,} shorter ones centred in {seconds:g} s of silence")
        return "; ".join(parts) or None


def fit_all(clips: list[np.ndarray], n: int) -> Fitted:
    """Every clip to ``n`` samples, stacked (N, n), with how many were padded and how many cut."""
    out = np.zeros((len(clips), n), np.float32)
    count = {"padded": 0, "cut": 0, "kept": 0}
    for i, x in enumerate(clips):
        out[i], what = fit_length(x, n)
        count[what] += 1
    return Fitted(out, count["padded"], count["cut"])
