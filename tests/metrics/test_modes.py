"""Mode coverage (VEEGAN/PacGAN protocol) and class histograms on constructed sample sets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gankit.data.toy import GRID_STD, RING_STD, grid_centres, mixture, ring_centres
from gankit.errors import GankitError
from gankit.metrics import class_histogram, conditional_accuracy, kl_to_uniform, mode_coverage, toy_modes


def test_constructed_ring_samples():
    c, s = ring_centres(), RING_STD
    samples = np.array([
        c[0], c[0] + [2 * s, 0], c[0] + [0, -2.9 * s],  # 3 high-quality samples at mode 0
        c[1] + [s, s],  # 1 at mode 1 (distance sqrt(2) std)
        c[2] + [4 * s, 0],  # nearest to mode 2 but 4 std away: not high quality
        [0.0, 0.0],  # the centre of the ring: far from every mode
    ])
    m = mode_coverage(samples, c, s)
    assert m["modes_captured"] == 2
    assert m["n_modes"] == 8
    assert m["hq_fraction"] == pytest.approx(4 / 6)
    assert m["histogram"] == [3, 1, 0, 0, 0, 0, 0, 0]
    p = np.array([0.75, 0.25])
    assert m["reverse_kl"] == pytest.approx(float((p * np.log(p * 8)).sum()))


def test_threshold_is_three_std_on_the_grid():
    c = grid_centres()
    inside = c[7] + [0, 2.99 * GRID_STD]
    outside = c[7] + [3.01 * GRID_STD, 0]
    assert mode_coverage(inside[None], c, GRID_STD)["modes_captured"] == 1
    assert mode_coverage(outside[None], c, GRID_STD)["modes_captured"] == 0
    assert mode_coverage(outside[None], c, GRID_STD)["reverse_kl"] == math.inf


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_real_data_captures_every_mode(name):
    centres, std = toy_modes(name)
    x, _ = mixture(centres, std, 2500, np.random.default_rng(0))
    m = mode_coverage(x, centres, std)
    assert m["modes_captured"] == len(centres)
    # P(|N(0, I_2)| <= 3) = 1 - exp(-4.5) = 0.98889
    assert m["hq_fraction"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    assert m["reverse_kl"] < 0.02


def test_collapsed_generator():
    c = ring_centres()
    m = mode_coverage(np.repeat(c[3:4], 2500, 0), c, RING_STD)
    assert (m["modes_captured"], m["hq_fraction"]) == (1, 1.0)
    assert m["reverse_kl"] == pytest.approx(math.log(8))


def test_kl_to_uniform():
    assert kl_to_uniform([5, 5, 5, 5]) == 0.0
    assert kl_to_uniform([7, 0, 0, 0]) == pytest.approx(math.log(4))
    assert kl_to_uniform([1, 3]) == pytest.approx(0.25 * math.log(0.5) + 0.75 * math.log(1.5))
    assert kl_to_uniform([0, 0]) == math.inf
    with pytest.raises(GankitError):
        kl_to_uniform([[1, 2]])


def test_class_histogram_and_confidence():
    probs = np.array([[0.9, 0.1, 0.0], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    h = class_histogram(probs)
    assert h["histogram"] == [2, 1, 1]
    assert h["mean_confidence"] == pytest.approx((0.9 + 0.6 + 0.7 + 0.8) / 4)
    assert h["kl_to_uniform"] == pytest.approx(0.5 * math.log(1.5) + 2 * 0.25 * math.log(0.75))
    uniform = class_histogram(np.eye(3)[[0, 1, 2, 0, 1, 2]])
    assert uniform["kl_to_uniform"] == 0.0 and uniform["mean_confidence"] == 1.0


def test_conditional_accuracy():
    probs = np.eye(4)[[0, 1, 2, 3, 0]]
    assert conditional_accuracy(probs, [0, 1, 2, 3, 1]) == pytest.approx(0.8)
    with pytest.raises(GankitError):
        conditional_accuracy(probs, [0, 1])


def test_bad_input():
    with pytest.raises(GankitError, match="one D"):
        mode_coverage(np.zeros((5, 3)), ring_centres(), RING_STD)
    with pytest.raises(GankitError, match="at least one"):
        mode_coverage(np.zeros((0, 2)), ring_centres(), RING_STD)
    assert toy_modes("digits") is None
