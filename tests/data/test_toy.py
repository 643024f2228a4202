"""Toy sets (ring, grid, gaussian-1d) and the bundled 8x8 digits: exact centres, spreads, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from gankit.config import DataConfig
from gankit.data import KNOWN_SHAPES, load_data
from gankit.data.builtin import digits
from gankit.data.toy import GRID_STD, RING_STD, grid, grid_centres, gaussian_1d, ring, ring_centres


def test_ring_centres_are_eight_distinct_points_at_k_2pi_over_8():
    c = ring_centres()
    assert c.shape == (8, 2)
    k = np.arange(8)
    np.testing.assert_allclose(c, np.stack([np.cos(k * np.pi / 4), np.sin(k * np.pi / 4)], 1), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), 1.0, atol=1e-12)
    d = np.linalg.norm(c[:, None] - c[None], axis=-1) + np.eye(8) * 10
    # neighbours on the unit circle 45 degrees apart: chord 2 sin(pi/8) ~ 0.765 (linspace would give 0)
    assert d.min() == pytest.approx(2 * np.sin(np.pi / 8), abs=1e-9)


def test_ring_samples_sit_on_their_centres_with_std_0_01():
    raw = ring(DataConfig(name="ring", n_samples=8000), 0)
    assert raw.x.shape == (8000, 2) and raw.kind == "table" and raw.classes == [str(i) for i in range(8)]
    resid = raw.x - ring_centres()[raw.labels]
    assert RING_STD == 0.01
    assert resid.std() == pytest.approx(0.01, rel=0.05)
    assert np.abs(resid.mean(0)).max() < 0.001
    counts = np.bincount(raw.labels, minlength=8)
    assert counts.min() > 8000 / 8 * 0.8  # every mode present, roughly uniform
    # each sample's nearest centre is its own
    nearest = np.linalg.norm(raw.x[:, None] - ring_centres()[None], axis=-1).argmin(1)
    assert (nearest == raw.labels).all()


def test_grid_centres_and_spread():
    c = grid_centres()
    assert c.shape == (25, 2)
    assert {tuple(p) for p in c} == {(a, b) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)}
    raw = grid(DataConfig(name="grid", n_samples=10000), 1)
    assert GRID_STD == 0.05
    resid = raw.x - c[raw.labels]
    assert resid.std() == pytest.approx(0.05, rel=0.05)
    assert len(np.unique(raw.labels)) == 25
    assert raw.classes == [str(i) for i in range(25)]


def test_gaussian_1d_mean_std_and_seed():
    cfg = DataConfig(name="gaussian-1d", mean=4.0, std=1.25, n_samples=20000)
    a = gaussian_1d(cfg, 3)
    assert a.x.shape == (20000, 1) and a.columns == ["x"]
    assert a.x.mean() == pytest.approx(4.0, abs=0.03)
    assert a.x.std() == pytest.approx(1.25, rel=0.02)
    b = gaussian_1d(DataConfig(name="gaussian-1d", mean=-2.0, std=0.5, n_samples=20000), 3)
    assert b.x.mean() == pytest.approx(-2.0, abs=0.02) and b.x.std() == pytest.approx(0.5, rel=0.02)


@pytest.mark.parametrize("name", ["gaussian-1d", "ring", "grid"])
def test_toy_sets_are_reproducible_from_the_seed(name):
    cfg = DataConfig(name=name, n_samples=500)
    a, b, c = load_data(cfg, seed=7), load_data(cfg, seed=7), load_data(cfg, seed=8)
    assert (a.x == b.x).all()
    assert not (a.x == c.x).all()
    assert a.shape == KNOWN_SHAPES[name][0] and len(a) == 500


def test_ring_raw_units_without_standardisation():
    d = load_data(DataConfig(name="ring", n_samples=1000, standardize=False), output="none", seed=0)
    radius = d.x.norm(dim=1)
    assert float(radius.min()) > 0.95 and float(radius.max()) < 1.05
    assert d.offset.tolist() == [0.0, 0.0] and d.scale.tolist() == [1.0, 1.0]
    assert d.labels is not None and d.labels.shape == (1000,)


def test_digits_shape_range_and_labels():
    raw = digits(DataConfig(name="digits"), 0)
    assert raw.x.shape == (1797, 1, 8, 8) and raw.x.dtype == np.float32
    assert raw.x.min() == 0.0 and raw.x.max() == 1.0
    assert raw.labels.shape == (1797,) and set(raw.labels.tolist()) == set(range(10))
    assert raw.classes == [str(i) for i in range(10)]
    from sklearn.datasets import load_digits

    ref = load_digits()
    np.testing.assert_array_equal(raw.labels, ref.target)
    np.testing.assert_allclose(raw.x[5, 0] * 16, ref.images[5])
    d = load_data(DataConfig(), output="tanh")  # name=auto without a path -> digits
    assert d.name == "digits" and (d.shape, len(d.classes)) == KNOWN_SHAPES["digits"]
    assert float(d.x.min()) == -1.0 and float(d.x.max()) == 1.0
