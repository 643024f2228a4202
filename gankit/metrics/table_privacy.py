"""Privacy of synthetic tables: distance to closest record and exact copies, on the column space.

**Distance to closest record** (DCR), as SDMetrics 0.32 defines it (``calculate_dcr`` of
``sdmetrics.single_table.privacy``, used by DCRBaselineProtection and DCROverfittingProtection):
the distance of two rows is the mean over the columns of a per-column difference in [0, 1]:

* a number or datetime: |a - b| divided by the column's range (max - min) in the *reference* rows
  (those the distance is measured to), capped at 1; a constant reference column: 0 if equal else 1;
* a category or boolean: 0 if equal, else 1;
* missing: 0 when both cells are missing, 1 when one is.

A row's DCR is its smallest distance to any reference row. :func:`dcr` computes it in chunks of
rows (about :data:`CHUNK_ELEMENTS` distances at a time), so 10,000 x 26,000 rows stay within memory:
the category columns as one product of one-hot matrices, the number columns one at a time.

**DCROverfittingProtection** (SDMetrics): the share of synthetic rows strictly closer to the
training rows than to the held-out rows (each DCR with its own reference's ranges); the score is
min(2 (1 - share), 1): 1 when no more synthetic rows sit near training rows than near unseen rows
of the same distribution. The medians of DCR(synthetic -> training) and DCR(holdout -> training)
are the raw numbers: the second is the yardstick of how near fresh real rows come by chance.

**Exact copies**: synthetic rows equal in every used column to some training row (missing equals
missing).
"""

from __future__ import annotations

import numpy as np

from gankit.metrics.tables import numeric_columns
from gankit.tables.schema import TableSchema

CHUNK_ELEMENTS = 4_000_000  # distances held at once (32 MB of float64 per temporary)


def _ranges(reference: np.ndarray, numeric: list[bool]) -> np.ndarray:
    """Per number column: max - min over the reference rows (0 where constant or all missing)."""
    with np.errstate(all="ignore"):
        lo = np.array([np.nanmin(reference[:, j]) if n and (~np.isnan(reference[:, j])).any() else 0.0
                       for j, n in enumerate(numeric)])
        hi = np.array([np.nanmax(reference[:, j]) if n and (~np.isnan(reference[:, j])).any() else 0.0
                       for j, n in enumerate(numeric)])
    return hi - lo


def _one_hot(x: np.ndarray) -> np.ndarray:
    """(N, K) category columns -> (N, sum of sizes) one-hot, a missing cell as a category of its own."""
    blocks = []
    for j in range(x.shape[1]):
        codes = np.where(np.isnan(x[:, j]), -1, np.nan_to_num(x[:, j])).astype(np.int64) + 1
        blocks.append(np.eye(int(codes.max(initial=0)) + 1)[codes])
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((len(x), 0))


def _number_distance(a: np.ndarray, b: np.ndarray, span: float, out: np.ndarray) -> None:
    """Add one number column's differences of rows ``a`` (n,) to rows ``b`` (m,) into ``out`` (n, m)."""
    d = np.subtract.outer(a, b)
    np.abs(d, out=d)
    if span > 0:
        d *= 1.0 / span
        np.minimum(d, 1.0, out=d)
    else:
        d = (d > 0).astype(np.float64)  # NaN > 0 is False: set below
    na, nb = np.isnan(a), np.isnan(b)
    if na.any() or nb.any():
        d[np.isnan(d) | na[:, None] | nb[None, :]] = 1.0
        d[np.outer(na, nb)] = 0.0
    out += d


def dcr(data: np.ndarray, reference: np.ndarray, schema: TableSchema,
        chunk_elements: int = CHUNK_ELEMENTS) -> np.ndarray:
    """(N,) distance of each row of ``data`` to its closest row of ``reference`` (SDMetrics' DCR)."""
    numeric = numeric_columns(schema)
    n_cols = len(numeric)
    nums = [j for j, n in enumerate(numeric) if n]
    cats = [j for j, n in enumerate(numeric) if not n]
    span = _ranges(reference, numeric)
    # one-hot over both sets together, so a category gets the same position in each
    oh = _one_hot(np.concatenate([data[:, cats], reference[:, cats]]))
    oh_data, oh_ref = oh[: len(data)], oh[len(data):]
    step = max(1, chunk_elements // max(len(reference), 1))
    out = np.empty(len(data))
    for s in range(0, len(data), step):
        rows = data[s: s + step]
        acc = np.full((len(rows), len(reference)), float(len(cats)))
        if cats:
            acc -= oh_data[s: s + step] @ oh_ref.T  # mismatches = categories - matches
        for j in nums:
            _number_distance(rows[:, j], reference[:, j], float(span[j]), acc)
        out[s: s + step] = acc.min(axis=1) / n_cols
    return out


def _row_keys(x: np.ndarray) -> list[bytes]:
    """Each row as bytes, every missing cell the same NaN and -0.0 as 0.0, so equal rows have equal keys."""
    x = np.where(np.isnan(x), np.nan, x + 0.0)
    return [r.tobytes() for r in np.ascontiguousarray(x, dtype=np.float64)]


def exact_copies(fake: np.ndarray, train: np.ndarray) -> int:
    """How many rows of ``fake`` equal some row of ``train`` in every column (missing equals missing)."""
    seen = set(_row_keys(train))
    return sum(k in seen for k in _row_keys(fake))


def privacy(fake: np.ndarray, train: np.ndarray, holdout: np.ndarray, schema: TableSchema,
            chunk_elements: int = CHUNK_ELEMENTS) -> dict:
    """DCR medians (synthetic -> training, holdout -> training), SDMetrics' DCROverfittingProtection
    (share of synthetic rows closer to training than to holdout, and its score) and exact copies."""
    to_train = dcr(fake, train, schema, chunk_elements)
    to_holdout = dcr(fake, holdout, schema, chunk_elements)
    holdout_to_train = dcr(holdout, train, schema, chunk_elements)
    closer = float(np.mean(to_train < to_holdout)) if len(fake) else float("nan")
    copies = exact_copies(fake, train)
    return {
        "dcr_synthetic": float(np.median(to_train)),
        "dcr_holdout": float(np.median(holdout_to_train)),
        "dcr_synthetic_to_holdout": float(np.median(to_holdout)),
        "closer_to_training": closer,
        "overfitting_protection": min(2.0 * (1.0 - closer), 1.0),
        "exact_copies": copies,
        "exact_copies_share": copies / len(fake) if len(fake) else float("nan"),
        "holdout_exact_copies": exact_copies(holdout, train),
    }
