"""A tiny SpecGAN end to end: train on tones the test writes, then gankit sample writes playable WAV files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gankit
from gankit.audio.wav import read_wav
from gankit.cli import main

#: 0.24 s clips (1,920 samples at 8 kHz) as 16 x 16 spectrograms, two DCGAN stages of 8 maps
TINY = ["data.duration=0.24", "data.n_mels=16", "data.frames=16", "data.griffin_lim=4",
        "generator.channels=[8,8]", "discriminator.channels=[8,8]", "generator.latent_dim=8",
        "train.steps=4", "train.batch_size=4", "log.grid_size=6", "log.progress=off"]
SAMPLES = 1920


@pytest.fixture(scope="module")
def trained(tmp_path_factory, make_digits):
    tmp = tmp_path_factory.mktemp("sound")
    rec = make_digits(tmp / "rec", digits=(0, 1, 2), speakers=("ann", "bob"), takes=3)
    out = tmp / "run"
    assert main(["train", "fsdd-specgan", f"data.path={rec}", r"data.test_pattern=_0\.wav$", *TINY,
                 "--out", str(out), "--quiet"]) == 0
    return out


def test_the_run_folder(trained):
    info = json.loads((trained / "run.json").read_text())
    assert info["status"] == "complete" and info["data"]["name"] == "sound" and info["data"]["items"] == 12
    assert info["data"]["shape"] == [1, 16, 16]
    assert "6 files matching data.test_pattern held out as the test split" in info["data"]["notes"]
    meta = json.loads((trained / "generator.json").read_text())["meta"]
    assert meta["num_classes"] == 3 and meta["data"]["classes"] == ["0", "1", "2"]
    assert meta["data"]["spectrogram"]["samples"] == SAMPLES and meta["data"]["kind"] == "sound"
    assert (trained / "samples" / "real.png").exists() and (trained / "samples" / "step_00000004.png").exists()
    step = sorted((trained / "samples" / "audio" / "step_00000004").glob("*.wav"))
    assert [p.name for p in step] == ["00_0.wav", "01_1.wav", "02_2.wav"]  # one fixed-noise clip per class
    x, rate = read_wav(step[0])
    assert rate == 8000 and x.shape == (SAMPLES,)
    page = (trained / "report.html").read_text()
    assert page.count("<audio controls") >= 3 * 5 and "data:audio/wav;base64," in page and "<h2>Listen</h2>" in page


def test_sample_writes_wav_files_by_class(trained, tmp_path, capsys):
    assert main(["sample", str(trained), "--n", "6", "--out", str(tmp_path / "clips/"), "--seed", "0"]) == 0
    assert "wrote 6 samples of shape (1920,)" in capsys.readouterr().out
    files = sorted((tmp_path / "clips").rglob("*.wav"))
    assert [str(p.relative_to(tmp_path / "clips")) for p in files] == [
        "0/0000.wav", "0/0001.wav", "1/0000.wav", "1/0001.wav", "2/0000.wav", "2/0001.wav"]
    for p in files:
        x, rate = read_wav(p)
        assert rate == 8000 and x.shape == (SAMPLES,) and np.isfinite(x).all() and np.abs(x).max() <= 1.0
        assert (p.read_bytes()[:4], p.read_bytes()[8:12]) == (b"RIFF", b"WAVE")


def test_sample_forms_and_labels(trained, tmp_path):
    assert main(["sample", str(trained), "--n", "3", "--label", "2", "--out", str(tmp_path / "two.wav")]) == 0
    reel, rate = read_wav(tmp_path / "two.wav")  # the clips one after another, 0.25 s of silence between
    assert rate == 8000 and reel.shape == (3 * SAMPLES + 2 * 2000,)
    assert np.abs(reel[SAMPLES : SAMPLES + 2000]).max() == 0
    assert main(["sample", str(trained), "--n", "6", "--out", str(tmp_path / "x.npy"), "--seed", "1"]) == 0
    x = np.load(tmp_path / "x.npy")
    assert x.shape == (6, SAMPLES) and x.dtype == np.float32
    assert np.load(tmp_path / "x.labels.npy").tolist() == ["0", "0", "1", "1", "2", "2"]
    assert main(["sample", str(trained), "--n", "6", "--out", str(tmp_path / "grid.png")]) == 0
    from PIL import Image

    assert Image.open(tmp_path / "grid.png").size[0] > 16
    assert main(["sample", str(trained), "--n", "2", "--out", str(tmp_path / "x.flac")]) == 2


def test_python_sampling_is_reproducible_and_conditional(trained):
    g = gankit.load(trained)
    a, b = g.sample(4, seed=3, label="1"), g.sample(4, seed=3, label="1")
    assert a.shape == (4, SAMPLES) and np.array_equal(a, b)
    assert g.class_names_for(4, "1") == ["1"] * 4
    assert not np.array_equal(a, g.sample(4, seed=3, label="2"))


def test_the_test_split_is_the_evaluation_reference(trained):
    from gankit.api import load_config
    from gankit.data import load_data
    from gankit.data.split import heldout_data

    cfg = load_config(str(trained / "config.yaml"))
    data = load_data(cfg.data, seed=cfg.train.seed)
    held, source = heldout_data(cfg.data, data)
    assert source == "sound test split" and len(held) == 6 and held.shape == (1, 16, 16)


def test_what_sound_runs_cannot_do_yet_is_one_line(trained, tmp_path, capsys):
    assert main(["sample", str(trained), "--interpolate", "3", "--out", str(tmp_path / "walk.png")]) == 2
    assert "a walk over sound data is written as .npy" in capsys.readouterr().err
    assert main(["sample", str(trained), "--interpolate", "3", "--n", "2", "--out", str(tmp_path / "walk.npy")]) == 0
    assert np.load(tmp_path / "walk.npy").shape == (3, 2, 3, SAMPLES)  # steps, walks, classes, samples


def test_resume_continues_a_sound_run(trained, tmp_path):
    import shutil

    run = tmp_path / "again"
    shutil.copytree(trained, run)
    assert main(["train", "--resume", str(run), "train.steps=6", "--quiet"]) == 0
    assert json.loads((run / "run.json").read_text())["steps_done"] == 6
