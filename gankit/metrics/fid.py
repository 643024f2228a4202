"""Fréchet distance (FID) and kernel distance (KID) between two feature sets.

Each metric is features -> statistics -> score, each step a pure function:

* FID (Heusel et al. 2017) fits a Gaussian to each feature set and takes the Fréchet distance
  ``||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))``. Its statistics are the sufficient ones,
  :class:`GaussianStats` (sum, sum of outer products, count, in float64): they stream in batches and
  merge by addition, so shards or processes can be combined in any order and the score does not
  depend on the batch size. The matrix square root is torchmetrics' (eigenvalues of ``S1 S2``, the
  same function its ``FrechetInceptionDistance`` uses), not written again here.
* KID (Bińkowski et al. 2018) is the unbiased squared MMD with the cubic polynomial kernel
  ``k(x, y) = (x.y / D + 1)^3``, averaged over random subsets; torchmetrics' ``poly_mmd`` does the
  kernel maths. It needs the features themselves (its "statistics" merge by concatenation). Unlike
  FID it is unbiased, so small sample sizes do not inflate it.

Shapes: features are (N, D) tensors or arrays; scores are Python floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import torch
from torch import Tensor

from gankit.errors import GankitError

#: Bińkowski et al. 2018 / torchmetrics defaults
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000


def as_features(x: Tensor | np.ndarray, what: str = "features") -> Tensor:
    """(N, D) float64 tensor on the CPU; refuses anything else with a clear message."""
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x)
    if t.ndim != 2:
        raise GankitError(f"{what} must be a 2-D (N, D) array, got shape {tuple(t.shape)}")
    t = t.detach().to("cpu", torch.float64)
    if not torch.isfinite(t).all():
        raise GankitError(f"{what} contain NaN or infinite values; the generator produced non-finite output")
    return t


@dataclass(frozen=True)
class GaussianStats:
    """Sufficient statistics of a feature set for the Fréchet distance.

    ``total`` = sum of x (D,), ``outer`` = sum of x x^T (D, D), ``n`` = count, all float64. Adding
    two gives the statistics of the union, so batches and processes merge exactly.
    """

    total: Tensor  # (D,) float64
    outer: Tensor  # (D, D) float64
    n: int

    @staticmethod
    def empty(dim: int) -> GaussianStats:
        return GaussianStats(torch.zeros(dim, dtype=torch.float64), torch.zeros(dim, dim, dtype=torch.float64), 0)

    @property
    def dim(self) -> int:
        return self.total.shape[0]

    def __add__(self, other: GaussianStats) -> GaussianStats:
        if other.dim != self.dim:
            raise GankitError(f"cannot merge feature statistics of dimension {self.dim} and {other.dim}")
        return GaussianStats(self.total + other.total, self.outer + other.outer, self.n + other.n)

    def mean(self) -> Tensor:  # (D,)
        return self.total / self.n

    def cov(self) -> Tensor:  # (D, D), unbiased (n - 1), as pytorch-fid, torch-fidelity, torchmetrics
        mu = self.mean()
        return (self.outer - self.n * torch.outer(mu, mu)) / (self.n - 1)


def gaussian_stats(features: Tensor | np.ndarray) -> GaussianStats:
    """Statistics of one batch of features (N, D)."""
    f = as_features(features)
    return GaussianStats(f.sum(0), f.T @ f, f.shape[0])


def stream_stats(batches: Iterable[Tensor | np.ndarray], dim: int | None = None) -> GaussianStats:
    """Statistics of a stream of (B, D) feature batches, merged as they come."""
    stats = GaussianStats.empty(dim) if dim is not None else None
    for b in batches:
        s = gaussian_stats(b)
        stats = s if stats is None else stats + s
    if stats is None:
        raise GankitError("no features to compute statistics from")
    return stats


def frechet_distance(real: GaussianStats, fake: GaussianStats) -> float:
    """Fréchet distance between the Gaussians fitted to two feature sets (the FID formula).

    Tiny negative values from round-off (identical sets) are clipped to 0.
    """
    from torchmetrics.image.fid import _compute_fid

    if real.dim != fake.dim:
        raise GankitError(f"real and generated features differ in dimension ({real.dim} vs {fake.dim})")
    if real.n < 2 or fake.n < 2:
        raise GankitError(f"FID needs at least 2 real and 2 generated samples, got {real.n} and {fake.n}; "
                          f"raise --n")
    value = float(_compute_fid(real.mean(), real.cov(), fake.mean(), fake.cov()))
    return max(value, 0.0)


def fid(real: Tensor | np.ndarray, fake: Tensor | np.ndarray, *, batch_size: int | None = None) -> float:
    """FID between real (N, D) and generated (M, D) features, streamed in ``batch_size`` rows."""
    r, f = as_features(real, "real features"), as_features(fake, "generated features")
    bs = batch_size or max(len(r), len(f), 1)
    return frechet_distance(stream_stats(r.split(bs)), stream_stats(f.split(bs)))


def kid(
    real: Tensor | np.ndarray,
    fake: Tensor | np.ndarray,
    *,
    subsets: int = KID_SUBSETS,
    subset_size: int = KID_SUBSET_SIZE,
    seed: int = 0,
) -> tuple[float, float]:
    """KID (mean, std over subsets) between real (N, D) and generated (M, D) features.

    Each subset draws ``min(subset_size, N, M)`` rows of each set without replacement from a
    generator seeded with ``seed``, so the value is reproducible.
    """
    from torchmetrics.image.kid import poly_mmd

    r, f = as_features(real, "real features"), as_features(fake, "generated features")
    if r.shape[1] != f.shape[1]:
        raise GankitError(f"real and generated features differ in dimension ({r.shape[1]} vs {f.shape[1]})")
    m = min(subset_size, len(r), len(f))
    if m < 2:
        raise GankitError(f"KID needs at least 2 real and 2 generated samples, got {len(r)} and {len(f)}; raise --n")
    if subsets < 1:
        raise GankitError(f"KID subsets must be >= 1, got {subsets}")
    gen = torch.Generator().manual_seed(seed)
    scores = torch.empty(subsets, dtype=torch.float64)
    for i in range(subsets):
        ri = r[torch.randperm(len(r), generator=gen)[:m]]
        fi = f[torch.randperm(len(f), generator=gen)[:m]]
        scores[i] = poly_mmd(ri, fi, degree=3, gamma=None, coef=1.0)
    return float(scores.mean()), float(scores.std(unbiased=False))
