"""Column space <-> the generator's space, the CTGAN way (Xu et al. 2019, "Modeling Tabular Data
using Conditional GAN", section 4.2).

* A **number** column (continuous, integer, datetime) is *mode-specific normalised*: a variational
  Gaussian mixture (scikit-learn's ``BayesianGaussianMixture``, a Dirichlet-process prior, up to
  :data:`MAX_MODES` modes, modes with weight below :data:`WEIGHT_THRESHOLD` dropped) is fitted to the
  column; each value is then written as a one-hot *mode*, drawn from the mixture's posterior for that
  value, and a scalar ``(x - mean_mode) / (4 std_mode)`` in [-1, 1]. The generator makes the scalar
  with tanh and the mode with a Gumbel-softmax. A column with missing cells gets one more mode slot,
  "missing" (its scalar is 0).
* A **category** column (categorical, boolean) is one-hot, with a last "missing" slot when the
  column has missing cells; the generator makes it with a Gumbel-softmax.

Unlike ctgan's transformer (rdt's ClusterBasedNormalizer), which fits the mixture on every row and
assigns modes with a per-row loop (ctgan issues #151, #252), the mixture here is fitted on at most
:data:`FIT_ROWS` values and the modes of all rows are drawn at once with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from gankit.modalities.base import Head
from gankit.tables.schema import TableSchema

MAX_MODES = 10  # CTGAN's max_clusters
WEIGHT_THRESHOLD = 0.005  # CTGAN's weight_threshold: modes lighter than this are dropped
FIT_ROWS = 5_000  # the mixture is fitted on a random subsample of this many values where there are more
VALUE_RANGE = 0.99  # scalars are clipped to +-this (tanh never reaches +-1)


@dataclass
class Block:
    """One column's part of the generator's space."""

    column: int  # index in the column space
    name: str
    kind: str  # "number" or "category"
    size: int  # one-hot slots (modes or categories), the missing slot included
    missing: bool  # the last slot means "missing"
    # numbers: standardisation of the column, and each mode's mean and std in standardised units
    centre: float = 0.0
    spread: float = 1.0
    means: list[float] | None = None
    stds: list[float] | None = None
    weights: list[float] | None = None  # the modes' mixture weights (their prior in the posterior)

    @property
    def width(self) -> int:  # features in the generator's space: the scalar (numbers) + the one-hot
        return self.size + (1 if self.kind == "number" else 0)


def fit_mixture(x: np.ndarray, seed: int) -> tuple[list[float], list[float], list[float]]:
    """(means, stds, weights) of the mixture's modes above :data:`WEIGHT_THRESHOLD` for standardised values ``x``."""
    from sklearn.mixture import BayesianGaussianMixture

    distinct = np.unique(x)
    if len(distinct) == 1:
        return [float(distinct[0])], [1e-3], [1.0]
    if len(x) > FIT_ROWS:
        x = np.random.default_rng(seed).choice(x, FIT_ROWS, replace=False)
    k = min(MAX_MODES, len(distinct))
    gm = BayesianGaussianMixture(n_components=k, weight_concentration_prior_type="dirichlet_process",
                                 weight_concentration_prior=1e-3, max_iter=100, n_init=1, random_state=seed)
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from threadpoolctl import threadpool_limits

    # one thread: a 1-D fit gains nothing from more, and BLAS threads spin for cores others hold
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)  # 100 iterations is CTGAN's budget too
        gm.fit(x.reshape(-1, 1))
    keep = gm.weights_ > WEIGHT_THRESHOLD
    means = gm.means_.reshape(-1)[keep]
    stds = np.sqrt(gm.covariances_.reshape(-1))[keep]
    weights = gm.weights_[keep] / gm.weights_[keep].sum()
    return means.tolist(), np.maximum(stds, 1e-3).tolist(), weights.tolist()


