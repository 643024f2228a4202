"""The command line end to end, on tiny data (in-process where possible, for speed)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main

TINY = ["train.steps=20", "data.limit=256", "train.batch_size=32", "generator.hidden=[32]",
        "discriminator.hidden=[32]", "log.every=5"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", "digits", *TINY, "--out", str(out), "--quiet"]) == 0
    return out


def test_run_folder_contents(run):
    for name in ("config.yaml", "run.json", "metrics.csv", "generator.safetensors", "generator.json",
                 "curves.png"):
        assert (run / name).is_file(), name
    assert json.loads((run / "run.json").read_text())["status"] == "complete"
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["step", "epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds"]
    assert [int(r["step"]) for r in rows] == [5, 10, 15, 20]
    assert all(0 <= float(r["d_real"]) <= 1 for r in rows)
    assert sorted(p.name for p in (run / "samples").iterdir())[-1] == "step_00000020.png"
    assert list((run / "checkpoints").glob("step_00000020.*"))


def test_sample_formats(run, tmp_path):
    assert main(["sample", str(run), "--n", "10", "--out", str(tmp_path / "x.npy"), "--seed", "1"]) == 0
    x = np.load(tmp_path / "x.npy")
    assert x.shape == (10, 1, 8, 8) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    main(["sample", str(run), "--n", "10", "--out", str(tmp_path / "y.npy"), "--seed", "1"])
    assert np.array_equal(x, np.load(tmp_path / "y.npy"))  # same seed, same samples
    assert main(["sample", str(run), "--n", "9", "--out", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size[0] > 8
    assert main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "s.csv")]) == 0
    with open(tmp_path / "s.csv") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 5 and len(rows[1]) == 64
    assert main(["sample", str(run), "--n", "3", "--out", str(tmp_path / "imgs") + "/"]) == 0
    files = sorted((tmp_path / "imgs").iterdir())
    assert [f.name for f in files] == ["0.png", "1.png", "2.png"]
    assert Image.open(files[0]).size == (8, 8)


def test_python_api_three_lines(run):
    import gankit

    g = gankit.load(run)
    x = g.sample(5, seed=3)
    assert x.shape == (5, 1, 8, 8)


def test_summary_of_run_and_preset(run, capsys):
    assert main(["summary", str(run)]) == 0
    out = capsys.readouterr().out
    assert "Total params: 4,256" in out  # G: 64*32+32 + batch norm 2*32 + 32*64+64 (latent 64, 8x8 output)
    assert "Total params: 2,113" in out  # D: 64*32+32 + 32+1
    assert main(["summary", "mnist-mlp"]) == 0
    out = capsys.readouterr().out
    assert "559,632" in out and "533,505" in out


def test_presets_and_help(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for name in ("digits", "mnist-mlp", "mnist-mlp-keras", "gaussian-1d-mse", "ring", "grid"):
        assert name in out
    for cmd in ("train", "sample", "summary", "presets"):
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        assert "usage: gankit " + cmd in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "mnist-mpl"], 'did you mean "mnist-mlp"'),
        (["train", "digits", "train.batch_size=0"], "train.batch_size must be >= 1"),
        (["train", "digits", "loss=foo"], "unknown loss 'foo'; choose one of: bce"),
        (["sample", "/nonexistent/run", "--out", "x.npy"], "no such run folder"),
        (["train", "digits", "train.batch_size=5000", "--out", "{tmp}/big"], "larger than the dataset"),
    ],
)
def test_bad_input_exit_code_2(argv, fragment, capsys, tmp_path):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "big").exists()


def test_module_entry_point_and_console_script():
    out = subprocess.run([sys.executable, "-m", "gankit", "presets"], capture_output=True, text=True)
    assert out.returncode == 0 and "mnist-mlp" in out.stdout
    out = subprocess.run([sys.executable, "-m", "gankit", "train", "nope"], capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.startswith("gankit: error:") and "Traceback" not in out.stderr
