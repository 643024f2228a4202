"""report.html of a sound run: one playable <audio> per fixed-noise clip, checked in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from gankit.audio.wav import write_wav
from gankit.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]  # as test_html.py

SECONDS = 0.24


@pytest.fixture(scope="module")
def sound_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sound-report")
    rec = tmp / "rec"
    rec.mkdir()
    t = np.arange(int(0.4 * 8000)) / 8000
    for d in range(3):
        for i in range(4):
            write_wav(rec / f"{d}_ann_{i}.wav", 0.4 * np.sin(2 * np.pi * (300 + 200 * d) * t), 8000)
    out = tmp / "run"
    assert main(["train", "fsdd-specgan", f"data.path={rec}", "data.test_pattern=_0\\.wav$",
                 f"data.duration={SECONDS}", "data.n_mels=16", "data.frames=16", "data.griffin_lim=4",
                 "generator.channels=[8,8]", "discriminator.channels=[8,8]", "train.steps=6", "train.batch_size=3",
                 "log.grid_size=6", "log.sample_every=2", "--out", str(out), "--quiet"]) == 0
    return out


def test_the_page_embeds_every_clip(sound_run):
    page = (sound_run / "report.html").read_text()
    # 3 preview steps and the real clips, one clip per class each
    assert page.count("<audio controls") == 4 * 3 and page.count('src="data:audio/wav;base64,') == 12
    assert "real (through Griffin–Lim)" in page
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)  # nothing fetched from anywhere


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_clips_load_and_last_their_duration_in_chromium(sound_run, tmp_path):
    url = (sound_run / "report.html").resolve().as_uri()
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--autoplay-policy="
                          "no-user-gesture-required", "--virtual-time-budget=10000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120).stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    attr = lambda name: re.search(f'{name}="([^"]*)"', body).group(1)  # noqa: E731
    assert int(attr("data-audios")) == 12
    assert int(attr("data-audios-ok")) == 12 and int(attr("data-audio-errors")) == 0  # every WAV decoded
    durations = [float(v) for v in attr("data-audio-durations").split(",")]
    assert len(durations) == 12 and all(abs(d - SECONDS) < 1e-3 for d in durations), durations
    assert attr("data-errors") == "0" and int(attr("data-images-ok")) == int(attr("data-images")) > 0
