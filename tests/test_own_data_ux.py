"""Issue 18 ("your own data, first try"): piped output, --keys, sampling a live run, the Python API's
words, and the small messages a new user meets. Tiny runs on the bundled digits, CPU only."""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import gankit
from gankit.cli import main
from gankit.errors import GankitError

pytestmark = pytest.mark.usefixtures("no_pictures")

TINY = ["train.steps=20", "data.limit=256", "train.batch_size=32", "generator.hidden=[32]",
        "discriminator.hidden=[32]", "log.every=5", "log.checkpoint_every=10", "train.threads=1",
        "log.progress=off"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cond_run(tmp_path_factory):
    """A finished class-conditional run with EMA, checkpoints at steps 10 and 20, and its console text."""
    out = tmp_path_factory.mktemp("ux") / "run"
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        assert main(["train", "digits", *TINY, "conditional.mode=projection", "ema.decay=0.9",
                     "--out", str(out)]) == 0
    return out, text.getvalue()


def _unfinished(run: Path, tmp_path: Path, status: str) -> Path:
    """A copy of ``run`` as it looks before its end: no final generator, run.json saying ``status``."""
    copy = tmp_path / f"{status}-run"
    shutil.copytree(run, copy)
    for p in copy.glob("generator.*"):
        p.unlink()
    info = json.loads((copy / "run.json").read_text())
    (copy / "run.json").write_text(json.dumps({**info, "status": status}))
    return copy


def _err(capsys) -> str:
    return capsys.readouterr().err.strip()


# ----------------------------------------------------------------------------- 5: pipes and --keys


@pytest.mark.parametrize("argv", [["train", "--keys"], ["presets"], ["train", "digits", "--dry-run"]])
def test_output_into_a_closed_pipe_ends_quietly(argv):
    """`gankit train --keys | head` once the reader has gone: no BrokenPipeError traceback, no
    'Exception ignored' at exit. The read end is closed before gankit writes, so this fails every time."""
    read, write = os.pipe()
    os.close(read)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        p = subprocess.run([sys.executable, "-m", "gankit", *argv], stdout=write, stderr=subprocess.PIPE,
                           text=True, env=env, timeout=120)
    finally:
        os.close(write)
    assert p.stderr == "" and p.returncode in (0, 1)


def test_keys_say_what_each_key_does_in_yaml(capsys):
    assert main(["train", "--keys"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split("=")[0].strip(): line for line in lines}
    assert "=" in rows["data.path"] and rows["data.path"].split("=", 1)[1].split("#")[0].strip() == "null"
    assert rows["generator.hidden"].split("=", 1)[1].split("#")[0].strip() == "[256, 512]"
    assert rows["train.device"].split("=", 1)[1].split("#")[0].strip() == "auto"
    assert rows["data.standardize"].split("=", 1)[1].split("#")[0].strip() == "true"
    assert all("  # " in line for line in lines if not line.startswith("preset "))  # every key explained
    text = "\n".join(lines)
    assert "None" not in text and "True" not in text and "'auto'" not in text
    assert len({line.index("=") for line in lines}) == 1  # aligned


# ----------------------------------------------------------------------------- 8: sampling a live run


def test_checkpoint_latest_samples_what_the_final_generator_does(cond_run, tmp_path, capsys):
    run, _ = cond_run
    assert main(["sample", str(run), "--n", "20", "--seed", "1", "--out", str(tmp_path / "final.npy")]) == 0
    assert main(["sample", str(run), "--checkpoint", "latest", "--n", "20", "--seed", "1",
                 "--out", str(tmp_path / "ckpt.npy")]) == 0
    assert "checkpoint of step 20" in capsys.readouterr().out
    # the last checkpoint holds the EMA generator the final export wrote: the same samples
    assert np.array_equal(np.load(tmp_path / "final.npy"), np.load(tmp_path / "ckpt.npy"))
    assert main(["sample", str(run), "--checkpoint", "10", "--n", "20", "--seed", "1", "--label", "3",
                 "--out", str(tmp_path / "ten.npy")]) == 0
    assert np.load(tmp_path / "ten.npy").shape == (20, 1, 8, 8)
    assert main(["sample", str(run), "--checkpoint", "15", "--out", str(tmp_path / "x.npy")]) == 2
    assert "it has steps 10, 20" in _err(capsys)


def test_a_run_still_training_says_so_and_offers_its_checkpoint(tmp_path, capsys):
    """A run caught mid-training (here: killed right after step 15, as a live run looks from outside:
    run.json "running", a checkpoint at step 10, no final generator)."""
    live = tmp_path / "live"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GANKIT_TEST_CRASH": "step:15"}
    subprocess.run([sys.executable, "-m", "gankit", "train", "digits", *TINY, "--out", str(live), "--quiet"],
                   env=env, timeout=300)
    assert json.loads((live / "run.json").read_text())["status"] == "running"
    assert main(["sample", str(live), "--out", str(tmp_path / "x.png")]) == 2
    err = _err(capsys)
    assert "still training" in err and f"gankit sample {live} --checkpoint latest" in err
    assert "resume it" not in err and len(err.splitlines()) == 1
    assert main(["sample", str(live), "--checkpoint", "latest", "--n", "4", "--out", str(tmp_path / "x.npy")]) == 0
    assert "checkpoint of step 10" in capsys.readouterr().out
    with pytest.raises(GankitError, match="still training.*checkpoint='latest'"):
        gankit.load(live)
    assert gankit.load(live, checkpoint="latest").sample(3, seed=0).shape == (3, 1, 8, 8)


@pytest.mark.parametrize("status, said", [("interrupted", "was interrupted"), ("failed", "failed")])
def test_a_stopped_run_suggests_resume_or_its_checkpoint(cond_run, tmp_path, capsys, status, said):
    stopped = _unfinished(cond_run[0], tmp_path, status)
    assert main(["sample", str(stopped), "--out", str(tmp_path / "x.png")]) == 2
    err = _err(capsys)
    assert said in err and f"gankit train --resume {stopped}" in err and "--checkpoint latest" in err


def test_sampling_a_missing_run_folder(capsys):
    assert main(["sample", "nosuch", "--out", "x.png"]) == 2
    assert "nosuch: no such run folder" in _err(capsys)


# ----------------------------------------------------------------------------- 10: the Python API


def test_api_docstrings_show_arguments_and_examples():
    from gankit.tasks.trained import TrainedGenerator

    for fn in (gankit.train, gankit.load, gankit.load_config, TrainedGenerator.samples):
        doc = inspect.getdoc(fn) or ""
        assert "Example" in doc and len(doc.splitlines()) >= 10, fn.__name__
    load_doc = inspect.getdoc(gankit.load)
    for word in ("sample(n", "seed=", "label=", "checkpoint", "num_classes"):
        assert word in load_doc, word
    assert '{"train.steps"' in inspect.getdoc(gankit.train)


def test_train_takes_a_dict_of_overrides(tmp_path):
    run = gankit.train("digits", {"train.steps": 5, "data.limit": 64, "train.batch_size": 32,
                                  "generator.hidden": [16], "discriminator.hidden": [16]},
                       out=tmp_path / "run", quiet=True)
    assert (run / "generator.json").is_file()
    assert gankit.load(run).sample(2).shape == (2, 1, 8, 8)


def test_errors_raised_in_python_name_python_arguments(tmp_path, cond_run, capsys):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "x").write_text("")
    with pytest.raises(GankitError) as e:
        gankit.train("digits", "train.steps=1", out=taken, quiet=True)
    assert f"out='{taken}'" in str(e.value) and f"resume='{taken}'" in str(e.value) and "--" not in str(e.value)
    assert main(["train", "digits", "train.steps=1", "--out", str(taken)]) == 2
    assert f"--out {taken}" in _err(capsys)
    with pytest.raises(GankitError, match="resume='/nonexistent/run': no such run folder"):
        from gankit.run.resume import find_resume_point

        find_resume_point(Path("/nonexistent/run"))
    g = gankit.load(cond_run[0])
    with pytest.raises(GankitError) as e:
        g.sample(0)
    assert str(e.value).startswith("n must be >= 1")


# ----------------------------------------------------------------------------- the smaller list


@pytest.mark.parametrize("override, suggestion", [
    ("steps=5", '(did you mean "train.steps"?)'),
    ("trian.steps=5", '(did you mean "train.steps"?)'),
    ("train.stpes=5", '(did you mean "train.steps"?)'),
    ("lr=1e-3", '(did you mean "generator.lr" or "discriminator.lr"?)'),
    ("loss=wgan", '(did you mean "wgan-gp"?)'),
    ("generator.hidden=256,256", "give a list in brackets, e.g. generator.hidden=[256,256]"),
    ("generator.hidden=256", "e.g. generator.hidden=[256]"),
])
def test_small_mistakes_get_the_right_suggestion(override, suggestion):
    with pytest.raises(GankitError) as e:
        gankit.load_config("digits", override)
    assert suggestion in str(e.value)


def test_a_single_image_as_data_path_asks_for_its_folder(tmp_path, capsys):
    png = tmp_path / "one.png"
    Image.new("RGB", (8, 8)).save(png)
    for name in ("auto", "images"):
        out = tmp_path / f"run-{name}"
        assert main(["train", "digits", f"data.name={name}", f"data.path={png}", "train.steps=1",
                     "--out", str(out)]) == 2
        err = _err(capsys)
        assert "give the folder that holds the images" in err and "table format" not in err
        assert not out.exists()


def test_closing_hint_of_a_conditional_run_shows_label(cond_run):
    _, text = cond_run
    hint = next(line for line in text.splitlines() if "use it:" in line)
    assert "--label 9" in hint and "classes: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)" in hint
