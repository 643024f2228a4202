"""report.html: self-contained, and it really renders in headless Chromium (skipped if absent)."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from gankit.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "run"
    assert main(["train", "digits", "train.steps=12", "generator.hidden=[16]", "discriminator.hidden=[16]",
                 "data.limit=200", "log.every=4", "log.sample_every=3", "--out", str(out), "--quiet"]) == 0
    return out


def test_report_is_self_contained(run):
    assert main(["report", str(run)]) == 0
    page = (run / "report.html").read_text()
    assert "data:image/png;base64," in page and "data:image/gif;base64," in page
    # nothing is fetched from anywhere: no http(s) URLs, no external src/href
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)
    assert "http://" not in page and "https://" not in page
    for text in ("status", "Health", "Metrics", "Samples", "Curves", "Models", "Config", "Total params"):
        assert text in page, text
    assert (run / "samples.gif").exists()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(run, tmp_path):
    main(["report", str(run)])
    url = (run / "report.html").resolve().as_uri()
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    dom = subprocess.run([CHROMIUM, *FLAGS, *profile, "--virtual-time-budget=5000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120).stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    n_ok = int(re.search(r'data-images-ok="(\d+)"', body).group(1))
    n_all = int(re.search(r'data-images="(\d+)"', body).group(1))
    assert n_all >= 4 and n_ok == n_all  # every embedded image decoded
    assert 'data-errors="0"' in body  # no script errors
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *FLAGS, *profile, f"--screenshot={shot}", "--window-size=1000,1400", url],
                   capture_output=True, timeout=120)
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    assert pixels.std() > 10  # not a blank page
    assert (pixels < 128).mean() > 0.01  # there is dark content (text, images)


def test_report_shows_scores_with_provenance(run):
    import json

    (run / "eval.json").write_text(json.dumps({"scores": {"fid": {
        "value": 12.5, "extractor": "classifier", "extractor_sha256": "ab" * 32, "n_real": 1797,
        "n_generated": 10000, "reference_split": "digits/train", "seed": 0, "step": 12}}}))
    try:
        assert main(["report", str(run)]) == 0
        page = (run / "report.html").read_text()
        assert "<td>fid</td><td>12.5</td>" in page
        for text in ("extractor: classifier", "extractor_sha256: abababababab", "n_real: 1797",
                     "n_generated: 10000", "reference_split: digits/train", "step: 12"):
            assert text in page, text
    finally:
        (run / "eval.json").unlink()
