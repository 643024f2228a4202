"""The non-generative augmentations: SMOTE(-NC) against a hand computation, shifts and flips of images."""

from __future__ import annotations

import numpy as np
import pytest

from gankit.augmentation.baselines import base_rows, interpolate, neighbours, shifted_images, smote, smote_space
from gankit.augmentation.sets import Items, TableInfo

# one number a and one category c (3 categories), four rows of one class:
#   a = 0, 1, 2.5, 9   c = 0, 1, 0, 0
# mean(a) = 3.125, std(a) = sqrt(49.1875 / 4) = 3.506690, so a / std = 0, 0.285171, 0.712923, 2.566523;
# the class's median numeric std (in those units) is 1, so a differing category adds 1^2 to the squared
# distance:  d(0,1) = sqrt(0.285171^2 + 1) = 1.039866   d(0,2) = 0.712923   d(0,3) = 2.566523
#            d(1,2) = sqrt(0.427754^2 + 1) = 1.087646   d(1,3) = sqrt(2.281352^2 + 1) = 2.490898
#            d(2,3) = 6.5 / 3.506690 = 1.853600
# so the two nearest, nearest first, are: row 0: 2, 1 (the category outweighs the closer number of row 1);
# row 1: 0, 2; row 2: 0, 1; row 3: 2, 1.
ROWS = np.array([[0.0, 0], [1.0, 1], [2.5, 0], [9.0, 0]])
INFO = TableInfo(["a", "c"], [True, False], [False, False], [0, 3], "label", 2)


def test_smote_nc_neighbours_match_the_hand_computation():
    space = smote_space(ROWS, INFO, np.zeros(4, np.int64), 0)
    d = np.linalg.norm(space[:, None] - space[None], axis=2)
    np.testing.assert_allclose(d[0, 1:], [1.039866, 0.712923, 2.566523], atol=2e-6)
    np.testing.assert_allclose([d[1, 2], d[1, 3], d[2, 3]], [1.087646, 2.490898, 1.853600], atol=2e-6)
    assert neighbours(space, k=2).tolist() == [[2, 1], [0, 2], [0, 1], [2, 1]]


def test_smote_nc_new_rows_match_the_hand_computation():
    nbrs = np.array([[2, 1], [0, 2], [0, 1], [2, 1]])
    base, pick, gap = np.array([3, 1, 0]), np.array([0, 1, 1]), np.array([0.25, 0.5, 1.0])
    out = interpolate(ROWS, nbrs, base, pick, gap, INFO)
    # row 3 toward its nearest (row 2): 9 + 0.25 (2.5 - 9) = 7.375; its neighbours' categories 0, 1 tie:
    # the nearest's (row 2: 0) wins
    # row 1 toward row 2: 1 + 0.5 (2.5 - 1) = 1.75; both neighbours have category 0, so 0 (not row 1's own 1)
    # row 0 toward row 1 with gap 1: 1; neighbours 2, 1 have 0, 1: a tie, the nearest's (0) wins
    np.testing.assert_allclose(out, [[7.375, 0], [1.75, 0], [1.0, 0]])


def test_whole_numbers_are_rounded_and_missing_numbers_stay_missing():
    info = TableInfo(["n"], [True], [True], [0], "label", 1)
    rows = np.array([[0.0], [3.0], [np.nan]])
    nbrs = np.array([[1], [0], [0]])
    out = interpolate(rows, nbrs, np.array([0, 1, 2]), np.zeros(3, np.int64), np.array([0.5, 0.5, 0.5]), info)
    assert out[0, 0] == 2.0  # 1.5 rounded (half to even)
    assert out[1, 0] == 2.0  # 3 + 0.5 (0 - 3) = 1.5 -> 2
    assert np.isnan(out[2, 0])


def test_smote_makes_the_asked_rows_on_segments_between_rows_of_their_class():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (30, 2)), rng.normal(10, 1, (6, 2))])
    y = np.array([0] * 30 + [1] * 6)
    info = TableInfo(["u", "v"], [True, True], [False, False], [0, 0], "label", 2)
    new, labels = smote(Items(x, y, np.arange(36)), info, np.array([0, 12]), np.random.default_rng(1))
    assert new.shape == (12, 2) and (labels == 1).all()
    minority = x[y == 1]
    for row in new:  # on a segment between two minority rows: collinear with some pair, between them
        ok = False
        for i, a in enumerate(minority):
            for b in minority[i + 1:]:
                t = np.dot(row - a, b - a) / np.dot(b - a, b - a)
                ok |= bool(-1e-9 <= t <= 1 + 1e-9 and np.allclose(a + t * (b - a), row))
        assert ok


def test_base_rows_use_every_item_once_before_any_twice():
    y = np.array([0, 0, 1, 1, 1])
    idx = base_rows(y, np.array([5, 2]), np.random.default_rng(0))
    assert sorted(np.bincount(idx[:5], minlength=5)[:2].tolist()) == [2, 3]
    assert set(idx[5:].tolist()) <= {2, 3, 4} and len(set(idx[5:].tolist())) == 2


@pytest.mark.parametrize("flip", [False, True])
def test_shifted_images_are_crops_of_the_padded_images_of_their_class(flip):
    rng = np.random.default_rng(0)
    x = rng.random((6, 1, 12, 12)).astype(np.float32)
    y = np.array([0, 0, 0, 1, 1, 1])
    out, labels = shifted_images(Items(x, y, np.arange(6)), np.array([4, 8]), np.random.default_rng(2), flip=flip)
    assert out.shape == (12, 1, 12, 12) and np.bincount(labels).tolist() == [4, 8]
    p = 1  # round(12 / 12)
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="edge")
    mirrored = 0
    for img, k in zip(out, labels):
        crops = [padded[j, :, dy:dy + 12, dx:dx + 12] for j in np.flatnonzero(y == k)
                 for dy in range(2 * p + 1) for dx in range(2 * p + 1)]
        if any(np.array_equal(img, c) for c in crops):
            continue
        assert flip and any(np.array_equal(img, c[..., ::-1]) for c in crops)
        mirrored += 1
    assert (mirrored > 0) == flip
