"""Mixed-table metrics against hand computations on tiny tables: fidelity (SDMetrics' definitions),
utility (train on synthetic, test on real), privacy (DCR, exact copies), the registry entries, plots."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit.config import DataConfig
from gankit.errors import GankitError
from gankit.metrics.base import Target
from gankit.metrics.registry import HIGHER, LOWER, METRICS, NEITHER, EvalContext, direction
from gankit.metrics.table_privacy import dcr, exact_copies, privacy
from gankit.metrics.table_utility import utility
from gankit.metrics.tables import (TableEval, bin_codes, column_pair_trends, contingency_similarity,
                                   correlation_similarity, fidelity, ks_complement, tv_complement)
from gankit.report.tables import column_plots, correlation_plots
from gankit.tables.schema import Column, TableSchema

NAN = np.nan


def schema(*kinds: str, categories: int = 3) -> TableSchema:
    cols = [Column(f"c{i}", k, "test", i, categories=[f"k{j}" for j in range(categories)]
                   if k in ("categorical", "boolean") else []) for i, k in enumerate(kinds)]
    return TableSchema(cols)


# ----------------------------------------------------------------------------- fidelity


def test_ks_complement_by_hand():
    # ECDFs of {1,2,3,4} and {1,2,3,10} differ most at 4: 1.0 - 0.75
    assert ks_complement(np.array([1, 2, 3, 4.0]), np.array([1, 2, 3, 10.0])) == pytest.approx(0.75)
    assert ks_complement(np.array([1, 2, NAN]), np.array([NAN, 2, 1.0])) == pytest.approx(1.0)  # missing dropped
    assert np.isnan(ks_complement(np.array([1.0]), np.array([NAN])))


def test_tv_complement_by_hand():
    # real shares (1/2, 1/4, 1/4), synthetic (missing dropped) (1/3, 2/3, 0): TV = (1/6 + 5/12 + 1/4) / 2
    assert tv_complement(np.array([0, 0, 1, 2.0]), np.array([0, 1, 1, NAN])) == pytest.approx(7 / 12)


def test_correlation_similarity_by_hand():
    a = np.array([1, 2, 3, 4.0])
    d = correlation_similarity(np.stack([a, 2 * a], 1), np.stack([a, -a], 1))
    assert (d["real_correlation"], d["synthetic_correlation"], d["score"]) == pytest.approx((1.0, -1.0, 0.0))
    # missing rows left out: the rest is still perfectly correlated
    fake = np.stack([np.array([1, 2, 3, 4, 5.0]), np.array([1, 2, NAN, 4, 5.0])], 1)
    assert correlation_similarity(np.stack([a, 2 * a], 1), fake)["score"] == pytest.approx(1.0)
    assert np.isnan(correlation_similarity(np.stack([a, a * 0], 1), np.stack([a, a], 1))["score"])  # constant


def test_contingency_similarity_by_hand():
    real = np.array([[0, 0], [0, 1], [1, 1], [1, 1]])
    fake = np.array([[0, 0], [0, 0], [1, 1], [1, -1]])  # -1: missing, a category of its own
    # joint shares: real (0,0) .25 (0,1) .25 (1,1) .5; fake (0,0) .5 (1,1) .25 (1,-1) .25: TV = 1.0 / 2
    assert contingency_similarity(real, fake)["score"] == pytest.approx(0.5)


def test_numbers_binned_like_sdmetrics():
    # ten equal bins over the column's own range; np.digitize puts the maximum and missing in bin 11
    assert bin_codes(np.array([0, 5, 10, NAN])).tolist() == [1, 6, 11, 11]


def test_pair_trends_count_only_associated_pairs():
    rng = np.random.default_rng(0)
    a = rng.normal(size=200)
    real = np.stack([a, a + 0.1 * rng.normal(size=200), rng.normal(size=200)], 1)
    fake = np.stack([a, -a, rng.normal(size=200)], 1)
    score, details = column_pair_trends(real, fake, schema("continuous", "continuous", "continuous"))
    assert [d["counts"] for d in details] == [True, False, False]  # only c0-c1 has |r| > 0.5
    assert score == pytest.approx(details[0]["score"]) and score < 0.05
    every, _ = column_pair_trends(real, fake, schema("continuous", "continuous", "continuous"), 0, 0)
    assert every == pytest.approx(np.mean([d["score"] for d in details]))


def test_identical_tables_score_one():
    rng = np.random.default_rng(1)
    x = np.stack([rng.normal(size=100), rng.integers(0, 3, 100).astype(float), rng.normal(size=100)], 1)
    x[::7, 0] = NAN
    x[:, 2] += 2 * x[:, 1]
    f = fidelity(x, x, schema("continuous", "categorical", "datetime"))
    assert (f["quality"], f["column_shapes"], f["column_pair_trends"]) == pytest.approx((1.0, 1.0, 1.0))
    assert [d["metric"] for d in f["shape_details"]] == ["KSComplement", "TVComplement", "KSComplement"]


# ----------------------------------------------------------------------------- privacy


def test_dcr_by_hand():
    s = schema("continuous", "categorical")
    ref = np.array([[0, 0], [10, 1.0]])  # range of c0: 10
    data = np.array([[2, 1], [NAN, 0], [20, 0.0]])
    # (2,1): to (0,0) (0.2 + 1) / 2 = 0.6, to (10,1) (0.8 + 0) / 2 = 0.4; missing vs a number: 1;
    # 20 is twice the range away from 0: capped at 1
    expected = [0.4, 0.5, 0.5]
    assert dcr(data, ref, s) == pytest.approx(expected)
    assert dcr(data, ref, s, chunk_elements=1) == pytest.approx(expected)  # one row at a time
    assert dcr(np.array([[NAN, NAN]]), np.array([[NAN, NAN], [1, 0.0]]), s) == pytest.approx([0.0])


def test_exact_copies_and_overfitting():
    s = schema("continuous", "categorical")
    rng = np.random.default_rng(2)
    train = np.stack([rng.normal(size=50), rng.integers(0, 3, 50).astype(float)], 1)
    train[3, 0] = NAN
    holdout = np.stack([rng.normal(size=40), rng.integers(0, 3, 40).astype(float)], 1)
    assert exact_copies(train[:10], train) == 10  # a missing cell equals a missing cell
    assert exact_copies(train[:10] + [1e-9, 0], train) == 1  # only the row with the missing number
    p = privacy(train.copy(), train, holdout, s)
    assert p["exact_copies"] == 50 and p["exact_copies_share"] == 1.0 and p["dcr_synthetic"] == 0.0
    assert p["closer_to_training"] == 1.0 and p["overfitting_protection"] == 0.0
    assert p["dcr_holdout"] > 0


# ----------------------------------------------------------------------------- utility


def _feature_table(n: int, rng) -> np.ndarray:
    x = rng.normal(size=n)
    return np.stack([x, rng.integers(0, 3, n).astype(float), (x > 0.5).astype(float)], 1)  # target: c2


def test_utility_train_on_real_beats_random_synthetic():
    rng = np.random.default_rng(3)
    s = schema("continuous", "categorical", "boolean", categories=3)
    s.used[2].categories = ["no", "yes"]
    train, holdout = _feature_table(300, rng), _feature_table(200, rng)
    fake = np.stack([rng.normal(size=300), rng.integers(0, 3, 300).astype(float),
                     rng.integers(0, 2, 300).astype(float)], 1)
    u = utility(fake, train, holdout, s, "c2")
    assert u["minority"] == "yes" and set(u["models"]) == {"gradient_boosting", "linear"}
    assert u["real"]["f1"] > 0.85 and u["real"]["auc"] > 0.95 and u["real"]["accuracy"] > 0.9
    assert u["synthetic"]["auc"] < u["real"]["auc"] - 0.2
    one_class = fake.copy()
    one_class[:, 2] = 0.0  # the synthetic set lacks the minority class: still scored
    assert utility(one_class, train, holdout, s, "c2")["synthetic"]["f1"] == 0.0


def test_utility_regression():
    rng = np.random.default_rng(4)
    s = schema("continuous", "categorical", "continuous")
    train, holdout = _feature_table(300, rng), _feature_table(200, rng)
    train[:, 2], holdout[:, 2] = 2 * train[:, 0] + train[:, 1], 2 * holdout[:, 0] + holdout[:, 1]
    u = utility(train, train, holdout, s, "c2")
    assert u["task"] == "regression" and u["real"]["r2"] > 0.9 and u["synthetic"] == u["real"]


# ----------------------------------------------------------------------------- registry


def _ctx(x: np.ndarray, table: TableEval | None) -> EvalContext:
    target = Target("table", (x.shape[1],), DataConfig(name="table", path="x.csv"), labelled=False)
    t = torch.as_tensor(x)
    return EvalContext(t, t, target, "x.csv", None, table=table)


def test_registry_entries():
    assert (direction("quality"), direction("utility"), direction("exact_copies")) == (HIGHER, HIGHER, LOWER)
    assert direction("dcr_synthetic") == NEITHER and direction("dcr_overfitting_protection") == HIGHER
    s = schema("continuous", "categorical")
    x = np.array([[0, 0], [1, 1], [2, 0], [3, 1.0]])
    with pytest.raises(GankitError, match="not read as one"):
        METRICS.get("fidelity").compute(_ctx(x, None))
    with pytest.raises(GankitError, match="eval.target=COLUMN and a held-out part"):
        METRICS.get("utility").compute(_ctx(x, TableEval(s, x)))
    out = METRICS.get("fidelity").compute(_ctx(x, TableEval(s, x)))
    assert out["quality"]["value"] == pytest.approx(1.0) and len(out["column_shapes"]["columns"]) == 2
    p = METRICS.get("privacy").compute(_ctx(x.astype(np.float32), TableEval(s, x, holdout=x + 0.1)))
    assert p["exact_copies"]["value"] == 4  # float32 samples against float64 training rows


# ----------------------------------------------------------------------------- pictures


def test_plots_write_pngs(tmp_path):
    rng = np.random.default_rng(5)
    s = schema("continuous", "categorical", "datetime", "boolean", categories=15)
    x = np.stack([rng.normal(size=80), rng.integers(0, 15, 80).astype(float), rng.normal(size=80) * 1e6 + 1.7e9,
                  rng.integers(0, 2, 80).astype(float)], 1)
    x[::5, 1] = NAN
    fake = x[rng.permutation(80)]
    for fn in (column_plots, correlation_plots):
        path = fn(x, fake, s, tmp_path / f"{fn.__name__}.png")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
