"""Spectrograms as pictures: normalised log-mel (N, 1, n_mels, frames) -> coloured tiles for the grids.

Low frequencies at the bottom (the usual orientation, so rows are flipped), time to the right, the
codec's range mapped onto matplotlib's ``magma`` colours (black = silence, yellow = loudest). Pictures
of generated clips are made from the clips themselves (after Griffin–Lim), so a grid shows what is
heard, in the same colours as the real spectrograms beside it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def spectrogram_images(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """(N, 1, n_mels, frames) values in [lo, hi] -> (N, 3, n_mels, frames) RGB in [0, 1], low bands at the bottom."""
    from matplotlib import colormaps

    v = np.clip((np.asarray(x, np.float32)[:, 0, ::-1, :] - lo) / (hi - lo), 0.0, 1.0)  # (N, n_mels, frames)
    rgb = colormaps["magma"](v)[..., :3]  # (N, n_mels, frames, 3)
    return np.ascontiguousarray(rgb.transpose(0, 3, 1, 2), dtype=np.float32)


def save_spectrogram_grid(x: np.ndarray, path: Path, lo: float, hi: float, *, nrow: int | None = None,
                          labels: list[str] | None = None) -> None:
    """A grid of spectrogram tiles (labelled rows for class-conditional samples), as PNG."""
    from gankit.report.grids import save_grid

    save_grid(spectrogram_images(x, lo, hi), Path(path), nrow=nrow, labels=labels)
