"""Issue 18, "your own data": what a run on the user's data gives back.

Point 7: conditional image output is readable (near-square grids with labelled rows, real images in
the report, readable thumbnails), and keeps its classes (``x.labels.npy`` beside ``x.npy``, class
sub-folders that gankit reads back, JPEG grids). Point 9: table samples keep the file's ranges,
whole numbers and decimals.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import gankit
from gankit.cli import main
from gankit.config import DataConfig
from gankit.data import load_data

SMALL_DCGAN = ["generator.channels=[8,4]", "discriminator.channels=[4,8]", "generator.latent_dim=8",
               "train.batch_size=8", "train.threads=1", "log.checkpoint_every=4"]


def shapes(folder: Path, n: int = 8, size: int = 16, classes=("circle", "square")) -> Path:
    rng = np.random.default_rng(0)
    for k, cls in enumerate(classes):
        (folder / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            a = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
            a[..., k % 3] = 255
            Image.fromarray(a).save(folder / cls / f"{i}.png")
    return folder


@pytest.fixture(scope="module")
def cond_run(tmp_path_factory) -> Path:
    """A class-conditional DCGAN on a two-class colour folder (4 steps, previews at steps 2 and 4)."""
    tmp = tmp_path_factory.mktemp("own")
    out = tmp / "run"
    assert main(["train", "digits-dcgan", "data.name=images", f"data.path={shapes(tmp / 'shapes')}",
                 "conditional.mode=projection", *SMALL_DCGAN, "train.steps=4", "log.sample_every=2",
                 "--out", str(out), "--quiet"]) == 0
    return out


def squareish(size: tuple[int, int]) -> bool:
    w, h = size
    return 0.75 <= w / h <= 1.34


# ----------------------------------------------------------------------------- point 7: images


def test_a_conditional_grid_is_near_square_with_labelled_rows(cond_run, tmp_path):
    """64 samples of 2 classes: 8x8 with 4 rows per class (it was a 1057x67 strip), names at the left."""
    assert main(["sample", str(cond_run), "--n", "64", "--out", str(tmp_path / "g.png")]) == 0
    img = Image.open(tmp_path / "g.png").convert("L")
    assert squareish(img.size), img.size
    a = np.asarray(img)
    margin = a.shape[1] - (8 * (32 + 1) + 1)  # 16x16 tiles are drawn at 32x32, one pixel apart
    assert margin > 20  # room for "circle" / "square"
    rows = [a[1 + r * 33 : 1 + r * 33 + 32, :margin] for r in range(8)]
    assert all((row < 128).any() for row in rows)  # every row has its class name written
    assert (rows[0] != rows[4]).any() and (rows[0] == rows[1]).all()  # circle, circle, ..., square


def test_training_previews_are_labelled_and_real_images_are_in_the_report(cond_run):
    step = Image.open(cond_run / "samples" / "step_00000004.png")
    assert squareish(step.size), step.size
    assert (cond_run / "samples" / "real.png").is_file()
    page = (cond_run / "report.html").read_text()
    assert 'alt="real data"' in page
    css = re.search(r"\.small img\{([^}]*)\}", page).group(1)  # thumbnails over time have a readable size
    assert "height:240px" in css and "width:240px" in css and "object-fit:contain" in css


def test_npy_comes_with_its_labels(cond_run, tmp_path):
    assert main(["sample", str(cond_run), "--n", "6", "--out", str(tmp_path / "x.npy"), "--seed", "0"]) == 0
    x, labels = np.load(tmp_path / "x.npy"), np.load(tmp_path / "x.labels.npy")  # no pickle needed
    assert x.shape == (6, 3, 16, 16) and labels.tolist() == ["circle"] * 3 + ["square"] * 3
    assert main(["sample", str(cond_run), "--n", "4", "--label", "square", "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.labels.npy").tolist() == ["square"] * 4


def test_a_folder_of_samples_has_class_sub_folders_that_train_again(cond_run, tmp_path):
    out = tmp_path / "pngs"
    assert main(["sample", str(cond_run), "--n", "16", "--out", str(out) + "/"]) == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))[:2] == ["circle/0000.png",
                                                                                     "circle/0001.png"]
    data = load_data(DataConfig(name="images", path=str(out)))
    assert data.classes == ["circle", "square"] and np.bincount(data.labels.numpy()).tolist() == [8, 8]
    again = tmp_path / "again"
    assert main(["train", "digits-dcgan", "data.name=images", f"data.path={out}", "conditional.mode=projection",
                 *SMALL_DCGAN, "train.steps=2", "--out", str(again), "--quiet"]) == 0
    assert gankit.load(again).classes == ["circle", "square"]


def test_a_jpeg_grid(cond_run, tmp_path):
    assert main(["sample", str(cond_run), "--n", "8", "--out", str(tmp_path / "g.jpg")]) == 0
    with Image.open(tmp_path / "g.jpg") as img:
        assert img.format == "JPEG" and squareish(img.size)


# ----------------------------------------------------------------------------- point 9: tables


def wine(path: Path, n: int = 300) -> dict[str, np.ndarray]:
    """Columns like the wine table's: 2 decimals and never negative, whole numbers ~1,000, 1 decimal."""
    rng = np.random.default_rng(0)
    cols = {"flavanoids": np.round(rng.gamma(1.5, 0.6, n), 2), "proline": np.round(rng.lognormal(6.6, 0.35, n)),
            "alcohol": np.round(rng.normal(13.0, 0.8, n), 1)}
    with open(path, "w") as f:
        f.write("flavanoids,proline,alcohol,cultivar\n")
        for i in range(n):
            f.write(f"{cols['flavanoids'][i]:.2f},{int(cols['proline'][i])},{cols['alcohol'][i]:.1f},"
                    f"{'barolo' if i % 2 else 'barbera'}\n")
    return cols


