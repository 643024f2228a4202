"""The verdict: a gain only when the mean beats the spread, said plainly, with the positive control read first."""

from __future__ import annotations

import pytest

from gankit.augmentation.report import headline, markdown, summarise, verdict


@pytest.mark.parametrize("mean, std, said", [(0.02, 0.005, "gain"), (0.004, 0.005, "no measurable gain"),
                                             (-0.004, 0.005, "no measurable gain"), (-0.02, 0.005, "loss"),
                                             (0.0, 0.0, "no measurable gain")])
def test_verdict_weighs_the_mean_against_the_spread(mean, std, said):
    assert verdict({"mean": mean, "std": std}) == said


def _scores(f1: float, recall=(0.9, 0.5)) -> dict:
    return {"accuracy": f1 + 0.05, "macro_f1": f1, "recall": list(recall)}


RAW = {"seeds": [0, 1, 2], "added": {"gan": [10, 10, 10], "baseline": [10, 10, 10], "extra_real": [10, 10, 10]},
       "scores": {"cnn": {"real": [_scores(0.80), _scores(0.82), _scores(0.81)],
                          "gan": [_scores(0.805), _scores(0.815), _scores(0.812)],
                          "baseline": [_scores(0.83), _scores(0.845), _scores(0.84)],
                          "extra_real": [_scores(0.85), _scores(0.87), _scores(0.86)]}}}
CONTEXT = {"data": "shapes/", "mode": "ratio=1", "classes": ["a", "b"], "synthetic_per_class": [5, 5],
           "train": {"items": 40, "per_class": [30, 10]}, "holdout": {"items": 12, "source": "data.holdout=0.2"},
           "generator": {"run": "aug/run", "weights": "EMA"}, "baseline": "shifts"}


def test_the_summary_has_paired_gains_and_says_when_synthetic_data_does_not_help():
    doc = summarise(RAW, CONTEXT)
    gan = doc["classifiers"]["cnn"]["gan"]
    assert gan["gain"]["macro_f1"]["values"] == pytest.approx([0.005, -0.005, 0.002])  # paired, seed by seed
    assert gan["gain"]["macro_f1"]["mean"] == pytest.approx(0.000667, abs=1e-6)
    assert gan["gain"]["macro_f1"]["std"] == pytest.approx(0.005132, abs=1e-6)  # sample standard deviation
    assert gan["verdict"] == "no measurable gain"
    assert doc["classifiers"]["cnn"]["extra_real"]["verdict"] == "gain"
    line = doc["headline"]["cnn"]
    assert line.startswith("Synthetic data does not help here: macro-F1 +0.0007 ± 0.0051 (no measurable gain)")
    assert "the standard augmentation: macro-F1 +0.0283 ± 0.0029 (gain)" in line and "as many extra real items" in line
    text = markdown(doc)
    assert "| + synthetic (GAN) | 10 |" in text and "| b | 10 |" in text and line in text


def test_a_control_without_gain_is_named_and_one_seed_is_flagged():
    arms = {"gan": {"gain": {"macro_f1": {"mean": 0.01, "std": 0.0}}, "verdict": "gain"},
            "extra_real": {"gain": {"macro_f1": {"mean": 0.0, "std": 0.0}}, "verdict": "no measurable gain"}}
    line = headline(arms, 1)
    assert line.startswith("Synthetic data helps") and "even real items show no gain here" in line
    assert "One seed: no spread" in line
