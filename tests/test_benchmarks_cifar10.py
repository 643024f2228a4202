"""benchmarks/cifar10.py: the verdict against issue 17's targets and the table it writes (the training
itself is gankit's, tested elsewhere; the benchmark's own arithmetic is tested here)."""

import json

import pytest

from benchmarks import cifar10
from gankit.config import load


def scores(fid: float, acc: float) -> dict:
    return {"fid": {"value": fid}, "conditional_accuracy": {"value": acc}, "kid": {"value": 0.002},
            "extractor_sha256": "x"}


def test_the_verdict_needs_both_a_tenth_less_fid_and_five_more_points():
    assert cifar10.verdict(scores(90.0, 0.55), scores(100.0, 0.50))["met"]
    assert not cifar10.verdict(scores(91.0, 0.60), scores(100.0, 0.50))["met"]  # FID only 9% lower
    assert not cifar10.verdict(scores(50.0, 0.54), scores(100.0, 0.50))["met"]  # 4 points
    v = cifar10.verdict(scores(109.2, 0.356), scores(66.1, 0.516))
    assert v["fid_reduction"] < 0 and round(v["requested_class_gain"], 3) == -0.16 and not v["met"]


def test_the_table_has_the_floor_each_budget_and_says_higher_when_fid_is_higher():
    used = {"steps": 10, "cpu_seconds": 60.0, "wall_seconds": 90.0}
    doc = {"floor": {**scores(1.3, 0.87), "fid": {"value": 1.3, "extractor_sha256": "ab" * 32,
                                                  "classifier_accuracy": 0.843}},
           "budgets": {"30 min": {"train": {"sngan": used, "dcgan": used},
                                  "scores": {"sngan": scores(109.2, 0.356), "dcgan": scores(66.1, 0.516)}}}}
    doc["budgets"]["30 min"]["verdict"] = cifar10.verdict(*doc["budgets"]["30 min"]["scores"].values())
    md = cifar10.render(doc)
    assert "| real training images (the floor) |" in md and "| 30 min | cifar10-sngan | 10 | 1.5 | 109.20 |" in md
    assert "65.2% higher" in md and "-16.0 points" in md and "NOT met" in md
    assert "test accuracy 84.3%" in md and "not Inception" in md


def test_quick_budgets_keep_their_order():
    assert cifar10.budget_seconds(30, True) < cifar10.budget_seconds(90, True)
    assert cifar10.budget_seconds(30, False) == 1800


def test_a_preset_with_a_decaying_rate_keeps_its_length_and_a_constant_one_trains_to_the_budget():
    assert cifar10.length("cifar10-dcgan") == ["train.steps=10000000"]
    assert cifar10.length("cifar10-sngan") == cifar10.length("cifar10-sngan-gpu") == []  # rates decay to 0
    assert load("cifar10-sngan-gpu", []).generator.schedule == "linear"


def test_a_run_that_trained_all_its_steps_is_done_before_its_budget(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"steps": 100, "steps_done": 100, "seconds": 9.0,
                                                   "time_limit": {"cpu_seconds": 8.5}}))
    assert cifar10.used(tmp_path) == {"cpu_seconds": 8.5, "wall_seconds": 9.0, "steps": 100, "done": True}
    (tmp_path / "run.json").write_text(json.dumps({"steps": 10000000, "steps_done": 100}))
    assert not cifar10.used(tmp_path)["done"]
    assert not cifar10.used(tmp_path / "absent")["done"]


def test_the_table_names_a_seed_other_than_the_presets_and_a_folder_keeps_one_seed(tmp_path):
    assert "Seed 1 (`train.seed` of both runs)." in cifar10.render({"seed": 1})
    assert "Seed" not in cifar10.render({"seed": 0})
    (tmp_path / "cifar10.json").write_text(json.dumps({"budgets": {"30 min": {}}}))
    with pytest.raises(SystemExit, match="holds runs of seed 0, not 1"):
        cifar10.main(["--out", str(tmp_path), "--seed", "1"])