def test_table_samples_keep_ranges_whole_numbers_and_decimals(tmp_path):
    cols = wine(tmp_path / "wine.csv")
    run = tmp_path / "run"
    assert main(["train", "digits", f"data.path={tmp_path / 'wine.csv'}", "data.label_column=cultivar",
                 "conditional.mode=projection", "generator.hidden=[16]", "discriminator.hidden=[16]",
                 "train.steps=3", "train.batch_size=32", "train.threads=1", "--out", str(run), "--quiet"]) == 0
    x = gankit.load(run).samples(3000, seed=0)  # an almost untrained G: its raw output strays far
    for j, (name, c) in enumerate(cols.items()):
        assert c.min() - 1e-4 <= x[:, j].min() and x[:, j].max() <= c.max() + 1e-4, name
    np.testing.assert_array_equal(x[:, 1], np.round(x[:, 1]))  # proline: whole numbers
    np.testing.assert_allclose(x[:, 0], np.round(x[:, 0], 2), atol=1e-5)
    np.testing.assert_allclose(x[:, 2], np.round(x[:, 2], 1), atol=1e-5)
    assert main(["sample", str(run), "--n", "500", "--out", str(tmp_path / "s.csv"), "--seed", "1"]) == 0
    with open(tmp_path / "s.csv") as f:
        rows = list(csv.reader(f))[1:]
    most = {j: max(len(r[j].partition(".")[2]) for r in rows) for j in range(3)}
    assert most[0] <= 2 and most[1] == 0 and most[2] <= 1, most  # written as the file wrote them
    assert {r[3] for r in rows} == {"barbera", "barolo"}
    meta = json.loads((run / "generator.json").read_text())["meta"]["data"]
    assert meta["decimals"] == [2, 0, 1] and meta["min"][1] == cols["proline"].min()


def test_training_is_unchanged_only_decoding_is(tmp_path):
    """The training tensor is the standardised table as before; an old generator.json (no min/max)
    decodes as before. (A guard, which passes before the change too; weights and metrics.csv of a table
    run were also compared before/after by hand: identical.)"""
    cols = wine(tmp_path / "wine.csv", n=50)
    data = load_data(DataConfig(path=str(tmp_path / "wine.csv"), label_column="cultivar"))
    raw = np.stack(list(cols.values()), 1)
    m = np.abs((raw - raw.mean(0)) / raw.std(0)).max(0) / 0.95
    np.testing.assert_allclose(data.x.numpy(), (raw - raw.mean(0)) / (raw.std(0) * m), rtol=1e-5, atol=1e-6)
    from gankit.modalities import get_modality

    old = {k: v for k, v in data.codec.to_dict().items() if k in ("offset", "scale")}
    codec = get_modality("table").codec_from(old)
    far = data.x[:3] * 10
    np.testing.assert_allclose(codec.decode(far).numpy(), (far * data.codec.scale + data.codec.offset).numpy())
