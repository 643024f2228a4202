"""A catalogue of bad inputs: data, config, output folder and checkpoints.

Each case goes through the CLI and must end with exit code 2 and exactly one line on stderr,
``gankit: error: ...``, naming the file or key and the fix, with no traceback; and it must leave
the working folder exactly as it was (no half-made run folder, nothing in the download cache,
a resumed run untouched). Two cases also run as real ``python -m gankit`` processes.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from conftest import pictures_off
from gankit import checkpoint
from gankit.cli import main

SMALL = ["train.steps=2", "train.batch_size=2", "generator.hidden=[4]", "discriminator.hidden=[4]",
         "log.progress=off"]
Case = Callable[[Path, Path], tuple[list[str], list[str]]]  # (tmp, finished run) -> (argv, must-contain)
CASES: dict[str, Case] = {}


def case(fn: Case) -> Case:
    CASES[fn.__name__.replace("_", "-")] = fn
    return fn


def out(tmp: Path) -> list[str]:
    return ["--out", str(tmp / "new-run")]


def table(tmp: Path, name: str, content: bytes | str) -> list[str]:
    p = tmp / name
    p.write_bytes(content.encode() if isinstance(content, str) else content)
    return ["train", "ring", "data.name=table", f"data.path={p}", *SMALL, *out(tmp)]


def idx(arr: np.ndarray) -> bytes:
    return bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def mnist(tmp: Path, images: bytes | None = None, labels: bytes | None = None, n: int = 8) -> list[str]:
    """An IDX folder with valid files unless ``images``/``labels`` bytes replace them (b"" = absent)."""
    folder = tmp / "mnist"
    folder.mkdir()
    good_images = gzip.compress(idx(np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8)))
    good_labels = gzip.compress(idx(np.arange(n, dtype=np.uint8) % 10))
    for name, blob, good in (("train-images-idx3-ubyte.gz", images, good_images),
                             ("train-labels-idx1-ubyte.gz", labels, good_labels)):
        blob = good if blob is None else blob
        if blob:
            (folder / name).write_bytes(blob)
    return ["train", "mnist-mlp", f"data.path={folder}", "data.download=false", *SMALL, *out(tmp)]


def images(tmp: Path, files: dict[str, bytes | None], *extra: str, archive: str | None = None) -> list[str]:
    """A folder of images (None: an empty sub-folder), or with ``archive`` (a .tar.gz or .zip name) the
    folder packed into it."""
    folder = tmp / "pics"
    folder.mkdir()
    for name, blob in files.items():
        if blob is None:
            (folder / name).mkdir(parents=True)
        else:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(blob)
    if archive:
        folder = Path(shutil.make_archive(str(tmp / archive.split(".")[0]), "zip" if archive.endswith(".zip")
                                          else "gztar", root_dir=folder))
    return ["train", "digits", "data.name=images", f"data.path={folder}", *SMALL, *extra, *out(tmp)]


def png(size: tuple[int, int], mode: str = "L") -> bytes:
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    Image.new(mode, size, 128).save(buf, "PNG")
    return buf.getvalue()


def resumable(tmp: Path, finished: Path) -> Path:
    run = tmp / "run"
    shutil.copytree(finished, run)
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": "interrupted"}))
    for p in checkpoint.checkpoints_in(run / "checkpoints")[1:]:
        checkpoint.remove(p)
    return run


# ----------------------------------------------------------------------------- data: IDX (MNIST format)


@case
def idx_truncated_gz(tmp, _):
    blob = gzip.compress(idx(np.zeros((8, 28, 28), np.uint8)))
    return mnist(tmp, images=blob[: len(blob) // 2]), ["train-images-idx3-ubyte.gz", "truncated", "download again"]


@case
def idx_corrupt_gz(tmp, _):
    return mnist(tmp, images=b"\x1f\x8b\x08\x00" + b"garbage" * 20), ["train-images-idx3-ubyte.gz", "corrupt"]


@case
def idx_wrong_magic(tmp, _):
    return mnist(tmp, images=gzip.compress(b"\x00\x00\x08\x07" + bytes(64))), ["wrong magic number", "MNIST"]


@case
def idx_count_larger_than_file(tmp, _):
    body = idx(np.zeros((8, 28, 28), np.uint8))
    body = body[:4] + struct.pack(">I", 60000) + body[8:]  # claims 60,000 images, holds 8
    return mnist(tmp, images=gzip.compress(body)), ["train-images-idx3-ubyte.gz", "60000", "truncated download"]


@case
def idx_labels_do_not_match(tmp, _):
    return mnist(tmp, labels=gzip.compress(idx(np.zeros(7, np.uint8)))), ["8 images but 7 labels"]


@case
def idx_labels_missing(tmp, _):
    return mnist(tmp, labels=b""), ["missing train-labels-idx1-ubyte.gz"]


@case
def idx_path_is_a_file(tmp, _):
    (tmp / "f.gz").write_bytes(b"x")
    return ["train", "mnist-mlp", f"data.path={tmp / 'f.gz'}", "data.download=false", *SMALL, *out(tmp)], \
        ["data.path", "is not a folder"]


# ----------------------------------------------------------------------------- data: tables


@case
def csv_text_cell(tmp, _):
    return table(tmp, "t.csv", "a,b\n1,2\n3,oops\n"), ["t.csv", "line 3", "column b", "'oops'", "numeric"]


@case
def csv_nan(tmp, _):
    return table(tmp, "t.csv", "1,2\nnan,3\n4,5\n"), ["t.csv", "line 2", "not finite"]


@case
def csv_inf(tmp, _):
    return table(tmp, "t.csv", "1,2\n3,-inf\n4,5\n"), ["t.csv", "-inf", "not finite"]


@case
def csv_empty_cell(tmp, _):
    return table(tmp, "t.csv", "1,2\n,3\n4,5\n"), ["t.csv", "line 2", "empty cell"]


@case
def csv_ragged_rows(tmp, _):
    return table(tmp, "t.csv", "1,2\n3\n4,5\n"), ["t.csv", "line 2", "ragged"]


@case
def csv_empty_file(tmp, _):
    return table(tmp, "t.csv", ""), ["t.csv", "empty"]


@case
def csv_header_only(tmp, _):
    return table(tmp, "t.csv", "a,b\n"), ["t.csv", "no data rows"]


@case
def csv_binary(tmp, _):
    return table(tmp, "t.csv", bytes(range(256)) * 4), ["t.csv", "not a text CSV"]


@case
def npy_pickled_objects(tmp, _):
    p = tmp / "t.npy"
    np.save(p, np.array([[1, "a"]], dtype=object), allow_pickle=True)
    return ["train", "ring", "data.name=table", f"data.path={p}", *SMALL, *out(tmp)], ["t.npy", "pickle"]


@case
def npy_three_dimensional(tmp, _):
    p = tmp / "t.npy"
    np.save(p, np.zeros((4, 2, 2)))
    return ["train", "ring", "data.name=table", f"data.path={p}", *SMALL, *out(tmp)], ["t.npy", "2-D"]


@case
def npy_non_finite(tmp, _):
    p = tmp / "t.npy"
    np.save(p, np.array([[1.0, 2.0], [np.nan, 1.0]]))
    return ["train", "ring", "data.name=table", f"data.path={p}", *SMALL, *out(tmp)], ["t.npy", "row 1"]


@case
def npy_garbage(tmp, _):
    return table(tmp, "t.npy", b"\x93NUMPY garbage"), ["t.npy", "not a valid .npy"]


@case
def npz_several_arrays(tmp, _):
    p = tmp / "t.npz"
    np.savez(p, a=np.zeros((3, 2)), b=np.ones((3, 2)))
    return ["train", "ring", "data.name=table", f"data.path={p}", *SMALL, *out(tmp)], ["t.npz", "'x'"]


@case
def table_unknown_format(tmp, _):
    return table(tmp, "t.xlsx", "PK"), ["t.xlsx", ".csv"]


@case
def data_path_missing(tmp, _):
    return ["train", "ring", "data.name=table", f"data.path={tmp / 'nope.csv'}", *SMALL, *out(tmp)], \
        ["nope.csv", "no such file"]


# ----------------------------------------------------------------------------- data: image folders


@case
def images_empty_folder(tmp, _):
    return images(tmp, {"notes.txt": b"hi"}), ["pics", "no images"]


@case
def images_zero_byte_file(tmp, _):
    return images(tmp, {"a.png": png((8, 8)), "b.png": b""}), ["b.png", "remove or replace"]


@case
def images_not_an_image(tmp, _):
    return images(tmp, {"a.png": png((8, 8)), "b.jpg": b"<html>not a jpeg</html>"}), ["b.jpg", "remove or replace"]


@case
def images_mixed_sizes(tmp, _):
    return images(tmp, {"a.png": png((8, 8)), "b.png": png((9, 8))}), ["mixed sizes", "data.image_size"]


@case
def images_empty_class_folder(tmp, _):
    return images(tmp, {"cat/a.png": png((8, 8)), "dog": None}), ["class sub-folder dog/ holds no images",
                                                                   "remove it"]


@case
def archive_empty_class_folder(tmp, _):
    pics = {"cat/a.png": png((8, 8)), "dog/b.png": png((8, 8)), "owl": None}
    return images(tmp, pics, archive="pics.tar.gz"), ["pics.tar.gz: class sub-folder owl/ holds no images"]


@case
def archive_without_images(tmp, _):
    return images(tmp, {"cat/notes.txt": b"hi"}, archive="pics.zip"), ["pics.zip: no images found"]


def archive(tmp: Path, name: str, blob: bytes) -> list[str]:
    (tmp / name).write_bytes(blob)
    return ["train", "digits", "data.name=images", f"data.path={tmp / name}", *SMALL, *out(tmp)]


@case
def archive_damaged_tar_gz(tmp, _):  # a gzip header, then nonsense: one line, the gzip reader's reason
    return archive(tmp, "pics.tar.gz", b"\x1f\x8b\x08\x00" + b"garbage" * 20), ["pics.tar.gz: not a readable "
                                                                                "archive (method gz:"]


@case
def archive_damaged_zip(tmp, _):
    return archive(tmp, "pics.zip", b"PK\x03\x04" + b"garbage" * 20), ["pics.zip: not a readable archive"]


# ----------------------------------------------------------------------------- data: sound folders

#: a tiny SpecGAN: 0.24 s clips as 16x16 spectrograms, two stages
SOUND_SMALL = ["data.duration=0.24", "data.n_mels=16", "data.frames=16", "generator.channels=[4,4]", "discriminator.channels=[4,4]",
               "train.steps=2", "train.batch_size=2", "log.progress=off"]


def sound(tmp: Path, files: dict[str, bytes | float], *extra: str) -> list[str]:
    """A folder of WAVs (a float: a tone of that many seconds; bytes: the file as given)."""
    from gankit.audio.wav import write_wav

    folder = tmp / "rec"
    folder.mkdir()
    for name, what in files.items():
        if isinstance(what, bytes):
            (folder / name).write_bytes(what)
        else:
            write_wav(folder / name, 0.5 * np.sin(np.arange(int(what * 8000)) * 0.3), 8000)
    return ["train", "fsdd-specgan", f"data.path={folder}", *SOUND_SMALL, *extra, *out(tmp)]


DIGITS = {f"{d}_ann_{i}.wav": 0.5 for d in range(2) for i in (0, 5, 6)}  # take 0: the test split


@case
def sound_folder_without_audio(tmp, _):
    return sound(tmp, {"readme.txt": b"recordings come later"}), ["rec", "no audio files found", ".wav"]


@case
def sound_label_pattern_matches_nothing(tmp, _):
    return sound(tmp, DIGITS, "data.label_pattern=^digit(\\d)"), ["data.label_pattern", "matches none of the 6"]


@case
def sound_test_pattern_matches_nothing(tmp, _):
    return sound(tmp, DIGITS, "data.test_pattern=_9.wav"), ["data.test_pattern", "matches none of the 6"]


@case
def sound_unreadable_file(tmp, _):
    return sound(tmp, {**DIGITS, "1_ann_9.wav": b"RIFF\x00\x00WAVEnonsense"}), ["1_ann_9.wav", "cannot read audio"]


@case
def sound_zero_length_file(tmp, _):
    return sound(tmp, {**DIGITS, "1_ann_9.wav": 0.0}), ["1_ann_9.wav", "holds no samples"]


@case
def sound_clips_shorter_than_the_window(tmp, _):
    return sound(tmp, DIGITS, "data.duration=0.01"), ["data.duration (0.01 s) is 80 samples", "shorter than the STFT window"]


@case
def sound_fft_too_coarse_for_the_bands(tmp, _):
    return (sound(tmp, DIGITS, "data.sample_rate=16000", "data.n_fft=64", "data.n_mels=32", "data.frames=128"),
            ["mel bands cover no frequency bin", "data.n_mels"])


@case
def sound_waveform_length_the_networks_cannot_take(tmp, _):
    wave = ("data.representation=waveform", "generator.arch=wavegan", "discriminator.arch=wavegan")
    return sound(tmp, DIGITS, *wave, "data.length=1930"), ["data.length (1930) must be a multiple of 16",
                                                            "data.length=1936"]


@case
def sound_wavegan_on_spectrograms(tmp, _):
    return (sound(tmp, DIGITS, "generator.arch=wavegan", "discriminator.arch=wavegan"),
            ["arch=wavegan needs waveforms", "data.representation=waveform"])


# ----------------------------------------------------------------------------- config


@case
def unknown_key_with_suggestion(tmp, _):
    return ["train", "ring", "train.step=5", *out(tmp)], ["train.step", 'did you mean "train.steps"']


@case
def unknown_section_in_yaml(tmp, _):
    (tmp / "c.yaml").write_text("preset: ring\ntrian:\n  steps: 3\n")
    return ["train", str(tmp / "c.yaml"), *out(tmp)], ["c.yaml", "trian", 'did you mean "train"']


@case
def wrong_type(tmp, _):
    return ["train", "ring", "train.batch_size=lots", *out(tmp)], ["train.batch_size", "integer", "'lots'"]


@case
def lr_zero(tmp, _):
    return ["train", "ring", "generator.lr=0", *out(tmp)], ["generator.lr", "> 0", "try 2e-4"]


@case
def lr_negative(tmp, _):
    return ["train", "ring", "discriminator.lr=-1e-4", *out(tmp)], ["discriminator.lr", "> 0"]


@case
def lr_infinite(tmp, _):
    return ["train", "ring", "generator.lr=.inf", *out(tmp)], ["generator.lr", "finite"]


@case
def batch_zero(tmp, _):
    return ["train", "ring", "train.batch_size=0", *out(tmp)], ["train.batch_size", ">= 1"]


@case
def batch_larger_than_dataset(tmp, _):
    return ["train", "ring", "data.n_samples=10", "train.batch_size=64", *out(tmp)], \
        ["train.batch_size=64", "10 items", "train.batch_size<=10"]


@case
def divergence_factor_out_of_range(tmp, _):
    return ["train", "ring", "train.divergence_lr_factor=1.5", *out(tmp)], ["train.divergence_lr_factor", "(0, 1)"]


@case
def seed_too_large(tmp, _):
    return ["train", "ring", f"train.seed={2**70}", *out(tmp)], ["train.seed", "2**63-1"]


@case
def config_from_a_newer_gankit(tmp, _):
    (tmp / "c.yaml").write_text("preset: ring\nversion: 99\n")
    return ["train", str(tmp / "c.yaml"), *out(tmp)], ["c.yaml", "newer gankit", "upgrade gankit"]


@case
def yaml_syntax_error(tmp, _):
    (tmp / "c.yaml").write_text("train:\n  steps: [1, 2\n")
    return ["train", str(tmp / "c.yaml"), *out(tmp)], ["c.yaml", "not valid YAML", "line"]


@case
def yaml_not_a_mapping(tmp, _):
    (tmp / "c.yaml").write_text("- ring\n- digits\n")
    return ["train", str(tmp / "c.yaml"), *out(tmp)], ["c.yaml", "mapping"]


@case
def unknown_preset(tmp, _):
    return ["train", "digitz", *out(tmp)], ["digitz", 'did you mean "digits"']


@case
def bad_device(tmp, _):
    return ["train", "ring", "train.device=tpu", *out(tmp)], ["train.device", "cpu"]


@case
def override_without_value(tmp, _):
    return ["train", "ring", "train.steps", *out(tmp)], ["train.steps", "key=value"]


@case
def networks_too_big_for_memory(tmp, _):
    return ["train", "ring", "generator.hidden=[100000000000]", *out(tmp)], ["memory", "generator.hidden"]


# ----------------------------------------------------------------------------- output folder


@case
def out_is_a_file(tmp, _):
    (tmp / "taken").write_text("mine")
    return ["train", "ring", *SMALL, "--out", str(tmp / "taken")], ["--out", "taken", "is a file"]


@case
def out_not_writable(tmp, _):
    return ["train", "ring", *SMALL, "--out", "/dev/null/run"], ["/dev/null/run", "writable"]


@case
def out_not_empty(tmp, _):
    (tmp / "busy").mkdir()
    (tmp / "busy" / "keep.txt").write_text("mine")
    return ["train", "ring", *SMALL, "--out", str(tmp / "busy")], ["busy", "not empty", "--resume"]


# ----------------------------------------------------------------------------- checkpoints and resume


@case
def resume_missing_folder(tmp, _):
    return ["train", "--resume", str(tmp / "nope")], ["nope", "run folder"]


@case
def resume_not_a_run_folder(tmp, _):
    (tmp / "notes").mkdir()
    return ["train", "--resume", str(tmp / "notes")], ["notes", "not a gankit run folder"]


@case
def resume_with_every_checkpoint_damaged(tmp, finished):
    run = resumable(tmp, finished)
    for p in checkpoint.checkpoints_in(run / "checkpoints"):
        p.with_suffix(".safetensors").write_bytes(b"\x00" * 16)
    return ["train", "--resume", str(run)], ["no usable checkpoint", "checksum mismatch"]


@case
def resume_with_another_architecture(tmp, finished):
    run = resumable(tmp, finished)
    return ["train", "--resume", str(run), "generator.hidden=[16]"], ["generator.hidden", "[4]", "[16]"]


@case
def resume_with_a_checkpoint_from_another_run(tmp, finished):
    run = resumable(tmp, finished)
    other = tmp / "other"
    assert main(["train", "ring", *SMALL, "generator.hidden=[6]", "train.steps=1", "--out", str(other),
                 "--quiet"]) == 0
    shutil.copy(other / "checkpoints" / "step_00000001.safetensors", run / "checkpoints" / "step_00000099.safetensors")
    doc = json.loads((other / "checkpoints" / "step_00000001.json").read_text())
    (run / "checkpoints" / "step_00000099.json").write_text(json.dumps({**doc, "tensors": "step_00000099.safetensors"}))
    shutil.rmtree(other)
    return ["train", "--resume", str(run)], ["step_00000099.json", "generator.hidden"]


@case
def resume_with_changed_data(tmp, finished):
    run = resumable(tmp, finished)
    return ["train", "--resume", str(run), "data.n_samples=50"], ["data.n_samples", "run's own"]


@case
def resume_checkpoint_from_a_newer_gankit(tmp, finished):
    run = resumable(tmp, finished)
    (p,) = checkpoint.checkpoints_in(run / "checkpoints")
    p.write_text(json.dumps({**json.loads(p.read_text()), "format_version": 99}))
    return ["train", "--resume", str(run)], [p.name, "newer gankit", "upgrade gankit"]


@case
def resume_config_from_a_newer_gankit(tmp, finished):
    run = resumable(tmp, finished)
    (run / "config.yaml").write_text((run / "config.yaml").read_text().replace("version: 1", "version: 99"))
    return ["train", "--resume", str(run)], ["config.yaml", "newer gankit"]


@case
def resume_a_finished_run(tmp, finished):
    run = tmp / "run"
    shutil.copytree(finished, run)
    return ["train", "--resume", str(run)], ["already trained 6 of 6 steps", "raise train.steps"]


@case
def sample_tampered_weights(tmp, finished):
    run = tmp / "run"
    shutil.copytree(finished, run)
    blob = bytearray((run / "generator.safetensors").read_bytes())
    blob[-1] ^= 0xFF
    (run / "generator.safetensors").write_bytes(bytes(blob))
    return ["sample", str(run), "--out", str(tmp / "x.npy")], ["generator.safetensors", "checksum mismatch"]


@case
def sample_generator_from_a_newer_gankit(tmp, finished):
    run = tmp / "run"
    shutil.copytree(finished, run)
    doc = json.loads((run / "generator.json").read_text())
    (run / "generator.json").write_text(json.dumps({**doc, "format_version": 2}))
    return ["sample", str(run), "--out", str(tmp / "x.npy")], ["generator.json", "upgrade gankit"]


@case
def sample_unfinished_run(tmp, finished):
    run = resumable(tmp, finished)
    for name in ("generator.json", "generator.safetensors"):
        (run / name).unlink()
    return ["sample", str(run), "--out", str(tmp / "x.npy")], ["no final generator", "--resume"]


@case
def sample_pickle_file(tmp, _):
    (tmp / "model.pt").write_bytes(b"\x80\x04K\x01.")
    return ["sample", str(tmp / "model.pt"), "--out", str(tmp / "x.npy")], ["model.pt", "pickled", "safetensors"]


# ----------------------------------------------------------------------------- the checks


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A tiny finished run (6 steps, checkpoints at 3 and 6) to damage in the resume cases."""
    run = tmp_path_factory.mktemp("finished") / "run"
    with pictures_off():
        assert main(["train", "ring", *SMALL, "train.steps=6", "log.checkpoint_every=3", "data.n_samples=64",
                     "--out", str(run), "--quiet"]) == 0
    return run


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under ``root`` with its kind, size, mtime and mode: any write shows up."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(root))] = (p.is_dir(), st.st_size, st.st_mtime_ns, st.st_mode)
    return out


