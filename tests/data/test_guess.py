"""Issue 18, "your own data": data.path means the user's data for every preset; data.name=auto guesses
per modality (image folders and archives, tables incl. parquet) and names what is not supported yet;
the generic images-dcgan preset; run folders named after the data set."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from gankit.config import DataConfig
from gankit.data import archives, guess_name, load_data
from gankit.data.images import sources
from gankit.errors import GankitError

#: a DCGAN small enough to train a few steps in a second or two
SMALL_DCGAN = ["generator.channels=[8,4]", "discriminator.channels=[4,8]", "generator.latent_dim=8",
               "train.steps=4", "train.batch_size=8", "train.threads=1", "log.sample_every=2",
               "log.checkpoint_every=4"]


def shapes(folder: Path, n: int = 8, size: tuple[int, int] = (16, 16), classes=("circle", "square")) -> Path:
    """A class-per-sub-folder set of small colour pictures (``folder/<class>/<i>.png``)."""
    rng = np.random.default_rng(0)
    for k, cls in enumerate(classes):
        (folder / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            a = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
            a[..., k % 3] = 255
            Image.fromarray(a).save(folder / cls / f"{i}.png")
    return folder


def dry_run(capsys, *args) -> dict:
    """The config `gankit train ... --dry-run` prints, as a dict."""
    import yaml

    capsys.readouterr()
    assert main(["train", *args, "--dry-run"]) == 0
    return yaml.safe_load(capsys.readouterr().out)


# ----------------------------------------------------------------------------- point 6: presets on own data


def test_a_preset_of_a_built_in_set_trains_on_the_path_given(tmp_path, monkeypatch, capsys):
    """`gankit train digits-dcgan data.path=shapes/` trains on shapes/ (it stopped with "data.name=digits
    reads no files" while --dry-run accepted it); --dry-run shows the data.name the run uses; the run
    folder, start-up line, run.json and report name the data set."""
    data = shapes(tmp_path / "shapes")
    monkeypatch.chdir(tmp_path)
    assert dry_run(capsys, "digits-dcgan", "data.path=shapes")["data"]["name"] == "images"
    assert main(["train", "digits-dcgan", "data.path=shapes", *SMALL_DCGAN]) == 0
    out = capsys.readouterr().out
    assert "shapes (images, guessed from the folder; 16 items, shape (3, 16, 16))" in out
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.startswith("shapes-dcgan-")
    info = json.loads((run / "run.json").read_text())
    assert info["data"]["name"] == "images" and info["data"]["path"] == "shapes" and data.is_dir()
    assert "shapes (images)" in (run / "report.html").read_text()


def test_every_preset_takes_a_table_or_folder(tmp_path, capsys):
    np.savetxt(tmp_path / "wine.csv", np.arange(12.0).reshape(4, 3), delimiter=",", header="a,b,c", comments="")
    shapes(tmp_path / "pics")
    assert dry_run(capsys, "digits", f"data.path={tmp_path / 'wine.csv'}")["data"]["name"] == "table"
    assert dry_run(capsys, "ring", f"data.path={tmp_path / 'wine.csv'}")["data"]["name"] == "table"
    assert dry_run(capsys, "mnist-dcgan", f"data.path={tmp_path / 'pics'}")["data"]["name"] == "images"
    assert dry_run(capsys, "fashion-dcgan", f"data.path={tmp_path / 'pics'}")["data"]["name"] == "images"


def test_images_dcgan_needs_a_path(tmp_path, capsys):
    assert main(["train", "images-dcgan"]) == 2
    err = capsys.readouterr().err.strip()
    assert "data.path" in err and "\n" not in err


def test_images_dcgan_resizes_to_the_largest_size_its_stages_support(tmp_path, capsys):
    """Three stages: sides divisible by 8, at most 64; mixed sizes are no error; data.image_size wins."""
    pics = shapes(tmp_path / "mixed", n=2, size=(30, 24))
    shapes(pics, n=2, size=(20, 21), classes=("triangle",))
    cfg = dry_run(capsys, "images-dcgan", f"data.path={pics}")
    assert cfg["data"]["name"] == "images" and cfg["data"]["image_size"] == 16
    big = shapes(tmp_path / "big", n=1, size=(100, 90))
    assert dry_run(capsys, "images-dcgan", f"data.path={big}")["data"]["image_size"] == 64
    same = shapes(tmp_path / "same", n=1, size=(32, 32))
    assert dry_run(capsys, "images-dcgan", f"data.path={same}")["data"]["image_size"] is None  # as they are
    assert dry_run(capsys, "images-dcgan", f"data.path={big}", "data.image_size=24")["data"]["image_size"] == 24
    assert main(["train", "images-dcgan", f"data.path={pics}", "generator.channels=[8,4,4]",
                 "discriminator.channels=[4,4,8]", *SMALL_DCGAN[2:], "train.batch_size=4",
                 "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert json.loads((tmp_path / "run" / "run.json").read_text())["data"]["shape"] == [3, 16, 16]


# ----------------------------------------------------------------------------- data.name=auto per modality


def _archive(folder: Path, out: Path, wrap: str | None) -> Path:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    names = [str(Path(wrap or "", p.relative_to(folder))) for p in files]
    if out.suffix == ".zip":
        with zipfile.ZipFile(out, "w") as z:
            for p, n in zip(files, names):
                z.write(p, n)
    else:
        with tarfile.open(out, "w:gz") as t:
            for p, n in zip(files, names):
                t.add(p, n)
    return out


@pytest.mark.parametrize("name,wrap", [("shapes.tar.gz", "shapes"), ("shapes.tgz", None), ("shapes.zip", "shapes")])
def test_image_archives_read_like_their_folder(tmp_path, name, wrap):
    """Class sub-folders inside the archive are the classes (a wrapping top folder is skipped)."""
    folder = shapes(tmp_path / "shapes", n=3)
    archive = _archive(folder, tmp_path / name, wrap)
    assert guess_name(DataConfig(path=str(archive))) == "images"
    a, b = load_data(DataConfig(path=str(folder))), load_data(DataConfig(path=str(archive)))
    assert b.classes == a.classes == ["circle", "square"]
    assert b.labels.tolist() == a.labels.tolist()
    np.testing.assert_array_equal(b.x.numpy(), a.x.numpy())


def test_an_archive_is_read_in_memory_never_extracted(tmp_path):
    png = io.BytesIO()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(png, format="PNG")
    out = tmp_path / "in" / "evil.tar.gz"
    out.parent.mkdir()
    with tarfile.open(out, "w:gz") as t:
        for name in ("../escaped.png", "/tmp/gankit-absolute.png", "ok.png"):
            info = tarfile.TarInfo(name)
            info.size = len(png.getvalue())
            t.addfile(info, io.BytesIO(png.getvalue()))
        link = tarfile.TarInfo("link.png")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(link)
    data = load_data(DataConfig(path=str(out)))
    assert len(data) == 3 and data.classes is None  # the link is skipped
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["evil.tar.gz", "in"]
    assert not Path("/tmp/gankit-absolute.png").exists()


def test_the_guess_stops_at_an_archives_first_image(tmp_path):
    """A config load guesses the data from the first image name, not a read through the whole archive: a
    tar.gz cut short after its first member still guesses, and only loading it says it is damaged."""
    png = io.BytesIO()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(png, format="PNG")
    out = tmp_path / "cut.tar.gz"
    with tarfile.open(out, "w:gz") as t:
        for i, blob in enumerate([png.getvalue()] + [np.random.default_rng(i).bytes(20_000) for i in range(8)]):
            info = tarfile.TarInfo(f"cat/{i}.png")
            info.size = len(blob)
            t.addfile(info, io.BytesIO(blob))
    out.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    assert guess_name(DataConfig(path=str(out))) == "images"
    assert "cut.tar.gz: not a readable archive" in _one_line(lambda: load_data(DataConfig(path=str(out))))


def test_a_listed_sibling_folder_is_no_wrapper_and_an_empty_class_is_refused(tmp_path):
    """One class with images beside an empty one: the archive's folder list keeps them classes (not a
    wrapper to strip), and the empty one is named; a super-resolution set's sub-folders are no classes."""
    folder = shapes(tmp_path / "shapes", n=2, classes=("circle",))
    (folder / "square").mkdir()
    tgz = tmp_path / "shapes.tar.gz"
    with tarfile.open(tgz, "w:gz") as t:
        t.add(folder, "shapes")
    assert archives.wrapper_depth([("shapes", "circle", "0.png")], [("shapes",), ("shapes", "circle")]) == 2
    assert archives.wrapper_depth([("shapes", "circle", "0.png")], [("shapes",), ("shapes", "square")]) == 1
    for path in (folder, tgz):
        msg = _one_line(lambda: load_data(DataConfig(path=str(path))))
        assert "class sub-folder square/ holds no images (the classes with images: circle)" in msg
    assert len(sources(str(tgz), labelled=False)[0]) == 2


