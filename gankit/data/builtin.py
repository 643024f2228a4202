"""scikit-learn's bundled 8x8 digits: 1,797 images, 10 classes, no download (the default set)."""

from __future__ import annotations

import numpy as np

from gankit.config.schema import DataConfig
from gankit.data import Raw


def digits(cfg: DataConfig, seed: int) -> Raw:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[:, None]  # (1797, 1, 8, 8), pixel values 0..16 -> [0, 1]
    return Raw(x, "image", labels=d.target.astype(np.int64), classes=[str(i) for i in range(10)])
