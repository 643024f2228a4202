"""Synthetic toy sets, made on the fly from the run seed (no files, no download).

* ``gaussian-1d``: N(mean, std) in one dimension.
* ``ring``: 8 Gaussians, std 0.01, centred at (cos θk, sin θk), θk = k·2π/8 (k = 0..7) — *not*
  ``linspace(0, 2π, 8)``, which puts two centres on top of each other.
* ``grid``: 25 Gaussians, std 0.05, centred at {-4, -2, 0, 2, 4}².
These are the mode-collapse benchmarks of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018).
"""

from __future__ import annotations

import numpy as np

from gankit.config.schema import DataConfig
from gankit.data import Raw

RING_STD = 0.01
GRID_STD = 0.05


def ring_centres(n_modes: int = 8, radius: float = 1.0) -> np.ndarray:
    theta = np.arange(n_modes) * (2 * np.pi / n_modes)
    return np.stack([radius * np.cos(theta), radius * np.sin(theta)], 1)


def grid_centres() -> np.ndarray:
    v = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
    return np.stack(np.meshgrid(v, v, indexing="ij"), -1).reshape(-1, 2)


def mixture(centres: np.ndarray, std: float, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    k = rng.integers(0, len(centres), size=n)
    return centres[k] + std * rng.standard_normal((n, centres.shape[1])), k


def gaussian_1d(cfg: DataConfig, seed: int) -> Raw:
    rng = np.random.default_rng(seed)
    x = cfg.mean + cfg.std * rng.standard_normal((cfg.n_samples, 1))
    return Raw(x.astype(np.float32), "table", columns=["x"])


def ring(cfg: DataConfig, seed: int) -> Raw:
    x, k = mixture(ring_centres(), RING_STD, cfg.n_samples, np.random.default_rng(seed))
    return Raw(x.astype(np.float32), "table", labels=k, classes=[str(i) for i in range(8)], columns=["x", "y"])


def grid(cfg: DataConfig, seed: int) -> Raw:
    x, k = mixture(grid_centres(), GRID_STD, cfg.n_samples, np.random.default_rng(seed))
    return Raw(x.astype(np.float32), "table", labels=k, classes=[str(i) for i in range(25)], columns=["x", "y"])
