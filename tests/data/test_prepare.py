"""prepare/decode (training space and back), data.limit, guess_name, and end-to-end runs on tiny data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import gankit
from gankit.config import DataConfig
from gankit.data import Raw, data_shape, guess_name, load_data, prepare
from gankit.modalities.table import TABLE_FILL
from gankit.errors import GankitError


def table_raw(seed: int = 0) -> np.ndarray:
    """Columns of very different units: a large offset, a tiny spread, a negative, a constant."""
    rng = np.random.default_rng(seed)
    n = 500
    return np.stack([
        1e6 + 3.0 * rng.standard_normal(n),
        1e-3 * rng.standard_normal(n),
        -50 + 10 * rng.exponential(size=n),
        np.full(n, 7.25),
    ], 1)


def round_trip(d) -> np.ndarray:
    return d.decode(d.x).double().numpy()


def assert_same_units(back: np.ndarray, raw: np.ndarray) -> None:
    """Equal to float32 precision of each column's magnitude (a few ulp of its largest value)."""
    tol = 4 * np.finfo(np.float32).eps * np.abs(raw).max(0)
    assert (np.abs(back - raw) <= tol).all(), np.abs(back - raw).max(0) / tol


# ----------------------------------------------------------------------------- images


@pytest.mark.parametrize("output,lo", [("tanh", -1.0), ("sigmoid", 0.0), ("none", -1.0)])
def test_images_map_to_the_output_range_and_back(output, lo):
    x = np.random.default_rng(0).random((10, 1, 4, 4)).astype(np.float32)
    x[0, 0, 0, 0], x[0, 0, 0, 1] = 0.0, 1.0
    d = prepare(Raw(x, "image"), "t", output=output, standardize=True)
    assert d.x.dtype == torch.float32 and d.shape == (1, 4, 4)
    np.testing.assert_allclose(d.x.numpy(), lo + (1 - lo) * x, atol=1e-6)
    np.testing.assert_allclose(round_trip(d), x, atol=1e-6)
    # decode clamps what a generator with an unbounded output may produce
    out = d.decode(torch.tensor([[-5.0, 5.0]]))
    assert out.tolist() == [[0.0, 1.0]]


# ----------------------------------------------------------------------------- tables


