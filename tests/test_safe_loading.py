"""Safe loading: no pickle on any load path; YAML and arrays are read with safe loaders.

A malicious pickle (its ``__reduce__`` creates a marker folder when unpickled) is planted where
gankit reads checkpoints and data; every test checks that the file is refused with a clear
message and that the marker never appears.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import gankit
from gankit import checkpoint
from gankit.cli import main

TINY = ["ring", "train.steps=6", "train.batch_size=16", "data.n_samples=64", "generator.hidden=[4]",
        "discriminator.hidden=[4]", "log.checkpoint_every=3", "log.sample_every=1000", "train.threads=1",
        "log.progress=off"]


class Payload:
    """Unpickling this runs ``os.mkdir(marker)``: the proof that a file was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


pytestmark = pytest.mark.usefixtures("no_pictures")  # tests/conftest.py


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("src") / "run"
    mp = pytest.MonkeyPatch()
    import gankit.report.plots

    mp.setattr(gankit.report.plots, "table_plot", lambda *a, **k: a[1])
    mp.setattr(gankit.report.plots, "loss_curves", lambda *a, **k: a[1])
    assert main(["train", *TINY, "--out", str(out), "--quiet"]) == 0
    mp.undo()
    return out


@pytest.fixture
def run(finished, tmp_path) -> Path:
    dst = tmp_path / "run"
    shutil.copytree(finished, dst)
    return dst


@pytest.fixture
def marker(tmp_path) -> Path:
    return tmp_path / "PWNED"


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gankit: error: ") and "Traceback" not in err, err
    return lines[0]


def reopen_run(run: Path) -> None:
    """Make a finished run resumable again (as if it had been killed just before the end)."""
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": "running"}))


def test_the_payload_really_runs_when_unpickled(tmp_path):
    live = tmp_path / "live"
    pickle.loads(pickle.dumps(Payload(live)))
    assert live.is_dir()  # so its absence below means "never unpickled"


def test_pickle_as_generator_json_is_refused(run, marker, capsys):
    (run / "generator.json").write_bytes(pickle.dumps(Payload(marker)))
    assert main(["sample", str(run), "--out", str(run / "x.npy")]) == 2
    line = one_error_line(capsys)
    assert "generator.json" in line and "never loads" in line and "safetensors" in line
    assert not marker.exists()


def test_pickle_as_safetensors_with_a_forged_checksum_is_refused(run, marker, capsys):
    blob = pickle.dumps(Payload(marker))
    (run / "generator.safetensors").write_bytes(blob)
    doc = json.loads((run / "generator.json").read_text())
    doc["sha256"] = hashlib.sha256(blob).hexdigest()  # an attacker can fix the checksum too
    (run / "generator.json").write_text(json.dumps(doc))
    assert main(["sample", str(run), "--out", str(run / "x.npy")]) == 2
    line = one_error_line(capsys)
    assert "generator.safetensors" in line and "pickled" in line
    assert not marker.exists()


def test_torch_save_file_is_refused(run, marker, capsys):
    pt = run / "generator.pt"
    torch.save({"G": Payload(marker)}, pt)
    assert main(["sample", str(pt), "--out", str(run / "x.npy")]) == 2
    line = one_error_line(capsys)
    assert "generator.pt" in line and "pickled" in line
    assert not marker.exists()
    renamed = run / "evil.json"  # the same zip-pickle under an innocent name: refused by content
    shutil.copy(pt, renamed)
    assert main(["sample", str(renamed), "--out", str(run / "x.npy")]) == 2
    assert "pickled" in one_error_line(capsys)
    assert not marker.exists()


def test_planted_checkpoints_are_skipped_on_resume(run, marker, capsys):
    ckpts = run / "checkpoints"
    (ckpts / "step_00000099.json").write_bytes(pickle.dumps(Payload(marker)))  # newest by name
    torch.save({"trainer": Payload(marker)}, ckpts / "step_00000100.pt")  # not a checkpoint name at all
    newest = ckpts / "step_00000006.safetensors"
    blob = pickle.dumps(Payload(marker))
    newest.write_bytes(blob)
    doc = json.loads(newest.with_suffix(".json").read_text())
    newest.with_suffix(".json").write_text(json.dumps({**doc, "sha256": hashlib.sha256(blob).hexdigest()}))
    reopen_run(run)
    assert main(["train", "--resume", str(run), "--quiet"]) == 0  # from step 3, the last intact one
    err = capsys.readouterr().err
    assert err.count("skipping damaged checkpoint") == 2 and "pickled" in err
    assert not marker.exists()
    assert checkpoint.load(ckpts / "step_00000006.json")[1]["step"] == 6  # rewritten, now real


