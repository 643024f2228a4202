"""Tiny labelled data made by the tests: a folder of 16x16 pictures in three classes, and a table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

#: a few steps of a small generator: the tests check bookkeeping, not quality
QUICK = ("train.steps=3", "train.batch_size=8", "train.threads=1", "log.progress=off")
TABLE_QUICK = ("train.steps=2", "generator.hidden=[16]", "discriminator.hidden=[16]", "generator.latent_dim=8",
               "train.batch_size=20", "discriminator.pac=5", "train.threads=1", "log.progress=off")
CLASSES = ("bar", "dot", "ring")


def pictures(folder: Path, per_class=(20, 20, 20), seed: int = 0) -> Path:
    """``folder/<class>/<i>.png``: 16x16 grey pictures of a bar, a dot or a ring at a random place."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:16, :16]
    for name, n in zip(CLASSES, per_class):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            cy, cx = rng.integers(5, 11, 2)
            r = np.hypot(yy - cy, xx - cx)
            img = {"bar": (abs(xx - cx) <= 1) & (abs(yy - cy) <= 5), "dot": r <= 2.5,
                   "ring": (r >= 3) & (r <= 4.5)}[name]
            noise = rng.integers(0, 40, (16, 16))
            Image.fromarray(np.clip(img * 200 + noise, 0, 255).astype(np.uint8)).save(folder / name / f"{i}.png")
    return folder


def table(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """A skewed two-class table with numbers, a category and a unique float per row (to find rows again)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(["no", "yes"], n, p=[0.8, 0.2])
    age = np.where(y == "yes", rng.normal(50, 6, n), rng.normal(33, 6, n)).round().astype(int)
    job = np.where(rng.random(n) < np.where(y == "yes", 0.7, 0.2), "boss", rng.choice(["clerk", "smith"], n))
    score = np.round(rng.random(n) * 100, 6) + np.arange(n) * 1e-4  # distinct in every row
    return pd.DataFrame({"age": age, "job": job, "score": score, "label": y})
