"""Divergence guard: NaN/Inf found within a few steps, rollback with lower learning rates, a limit.

Divergence is provoked three ways: a poisoned batch (NaN in the data, once or in every epoch),
a poisoned optimiser state (non-finite weights while the losses still look fine), and absurd
learning rates.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import pytest
import torch

from gankit import checkpoint
from gankit.cli import main
from gankit.training.batches import Batches
from gankit.training.loop import CHECK_EVERY
from gankit.training.phases import Stepper

BASE = ["ring", "train.steps=40", "train.batch_size=16", "data.n_samples=128", "generator.hidden=[8]",
        "discriminator.hidden=[8]", "generator.latent_dim=2", "generator.lr=2e-4", "discriminator.lr=2e-4",
        "log.checkpoint_every=10", "log.sample_every=1000", "log.keep_checkpoints=100",
        "train.deterministic=true", "train.threads=1", "log.progress=off"]  # log.every stays 50: the guard's own check, not the metrics row, must notice


pytestmark = pytest.mark.usefixtures("no_pictures")  # tests/conftest.py


def train(tmp_path: Path, *extra: str) -> tuple[int, Path]:
    out = tmp_path / "run"
    return main(["train", *BASE, *extra, "--out", str(out), "--quiet"]), out


def poison_batch(monkeypatch, at_call: int, every_epoch: bool = False) -> None:
    """Put a NaN into the ``at_call``-th real batch (1-based) that Batches hands out."""
    calls = {"n": 0}
    original = Batches.next

    def next_(self):
        out = original(self)
        calls["n"] += 1
        if calls["n"] == at_call or (every_epoch and calls["n"] % self.per_epoch == at_call % self.per_epoch):
            x = out["x"].clone()
            x[0, 0] = float("nan")
            return {**out, "x": x}
        return out

    monkeypatch.setattr(Batches, "next", next_)


def all_checkpoints_finite(run: Path) -> list[int]:
    steps = []
    for p in checkpoint.checkpoints_in(run / "checkpoints"):
        state, meta = checkpoint.load(p)
        assert checkpoint.first_nonfinite(checkpoint.Snapshot.of(state).tensors) is None, p
        steps.append(meta["step"])
    return steps


def metric_rows(run: Path) -> list[dict]:
    with open(run / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_a_poisoned_batch_is_rolled_back_and_training_goes_on(tmp_path, monkeypatch, capsys):
    poison_batch(monkeypatch, at_call=13)
    code, run = train(tmp_path)
    assert code == 0
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "complete"
    (rb,) = info["rollbacks"]
    assert 13 <= rb["step"] <= 13 + CHECK_EVERY  # noticed within a few steps
    assert rb["to_step"] == 10 and rb["lr_scale"] == 0.5
    err = capsys.readouterr().err
    assert "training diverged at step 20" in err and "rolled back to step 10" in err
    assert all_checkpoints_finite(run) == [10, 20, 30, 40]
    state, meta = checkpoint.load(run / "checkpoints" / "step_00000040.json")
    assert meta["rollbacks"] == 1 and meta["lr_scale"] == 0.5
    for opt in ("G", "D"):
        assert state["train"]["opts"][opt]["param_groups"][0]["lr"] == pytest.approx(2e-4 * 0.5)
    rows = metric_rows(run)
    assert [int(r["step"]) for r in rows] == [40]
    assert all(math.isfinite(float(r[k])) for r in rows for k in ("d_loss", "g_loss", "d_real", "d_fake"))


def test_resume_after_a_rollback_keeps_the_lowered_learning_rates(tmp_path, monkeypatch):
    poison_batch(monkeypatch, at_call=13)
    code, run = train(tmp_path)
    assert code == 0
    monkeypatch.undo()  # the resumed process sees clean data, as after a transient fault
    again = tmp_path / "again"
    shutil.copytree(run, again)
    for p in checkpoint.checkpoints_in(again / "checkpoints"):
        if p.stem > "step_00000030":
            checkpoint.remove(p)
    (again / "generator.json").unlink()
    info = json.loads((again / "run.json").read_text())
    (again / "run.json").write_text(json.dumps({**info, "status": "running"}))
    assert main(["train", "--resume", str(again), "--quiet"]) == 0
    assert (again / "generator.safetensors").read_bytes() == (run / "generator.safetensors").read_bytes()
    assert len(json.loads((again / "run.json").read_text())["rollbacks"]) == 1


def test_non_finite_weights_are_caught_before_a_checkpoint(tmp_path, monkeypatch, capsys):
    """Losses still finite, but an optimiser moment is NaN: the checkpoint is not written."""
    original = Stepper.train_step
    done = {"poisoned": False}

    def train_step(self, batches):
        out = original(self, batches)
        if self.step == 10 and not done["poisoned"]:
            done["poisoned"] = True
            first = next(iter(self.opts["D"].state.values()))
            first["exp_avg"].view(-1)[0] = float("inf")
        return out

    monkeypatch.setattr(Stepper, "train_step", train_step)
    code, run = train(tmp_path)
    assert code == 0
    (rb,) = json.loads((run / "run.json").read_text())["rollbacks"]
    assert rb["step"] == 10 and rb["to_step"] == 0 and "opts/D" in rb["reason"] and "exp_avg" in rb["reason"]
    assert "rolled back to step 0" in capsys.readouterr().err
    assert all_checkpoints_finite(run) == [10, 20, 30, 40]


def test_data_that_always_diverges_stops_after_max_rollbacks(tmp_path, monkeypatch, capsys):
    poison_batch(monkeypatch, at_call=3, every_epoch=True)
    code, run = train(tmp_path, "train.max_rollbacks=2")
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all("rolled back" in line for line in lines[:2])
    assert lines[-1].startswith("gankit: error: training diverged at step")
    for fix in ("after 2 rollback(s)", "0.25x", "generator.lr", "train.max_rollbacks", "check the data"):
        assert fix in lines[-1]
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "failed" and len(info["rollbacks"]) == 2
    assert not (run / "generator.json").exists()
    all_checkpoints_finite(run)


def test_max_rollbacks_zero_stops_at_the_first_divergence(tmp_path, monkeypatch, capsys):
    poison_batch(monkeypatch, at_call=5)
    code, run = train(tmp_path, "train.max_rollbacks=0")
    assert code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "training diverged at step 10" in line and "rollback" not in line.split(";")[0]
    assert "train.max_rollbacks" in line
    assert json.loads((run / "run.json").read_text())["status"] == "failed"


def test_a_huge_learning_rate_diverges_and_is_tamed_by_the_factor(tmp_path, capsys):
    code, run = train(tmp_path, "generator.lr=1e30", "discriminator.lr=1e30", "train.max_rollbacks=1")
    assert code == 2
    assert "diverged" in capsys.readouterr().err
    all_checkpoints_finite(run)
    code, run = train(tmp_path / "tamed", "generator.lr=1e30", "discriminator.lr=1e30",
                      "train.divergence_lr_factor=1e-33")
    assert code == 0
    (rb,) = json.loads((run / "run.json").read_text())["rollbacks"]
    assert rb["step"] <= CHECK_EVERY and rb["lr_scale"] == pytest.approx(1e-33)
    state, _ = checkpoint.load(run / "checkpoints" / "step_00000040.json")
    assert state["train"]["opts"]["G"]["param_groups"][0]["lr"] == pytest.approx(1e-3)
    assert torch.isfinite(state["train"]["nets"]["G"]["0.weight"]).all()