class MixedCodec:
    """A table's column space (N, C) float64 <-> the generator's space (N, D) float32.

    ``decode`` ends in column space; :func:`gankit.tables.read.to_frame` then writes the user's table.
    """

    def __init__(self, schema: TableSchema, blocks: list[Block]) -> None:
        self.schema, self.blocks = schema, blocks
        starts = np.cumsum([0] + [b.width for b in blocks])
        self.starts = starts[:-1].tolist()  # where each block begins in the generator's space
        self.width = int(starts[-1])

    @classmethod
    def fit(cls, values: np.ndarray, schema: TableSchema, seed: int = 0) -> "MixedCodec":
        blocks = []
        for j, col in enumerate(schema.used):
            v = values[:, j]
            ok = ~np.isnan(v)
            missing = bool((~ok).any())
            if col.discrete:
                blocks.append(Block(j, col.name, "category", len(col.categories) + missing, missing))
                continue
            centre = float(v[ok].mean())
            spread = float(v[ok].std()) or 1.0
            means, stds, weights = fit_mixture((v[ok] - centre) / spread, seed + j)
            blocks.append(Block(j, col.name, "number", len(means) + missing, missing, centre, spread, means, stds,
                                weights))
        return cls(schema, blocks)

    # --------------------------------------------------------------------------- the two directions

    def encode(self, values: np.ndarray, seed: int = 0) -> Tensor:  # (N, C) float64 -> (N, D) float32
        """Modes are drawn from each value's posterior with ``seed`` (the same seed, the same encoding)."""
        rng = np.random.default_rng(seed)
        out = np.zeros((len(values), self.width), np.float32)
        for b, s in zip(self.blocks, self.starts):
            v = values[:, b.column]
            gone = np.isnan(v)
            if b.kind == "category":
                slot = np.where(gone, b.size - 1, np.nan_to_num(v)).astype(np.int64)
                out[np.arange(len(v)), s + slot] = 1.0
                continue
            z = (np.where(gone, b.centre, v) - b.centre) / b.spread
            mode, scalar = self._modes(b, z, rng)
            out[:, s] = np.where(gone, 0.0, scalar)
            out[np.arange(len(v)), s + 1 + np.where(gone, b.size - 1, mode)] = 1.0
        return torch.from_numpy(out)

    @staticmethod
    def _modes(b: Block, z: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Each value's mode, drawn from the posterior p(mode | z), and its scalar in that mode."""
        mu, sd = np.asarray(b.means), np.asarray(b.stds)
        logp = -0.5 * ((z[:, None] - mu) / sd) ** 2 - np.log(sd) + np.log(b.weights)
        p = np.exp(logp - logp.max(1, keepdims=True))
        cdf = np.cumsum(p, 1)
        u = rng.random(len(z))[:, None] * cdf[:, -1:]
        mode = np.minimum((cdf < u).sum(1), len(mu) - 1)
        scalar = np.clip((z - mu[mode]) / (4 * sd[mode]), -VALUE_RANGE, VALUE_RANGE)
        return mode, scalar

    def decode(self, x: Tensor) -> Tensor:  # (N, D) -> (N, C) float64, NaN where missing
        x = x.detach().double().cpu()
        out = torch.empty(len(x), len(self.blocks), dtype=torch.float64)
        for b, s in zip(self.blocks, self.starts):
            if b.kind == "category":
                slot = x[:, s : s + b.size].argmax(1)
                out[:, b.column] = slot.double()
            else:
                slot = x[:, s + 1 : s + 1 + b.size].argmax(1)
                modes = min(len(b.means), b.size)
                k = slot.clamp(max=modes - 1)
                mu, sd = torch.tensor(b.means, dtype=torch.float64)[k], torch.tensor(b.stds, dtype=torch.float64)[k]
                z = x[:, s].clamp(-1, 1) * 4 * sd + mu
                out[:, b.column] = z * b.spread + b.centre
            if b.missing:
                out[slot == b.size - 1, b.column] = float("nan")
        return out

    # --------------------------------------------------------------------------- what the networks need

    def heads(self) -> tuple[Head, ...]:
        """tanh for each number's scalar, a Gumbel-softmax for each one-hot block (in order)."""
        out: list[Head] = []
        for b in self.blocks:
            if b.kind == "number":
                out += [Head(f"{b.name}.value", 1), Head(f"{b.name}.mode", b.size, "categorical")]
            else:
                out.append(Head(b.name, b.size, "categorical"))
        return tuple(out)

    def one_hot_span(self, column: int) -> tuple[int, int]:
        """(start, size) of a category column's one-hot block in the generator's space."""
        b = self.blocks[column]
        return self.starts[column], b.size

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return {"schema": self.schema.to_dict(), "blocks": [asdict(b) for b in self.blocks]}

    @classmethod
    def from_dict(cls, d: dict) -> "MixedCodec":
        return cls(TableSchema.from_dict(d["schema"]), [Block(**b) for b in d["blocks"]])