def test_tables_standardised_per_column_and_decoded_exactly():
    raw = table_raw()
    d = prepare(Raw(raw, "table", columns=list("abcd")), "t", output="none", standardize=True)
    x = d.x.double().numpy()
    np.testing.assert_allclose(x[:, :3].mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(x[:, :3].std(0), 1, atol=1e-5)
    assert (x[:, 3] == 0).all() and d.scale[3] == 1.0  # constant column: no division by zero
    back = round_trip(d)
    assert_same_units(back, raw)
    assert np.abs(back[:, 0] - raw[:, 0]).max() < 0.5  # the 1e6 offset survives (float32 ulp there: 0.06)


@pytest.mark.parametrize("output,lo,hi", [("tanh", -1.0, 1.0), ("sigmoid", 0.0, 1.0)])
def test_tables_fit_inside_a_bounded_generator_output(output, lo, hi):
    raw = table_raw(1)
    d = prepare(Raw(raw, "table"), "t", output=output, standardize=True)
    x = d.x.double().numpy()
    centre, half = (hi + lo) / 2, (hi - lo) / 2
    np.testing.assert_allclose(x.mean(0), centre, atol=1e-6)  # the mean sits at the range centre
    np.testing.assert_allclose(np.abs(x[:, :3] - centre).max(0), TABLE_FILL * half, rtol=1e-6)
    assert x.min() > lo and x.max() < hi
    assert_same_units(round_trip(d), raw)


def test_tables_without_standardisation_are_untouched():
    raw = table_raw()[:, 1:]
    d = prepare(Raw(raw, "table"), "t", output="tanh", standardize=False)
    np.testing.assert_array_equal(d.x.numpy(), raw.astype(np.float32))
    assert d.offset.tolist() == [0, 0, 0] and d.scale.tolist() == [1, 1, 1]


def test_limit_and_empty(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b\n" + "".join(f"{i},{i * i}\n" for i in range(10)))
    d = load_data(DataConfig(path=str(p), limit=4), output="none")
    assert len(d) == 4
    np.testing.assert_allclose(round_trip(d), [[i, i * i] for i in range(4)], atol=1e-5)
    ring = load_data(DataConfig(name="ring", n_samples=100, limit=30))
    full = load_data(DataConfig(name="ring", n_samples=100))
    assert len(ring) == 30 and ring.labels.tolist() == full.labels[:30].tolist()
    # the first 30 items, standardised with their own statistics
    np.testing.assert_allclose(round_trip(ring), round_trip(full)[:30], atol=1e-6)
    np.testing.assert_allclose(ring.x.mean(0).numpy(), 0, atol=1e-6)


def test_guess_name(tmp_path):
    assert guess_name(DataConfig()) == "digits"
    assert guess_name(DataConfig(name="table", path=str(tmp_path / "x.csv"))) == "table"  # explicit name
    # `gankit train digits-dcgan data.path=...`: a path means the user's data, not the preset's built-in set
    assert guess_name(DataConfig(name="digits", path=str(tmp_path))) == "images"
    for f in ("a.csv", "a.npy", "a.npz", "a.tsv"):
        assert guess_name(DataConfig(path=str(tmp_path / f))) == "table"
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx" / "train-images-idx3-ubyte.gz").write_bytes(b"")
    assert guess_name(DataConfig(path=str(tmp_path / "idx"))) == "mnist"
    (tmp_path / "pics").mkdir()
    assert guess_name(DataConfig(path=str(tmp_path / "pics"))) == "images"
    with pytest.raises(GankitError, match="does not exist") as e:
        guess_name(DataConfig(path=str(tmp_path / "missing")))
    assert "missing" in str(e.value) and "\n" not in str(e.value)


def test_data_shape(tmp_path):
    assert data_shape(DataConfig(name="mnist")) == (1, 28, 28)  # no download for a known shape
    np.save(tmp_path / "t.npy", np.zeros((5, 3)) + np.arange(3))
    assert data_shape(DataConfig(path=str(tmp_path / "t.npy"))) == (3,)


# ----------------------------------------------------------------------------- end to end

#: small networks and few previews keep these runs to seconds on 2 shared cores
SMALL = ("generator.hidden=[32,32]", "discriminator.hidden=[32,32]", "generator.latent_dim=8",
         "log.sample_every=30", "log.checkpoint_every=30", "train.threads=1")


def test_train_and_sample_a_csv(tmp_path):
    rng = np.random.default_rng(0)
    n = 200
    table = np.stack([170 + 8 * rng.standard_normal(n), 70 + 12 * rng.standard_normal(n),
                      1000 + 50 * rng.standard_normal(n)], 1)
    p = tmp_path / "people.csv"
    np.savetxt(p, table, delimiter=",", header="height,weight,price", comments="", fmt="%.4f")
    run = gankit.train(None, f"data.path={p}", "train.steps=30", "train.batch_size=8", *SMALL,
                       out=tmp_path / "run", quiet=True)
    g = gankit.load(run)
    assert g.columns == ["height", "weight", "price"]
    df = g.sample(50, seed=0)  # a table run samples a DataFrame with the file's columns
    assert list(df.columns) == ["height", "weight", "price"]
    x = df.to_numpy()
    assert x.shape == (50, 3) and np.isfinite(x).all()
    # original units: a tanh G reaches mean +- (largest deviation / TABLE_FILL) of each column
    mean = table.mean(0)
    reach = np.abs(table - mean).max(0) / TABLE_FILL
    assert (np.abs(x - mean) <= reach * (1 + 1e-5)).all()
    assert (np.abs(x.mean(0) - mean) < 3 * table.std(0)).all()
    np.testing.assert_array_equal(g.samples(50, seed=0), x)


def test_train_and_sample_an_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "pics"
    folder.mkdir()
    for i in range(16):
        Image.fromarray(rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)).save(folder / f"{i:02d}.png")
    run = gankit.train(None, f"data.path={folder}", "train.steps=30", "train.batch_size=8", *SMALL,
                       out=tmp_path / "run", quiet=True)
    x = gankit.load(run).sample(12)
    assert x.shape == (12, 3, 8, 8)
    assert x.min() >= 0.0 and x.max() <= 1.0 and x.std() > 0
    assert Path(run, "generator.json").is_file()
