"""Fidelity of synthetic tables, as SDMetrics' QualityReport defines it, on the column space.

Every function reads (N, C) column-space matrices (:mod:`gankit.tables`: numbers and datetimes as
numbers, categories as their index, missing = NaN) and the :class:`~gankit.tables.schema.TableSchema`
that says what each column is. The definitions follow SDMetrics 0.29-0.32
(``sdmetrics.reports.single_table.QualityReport``, DataCebo):

* **Column shapes**: per column, KSComplement = 1 - the two-sample Kolmogorov-Smirnov statistic
  for numbers and datetimes, TVComplement = 1 - the total variation distance of the category
  frequencies for categories and booleans; missing cells are dropped first; a column that is all
  missing on either side has no score. The property is the mean over the columns that have one.
* **Column-pair trends**: per pair of columns, CorrelationSimilarity = 1 - |r_real - r_fake| / 2
  (Pearson r over the rows where both are present) when both are numbers (or datetimes); else
  ContingencySimilarity = 1 - the total variation distance of the two joint frequency tables, a
  number column cut into the 10 bins of ``np.histogram_bin_edges`` of *its own* data set's values
  (real and synthetic each binned on their own range, as SDMetrics does) and missing kept as a
  category of its own (in a binned number it shares the top bin, as ``np.digitize`` puts it). A
  constant column has no correlation: no score. Since SDMetrics 0.29 the property averages only
  the pairs that are associated in the real data: |r_real| > 0.5 for two numbers, Cramér's V of the
  real contingency table > 0.3 for the others (``correlation_threshold`` /
  ``association_threshold`` = 0 count every pair, as SDMetrics before 0.29 did). Every pair's score
  is given in the details, with whether it counts.
* **Quality**: the mean of the two properties (NaN ones left out).

Not done here: SDMetrics subsamples contingency tables of more than 50,000 rows; this uses them all.
:mod:`gankit.metrics.table_utility` (train on synthetic, test on real) and
:mod:`gankit.metrics.table_privacy` (distance to closest record, exact copies) read the same space.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.stats import ks_2samp
from scipy.stats.contingency import association

from gankit.tables.schema import NUMERIC, TableSchema

#: SDMetrics rounds numbers to this many decimals before the KS test (float noise is no difference)
MAX_DECIMALS = sys.float_info.dig - 1
CORRELATION_THRESHOLD = 0.5  # SDMetrics 0.29+ DEFAULT_REAL_CORRELATION_THRESHOLD
ASSOCIATION_THRESHOLD = 0.3  # SDMetrics 0.29+ DEFAULT_REAL_ASSOCIATION_THRESHOLD
MISSING_CODE = -1  # a missing category, as a category of its own in contingency tables


@dataclass
class TableEval:
    """What the table metrics read besides the generated rows (``EvalContext.table``)."""

    schema: TableSchema
    train: np.ndarray  # (N, C) column space: the real training rows
    holdout: np.ndarray | None = None  # (H, C) real rows the generator never saw
    target: str | None = None  # the column utility predicts (eval.target)


def numeric_columns(schema: TableSchema) -> list[bool]:
    """For each column of the column space: is it a number (or a datetime)?"""
    return [c.kind in NUMERIC for c in schema.used]


# ----------------------------------------------------------------------------- column shapes


def ks_complement(real: np.ndarray, fake: np.ndarray) -> float:
    """1 - the two-sample Kolmogorov-Smirnov D statistic (SDMetrics KSComplement); NaN when a side is empty."""
    r, f = real[~np.isnan(real)], fake[~np.isnan(fake)]
    if len(r) == 0 or len(f) == 0:
        return float("nan")
    return 1.0 - float(ks_2samp(np.round(r, MAX_DECIMALS), np.round(f, MAX_DECIMALS)).statistic)


def tv_complement(real: np.ndarray, fake: np.ndarray) -> float:
    """1 - total variation distance of the category frequencies (SDMetrics TVComplement), missing dropped."""
    r = real[~np.isnan(real)].astype(np.int64)
    f = fake[~np.isnan(fake)].astype(np.int64)
    if len(r) == 0 or len(f) == 0:
        return float("nan")
    k = int(max(r.max(), f.max())) + 1
    pr, pf = np.bincount(r, minlength=k) / len(r), np.bincount(f, minlength=k) / len(f)
    return 1.0 - 0.5 * float(np.abs(pr - pf).sum())


def column_shapes(real: np.ndarray, fake: np.ndarray, schema: TableSchema) -> tuple[float, list[dict]]:
    """The Column Shapes property and one ``{"column", "metric", "score"}`` per column."""
    details = []
    for j, (col, num) in enumerate(zip(schema.used, numeric_columns(schema))):
        fn = ks_complement if num else tv_complement
        details.append({"column": col.name, "metric": "KSComplement" if num else "TVComplement",
                        "score": fn(real[:, j], fake[:, j])})
    return _mean([d["score"] for d in details]), details


# ----------------------------------------------------------------------------- column-pair trends


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r over the rows where both are present; NaN where undefined (constant, under 2 rows)."""
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def correlation_similarity(real: np.ndarray, fake: np.ndarray) -> dict:
    """SDMetrics CorrelationSimilarity of two number columns, (N, 2) each: 1 - |r_real - r_fake| / 2.

    A column constant (one distinct value) on either side has no score, as SDMetrics refuses it."""
    constant = any(len(np.unique(a[~np.isnan(a)])) == 1 for a in (*real.T, *fake.T))
    rr, rf = _pearson(real[:, 0], real[:, 1]), _pearson(fake[:, 0], fake[:, 1])
    score = float("nan") if constant or np.isnan(rr) or np.isnan(rf) else 1.0 - abs(rr - rf) / 2
    return {"score": score, "real_correlation": rr, "synthetic_correlation": rf}


