"""Run folders written by gankit 0.1.0 (tests/fixtures/, see its README.md) keep working.

Each test copies a fixture to tmp_path first; nothing is ever written into tests/fixtures. The
table fixture's config.yaml holds the relative ``data.path: tests/fixtures/tiny_labelled.csv``, so the
tests run from the repository root (or pass ``data.path=`` on resume, a documented feature).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import gankit
from gankit.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
TABLE_CSV = FIXTURES / "tiny_labelled.csv"
DIGITS = "run-0.1.0-digits"
TABLE = "run-0.1.0-table-cond"
RUNS = [DIGITS, TABLE]
CLASSES = ["setosa", "versicolor", "virginica"]
#: digits: the default eval (classes + classifier features) trains the domain classifier (~20 s)
EVAL_ARGS = {DIGITS: ["--metrics", "fid", "--extractor", "raw"], TABLE: []}


def _tree_digest() -> dict[str, str]:
    return {str(p.relative_to(FIXTURES)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(FIXTURES.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module", autouse=True)
def fixtures_untouched():
    before = _tree_digest()
    yield
    assert _tree_digest() == before, "a test wrote into tests/fixtures"


@pytest.fixture(autouse=True)
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(ROOT)


def copy(name: str, tmp_path: Path) -> Path:
    run = tmp_path / name
    shutil.copytree(FIXTURES / name, run)
    return run


def table_range() -> tuple[np.ndarray, np.ndarray]:
    """What a tanh generator can reach in the table's units: offset -+ scale (from 0.1.0's generator.json)."""
    data = json.loads((FIXTURES / TABLE / "generator.json").read_text())["meta"]["data"]
    offset, scale = np.array(data["offset"]), np.abs(data["scale"])
    return offset - scale, offset + scale


def metric_steps(run: Path) -> list[list[str]]:
    """metrics.csv rows without the wall-clock column."""
    with open(run / "metrics.csv", newline="") as f:
        return [r[:-1] for r in csv.reader(f)][1:]


def assert_sane(x: np.ndarray, name: str, n: int) -> None:
    assert x.dtype == np.float32 and np.isfinite(x).all()
    if name == DIGITS:
        assert x.shape == (n, 1, 8, 8) and 0 <= x.min() and x.max() <= 1
    else:  # tanh output, decoded to the table's original units
        lo, hi = table_range()
        assert x.shape == (n, 2) and (x >= lo - 1e-4).all() and (x <= hi + 1e-4).all()


# ----------------------------------------------------------------------------- sample


@pytest.mark.parametrize("name", RUNS)
def test_sample_npy_and_png(name, tmp_path):
    run = copy(name, tmp_path)
    assert main(["sample", str(run), "--n", "16", "--out", str(tmp_path / "x.npy"), "--seed", "1"]) == 0
    assert_sane(np.load(tmp_path / "x.npy"), name, 16)
    assert main(["sample", str(run), "--n", "16", "--out", str(tmp_path / "x.png")]) == 0
    with Image.open(tmp_path / "x.png") as im:
        im.load()
        assert min(im.size) > 8


def test_sample_label_csv(tmp_path):
    run = copy(TABLE, tmp_path)
    lo, hi = table_range()
    for label in ("versicolor", "1"):  # by name, and by position
        out = tmp_path / f"x{label}.csv"
        assert main(["sample", str(run), "--n", "16", "--label", label, "--out", str(out)]) == 0
        with open(out, newline="") as f:
            rows = list(csv.reader(f))
        assert rows[0] == ["petal_length", "petal_width", "species"]
        assert len(rows) == 17 and {r[-1] for r in rows[1:]} == {"versicolor"}
        x = np.array([[float(v) for v in r[:-1]] for r in rows[1:]])
        assert np.isfinite(x).all() and (x >= lo - 1e-4).all() and (x <= hi + 1e-4).all()


# ----------------------------------------------------------------------------- eval, report


@pytest.mark.parametrize("name", RUNS)
def test_eval(name, tmp_path):
    run = copy(name, tmp_path)
    assert main(["eval", str(run), "--n", "50", *EVAL_ARGS[name]]) == 0
    doc = json.loads((run / "eval.json").read_text())
    assert doc["checkpoint"]["step"] == 30
    assert "fid" in doc["scores"]
    for metric, s in doc["scores"].items():
        assert isinstance(s["value"], (int, float)) and math.isfinite(s["value"]), metric
        assert s["step"] == 30 and s["n_generated"] == 50


@pytest.mark.parametrize("name", RUNS)
def test_report(name, tmp_path):
    run = copy(name, tmp_path)
    (run / "report.html").unlink()
    assert main(["report", str(run)]) == 0
    html = (run / "report.html").read_text()
    assert "<html" in html.lower() and "data:image/png;base64" in html


# ----------------------------------------------------------------------------- resume


@pytest.mark.parametrize("name", RUNS)
def test_resume_continues_to_40(name, tmp_path, monkeypatch):
    run = copy(name, tmp_path)
    extra = []
    if name == TABLE:  # the data set "moved": a resume may change data.path
        monkeypatch.chdir(tmp_path)
        extra = [f"data.path={TABLE_CSV}"]
    old_rows = metric_steps(run)
    assert [int(r[0]) for r in old_rows] == [5, 10, 15, 20, 25, 30]
    assert main(["train", "--resume", str(run), "train.steps=40", "train.threads=1", *extra, "--quiet"]) == 0
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "complete" and info["steps"] == 40 and info["steps_done"] == 40
    rows = metric_steps(run)
    assert [int(r[0]) for r in rows] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert rows[:6] == old_rows  # the old rows are kept as they were
    assert all(math.isfinite(float(v)) for r in rows for v in r[2:])
    assert (run / "checkpoints" / "step_00000040.json").is_file()
    g = gankit.load(run)
    assert g.meta["step"] == 40
    assert_sane(g.samples(8, seed=0), name, 8)


@pytest.mark.parametrize("name", RUNS)
def test_resume_refuses_a_changed_architecture(name, tmp_path, capsys):
    run = copy(name, tmp_path)
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "generator.hidden=[32]"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "generator.hidden" in err[0], err
    assert not (run / "checkpoints" / "step_00000040.json").exists()
    assert json.loads((run / "run.json").read_text())["steps_done"] == 30


# ----------------------------------------------------------------------------- Python API


@pytest.mark.parametrize("name", RUNS)
def test_python_load_and_sample(name, tmp_path):
    run = copy(name, tmp_path)
    g = gankit.load(run)
    assert_sane(g.samples(5), name, 5)
    # same weights, same noise: the samples 0.1.0 drew when it wrote the fixture
    expected = np.load(FIXTURES / f"{name}.sample5-seed0.npy")
    np.testing.assert_allclose(g.samples(5, seed=0), expected, rtol=1e-5, atol=1e-5)
    if name == TABLE:
        assert g.num_classes == 3
        expected = np.load(FIXTURES / f"{name}.sample5-seed0-virginica.npy")
        np.testing.assert_allclose(g.samples(5, seed=0, label="virginica"), expected, rtol=1e-5, atol=1e-5)
        # as a DataFrame: 0.1.0 did not record where the label column stood, so it comes last
        df = g.sample(5, seed=0, label="virginica")
        assert list(df.columns) == [*g.columns, g.label_name] and set(df[g.label_name]) == {"virginica"}
        np.testing.assert_allclose(df[g.columns].to_numpy(), expected, rtol=1e-5, atol=1e-5)