def test_a_parquet_table_with_a_word_label(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    df = pd.DataFrame({"alcohol": [13.2, 12.37, 14.1, 13.0], "proline": [1065, 520, 1480, 735],
                       "cultivar": ["barolo", "grignolino", "barolo", "barbera"]})
    df.to_parquet(tmp_path / "wine.parquet")
    assert guess_name(DataConfig(path=str(tmp_path / "wine.parquet"))) == "table"
    data = load_data(DataConfig(path=str(tmp_path / "wine.parquet"), label_column="cultivar"))
    assert data.columns == ["alcohol", "proline"] and data.classes == ["barbera", "barolo", "grignolino"]
    assert data.labels.tolist() == [1, 2, 1, 0] and data.codec.decimals == [2, 0]
    np.testing.assert_allclose(data.decode(data.x).numpy(), df[["alcohol", "proline"]].to_numpy(), rtol=1e-6)
    with pytest.raises(GankitError, match="column cultivar holds .* not numbers.*data.label_column=cultivar"):
        load_data(DataConfig(path=str(tmp_path / "wine.parquet")))


def _one_line(fn) -> str:
    with pytest.raises(GankitError) as e:
        fn()
    assert "\n" not in str(e.value)
    return str(e.value)


def test_what_is_not_supported_yet_is_named(tmp_path):
    sound = tmp_path / "sound"
    sound.mkdir()
    (sound / "a.wav").write_bytes(b"RIFF")
    assert guess_name(DataConfig(path=str(sound))) == "sound"  # a sound folder (tests/audio read it)
    assert "one audio file; give the folder" in _one_line(lambda: guess_name(DataConfig(path=str(sound / "a.wav"))))
    import zipfile

    with zipfile.ZipFile(tmp_path / "clips.zip", "w") as z:
        z.writestr("clips/a.wav", b"RIFF")
    assert "unpack it" in _one_line(lambda: guess_name(DataConfig(path=str(tmp_path / "clips.zip"))))
    pairs = tmp_path / "horse2zebra"
    for sub in ("A", "B"):
        shapes(pairs / sub, n=1, classes=("x",))
    msg = _one_line(lambda: guess_name(DataConfig(path=str(pairs))))
    assert "task=pix2pix" in msg and "data.name=images" in msg
    assert load_data(DataConfig(name="images", path=str(pairs))).classes == ["A", "B"]  # asked for: classes
    one = shapes(tmp_path / "pics", n=1) / "circle" / "0.png"
    assert "give the folder" in _one_line(lambda: guess_name(DataConfig(path=str(one))))
