"""A tiny WaveGAN end to end: train on tones the test writes, sample WAV files, resume, export, bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import gankit
from gankit.audio.wav import read_wav
from gankit.cli import main

#: 0.3 s clips (2,400 samples at 8 kHz) padded to 2,432 = 38 x 4^3 for three WaveGAN stages of 8 maps;
#: 16 x 32 spectrogram pictures for the previews; takes 0 are the test split
TINY = [r"data.test_pattern=_0\.wav$", "data.duration=0.3", "data.n_mels=16", "data.frames=32",
        "generator.channels=[8,8,8]", "discriminator.channels=[8,8,8]", "generator.latent_dim=8", "train.batch_size=4",
        "log.grid_size=6", "log.progress=off", "train.threads=1"]
SAMPLES, LENGTH = 2400, 2432


@pytest.fixture(scope="module")
def folder(tmp_path_factory, make_digits):
    return make_digits(tmp_path_factory.mktemp("wave") / "rec", digits=(0, 1, 2), speakers=("ann", "bob"), takes=3)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, folder):
    out = tmp_path_factory.mktemp("wave-run") / "run"
    return gankit.train("fsdd-wavegan", f"data.path={folder}", *TINY, "train.steps=3",
                        out=out, quiet=True)


def test_the_run_folder(trained):
    info = json.loads((trained / "run.json").read_text())
    assert info["status"] == "complete" and info["data"]["shape"] == [1, LENGTH]
    assert any("32 of silence appended" in note for note in info["data"]["notes"])
    meta = json.loads((trained / "generator.json").read_text())["meta"]
    assert meta["generator"]["arch"] == "wavegan" and meta["num_classes"] == 3
    assert meta["data"]["representation"] == "waveform"
    assert meta["data"]["waveform"] == {"sample_rate": 8000, "samples": SAMPLES, "length": LENGTH}
    assert (trained / "samples" / "real.png").exists() and (trained / "samples" / "step_00000003.png").exists()
    step = sorted((trained / "samples" / "audio" / "step_00000003").glob("*.wav"))
    assert [p.name for p in step] == ["00_0.wav", "01_1.wav", "02_2.wav"]  # one fixed-noise clip per class
    x, rate = read_wav(step[0])
    assert rate == 8000 and x.shape == (SAMPLES,)
    page = (trained / "report.html").read_text()
    assert page.count("<audio controls") >= 3 * 4 and "data:audio/wav;base64," in page


def test_sample_writes_wav_files_of_the_requested_classes(trained, tmp_path, capsys):
    assert main(["sample", str(trained), "--n", "6", "--out", str(tmp_path / "clips/"), "--seed", "0"]) == 0
    assert f"wrote 6 samples of shape ({SAMPLES},)" in capsys.readouterr().out
    files = sorted((tmp_path / "clips").rglob("*.wav"))
    assert [str(p.relative_to(tmp_path / "clips")) for p in files] == [
        "0/0000.wav", "0/0001.wav", "1/0000.wav", "1/0001.wav", "2/0000.wav", "2/0001.wav"]
    for p in files:
        x, rate = read_wav(p)
        assert rate == 8000 and x.shape == (SAMPLES,) and np.abs(x).max() <= 1.0
    assert main(["sample", str(trained), "--n", "3", "--label", "2", "--out", str(tmp_path / "two.wav")]) == 0
    reel, _ = read_wav(tmp_path / "two.wav")
    assert reel.shape == (3 * SAMPLES + 2 * 2000,)  # 0.25 s of silence between the clips
    assert main(["sample", str(trained), "--n", "6", "--out", str(tmp_path / "grid.png")]) == 0


def test_conditional_sampling_is_the_generator_output_cut(trained):
    """gankit.load decodes by the codec in generator.json: G's (N, 1, 2432) cut to the clip's 2,400 samples."""
    g = gankit.load(trained)
    a = g.sample(4, seed=3, label="1")
    assert a.shape == (4, SAMPLES) and np.array_equal(a, g.sample(4, seed=3, label="1"))
    assert g.class_names_for(5, "2") == ["2"] * 5 and g.class_names_for(6) == ["0", "0", "1", "1", "2", "2"]
    with torch.no_grad():
        x = g.G(torch.randn(5, 8), torch.tensor([0, 1, 2, 2, 1]))
    assert x.shape == (5, 1, LENGTH)
    assert torch.equal(g.codec.decode(x), x[:, 0, :SAMPLES].clamp(-1, 1))


def test_unconditional_on_clips_without_classes(tmp_path, make_tone, capsys):
    from gankit.audio.wav import write_wav

    rec = tmp_path / "hum"
    rec.mkdir()
    for i in range(6):
        write_wav(rec / f"hum{i}.wav", make_tone(200 + 50 * i, 0.2, 8000), 8000)
    run = gankit.train("fsdd-wavegan", f"data.path={rec}", "data.label_pattern=null", "data.test_pattern=null",
                       "conditional.mode=none", "conditional.acgan=false", *TINY[1:], "train.steps=2",
                       out=tmp_path / "run", quiet=True)
    g = gankit.load(run)
    assert g.num_classes == 0 and g.sample(3, seed=0).shape == (3, SAMPLES)
    assert main(["sample", str(run), "--n", "3", "--out", str(tmp_path / "clips/")]) == 0
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == ["0000.wav", "0001.wav", "0002.wav"]


def test_resume_continues_exactly(trained, folder, tmp_path):
    """Three steps and a resume to five give the weights of five steps in one go (phase shuffle's draws included)."""
    run = tmp_path / "again"
    shutil.copytree(trained, run)
    assert main(["train", "--resume", str(run), "train.steps=5", "--quiet"]) == 0
    assert json.loads((run / "run.json").read_text())["steps_done"] == 5
    straight = gankit.train("fsdd-wavegan", f"data.path={folder}", *TINY,
                            "train.steps=5", out=tmp_path / "straight", quiet=True)
    a, b = load_file(run / "generator.safetensors"), load_file(straight / "generator.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_export_runs_without_gankit(trained, tmp_path):
    assert main(["export", str(trained), "--format", "torchscript", "--out", str(tmp_path / "g.pt")]) == 0
    doc = json.loads((tmp_path / "g.json").read_text())
    assert doc["output"]["shape"] == ["batch", 1, LENGTH] and doc["decode"]["waveform"]["samples"] == SAMPLES
    module = torch.jit.load(str(tmp_path / "g.pt"))
    z, y = torch.randn(2, 8), torch.tensor([2, 0])
    with torch.no_grad():
        assert torch.equal(module(z, y), gankit.load(trained).G(z, y))


def test_summary_shows_the_1d_networks(folder, capsys):
    assert main(["summary", "fsdd-wavegan", f"data.path={folder}", *TINY[:7]]) == 0
    text = capsys.readouterr().out
    assert "ConvTranspose1d" in text and "Conv1d" in text and "PhaseShuffle" in text


@pytest.mark.parametrize("overrides, message", [
    (["data.length=2400"], "data.length (2400) must be a multiple of 64"),  # 2,400 = 37.5 x 64
    (["generator.arch=dcgan", "generator.kernel_size=4"], "generator.arch=dcgan needs image data (C, H, W)"),
    (["data.representation=spectrogram", "data.n_mels=16"], "arch=wavegan needs waveforms"),
])
def test_bad_input_is_one_line(folder, tmp_path, capsys, overrides, message):
    argv = ["train", "fsdd-wavegan", f"data.path={folder}", *TINY, "train.steps=1", *overrides,
            "--out", str(tmp_path / "bad")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "bad").exists()
