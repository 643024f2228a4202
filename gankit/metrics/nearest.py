"""Near copies: how close each generated item lies to its nearest training item, in a feature space.

A generator can score well on every distribution metric by replaying its training data. The check
of Donahue et al. 2019 (WaveGAN, section 6.1: nearest neighbours of generated clips in the training
set) made numeric: for every generated item the Euclidean distance to its nearest training item in
the domain classifier's feature space, summarised by the median, and beside it the same statistic of
the real held-out items, which the generator never saw and which are *not* copies. A generator that
memorised sits far below that yardstick; one that makes new items of the same kind sits near it.

``near_copies`` counts generated items closer to a training item than the closest held-out item
is (below the minimum of the held-out items' nearest-neighbour distances): a real new recording
never comes that close, so each such item is a candidate copy worth listening to.
"""

from __future__ import annotations

import torch
from torch import Tensor

CHUNK = 1024  # rows of the distance matrix at a time (memory, not results)


def nn_distances(x: Tensor, ref: Tensor) -> Tensor:
    """(N,) Euclidean distance from each row of ``x`` (N, D) to its nearest row of ``ref`` (M, D), float64."""
    if len(ref) == 0:
        raise ValueError("no reference items to measure distances to")
    r = ref.double()
    out = [torch.cdist(b.double(), r).min(1).values for b in x.split(CHUNK)]
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.float64)


def nearest_scores(fake: Tensor, real: Tensor, train: Tensor) -> dict[str, dict]:
    """``nn_distance`` (median of generated -> training nearest distances, with the held-out ``real``
    items' own median as ``real_to_train`` and their ratio) and ``near_copies`` (generated items closer to a
    training item than any held-out item is), from features (N, D) of each set."""
    d_fake, d_real = nn_distances(fake, train), nn_distances(real, train)
    median_fake, median_real = float(d_fake.quantile(0.5)), float(d_real.quantile(0.5))  # the mean of the middle two
    threshold = float(d_real.min())
    copies = int((d_fake < threshold).sum())
    how = {"space": "extractor features, Euclidean", "n_train": len(train), "n_held_out": len(real)}
    return {
        "nn_distance": {"value": median_fake, "statistic": "median", "real_to_train": median_real,
                        "ratio": median_fake / median_real if median_real > 0 else None,
                        "min": float(d_fake.min()), **how},
        "near_copies": {"value": copies, "share": copies / max(len(fake), 1), "threshold": threshold,
                        "rule": "closer to a training item than the closest held-out item", **how},
    }
