"""The metric registry's declarations, the pipeline's defaults and checks, and the classifier score."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gankit.config import DataConfig
from gankit.errors import GankitError
from gankit.metrics import METRICS, classifier_score
from gankit.metrics.base import Target
from gankit.metrics.pipeline import GANKIT_EVAL, IN_TRAINING, check_sizes, choose_metrics
from gankit.metrics.registry import HIGHER, LOWER, NEITHER, direction, find_score, owner, ranked_scores, scores_of

DIGITS = Target("image", (1, 8, 8), DataConfig(name="digits"), labelled=True)
RING = Target("table", (2,), DataConfig(name="ring"), labelled=True)
TABLE = Target("table", (3,), DataConfig(name="table", path="x.csv"), labelled=False)
MIXED = Target("table", (4,), DataConfig(name="table", path="x.csv"), labelled=False, mixed=True, column="income")
FOLDER = Target("image", (3, 16, 16), DataConfig(name="images", path="pics"), labelled=False)


# ----------------------------------------------------------------------------- classifier score


def test_classifier_score_by_hand():
    k = 4
    # each sample one confident class, every class equally often: p(y) uniform, KL = log K per sample -> K
    assert classifier_score(np.eye(k)) == pytest.approx(k)
    assert classifier_score(np.repeat(np.eye(k), 3, axis=0)) == pytest.approx(k)
    # every sample the same distribution: p(y|x) = p(y), KL = 0 -> 1
    assert classifier_score(np.tile([0.1, 0.2, 0.3, 0.4], (5, 1))) == pytest.approx(1.0)
    assert classifier_score(np.tile(np.eye(k)[2], (7, 1))) == pytest.approx(1.0)  # all one class: collapse
    # two rows by hand: p1 = (1, 0), p2 = (1/2, 1/2), p(y) = (3/4, 1/4)
    kl1 = math.log(1 / 0.75)
    kl2 = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    assert classifier_score(torch.tensor([[1.0, 0.0], [0.5, 0.5]])) == pytest.approx(math.exp((kl1 + kl2) / 2))


@pytest.mark.parametrize("bad", [np.zeros((0, 3)), np.ones(3), np.array([[0.5, -0.5]]), np.array([[np.nan, 1.0]]),
                                 np.zeros((2, 3))])
def test_classifier_score_refuses_non_probabilities(bad):
    with pytest.raises(GankitError):
        classifier_score(bad)


# ----------------------------------------------------------------------------- declarations


@pytest.mark.parametrize("name", METRICS.names())
def test_every_metric_declares_its_scores(name):
    m = METRICS.get(name)
    names = [s.name for s in m.scores]
    assert m.primary in names and len(set(names)) == len(names)
    assert find_score(m.primary).better != NEITHER  # a primary score can pick the best
    for s in m.scores:
        assert s.better in (HIGHER, LOWER, NEITHER) and owner(s.name) == name
        assert s.tie_break is None or s.tie_break in names
        assert (s.better == NEITHER) == bool(s.note)  # a score without a direction says why
    assert m.fits(DIGITS, "digits") or m.fits(RING, "ring") or m.fits(MIXED, "table")
    assert m.unfit or all(m.fits(t, d) for t, d in ((DIGITS, "digits"), (RING, "ring"), (TABLE, "table")))


def test_mixed_tables_get_the_table_metrics_only():
    fitting = [n for n in METRICS.names() if METRICS.get(n).fits(MIXED, "table")]
    assert fitting == ["fidelity", "utility", "privacy"]
    assert not METRICS.get("utility").fits(Target("table", (4,), DataConfig(), False, mixed=True), "table")
    assert not any(METRICS.get(n).fits(TABLE, "table") for n in fitting)


def test_directions_as_documented():
    assert [direction(s) for s in ("fid", "kid", "reverse_kl", "class_kl")] == [LOWER] * 4
    higher = ("precision", "recall", "coverage", "modes_captured", "hq_fraction", "mean_confidence",
              "conditional_accuracy", "classifier_score")
    assert [direction(s) for s in higher] == [HIGHER] * len(higher)
    assert direction("density") == NEITHER and direction("no-such-score") == NEITHER
    assert "density" not in ranked_scores() and "classifier_score" in ranked_scores()
    assert find_score("modes_captured").tie_break == "hq_fraction"
    assert scores_of(["fid", "modes"]) == ["fid", "modes_captured", "hq_fraction", "reverse_kl"]


def test_metric_curves_read_directions_from_the_registry(tmp_path, monkeypatch):
    """The run's curves title each panel with the registry's direction (the plot imports no metric)."""
    import matplotlib.axes

    import gankit.report.plots as plots
    from gankit.metrics.registry import direction

    titles = []
    real = matplotlib.axes.Axes.set_title
    monkeypatch.setattr(matplotlib.axes.Axes, "set_title", lambda self, t, *a, **k: titles.append(t) or real(self, t))
    csv = tmp_path / "eval_metrics.csv"
    csv.write_text("step,metric,value\n10,fid,3.0\n10,coverage,0.5\n10,density,1.1\n")
    plots.metric_curves(csv, tmp_path / "c.png", direction=direction)
    assert titles == ["fid (lower is better)", "coverage (higher is better)", "density"]


# ----------------------------------------------------------------------------- the pipeline's defaults


@pytest.mark.parametrize("target, dataset, final, training", [
    (RING, "ring", ["modes", "fid", "kid", "prdc"], ["modes", "fid"]),
    (DIGITS, "digits", ["classes", "fid", "kid", "prdc"], ["fid", "classes"]),
    (TABLE, "table", ["fid", "kid", "prdc"], ["fid"]),
    (FOLDER, "images", ["fid", "kid", "prdc"], ["fid"]),
])
def test_default_metrics_fit_the_data(target, dataset, final, training):
    assert choose_metrics(None, target, dataset, GANKIT_EVAL) == final
    assert choose_metrics(None, target, dataset, IN_TRAINING) == training


def test_defaults_stated_once():
    from gankit.modalities import get_modality

    sizes = {kind: get_modality(kind).eval_items for kind in ("image", "table")}  # (gankit eval, in training)
    assert sizes == {"image": (10_000, 1_000), "table": (2_500, 2_500)} and (GANKIT_EVAL.use, IN_TRAINING.use) == (0, 1)
    assert set(IN_TRAINING.metrics) <= set(GANKIT_EVAL.metrics) <= set(METRICS.names())


@pytest.mark.parametrize("spec, target, dataset, words", [
    ("modes", DIGITS, "digits", ["--metrics: modes is for the ring and grid toy sets, not digits",
                                 "choose from fid, kid, prdc, classes, classifier_score"]),
    ("fid,classes", RING, "ring", ["classes needs labelled images", "ring is not a labelled image set"]),
    ("classifier_score", FOLDER, "images", ["classifier_score needs labelled images"]),
    ("fid,fdi", RING, "ring", ["--metrics: unknown metric 'fdi'", 'did you mean "fid"']),
    (" , ", RING, "ring", ["--metrics is empty"]),
])
def test_unfit_or_unknown_metrics_are_refused(spec, target, dataset, words):
    with pytest.raises(GankitError) as e:
        choose_metrics(spec, target, dataset, GANKIT_EVAL)
    assert all(w in str(e.value) for w in words), str(e.value)


def test_named_metrics_keep_their_order_once_each():
    assert choose_metrics("prdc, fid,prdc", RING, "ring", GANKIT_EVAL) == ["prdc", "fid"]
    assert choose_metrics(["classifier_score", "fid"], DIGITS, "digits", IN_TRAINING) == ["classifier_score", "fid"]


def test_sample_sizes_checked_with_the_purposes_key():
    prdc = {"prdc": METRICS.get("prdc")}
    check_sizes(prdc, 6, 6, GANKIT_EVAL)
    with pytest.raises(GankitError, match=r"eval.metrics: prdc needs at least 6 generated and real samples, but "
                                          r"eval.n=10 gives 10 generated and 4 real; raise eval.n \(and use data"):
        check_sizes(prdc, 10, 4, IN_TRAINING)
    with pytest.raises(GankitError, match=r"--metrics: modes needs at least 1 generated samples, but --n=0"):
        check_sizes({"modes": METRICS.get("modes")}, 0, 0, GANKIT_EVAL)