def bin_codes(x: np.ndarray, bins: int = 10) -> np.ndarray:
    """A number column cut into ``bins`` equal bins over its own range (``np.digitize``, SDMetrics' way:
    the maximum and missing cells both land in code ``bins + 1``)."""
    edges = np.histogram_bin_edges(x[~np.isnan(x)], bins=bins)
    return np.digitize(x, edges).astype(np.int64)


def category_codes(x: np.ndarray) -> np.ndarray:
    """Category indices as integers, a missing cell as :data:`MISSING_CODE`."""
    return np.where(np.isnan(x), MISSING_CODE, np.nan_to_num(x)).astype(np.int64)


def cramers_v(codes: np.ndarray) -> float:
    """Cramér's V of the contingency table of (N, 2) integer codes (no continuity correction); NaN when
    either variable has a single value."""
    _, a = np.unique(codes[:, 0], return_inverse=True)
    _, b = np.unique(codes[:, 1], return_inverse=True)
    table = np.zeros((a.max(initial=-1) + 1, b.max(initial=-1) + 1), dtype=np.int64)
    np.add.at(table, (a, b), 1)
    if min(table.shape) < 2:
        return float("nan")
    return float(association(table, method="cramer"))


def contingency_similarity(real: np.ndarray, fake: np.ndarray) -> dict:
    """SDMetrics ContingencySimilarity of (N, 2) and (M, 2) integer codes: 1 - total variation distance
    of the joint frequencies (missing and bins already codes), with the real table's Cramér's V."""
    both = np.concatenate([real, fake])
    _, inv = np.unique(both, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    m = int(inv.max(initial=-1)) + 1
    pr = np.bincount(inv[: len(real)], minlength=m) / max(len(real), 1)
    pf = np.bincount(inv[len(real):], minlength=m) / max(len(fake), 1)
    return {"score": 1.0 - 0.5 * float(np.abs(pr - pf).sum()), "real_association": cramers_v(real)}


def _codes(x: np.ndarray, numeric: list[bool]) -> np.ndarray:
    """(N, C) column space -> (N, C) integer codes for contingency tables (numbers binned per data set)."""
    return np.stack([bin_codes(x[:, j]) if num else category_codes(x[:, j])
                     for j, num in enumerate(numeric)], axis=1) if x.shape[1] else x.astype(np.int64)


def _pair(i: int, j: int, real: np.ndarray, fake: np.ndarray, codes: tuple[np.ndarray, np.ndarray],
          numeric: list[bool], thresholds: tuple[float, float]) -> dict:
    """One row of the Column Pair Trends details."""
    if numeric[i] and numeric[j]:
        d = {"metric": "CorrelationSimilarity", **correlation_similarity(real[:, [i, j]], fake[:, [i, j]])}
        d["counts"] = thresholds[0] <= 0 or abs(d["real_correlation"]) > thresholds[0]
    else:
        d = {"metric": "ContingencySimilarity", **contingency_similarity(codes[0][:, [i, j]], codes[1][:, [i, j]])}
        v = d["real_association"]
        d["counts"] = thresholds[1] <= 0 or (not np.isnan(v) and v > thresholds[1])
    d["counts"] = bool(d["counts"]) and not np.isnan(d["score"])
    return d


def column_pair_trends(real: np.ndarray, fake: np.ndarray, schema: TableSchema,
                       correlation_threshold: float = CORRELATION_THRESHOLD,
                       association_threshold: float = ASSOCIATION_THRESHOLD) -> tuple[float, list[dict]]:
    """The Column Pair Trends property (the mean over the pairs that count; NaN when none does) and one
    ``{"columns", "metric", "score", "real_correlation"...,  "counts"}`` per pair of columns."""
    numeric = numeric_columns(schema)
    names = [c.name for c in schema.used]
    codes = (_codes(real, numeric), _codes(fake, numeric))
    details = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for i, j in combinations(range(len(names)), 2):
            d = _pair(i, j, real, fake, codes, numeric, (correlation_threshold, association_threshold))
            details.append({"columns": [names[i], names[j]], **d})
    return _mean([d["score"] for d in details if d["counts"]]), details


# ----------------------------------------------------------------------------- quality


def _mean(values: list[float]) -> float:
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return float(v.mean()) if len(v) else float("nan")


def fidelity(real: np.ndarray, fake: np.ndarray, schema: TableSchema,
             correlation_threshold: float = CORRELATION_THRESHOLD,
             association_threshold: float = ASSOCIATION_THRESHOLD) -> dict:
    """SDMetrics' QualityReport on the column space: ``quality`` (the mean of the two properties),
    ``column_shapes``, ``column_pair_trends``, and the per-column and per-pair ``details``."""
    shapes, shape_details = column_shapes(real, fake, schema)
    trends, pair_details = column_pair_trends(real, fake, schema, correlation_threshold, association_threshold)
    return {"quality": _mean([shapes, trends]), "column_shapes": shapes, "column_pair_trends": trends,
            "shape_details": shape_details, "pair_details": pair_details,
            "thresholds": {"correlation": correlation_threshold, "association": association_threshold}}
