"""The health monitor: each warning provoked on purpose (and silence on healthy numbers)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gankit.monitor import HealthMonitor, mean_pairwise_distance


def healthy_rows(m: HealthMonitor, n: int, start: int = 0):
    out = []
    for i in range(n):
        out += m.observe(start + i, d_loss=1.3, g_loss=0.8, d_real=0.6, d_fake=0.4)
    return out


def test_healthy_training_is_silent():
    m = HealthMonitor(probability=True, real_spread=1.0)
    assert healthy_rows(m, 50) == []
    rng = np.random.default_rng(0)
    assert m.observe_samples(10, rng.normal(size=(64, 4)) / np.sqrt(8),
                             class_counts=np.full(10, 6)) == []


def test_d_overpowering_needs_a_sustained_window():
    m = HealthMonitor(probability=True, window=5)
    bad = dict(d_loss=0.01, g_loss=6, d_real=0.99, d_fake=0.01)
    for step in range(4):
        assert m.observe(step, **bad) == []  # 4 rows: not yet sustained
    w = m.observe(4, **bad)  # the 5th row in a row fires
    assert [x.kind for x in w] == ["d_overpowers_g"] and w[0].step == 4
    assert "D(x)=0.990" in w[0].message and "discriminator.lr" in w[0].message  # what it saw, what to try
    assert m.observe(5, **bad) == []  # warned once per episode ...
    healthy_rows(m, 1, start=6)
    for step in range(7, 12):  # ... and again after recovering
        m.observe(step, **bad)
    assert [(x.kind, x.step) for x in m.warnings] == [("d_overpowers_g", 4), ("d_overpowers_g", 11)]


def test_interrupted_window_does_not_fire():
    m = HealthMonitor(probability=True, window=3)
    for step in range(10):
        good = step % 2 == 0
        m.observe(step, d_loss=0.1, g_loss=3, d_real=0.99 if good else 0.7, d_fake=0.01)
    assert m.warnings == []


def test_d_overpowering_only_for_probability_losses():
    m = HealthMonitor(probability=False, window=2)
    for step in range(5):
        m.observe(step, d_loss=-5, g_loss=3, d_real=0.99, d_fake=0.01)
    assert m.warnings == []


def test_non_finite_losses():
    m = HealthMonitor(probability=True)
    w = m.observe(3, d_loss=float("nan"), g_loss=1.0, d_real=0.5, d_fake=0.5)
    assert w[0].kind == "non_finite" and "step 3" in w[0].message and "lr" in w[0].message


def test_mode_collapse_from_spread():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(256, 8))
    m = HealthMonitor(probability=True, real_spread=mean_pairwise_distance(real))
    collapsed = np.tile(rng.normal(size=(1, 8)), (64, 1)) + 0.01 * rng.normal(size=(64, 8))
    w = m.observe_samples(100, collapsed)
    assert w and w[0].kind == "mode_collapse" and "spread" in w[0].message
    assert m.observe_samples(200, rng.normal(size=(64, 8))) == []  # recovered: silent, re-armed


def test_mode_collapse_from_class_histogram():
    m = HealthMonitor(probability=True)
    w = m.observe_samples(5, np.zeros((10, 2)), class_counts=np.array([60, 2, 0, 0, 0, 0, 0, 0, 0, 2]))
    assert w and "1 of 10 classes" in w[0].message


@pytest.mark.parametrize("n", [2, 5, 30])
def test_mean_pairwise_distance_by_hand(n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 3))
    hand = np.mean([np.linalg.norm(x[i] - x[j]) for i in range(n) for j in range(n) if i != j])
    assert mean_pairwise_distance(x) == pytest.approx(hand, rel=1e-9)


def test_samples_are_not_judged_during_warm_up():
    m = HealthMonitor(probability=True, real_spread=1.0, warmup=100)
    assert m.observe_samples(50, np.zeros((16, 3))) == []
    assert m.observe_samples(100, np.zeros((16, 3)))[0].kind == "mode_collapse"


def test_a_real_run_warns_when_d_overpowers_g(tmp_path, capsys):
    """Provoked: G barely learns, D learns fast -> D(x) -> 1, D(G(z)) -> 0 -> a warning in console and log."""
    import json

    from gankit.cli import main

    out = tmp_path / "run"
    assert main(["train", "digits", "generator.lr=1e-7", "discriminator.lr=3e-3", "discriminator.dropout=0",
                 "train.steps=150", "log.every=5", "generator.hidden=[32]", "discriminator.hidden=[64]", "train.threads=1",
                 "--out", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "D overpowers G" in err
    logged = [json.loads(line) for line in (out / "health.jsonl").read_text().splitlines()]
    assert logged[0]["kind"] == "d_overpowers_g"
    assert json.loads((out / "run.json").read_text())["warnings"][0]["kind"] == "d_overpowers_g"
    assert "D overpowers G" in (out / "report.html").read_text()


def test_state_resumes_a_window_midway():
    """A run resumed from a checkpoint warns at the same row as the uninterrupted run."""
    bad = dict(d_loss=0.01, g_loss=6, d_real=0.99, d_fake=0.01)
    whole = HealthMonitor(probability=True, window=5)
    first = HealthMonitor(probability=True, window=5)
    for step in range(3):
        whole.observe(step, **bad)
        first.observe(step, **bad)
    second = HealthMonitor(probability=True, window=5)
    second.load_state_dict(json.loads(json.dumps(first.state_dict())))  # through the checkpoint's JSON
    fired = [(w.step, w.kind) for step in range(3, 8) for w in second.observe(step, **bad)]
    assert fired == [(w.step, w.kind) for step in range(3, 8) for w in whole.observe(step, **bad)]
    assert fired == [(4, "d_overpowers_g")]


def test_a_resumed_run_does_not_repeat_a_warning(tmp_path, capsys):
    """The episode that warned before the checkpoint is still the same episode after --resume."""
    from gankit import checkpoint
    from gankit.cli import main

    out = tmp_path / "run"
    args = ["digits", "generator.lr=1e-7", "discriminator.lr=3e-3", "discriminator.dropout=0", "log.every=5",
            "generator.hidden=[32]", "discriminator.hidden=[64]", "train.threads=1", "log.checkpoint_every=100"]
    assert main(["train", *args, "train.steps=100", "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().err.count("D overpowers G") == 1
    state, _ = checkpoint.load(checkpoint.checkpoints_in(out / "checkpoints")[-1])
    health = state["callbacks"]["health"]
    assert health["active"] == ["d_overpowers_g"] and health["overpowered"] >= 5
    assert main(["train", "--resume", str(out), "train.steps=150", "--quiet"]) == 0
    assert "D overpowers G" not in capsys.readouterr().err  # still overpowered: no second warning


@pytest.mark.parametrize("collapsed", [{10, 30}, {20, 30}])
def test_resume_warns_as_the_uninterrupted_run(tmp_path, monkeypatch, collapsed):
    """The checkpoint at a sampling step holds the health state *after* that step's sample check."""
    from gankit.cli import main

    real = HealthMonitor.observe_samples

    def observe_samples(self, step, samples, **kw):  # collapsed (zero spread) at the chosen steps
        return real(self, step, np.zeros_like(samples) if step in collapsed else samples, **kw)

    monkeypatch.setattr(HealthMonitor, "observe_samples", observe_samples)
    monkeypatch.setattr("gankit.monitor.sample_warmup", lambda total, decay=0.0: 0)  # judge a 40-step run
    args = ["ring", "train.threads=1", "log.sample_every=10", "log.checkpoint_every=10", "log.every=5", "--quiet"]
    assert main(["train", *args, "train.steps=40", "--out", str(tmp_path / "whole")]) == 0
    assert main(["train", *args, "train.steps=20", "--out", str(tmp_path / "split")]) == 0
    assert main(["train", "--resume", str(tmp_path / "split"), "train.steps=40", "--quiet"]) == 0

    def warned(run):
        return [(w["step"], w["kind"]) for w in map(json.loads, (run / "health.jsonl").read_text().splitlines())]

    assert warned(tmp_path / "split") == warned(tmp_path / "whole")
    assert [s for s, _ in warned(tmp_path / "whole")] == ([10, 30] if collapsed == {10, 30} else [20])


