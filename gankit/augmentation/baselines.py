"""The non-generative augmentations a generator has to beat, making as many items per class as it does.

Images: random shifts — the image padded by ``p`` pixels (edge values repeated) and cropped back to
its size at a random place, i.e. a translation by up to ±p pixels (the "random crop with padding" of
Krizhevsky et al. 2012 and of every CIFAR recipe since), ``p`` = 1/12 of the shorter side rounded (2
pixels for 28x28), and with ``flip`` a horizontal mirror half of the time (not label-preserving for
digits or letters, hence off by default).

Tables: SMOTE (Chawla et al. 2002, "SMOTE: Synthetic Minority Over-sampling Technique"): a new row
lies on the segment from a real row to one of its k = 5 nearest neighbours of the same class, at a
uniform random point (one gap per row: the line segment of the paper's text, as imbalanced-learn
does). Category columns follow SMOTE-NC (same paper, section 6.1): the distance adds the median of
the class's numeric standard deviations for every category that differs, and the new row takes
the category most of the k neighbours have (ties: the nearest neighbour's among the tied). Unlike
the paper, numbers are scaled to unit variance first, so that a column in the thousands does not
decide the neighbours alone; whole-number columns are rounded; a missing number stays missing.
"""

from __future__ import annotations

import numpy as np

from gankit.augmentation.sets import Items, TableInfo

#: SMOTE's neighbours (the paper's k)
K_NEIGHBOURS = 5


def base_rows(y: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of real items to start ``counts[k]`` new items of each class k from: every item of a
    class once (in random order) before any twice, so small counts spread over the class."""
    out = []
    for k, n in enumerate(counts):
        members = np.flatnonzero(y == k)
        if n <= 0 or len(members) == 0:
            continue
        reps = -(-int(n) // len(members))
        order = np.concatenate([rng.permutation(members) for _ in range(reps)])
        out.append(order[: int(n)])
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def shifted_images(train: Items, counts: np.ndarray, rng: np.random.Generator, *, flip: bool = False,
                   pad: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(x, y): ``counts[k]`` shifted (and with ``flip`` maybe mirrored) copies of real images of class k."""
    idx = base_rows(train.y, counts, rng)
    x = train.x[idx]
    h, w = x.shape[-2:]
    p = pad if pad is not None else max(1, round(min(h, w) / 12))
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="edge")
    dy, dx = rng.integers(0, 2 * p + 1, len(x)), rng.integers(0, 2 * p + 1, len(x))
    out = np.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(len(x))]) if len(x) else x
    if flip and len(x):
        mirror = rng.random(len(x)) < 0.5
        out[mirror] = out[mirror][..., ::-1]
    return out.astype(x.dtype, copy=False), train.y[idx]


def smote_space(x: np.ndarray, info: TableInfo, y: np.ndarray, k: int) -> np.ndarray:
    """The rows of class ``k`` embedded so that Euclidean distance is SMOTE-NC's: numbers scaled to unit
    variance (over all classes; missing -> the mean), each category one-hot times Med/sqrt(2), so that a
    differing category adds Med^2 to the squared distance (Med: median std of the class's numbers)."""
    numeric = np.array(info.numeric, bool)
    rows = x[y == k]
    num = x[:, numeric]
    mean, std = np.nanmean(num, axis=0), np.nanstd(num, axis=0)
    std = np.where(np.isfinite(std) & (std > 0), std, 1.0)
    z = (rows[:, numeric] - np.nan_to_num(mean)) / std
    z = np.where(np.isnan(z), 0.0, z)
    stds = np.nanstd(z, axis=0) if len(z) else np.zeros(0)
    med = float(np.median(stds)) if stds.size else 1.0
    parts = [z]
    for j in np.flatnonzero(~numeric):
        codes = np.nan_to_num(rows[:, j], nan=-1).astype(np.int64) + 1  # 0: missing, a value of its own
        parts.append(np.eye(info.sizes[j] + 1)[codes] * (med / np.sqrt(2)))
    return np.concatenate(parts, axis=1) if parts else np.zeros((len(rows), 0))


def neighbours(space: np.ndarray, k: int = K_NEIGHBOURS) -> np.ndarray:
    """(n, min(k, n-1)) indices of each row's nearest other rows, nearest first (ties: lower index)."""
    from sklearn.neighbors import NearestNeighbors

    kk = min(k, len(space) - 1)
    if kk < 1:
        return np.zeros((len(space), 0), np.int64)
    nn = NearestNeighbors(n_neighbors=kk + 1).fit(space)
    _, idx = nn.kneighbors(space)
    out = np.empty((len(space), kk), np.int64)
    for i, row in enumerate(idx):  # drop the row itself (wherever a duplicate put it), keep the order
        others = row[row != i]
        out[i] = others[:kk]
    return out


def interpolate(rows: np.ndarray, nbrs: np.ndarray, base: np.ndarray, pick: np.ndarray, gap: np.ndarray,
                info: TableInfo) -> np.ndarray:
    """SMOTE-NC's new rows: numbers ``x + gap * (neighbour - x)`` toward the chosen neighbour
    (``nbrs[base, pick]``; a missing end keeps x's value), categories by vote of all k neighbours."""
    numeric = np.array(info.numeric, bool)
    x = rows[base].copy()
    if nbrs.shape[1] == 0:  # a class of one row: copies of it
        return x
    to = rows[nbrs[base, pick]]
    step = np.where(np.isnan(to), 0.0, to - x) * gap[:, None]
    x[:, numeric] = (x + step)[:, numeric]
    integer = np.array(info.integer, bool) & numeric
    x[:, integer] = np.round(x[:, integer])
    for j in np.flatnonzero(~numeric):
        votes = np.nan_to_num(rows[nbrs[base], j], nan=-1.0)  # (m, k), nearest first
        same = (votes[:, :, None] == votes[:, None, :]).sum(axis=2)  # how many neighbours share each one's value
        winner = votes[np.arange(len(votes)), same.argmax(axis=1)]  # argmax: the nearest among the tied
        x[:, j] = np.where(winner < 0, np.nan, winner)
    return x


def smote(train: Items, info: TableInfo, counts: np.ndarray, rng: np.random.Generator,
          k: int = K_NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """(x, y): ``counts[c]`` SMOTE(-NC) rows of every class c, from the real training rows of that class."""
    xs, ys = [], []
    for c, n in enumerate(counts):
        rows = train.x[train.y == c]
        if n <= 0 or len(rows) == 0:
            continue
        nbrs = neighbours(smote_space(train.x, info, train.y, c), k)
        base = base_rows(np.zeros(len(rows), np.int64), np.array([n]), rng)
        pick = rng.integers(0, max(nbrs.shape[1], 1), int(n))
        gap = rng.random(int(n))
        xs.append(interpolate(rows, nbrs, base, pick, gap, info))
        ys.append(np.full(int(n), c, np.int64))
    if not xs:
        return np.zeros((0, train.x.shape[1])), np.zeros(0, np.int64)
    return np.concatenate(xs), np.concatenate(ys)