def test_the_catalogue_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gives_one_clear_line_and_touches_nothing(name, tmp_path, finished, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # a default runs/ folder would show up here
    monkeypatch.setenv("GANKIT_CACHE", str(work / "cache"))  # and any download here
    argv, expected = CASES[name](work, finished)
    capsys.readouterr()
    before = snapshot(work)
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gankit: error: "), err
    assert "Traceback" not in err
    for part in expected:
        assert part in lines[0], f"{part!r} missing from: {lines[0]}"
    assert snapshot(work) == before


def test_mixed_image_modes_are_not_an_error(tmp_path):
    """Grayscale, palette and RGBA files in one folder load as one RGB set (not a bad input)."""
    from gankit.config import load
    from gankit.data import load_data

    folder = tmp_path / "pics"
    folder.mkdir()
    (folder / "a.png").write_bytes(png((8, 8), "L"))
    (folder / "b.png").write_bytes(png((8, 8), "RGBA"))
    (folder / "c.png").write_bytes(png((8, 8), "P"))
    from PIL import Image

    Image.new("RGB", (8, 8), (255, 0, 0)).save(folder / "d.png")
    data = load_data(load("digits", ["data.name=images", f"data.path={folder}"]).data)
    assert data.shape == (3, 8, 8) and len(data) == 4


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write anywhere")
def test_out_in_a_read_only_folder(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["train", "ring", *SMALL, "--out", str(locked / "run")]) == 2
        assert "writable" in capsys.readouterr().err
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_bad_inputs_in_a_real_process(tmp_path):
    """The same contract from the installed entry point: exit 2, one line, no traceback."""
    (tmp_path / "t.csv").write_text("1,2\nnan,3\n")
    runs = {
        "key": ["train", "ring", "train.bacth_size=3"],
        "csv": ["train", "ring", "data.name=table", f"data.path={tmp_path / 't.csv'}", *SMALL],
    }
    procs = {k: subprocess.Popen([sys.executable, "-m", "gankit", *argv, "--out", str(tmp_path / k)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
             for k, argv in runs.items()}
    results = {k: (p.wait(timeout=120), p.stderr.read()) for k, p in procs.items()}
    for k, (code, err) in results.items():
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert 'did you mean "train.batch_size"' in results["key"][1]
    assert "t.csv: line 2" in results["csv"][1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_an_op_without_a_deterministic_kernel_is_a_clear_error(tmp_path, monkeypatch, capsys):
    """On GPUs some kernels have no deterministic version; torch then raises mid-training."""
    from gankit.training.phases import Stepper

    def train_step(self, batches):
        raise RuntimeError("index_add_cuda_ does not have a deterministic implementation, but you set "
                           "'torch.use_deterministic_algorithms(True)'.")

    monkeypatch.setattr(Stepper, "train_step", train_step)
    run = tmp_path / "run"
    assert main(["train", "ring", *SMALL, "train.deterministic=true", "--out", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "train.deterministic=false" in err[0] and "index_add_cuda_" in err[0]
    assert json.loads((run / "run.json").read_text())["status"] == "failed"


def test_taken_out_folder_is_refused_before_the_data_is_loaded(tmp_path, monkeypatch, capsys):
    """Loading MNIST takes seconds to minutes: a taken --out must not cost them."""
    from gankit.run import session as runner

    def no_loading(cfg):
        raise AssertionError("the data was loaded before --out was checked")

    monkeypatch.setattr(runner, "load_run_data", no_loading)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("")
    assert main(["train", "mnist-mlp", "--out", str(tmp_path / "busy")]) == 2
    assert "not empty" in capsys.readouterr().err
