"""Evaluation during training (eval.every): scores, best/, early stopping, resume, refusals."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import pytest
import torch

from conftest import pictures_off
from gankit import checkpoint
from gankit.cli import main
from gankit.metrics.tracker import EVAL_COLUMNS, Evaluator

#: tiny ring run, deterministic; dropout in G and D (any draw from the global RNG would show) and batch
#: norm in G (sampling in eval mode must leave G in train mode), no EMA (G itself is sampled)
RING = ["ring", "train.steps=20", "data.n_samples=256", "train.batch_size=32", "generator.hidden=[16]",
        "generator.latent_dim=4", "generator.norm=batch", "generator.dropout=0.1", "discriminator.hidden=[16]",
        "discriminator.dropout=0.2",
        "log.every=5", "log.sample_every=1000", "log.checkpoint_every=5", "log.keep_checkpoints=10",
        "log.grid_size=16", "train.deterministic=true", "train.threads=1", "log.progress=off"]
EVAL = ["eval.every=10", "eval.n=64"]


def train(*argv: str) -> int:
    return main(["train", *argv, "--quiet"])


def eval_rows(run: Path) -> list[dict]:
    with open(run / "eval_metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def metric_rows(run: Path) -> list[list[str]]:
    """metrics.csv without the wall-clock column."""
    with open(run / "metrics.csv", newline="") as f:
        return [r[:-1] for r in csv.reader(f)]


def best_meta(run: Path) -> dict:
    return checkpoint.read_meta(run / "best" / "generator.json")["meta"]


@pytest.fixture(scope="module")
def ring_runs(tmp_path_factory) -> tuple[Path, Path]:
    """(run with eval.every=10, the same run without evaluation)."""
    root = tmp_path_factory.mktemp("ring")
    assert train(*RING, *EVAL, "--out", str(root / "eval")) == 0
    with pictures_off():
        assert train(*RING, "--out", str(root / "plain")) == 0
    return root / "eval", root / "plain"


def test_evaluation_does_not_change_training(ring_runs):
    """Same final weights, same checkpointed training state, same logged losses with and without eval."""
    with_eval, plain = ring_runs
    assert (with_eval / "generator.safetensors").read_bytes() == (plain / "generator.safetensors").read_bytes()
    assert metric_rows(with_eval) == metric_rows(plain)
    a = checkpoint.load(with_eval / "checkpoints" / "step_00000020.json")[0]
    b = checkpoint.load(plain / "checkpoints" / "step_00000020.json")[0]
    assert "eval" in a["callbacks"] and "eval" not in b["callbacks"]
    ta, tb = checkpoint.Snapshot.of(a["train"]), checkpoint.Snapshot.of(b["train"])
    assert ta.skeleton == tb.skeleton and all(torch.equal(ta.tensors[k], tb.tensors[k]) for k in tb.tensors)
    assert not (plain / "eval_metrics.csv").exists() and not (plain / "best").exists()


def test_ring_scores_best_and_files(ring_runs, capsys):
    run = ring_runs[0]
    rows = eval_rows(run)
    assert list(rows[0]) == EVAL_COLUMNS
    # defaults for the ring: modes (VEEGAN/PacGAN protocol) and FID on raw features, every 10 steps
    assert [(int(r["step"]), r["metric"]) for r in rows] == [
        (s, m) for s in (10, 20) for m in ("modes_captured", "hq_fraction", "reverse_kl", "fid")]
    modes = {int(r["step"]): float(r["value"]) for r in rows if r["metric"] == "modes_captured"}
    hq = {int(r["step"]): float(r["value"]) for r in rows if r["metric"] == "hq_fraction"}
    assert all(0 <= m <= 8 and m == int(m) for m in modes.values())
    # best by modes captured (higher is better), ties broken by the high-quality share
    best = max(modes, key=lambda s: (modes[s], hq[s], -s))
    meta = best_meta(run)
    assert meta["step"] == best and meta["eval"]["metric"] == "modes_captured"
    assert meta["eval"]["value"] == modes[best] and meta["eval"]["higher_is_better"] is True
    assert meta["eval"]["scores"]["fid"]["n_generated"] == 64 and meta["eval"]["scores"]["fid"]["extractor"] == "standardized"
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "complete" and info["eval"]["best"]["step"] == best
    assert info["eval"]["n_generated"] == 64 and info["eval"]["n_real"] == 64 and info["eval"]["seed"] == 0
    # the best generator is the sampling generator of that step (the EMA copy: the ring averages G),
    # as checkpointed then
    state = checkpoint.load(run / "checkpoints" / f"step_{best:08d}.json")[0]["train"]
    best_g = checkpoint.load(run / "best" / "generator.json")[0]["G"]
    assert best_g.keys() == state["emas"]["G"].keys()
    assert all(torch.equal(best_g[k], state["emas"]["G"][k]) for k in best_g)
    # curves drawn and shown in the report
    assert (run / "metric_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Metric curves" in (run / "report.html").read_text()
    # the best generator is usable like a run: sample --best, sample RUN/best, eval RUN/best
    out = run.parent / "best.npy"
    assert main(["sample", str(run), "--best", "--n", "5", "--seed", "1", "--out", str(out)]) == 0
    assert main(["sample", str(run / "best"), "--n", "5", "--seed", "1", "--out", str(run.parent / "b2.npy")]) == 0
    assert out.read_bytes() == (run.parent / "b2.npy").read_bytes()
    capsys.readouterr()
    assert main(["eval", str(run / "best"), "--n", "64", "--metrics", "modes", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["scores"]["modes_captured"]["value"] == modes[best]  # the same sample as during training
    assert doc["checkpoint"]["step"] == best


def test_last_step_scores_equal_gankit_eval(ring_runs, capsys):
    """The one pipeline: the in-training scores at the last step are `gankit eval RUN --n N --seed S` of the
    final generator (eval_metrics.csv keeps 6 digits), and the tracker's own scoring of the final
    generator gives exactly eval.json's values."""
    from gankit.data import load_data
    from gankit.metrics.evaluate import evaluate_run
    from gankit.metrics.pipeline import json_safe
    from gankit.run.folder import load_run_config
    from gankit.sampling import load as load_generator

    run = ring_runs[0]
    last = {r["metric"]: float(r["value"]) for r in eval_rows(run) if int(r["step"]) == 20}
    capsys.readouterr()
    assert main(["eval", str(run), "--n", "64", "--metrics", "modes,fid", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    values = {k: (math.inf if v["value"] is None else v["value"]) for k, v in doc["scores"].items()}
    assert list(values) == list(last) and values == pytest.approx(last, rel=1e-5)
    cfg = load_run_config(run)
    data = load_data(cfg.data, output=cfg.generator.output, seed=cfg.train.seed)
    ev = Evaluator(cfg, data, torch.device("cpu"), 0, run.parent / "unused")
    g = load_generator(run)
    tracked = json_safe(ev.score(*ev.sample(g.G, g.meta), 20))
    assert {k: v["value"] for k, v in tracked.items()} == {
        k: v["value"] for k, v in evaluate_run(run, n=64, metrics="modes,fid", write=False)["scores"].items()}


def test_sample_best_without_evaluation_is_a_clear_error(ring_runs, tmp_path, capsys):
    assert main(["sample", str(ring_runs[1]), "--best", "--out", str(tmp_path / "x.npy")]) == 2
    err = capsys.readouterr().err
    assert "no best generator" in err and "eval.every" in err


@pytest.fixture(scope="module")
def classifier_cache(tmp_path_factory) -> Path:
    """A small digits classifier (1 epoch) in a private cache, so no test trains the full one."""
    from gankit.config import DataConfig
    from gankit.metrics.classifier import TrainSettings, train_evaluator

    cache = tmp_path_factory.mktemp("cache")
    tiny = TrainSettings(epochs=1, width=4, feature_dim=8, holdout=0.9)  # 180 training images
    train_evaluator(DataConfig(name="digits", cache_dir=str(cache)), tiny, quiet=True)
    return cache


def test_digits_fid_matches_gankit_eval(classifier_cache, tmp_path, capsys, no_pictures):
    """Classifier FID + class histogram of the EMA generator during training; the last score equals
    `gankit eval` on the final generator with the same n and seed (same real subset, noise, features)."""
    run = tmp_path / "digits"
    assert train("digits", "train.steps=20", "data.limit=256", "train.batch_size=32", "generator.hidden=[16]",
                 "discriminator.hidden=[16]", "ema.decay=0.9", "log.every=10", "log.sample_every=1000", *EVAL,
                 f"data.cache_dir={classifier_cache}", "train.threads=1", "--out", str(run)) == 0
    rows = eval_rows(run)
    assert {r["metric"] for r in rows} == {"fid", "class_kl", "mean_confidence"}
    fid = {int(r["step"]): float(r["value"]) for r in rows if r["metric"] == "fid"}
    assert sorted(fid) == [10, 20] and all(v > 0 for v in fid.values())
    best = min(fid, key=lambda s: (fid[s], s))
    meta = best_meta(run)
    assert meta["step"] == best and meta["eval"]["metric"] == "fid" and meta["eval"]["higher_is_better"] is False
    assert meta["eval"]["scores"]["fid"]["extractor"] == "classifier"
    capsys.readouterr()
    assert main(["eval", str(run), "--n", "64", "--metrics", "fid", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["scores"]["fid"]["value"] == pytest.approx(fid[20], rel=1e-5)
    # every score of the last evaluation, as `gankit eval` makes it with the in-training metrics
    assert main(["eval", str(run), "--n", "64", "--metrics", "fid,classes", "--json"]) == 0
    last = {r["metric"]: float(r["value"]) for r in rows if int(r["step"]) == 20}
    assert {k: v["value"] for k, v in json.loads(capsys.readouterr().out)["scores"].items()} == pytest.approx(
        last, rel=1e-5)


# ----------------------------------------------------------------------------- tracker logic


def fake_scores(monkeypatch, values: dict[int, float], name: str = "fid") -> None:
    """Make every evaluation report ``values[step]`` for score ``name`` (the loop logic, not the metric)."""

    def score(self, fake, requested, step):
        return {name: {"value": values.get(step, 9.0)}}

    monkeypatch.setattr(Evaluator, "score", score)


def test_best_metric_direction_and_patience(monkeypatch, tmp_path):
    """fid: lower is better; coverage: higher is better; patience counts evaluations since the best."""
    from gankit.config import load
    from gankit.run.session import build

    for best_metric, series, best_step in (("fid", [5.0, 3.0, 4.0, 3.0], 2), ("coverage", [0.1, 0.5, 0.2, 0.5], 2)):
        cfg = load("ring", ["data.n_samples=64", "generator.hidden=[4]", "eval.every=1", "eval.n=16",
                            f"eval.metrics={'fid' if best_metric == 'fid' else 'prdc'}", "eval.patience=2"])
        data, trainer = build(cfg, torch.device("cpu"))
        ev = Evaluator(cfg, data, torch.device("cpu"), 0, tmp_path / best_metric)
        fake_scores(monkeypatch, {i + 1: v for i, v in enumerate(series)}, best_metric)
        (tmp_path / best_metric).mkdir()
        ev.open_csv(tmp_path / best_metric)
        done = []
        for step in range(1, 5):
            nets = trainer.sampling_nets()
            ev.evaluate(nets["G"], trainer.task.export(nets, step)[2], step)
            done.append(ev.exhausted())
        ev.close_csv()
        assert ev.best_step == best_step and ev.best_value == series[best_step - 1]  # an equal value is no new best
        assert ev.since_best == 2 and done == [False, False, False, True]
        assert best_meta(tmp_path / best_metric)["step"] == best_step


def test_early_stop_then_resume(monkeypatch, tmp_path, capsys, no_pictures):
    """FID that only gets worse after step 5: with patience 2 the run stops at step 15, checkpointed;
    a resume with eval.patience=0 trains on to the end."""
    fake_scores(monkeypatch, {5: 1.0, 10: 2.0, 15: 3.0, 20: 0.5})
    run = tmp_path / "run"
    assert main(["train", *RING, "train.steps=40", "eval.every=5", "eval.metrics=fid", "eval.patience=2",
                 "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert "stopping early at step 15: fid has not improved for 2 evaluations (eval.patience=2)" in out
    assert f"best fid 1 at step 5, kept in {run / 'best'}" in out
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "stopped_early" and info["steps_done"] == 15
    assert info["early_stop"] == {"step": 15, "patience": 2, "evaluations_without_improvement": 2}
    assert checkpoint.checkpoints_in(run / "checkpoints")[-1].name == "step_00000015.json"
    assert checkpoint.read_meta(run / "generator.json")["meta"]["step"] == 15
    assert best_meta(run)["step"] == 5 and info["eval"]["best"] == {"metric": "fid", "value": 1.0, "step": 5,
                                                                    "folder": "best"}
    assert train("--resume", str(run), "eval.patience=0") == 0
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "complete" and info["steps_done"] == 40 and "early_stop" not in info
    assert [int(r["step"]) for r in eval_rows(run) if r["metric"] == "fid"] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert best_meta(run)["step"] == 20 and info["eval"]["best"]["value"] == 0.5


def test_resume_restores_the_tracker_and_rewrites_a_newer_best(monkeypatch, tmp_path, no_pictures):
    """Killed after step 10 with best/ already from step 20 (an abandoned timeline): the resume goes
    back to the checkpoint's best (step 10) and then ends exactly as the uninterrupted run."""
    fake_scores(monkeypatch, {10: 2.0, 20: 1.0})
    full, run = tmp_path / "full", tmp_path / "run"
    assert train(*RING, *EVAL, "eval.metrics=fid", "--out", str(full)) == 0
    assert best_meta(full)["step"] == 20
    shutil.copytree(full, run)
    for p in checkpoint.checkpoints_in(run / "checkpoints"):
        if int(p.stem[5:]) > 10:
            checkpoint.remove(p)
    with open(run / "eval_metrics.csv", "a") as f:
        f.write("25,fid")  # a half-written row of the killed process
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": "running"}))
    assert train("--resume", str(run), "train.steps=10") == 0  # no steps left: only the resume's own work
    assert best_meta(run)["step"] == 10
    assert [int(r["step"]) for r in eval_rows(run)] == [10]
    assert train("--resume", str(run), "train.steps=20") == 0
    best = "best/generator.safetensors"
    assert (run / best).read_bytes() == (full / best).read_bytes()
    assert eval_rows(run) == eval_rows(full)
    assert (run / "generator.safetensors").read_bytes() == (full / "generator.safetensors").read_bytes()


# ----------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("args, words", [
    (["digits", "eval.every=5", "eval.metrics=modes"], ["eval.metrics", "modes", "ring and grid", "digits"]),
    (["ring", "eval.every=5", "eval.metrics=prdc", "eval.n=5"], ["prdc", "at least 6", "eval.n=5"]),
    (["ring", "eval.every=5", "eval.metrics=fid,nope"], ["unknown metric 'nope'"]),
    (["ring", "eval.every=5", "eval.best_metric=density", "eval.metrics=prdc"], ["density", "near 1"]),
    (["ring", "eval.every=5", "eval.metrics=fid", "eval.best_metric=precision"], ["add prdc to eval.metrics"]),
    (["ring", "eval.every=5", "eval.best_metric=conditional_accuracy"], ["class-conditional"]),
    (["ring", "eval.every=5", "eval.extractor=nope"], ["eval.extractor=nope", "unknown feature extractor"]),
    (["ring", "eval.patience=3"], ["eval.patience", "eval.every"]),
    (["ring", "eval.every=-1"], ["eval.every", ">= 0"]),
    (["gaussian-1d-mse", "eval.every=5", "eval.metrics=classes"], ["classes needs labelled images"]),
])
def test_bad_eval_settings_exit_2_before_training(args, words, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *args, "train.steps=5", "data.n_samples=64", "train.batch_size=16", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gankit: error: ") and err.count("\n") == 1, err
    assert all(w in err for w in words), err
    assert not out.exists()  # refused before the run folder was made


def test_best_metric_of_another_metric_is_added_to_the_defaults(tmp_path):
    from gankit.config import load
    from gankit.run.session import build

    cfg = load("ring", ["data.n_samples=64", "eval.every=5", "eval.n=16", "eval.best_metric=coverage"])
    data, _ = build(cfg, torch.device("cpu"))
    ev = Evaluator(cfg, data, torch.device("cpu"), 0, tmp_path)
    assert list(ev.metrics) == ["modes", "fid", "prdc"] and ev.best_metric == "coverage"


def test_rollback_rewinds_the_evaluations(monkeypatch, tmp_path, capsys, no_pictures):
    """A NaN batch at step 13: the generator's output is NaN at step 15 (that evaluation is skipped),
    the guard rolls back to step 10, and eval_metrics.csv keeps one timeline."""
    from gankit.training.batches import Batches

    original = Batches.next
    calls = {"n": 0}

    def poisoned(self):
        batch = original(self)
        calls["n"] += 1
        return {**batch, "x": torch.full_like(batch["x"], float("nan"))} if calls["n"] == 13 else batch

    monkeypatch.setattr(Batches, "next", poisoned)
    fake_scores(monkeypatch, {5: 3.0, 10: 2.0, 15: 1.0, 20: 4.0})
    run = tmp_path / "run"
    assert train("ring", "train.steps=20", "train.batch_size=16", "data.n_samples=128", "generator.hidden=[8]",
                 "discriminator.hidden=[8]", "log.checkpoint_every=10", "log.sample_every=1000",
                 "eval.every=5", "eval.metrics=fid", "log.progress=off", "--out", str(run)) == 0
    err = capsys.readouterr().err
    assert "evaluation at step 15 skipped: the generator's output is not finite" in err
    assert "rolled back to step 10" in err
    assert [(int(r["step"]), float(r["value"])) for r in eval_rows(run)] == [(5, 3.0), (10, 2.0), (15, 1.0), (20, 4.0)]
    assert best_meta(run)["step"] == 15
    assert json.loads((run / "run.json").read_text())["eval"]["best"]["step"] == 15
