"""Precision / recall / density / coverage against hand computations and known properties."""

from __future__ import annotations

import numpy as np
import pytest

from gankit.errors import GankitError
from gankit.metrics import density_coverage, knn_radii, prdc, precision_recall


def test_hand_example_in_one_dimension():
    real = np.array([[0.0], [1.0], [2.0], [3.0], [10.0]])
    fake = np.array([[0.5], [2.5], [20.0], [12.0]])
    # k=1 radii: real 1,1,1,1,7; fake (0.5, 2.5, 20, 12) -> 2, 2, 8, 8
    assert knn_radii(real, 1).tolist() == [1.0, 1.0, 1.0, 1.0, 7.0]
    # precision: 0.5 (ball of 0), 2.5 (ball of 2), 12 (ball of 10, r=7) in; 20 out -> 3/4
    # recall: every real point lies within 2 of 0.5/2.5 or within 8 of 12 -> 1
    assert precision_recall(real, fake, k=1) == {"precision": 0.75, "recall": 1.0}
    # density: 0.5 in balls of 0 and 1; 2.5 in balls of 2 and 3; 12 in ball of 10; 20 in none
    # -> (2 + 2 + 1 + 0) / (k * 4) = 1.25; coverage: all five real balls hold a fake -> 1
    assert density_coverage(real, fake, k=1) == {"density": 1.25, "coverage": 1.0}


def test_hand_example_coverage_and_recall_below_one():
    real = np.array([[0.0], [1.0], [5.0], [6.0]])  # k=1 radii 1, 1, 1, 1
    fake = np.array([[0.2], [0.9], [1.1]])  # k=1 radii 0.7, 0.2, 0.2
    s = prdc(real, fake, k_pr=1, k_dc=1)
    assert s["precision"] == 1.0  # every fake is near 0 or 1
    assert s["recall"] == 0.5  # 0 (within 0.7 of 0.2) and 1 (within 0.2 of 0.9) only
    assert s["coverage"] == 0.5  # balls of 0 and 1 hold fakes, those of 5 and 6 do not
    assert s["density"] == pytest.approx((2 + 2 + 1) / 3)  # 0.2: balls 0, 1; 0.9: 0, 1; 1.1: 1


def _brute(real: np.ndarray, fake: np.ndarray, k: int) -> dict:
    def radii(x):
        d = np.linalg.norm(x[:, None] - x[None], axis=-1)
        return np.sort(d, axis=1)[:, k]  # column 0 is the point itself

    rr, rf = radii(real), radii(fake)
    d = np.linalg.norm(fake[:, None] - real[None], axis=-1)  # (M, N)
    inside = d <= rr[None]
    return {
        "precision": float(inside.any(1).mean()),
        "recall": float((d.T <= rf[None]).any(1).mean()),
        "density": float(inside.sum() / (k * len(fake))),
        "coverage": float(inside.any(0).mean()),
    }


def test_matches_brute_force_on_random_sets():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(60, 3))
    fake = rng.normal(size=(45, 3)) * 1.3 + 0.4
    for k in (1, 3, 5):
        assert prdc(real, fake, k_pr=k, k_dc=k) == pytest.approx(_brute(real, fake, k))


def test_identical_sets():
    x = np.random.default_rng(1).normal(size=(200, 4))
    s = prdc(x, x.copy())
    assert s["precision"] == 1.0 and s["recall"] == 1.0 and s["coverage"] == 1.0
    # each real ball holds its centre and its k nearest neighbours: density = (k + 1) / k
    assert s["density"] == pytest.approx(6 / 5, abs=0.01)


def test_disjoint_sets():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(100, 3))
    fake = rng.normal(size=(100, 3)) + 100.0
    assert prdc(real, fake) == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_same_distribution_scores_near_one():
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(1000, 2)), rng.normal(size=(1000, 2))
    s = prdc(real, fake)
    assert s["precision"] > 0.9 and s["recall"] > 0.9 and s["coverage"] > 0.9
    assert 0.85 < s["density"] < 1.15


@pytest.mark.parametrize("batch_size", [1, 7, 50, 4096])
def test_independent_of_batch_size(batch_size):
    rng = np.random.default_rng(4)
    real, fake = rng.normal(size=(120, 5)), rng.normal(size=(90, 5)) + 0.3
    assert prdc(real, fake, batch_size=batch_size) == prdc(real, fake)


def test_too_few_samples_is_a_user_error():
    x = np.zeros((3, 2))
    with pytest.raises(GankitError, match=r"k=3 needs at least k\+1=4"):
        precision_recall(x, np.ones((10, 2)))
    with pytest.raises(GankitError, match=r"k=5 needs at least k\+1=6"):
        density_coverage(np.ones((10, 2)), np.ones((5, 2)))
    with pytest.raises(GankitError, match="dimension"):
        prdc(np.ones((10, 2)), np.ones((10, 3)))
