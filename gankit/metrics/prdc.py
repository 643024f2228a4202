"""Precision / recall and density / coverage: fidelity and diversity as separate numbers.

FID folds "are the samples good?" and "do they cover the data?" into one number. These split them,
in the same feature space, using k-nearest-neighbour balls as the estimate of each data manifold:

* precision (Kynkäänniemi et al. 2019, k=3): share of generated samples inside the real manifold,
  i.e. within the k-NN radius of at least one real sample; recall: share of real samples inside
  the generated manifold (same rule, roles swapped).
* density (Naeem et al. 2020, k=5): how many real balls contain each generated sample, divided by k
  and averaged; ~1 when both sets come from one distribution, robust to real outliers that inflate
  precision. Coverage: share of real samples whose ball contains at least one generated sample;
  robust to generated outliers that inflate recall.

A point is inside a ball when its distance is <= the radius (the papers' closed balls). The k-NN
radius of a point excludes the point itself. Distances are Euclidean in float64, computed in
``batch_size`` row blocks so memory stays O(batch_size * N); the result does not depend on it.

Shapes: real (N, D), fake (M, D) features; scores are Python floats.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gankit.errors import GankitError
from gankit.metrics.fid import as_features

K_PRECISION_RECALL = 3  # Kynkäänniemi et al. 2019
K_DENSITY_COVERAGE = 5  # Naeem et al. 2020
BATCH = 2048


def _need(n_real: int, n_fake: int, k: int, what: str) -> None:
    if n_real < k + 1 or n_fake < k + 1:
        raise GankitError(f"{what} with k={k} needs at least k+1={k + 1} real and generated samples, "
                          f"got {n_real} real and {n_fake} generated; raise --n")


def knn_radii(x: Tensor, k: int, *, batch_size: int = BATCH) -> Tensor:
    """Distance from each row of ``x`` (N, D) to its k-th nearest other row -> (N,)."""
    x = as_features(x)
    if len(x) < k + 1:
        raise GankitError(f"k-NN radii with k={k} need at least {k + 1} samples, got {len(x)}")
    # the k+1-th smallest distance in a row counts the row itself (distance 0) as the first
    return torch.cat([torch.cdist(b, x).kthvalue(k + 1, dim=1).values for b in x.split(batch_size)])


def ball_membership(
    points: Tensor, centres: Tensor, radii: Tensor, *, batch_size: int = BATCH
) -> tuple[Tensor, Tensor]:
    """For points (M, D) and balls (centres (N, D), radii (N,)).

    Returns (how many balls contain each point (M,) int64, whether each ball holds a point (N,) bool).
    """
    counts, hit = [], torch.zeros(len(centres), dtype=torch.bool)
    for b in points.split(batch_size):
        inside = torch.cdist(b, centres) <= radii[None, :]  # (B, N)
        counts.append(inside.sum(1))
        hit |= inside.any(0)
    return torch.cat(counts), hit


def _pair(real, fake, k: int, what: str) -> tuple[Tensor, Tensor]:
    """Real and generated features as (N, D) tensors, checked for ``what`` with ``k`` neighbours."""
    r, f = as_features(real, "real features"), as_features(fake, "generated features")
    _check_dims(r, f)
    _need(len(r), len(f), k, what)
    return r, f


def precision_recall(
    real: Tensor | np.ndarray, fake: Tensor | np.ndarray, *, k: int = K_PRECISION_RECALL, batch_size: int = BATCH
) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of fake against real."""
    r, f = _pair(real, fake, k, "precision/recall")
    in_real, _ = ball_membership(f, r, knn_radii(r, k, batch_size=batch_size), batch_size=batch_size)
    in_fake, _ = ball_membership(r, f, knn_radii(f, k, batch_size=batch_size), batch_size=batch_size)
    return {"precision": float((in_real > 0).double().mean()), "recall": float((in_fake > 0).double().mean())}


def density_coverage(
    real: Tensor | np.ndarray, fake: Tensor | np.ndarray, *, k: int = K_DENSITY_COVERAGE, batch_size: int = BATCH
) -> dict[str, float]:
    """Density and coverage (Naeem et al. 2020) of fake against real."""
    r, f = _pair(real, fake, k, "density/coverage")
    counts, covered = ball_membership(f, r, knn_radii(r, k, batch_size=batch_size), batch_size=batch_size)
    return {"density": float(counts.sum()) / (k * len(f)), "coverage": float(covered.double().mean())}


def prdc(
    real: Tensor | np.ndarray,
    fake: Tensor | np.ndarray,
    *,
    k_pr: int = K_PRECISION_RECALL,
    k_dc: int = K_DENSITY_COVERAGE,
    batch_size: int = BATCH,
) -> dict[str, float]:
    """Precision, recall (k=3) and density, coverage (k=5) in one call."""
    return {**precision_recall(real, fake, k=k_pr, batch_size=batch_size),
            **density_coverage(real, fake, k=k_dc, batch_size=batch_size)}


def _check_dims(r: Tensor, f: Tensor) -> None:
    if r.shape[1] != f.shape[1]:
        raise GankitError(f"real and generated features differ in dimension ({r.shape[1]} vs {f.shape[1]})")
