"""FID and KID against hand computations and known properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from gankit.errors import GankitError
from gankit.metrics import GaussianStats, fid, frechet_distance, gaussian_stats, kid, stream_stats


def _gauss(n: int, mean, cov, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).multivariate_normal(mean, cov, size=n)


def _stats_of(mu: np.ndarray, cov: np.ndarray, n: int = 1000) -> GaussianStats:
    """Statistics whose mean and (n-1)-covariance are exactly ``mu`` and ``cov``."""
    mu_t, cov_t = torch.tensor(mu, dtype=torch.float64), torch.tensor(cov, dtype=torch.float64)
    return GaussianStats(n * mu_t, (n - 1) * cov_t + n * torch.outer(mu_t, mu_t), n)


def _hand_fid(a: np.ndarray, b: np.ndarray) -> float:
    """The FID formula with numpy's moments and scipy's matrix square root (pytorch-fid's recipe)."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def test_identical_sets_give_zero():
    x = _gauss(500, np.zeros(6), np.eye(6) + 0.3, seed=0)
    assert fid(x, x) == pytest.approx(0.0, abs=1e-8)
    assert fid(x, x.copy(), batch_size=17) == pytest.approx(0.0, abs=1e-8)


def test_matches_hand_computation_on_tiny_gaussians():
    a = _gauss(400, [0.0, 1.0, -1.0], [[1.0, 0.3, 0.0], [0.3, 2.0, 0.5], [0.0, 0.5, 0.7]], seed=1)
    b = _gauss(300, [0.5, 0.0, -1.0], [[0.5, -0.2, 0.1], [-0.2, 1.0, 0.0], [0.1, 0.0, 1.5]], seed=2)
    assert fid(a, b) == pytest.approx(_hand_fid(a, b), rel=1e-9)
    assert fid(a, b) > 0.5


def test_closed_form_for_given_moments():
    # diagonal covariances commute: Tr(S1 + S2 - 2 sqrt(S1 S2)) = sum (sqrt(a) - sqrt(b))^2
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    d1, d2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    want = 1.0 + 0.0 + 4.0 + ((np.sqrt(d1) - np.sqrt(d2)) ** 2).sum()  # 5 + 1 + 1 + 4 = 11
    got = frechet_distance(_stats_of(mu1, np.diag(d1)), _stats_of(mu2, np.diag(d2)))
    assert got == pytest.approx(want, rel=1e-12)
    assert want == pytest.approx(11.0)
    # one dimension: (m1 - m2)^2 + (s1 - s2)^2
    got1 = frechet_distance(_stats_of(np.array([3.0]), np.array([[4.0]])), _stats_of(np.array([1.0]), np.array([[9.0]])))
    assert got1 == pytest.approx(4.0 + 1.0, rel=1e-12)
    # non-commuting covariances against scipy's square root
    s1 = np.array([[2.0, 0.9], [0.9, 1.0]])
    s2 = np.array([[1.0, -0.4], [-0.4, 3.0]])
    want2 = np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real) + 2.0
    got2 = frechet_distance(_stats_of(np.array([1.0, 1.0]), s1), _stats_of(np.array([0.0, 0.0]), s2))
    assert got2 == pytest.approx(want2, rel=1e-10)


@pytest.mark.parametrize("batch_size", [1, 7, 64, 1000])
def test_independent_of_batch_size(batch_size):
    a = _gauss(333, np.zeros(5), np.eye(5), seed=3)
    b = _gauss(250, np.ones(5) * 0.2, np.eye(5) * 1.5, seed=4)
    assert fid(a, b, batch_size=batch_size) == pytest.approx(fid(a, b), rel=1e-10)


def test_statistics_merge_like_one_set():
    x = torch.tensor(_gauss(200, np.zeros(4), np.eye(4), seed=5))
    whole = gaussian_stats(x)
    merged = gaussian_stats(x[:50]) + gaussian_stats(x[50:120]) + gaussian_stats(x[120:])
    assert merged.n == 200
    assert torch.allclose(merged.total, whole.total) and torch.allclose(merged.outer, whole.outer)
    assert torch.allclose(merged.cov(), torch.tensor(np.cov(x.numpy(), rowvar=False)))
    # merging is order-free, as across processes
    assert torch.allclose(stream_stats([x[120:], x[:50], x[50:120]]).outer, whole.outer)


def test_agrees_with_torchmetrics_fid_class():
    """Our extractor contract plugs into torchmetrics' FrechetInceptionDistance as ``feature=``."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    from gankit.metrics.features import RawFeatures

    a = torch.tensor(_gauss(300, [0.0, 0.0], [[1.0, 0.2], [0.2, 1.0]], seed=6), dtype=torch.float32)
    b = torch.tensor(_gauss(200, [1.0, 0.0], [[0.5, 0.0], [0.0, 2.0]], seed=7), dtype=torch.float32)
    m = FrechetInceptionDistance(feature=RawFeatures((2,)))
    m.update(a, real=True)
    m.update(b, real=False)
    assert float(m.compute()) == pytest.approx(fid(a, b), rel=1e-5)


def test_bad_input_is_a_user_error():
    x = np.zeros((1, 3))
    with pytest.raises(GankitError, match="at least 2"):
        fid(x, np.ones((5, 3)))
    with pytest.raises(GankitError, match="dimension"):
        fid(np.ones((5, 3)), np.ones((5, 4)))
    with pytest.raises(GankitError, match="non-finite|NaN"):
        fid(np.ones((5, 3)), np.full((5, 3), np.nan))
    with pytest.raises(GankitError, match="2-D"):
        fid(np.ones(5), np.ones(5))


def _hand_kid(a: np.ndarray, b: np.ndarray) -> float:
    """Unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3 (Bińkowski et al. 2018, eq. 3), by loops."""
    d, m = a.shape[1], len(a)
    k = lambda x, y: (x @ y / d + 1.0) ** 3  # noqa: E731
    xx = sum(k(a[i], a[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(b[i], b[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(a[i], b[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_matches_hand_computation():
    a = _gauss(40, np.zeros(3), np.eye(3), seed=8)
    b = _gauss(40, np.ones(3) * 0.5, np.eye(3) * 2, seed=9)
    mean, std = kid(a, b, subsets=3, subset_size=40)  # each subset is the whole (permuted) set
    assert mean == pytest.approx(_hand_kid(a, b), rel=1e-9)
    assert std == pytest.approx(0.0, abs=1e-9)


def test_kid_properties():
    same1 = _gauss(600, np.zeros(4), np.eye(4), seed=10)
    same2 = _gauss(600, np.zeros(4), np.eye(4), seed=11)
    shifted = _gauss(600, np.ones(4), np.eye(4), seed=12)
    near, _ = kid(same1, same2, subsets=20, subset_size=300)
    far, _ = kid(same1, shifted, subsets=20, subset_size=300)
    assert abs(near) < 0.02 and far > 0.5  # unbiased: ~0 for one distribution
    assert kid(same1, shifted, subsets=5, seed=3) == kid(same1, shifted, subsets=5, seed=3)
    with pytest.raises(GankitError, match="at least 2"):
        kid(same1[:1], same2)
    assert not math.isnan(kid(same1[:2], same2[:2])[0])
