"""Optional TensorBoard logging (log.tensorboard=true): a clear error without the package, CSV always.

The `tensorboard` package is not a dependency; the logging test runs only where it is installed.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys

import pytest

from gankit import checkpoint
from gankit.cli import main

TINY = ["ring", "train.steps=20", "data.n_samples=128", "train.batch_size=32", "generator.hidden=[8]",
        "discriminator.hidden=[8]", "log.every=5", "log.sample_every=1000", "log.checkpoint_every=5",
        "log.grid_size=8", "train.threads=1", "log.progress=off"]


@pytest.fixture(autouse=True)
def no_pictures(monkeypatch):
    """Plots and the report are not what these tests check (and cost most of a tiny run)."""
    import gankit.report.html
    import gankit.report.plots

    for name in ("table_plot", "loss_curves", "metric_curves"):
        monkeypatch.setattr(gankit.report.plots, name, lambda *args, **kwargs: None)
    monkeypatch.setattr(gankit.report.html, "build_report", lambda *args, **kwargs: None)


def test_missing_package_is_a_clear_error_before_the_run_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # `import` now raises ImportError
    out = tmp_path / "run"
    assert main(["train", *TINY, "log.tensorboard=true", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "log.tensorboard=true" in err and "pip install tensorboard" in err, err
    assert not out.exists()


def test_off_by_default_and_never_imported(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    out = tmp_path / "run"
    assert main(["train", *TINY, "--out", str(out), "--quiet"]) == 0
    assert not (out / "tensorboard").exists() and (out / "metrics.csv").exists()


def _scalars(folder) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_scalars_match_the_csv_files_and_survive_a_resume(tmp_path):
    pytest.importorskip("tensorboard")
    pytest.importorskip("torch.utils.tensorboard")
    run = tmp_path / "run"
    assert main(["train", *TINY, "log.tensorboard=true", "eval.every=10", "eval.n=64", "--out", str(run),
                 "--quiet"]) == 0
    logged = _scalars(run / "tensorboard")
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))  # the CSV is written as always
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert [s for s, _ in logged[f"train/{key}"]] == [5, 10, 15, 20]
        assert [v for _, v in logged[f"train/{key}"]] == pytest.approx([float(r[key]) for r in rows], rel=1e-5)
    with open(run / "eval_metrics.csv", newline="") as f:
        fid = [(int(r["step"]), float(r["value"])) for r in csv.DictReader(f) if r["metric"] == "fid"]
    assert [s for s, _ in logged["eval/fid"]] == [10, 20]
    assert [v for _, v in logged["eval/fid"]] == pytest.approx([v for _, v in fid], rel=1e-5)
    assert {"eval/modes_captured", "eval/hq_fraction"} <= set(logged)

    # killed after the step-10 checkpoint, resumed: one timeline, no doubled steps 15 and 20
    again = tmp_path / "again"
    shutil.copytree(run, again)
    for p in checkpoint.checkpoints_in(again / "checkpoints"):
        if int(p.stem[5:]) > 10:
            checkpoint.remove(p)
    info = json.loads((again / "run.json").read_text())
    (again / "run.json").write_text(json.dumps({**info, "status": "running"}))
    assert main(["train", "--resume", str(again), "--quiet"]) == 0
    assert [s for s, _ in _scalars(again / "tensorboard")["train/d_loss"]] == [5, 10, 15, 20]