def test_rollback_forgets_the_abandoned_rows(tmp_path, monkeypatch):
    """Rows logged after the last good state are undone by a rollback, and so are the monitor's counts."""
    from gankit.cli import main
    from gankit.training.batches import Batches

    real_observe, real_next = HealthMonitor.observe, Batches.next

    def observe(self, step, stats=None, **kw):  # D overpowers G from step 11 on
        return real_observe(self, step, {**(stats or {}), **kw, **(dict(d_real=0.99, d_fake=0.01) if step >= 11 else {})})

    calls = []

    def next_batch(self):  # one NaN in the 15th batch: the losses diverge, training rolls back to step 10
        batch = real_next(self)
        calls.append(1)
        if len(calls) == 15:
            x = batch["x"].clone()
            x[0, 0] = float("nan")
            return {**batch, "x": x}
        return batch

    monkeypatch.setattr(HealthMonitor, "observe", observe)
    monkeypatch.setattr(Batches, "next", next_batch)
    run = tmp_path / "run"
    assert main(["train", "ring", "train.steps=30", "train.threads=1", "log.every=1", "log.checkpoint_every=10",
                 "log.sample_every=1000", "--out", str(run), "--quiet"]) == 0
    assert json.loads((run / "run.json").read_text())["rollbacks"][0]["to_step"] == 10
    (first, *_) = map(json.loads, (run / "health.jsonl").read_text().splitlines())
    assert first["kind"] == "d_overpowers_g" and first["step"] == 15  # 5 rows of the kept timeline: 11..15
