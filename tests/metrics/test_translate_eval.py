"""Scores of translation runs (gankit.metrics.translate_eval): per-pair L1 / sharpness by hand, the
randconv-v1 feature space's determinism, and KID ordering real < blurred on textured images."""

import numpy as np
import pytest
from PIL import Image, ImageFilter

from gankit.metrics.translate_eval import RandomConvFeatures, kid_of, pair_scores


def textures(n: int, seed: int, size: int = 48) -> list[np.ndarray]:
    """(3, H, W) uint8 images: smooth colour ramps plus per-pixel noise (fine detail to blur away)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    out = []
    for _ in range(n):
        base = np.stack([xx * rng.uniform(50, 200), yy * rng.uniform(50, 200), (xx + yy) * 60], 0)
        out.append((base + rng.normal(0, 40, base.shape)).clip(0, 255).astype(np.uint8))
    return out


def blur(img: np.ndarray, radius: float) -> np.ndarray:
    pil = Image.fromarray(img.transpose(1, 2, 0)).filter(ImageFilter.GaussianBlur(radius))
    return np.asarray(pil).transpose(2, 0, 1).copy()


def test_pair_scores_by_hand():
    t = textures(2, 0)
    same = pair_scores(t, t)
    assert same["l1"] == [0.0, 0.0]
    assert same["sharpness"] == pytest.approx([1.0, 1.0])
    assert same["ssim"] == pytest.approx([1.0, 1.0])
    shifted = [np.clip(x.astype(int) + 10, 0, 255).astype(np.uint8) for x in t]
    expect = [np.abs(s.astype(float) - x).mean() / 255 for s, x in zip(shifted, t)]
    assert pair_scores(shifted, t)["l1"] == pytest.approx(expect)
    blurred = pair_scores([blur(x, 2) for x in t], t)
    assert max(blurred["sharpness"]) < 0.5  # the noise above 1/8 cycle per pixel is gone


def test_feature_space_is_fixed_and_named():
    a, b = RandomConvFeatures(), RandomConvFeatures()
    assert a.name == "randconv-v1" and a.sha256 == b.sha256
    x = np.stack(textures(2, 1)).astype(np.float32) / 255
    import torch

    assert torch.equal(a(torch.from_numpy(x)), b(torch.from_numpy(x)))
    assert a(torch.from_numpy(x)).shape == (2, RandomConvFeatures.num_features)


def test_kid_orders_real_below_blurred():
    """The benchmark's sanity row in miniature: other real images are closer to the targets than the
    targets blurred."""
    ext = RandomConvFeatures()
    targets, other_real = textures(24, 2), textures(24, 3)
    real = kid_of(ext, other_real, targets, seed=0)
    blurred = kid_of(ext, [blur(x, 2) for x in targets], targets, seed=0)
    assert real < blurred