def test_no_load_path_ever_unpickles(run, tmp_path, monkeypatch):
    """Resume and sample work with every unpickler in the process booby-trapped."""
    import _pickle

    def trap(*args, **kwargs):
        raise AssertionError("something tried to unpickle")

    for mod in (pickle, _pickle):
        for name in ("load", "loads", "Unpickler"):
            monkeypatch.setattr(mod, name, trap)
    monkeypatch.setattr(torch, "load", trap)
    real_np_load = np.load

    def np_load(*args, allow_pickle=False, **kwargs):
        if allow_pickle:
            trap()
        return real_np_load(*args, allow_pickle=False, **kwargs)

    monkeypatch.setattr(np, "load", np_load)
    for p in checkpoint.checkpoints_in(run / "checkpoints")[1:]:
        checkpoint.remove(p)
    reopen_run(run)
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    x = gankit.load(run).samples(5, seed=1)
    assert x.shape == (5, 2) and np.isfinite(x).all()


def test_no_unsafe_loader_in_the_source():
    """A guard for future code: the unsafe loaders do not appear in gankit at all."""
    unsafe = re.compile(r"import pickle|from pickle|pickle\.load|import dill|joblib\.load|allow_pickle\s*=\s*True"
                        r"|yaml\.unsafe_load|yaml\.full_load|UnsafeLoader|FullLoader|Loader=yaml\.Loader"
                        r"|torch\.load\((?![^)]*weights_only\s*=\s*True)")
    root = Path(gankit.__file__).parent
    hits = [f"{p.relative_to(root)}:{i}: {line.strip()}" for p in sorted(root.rglob("*.py"))
            for i, line in enumerate(p.read_text().splitlines(), 1) if unsafe.search(line)]
    assert hits == []
    for p in sorted(root.rglob("*.py")):  # yaml.load only with a SafeLoader subclass
        module = ".".join(("gankit", *p.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
        for m in re.finditer(r"yaml\.load\([^)]*Loader=(\w+)", p.read_text()):
            assert issubclass(getattr(importlib.import_module(module), m.group(1)), yaml.SafeLoader)


def test_yaml_python_tags_are_refused(tmp_path, marker, capsys, run):
    evil = f"!!python/object/apply:os.mkdir [{json.dumps(str(marker))}]"
    cfg = tmp_path / "evil.yaml"
    cfg.write_text(f"preset: ring\ntrain:\n  seed: {evil}\n")
    assert main(["train", str(cfg), "--out", str(tmp_path / "out")]) == 2
    assert "evil.yaml" in one_error_line(capsys)
    assert main(["train", "ring", f"log.progress={evil}", "--out", str(tmp_path / "out")]) == 2
    assert "log.progress" in one_error_line(capsys)
    (run / "config.yaml").write_text((run / "config.yaml").read_text() + f"extra: {evil}\n")
    assert main(["train", "--resume", str(run)]) == 2
    assert "config.yaml" in one_error_line(capsys)
    assert not marker.exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_pickled_numpy_data_is_refused(tmp_path, marker, capsys, suffix):
    arr = np.array([[Payload(marker), 1.0], [2.0, 3.0]], dtype=object)
    path = tmp_path / f"data{suffix}"
    if suffix == ".npy":
        np.save(path, arr, allow_pickle=True)
    else:
        np.savez(path, x=arr)
    assert main(["train", "ring", "data.name=table", f"data.path={path}", "--out", str(tmp_path / "out")]) == 2
    line = one_error_line(capsys)
    assert path.name in line and "pickle" in line
    assert not marker.exists() and not (tmp_path / "out").exists()
