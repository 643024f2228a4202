"""gankit augment's bad input: exit code 2, one line naming the problem and the fix, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from augmentation.helpers import QUICK, pictures, table
from conftest import pictures_off
from gankit.cli import main


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A conditional run without a holdout, an unconditional run, and a picture folder."""
    base = tmp_path_factory.mktemp("augment-cli")
    pics = pictures(base / "pics")
    with pictures_off():
        assert main(["train", "images-dcgan", f"data.path={pics}", "conditional.mode=projection", *QUICK,
                     "--out", str(base / "no-holdout"), "--quiet"]) == 0
        assert main(["train", "images-dcgan", f"data.path={pics}", *QUICK, "--out", str(base / "plain"),
                     "--quiet"]) == 0
    return base


def _unlabelled(base: Path) -> Path:
    folder = base / "flat"
    folder.mkdir(exist_ok=True)
    for i in range(8):
        Image.new("L", (16, 16), i * 20).save(folder / f"{i}.png")
    return folder


def _one_of_a_kind(base: Path) -> Path:
    return pictures(base / "rare", (20, 20, 1))  # "ring" has a single picture


def _no_label_table(base: Path) -> Path:
    table().to_csv(base / "t.csv", index=False)
    return base / "t.csv"


CASES = {
    "unlabelled images": (lambda b: ["images-dcgan", f"data.path={_unlabelled(b)}", "--ratio", "1"], "no class labels"),
    "a table without a label column": (lambda b: ["table", f"data.path={_no_label_table(b)}", "--balance"],
                                       "data.label_column=COLUMN"),
    "a class too small to hold out": (lambda b: ["images-dcgan", f"data.path={_one_of_a_kind(b)}", "--per-class",
                                                 "3", "--measure"], "class 'ring' has"),
    "a zero ratio": (lambda b: ["images-dcgan", f"data.path={b / 'pics'}", "--ratio", "0"], "must be > 0"),
    "a negative ratio": (lambda b: [str(b / "no-holdout"), "--ratio", "-2"], "must be > 0"),
    "a reused run without a holdout": (lambda b: [str(b / "no-holdout"), "--ratio", "1", "--measure"],
                                       "recorded no holdout"),
    "a reused run given other data": (lambda b: [str(b / "no-holdout"), f"data.path={_one_of_a_kind(b)}", "--ratio",
                                                 "1"], "trained on 60 items"),
    "a reused unconditional run": (lambda b: [str(b / "plain"), "--ratio", "1"], "not class-conditional"),
    "a config key with a reused run": (lambda b: [str(b / "no-holdout"), "train.steps=5", "--ratio", "1"],
                                       "used as it was trained"),
    "new held-out data for a reused run": (lambda b: [str(b / "no-holdout"), f"data.test_path={b / 'pics'}",
                                                      "--ratio", "1", "--measure"], "its held-out data too"),
    "a pool of training items": (lambda b: [str(b / "no-holdout"), "--per-class", "2", "--pool", str(b / "pics")],
                                 "neither trained nor tested on"),
    "a classifier for the other kind of data": (lambda b: [str(b / "no-holdout"), "--ratio", "1", "--filter", "0.5",
                                                           "--classifier", "logistic"], "is for tables"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_exits_2_with_one_line(name, runs, tmp_path, capsys):
    argv, words = CASES[name]
    out = tmp_path / "out"
    with pictures_off():
        rc = main(["augment", *argv(runs), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gankit: error: ") and words in lines[0], err
    assert not out.exists() or not any(out.iterdir())  # refused before anything was written


def test_the_sizing_options_are_required_and_exclusive(runs, capsys):
    for argv in (["--out", "x"], ["--balance", "--ratio", "1", "--out", "x"]):
        with pytest.raises(SystemExit) as stop:  # argparse's own usage error: exit code 2
            main(["augment", str(runs / "no-holdout"), *argv])
        assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "one of the arguments --per-class --balance --ratio is required" in err and "not allowed with" in err
