"""Image grids with Pillow (no torchvision): (N, C, H, W) in [0, 1] -> one PNG."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def grid_array(x: np.ndarray, nrow: int | None = None, pad: int = 1, upscale: int | None = None) -> np.ndarray:
    """Tile images (N, C, H, W) in [0, 1] into one uint8 array (H', W') or (H', W', 3).

    Small images are upscaled (nearest neighbour) so a grid of 8x8 digits is still readable.
    """
    n, c, h, w = x.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    ncol = math.ceil(n / nrow)
    up = upscale or max(1, 32 // max(h, w))
    x = np.clip(x, 0, 1)
    if up > 1:
        x = x.repeat(up, axis=2).repeat(up, axis=3)
        h, w = h * up, w * up
    out = np.ones((c, ncol * (h + pad) + pad, nrow * (w + pad) + pad), np.float32) * 0.5
    for i in range(n):
        r, k = divmod(i, nrow)
        out[:, pad + r * (h + pad) : pad + r * (h + pad) + h, pad + k * (w + pad) : pad + k * (w + pad) + w] = x[i]
    img = (out * 255 + 0.5).astype(np.uint8)
    return img[0] if c == 1 else img.transpose(1, 2, 0)


def save_grid(x: np.ndarray, path: str | Path, nrow: int | None = None) -> Path:
    from PIL import Image

    path = Path(path)
    Image.fromarray(grid_array(np.asarray(x), nrow)).save(path)
    return path


def save_image(x: np.ndarray, path: str | Path) -> None:
    """One image (C, H, W) in [0, 1] to PNG at its own size."""
    from PIL import Image

    a = (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)
    Image.fromarray(a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)).save(path)
