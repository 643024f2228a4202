"""Image grids with Pillow (no torchvision): (N, C, H, W) in [0, 1] -> one PNG or JPEG.

Grids are near-square. Samples of a class-conditional run come with their class names: each class
fills whole rows (several when there are few classes, so 64 samples of 2 classes are 8x8, 4 rows per
class) and every row carries its class name at the left.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

#: the smallest side a grid tile is drawn at (small images are upscaled, nearest neighbour)
MIN_TILE = 32


def upscale_of(h: int, w: int) -> int:
    return max(1, MIN_TILE // max(h, w))


def grid_array(x: np.ndarray, nrow: int | None = None, pad: int = 1, upscale: int | None = None) -> np.ndarray:
    """Tile images (N, C, H, W) in [0, 1] into one uint8 array (H', W') or (H', W', 3), ``nrow`` per row.

    Small images are upscaled (nearest neighbour) so a grid of 8x8 digits is still readable.
    """
    n, c, h, w = x.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    ncol = math.ceil(n / nrow)
    up = upscale or upscale_of(h, w)
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


def blocks(labels: list[str]) -> list[tuple[str, int, int]]:
    """(name, first index, count) of each run of equal consecutive labels."""
    out: list[tuple[str, int, int]] = []
    for i, name in enumerate(labels):
        if out and out[-1][0] == name:
            out[-1] = (name, out[-1][1], out[-1][2] + 1)
        else:
            out.append((name, i, 1))
    return out


def columns_for(counts: list[int], h: int, w: int) -> int:
    """Images per row so that the grid is nearest to square when each class starts a new row."""
    def badness(c: int) -> tuple[float, int]:
        rows = sum(math.ceil(m / c) for m in counts)
        return abs(math.log(rows * h / (c * w))), rows * c

    return min(range(1, max(counts) + 1), key=badness)


def labelled_grid(x: np.ndarray, labels: list[str], pad: int = 1):
    """A PIL image: the classes in whole rows of a near-square grid, each row named at its left."""
    from PIL import Image, ImageDraw, ImageFont

    n, c, h, w = x.shape
    runs = blocks([str(s) for s in labels])
    cols = columns_for([m for _, _, m in runs], h, w)
    slots, row_names = [], []
    for name, start, m in runs:
        rows = math.ceil(m / cols)
        block = np.full((rows * cols, c, h, w), 0.5, np.float32)  # empty tiles: the padding's gray
        block[:m] = x[start : start + m]
        slots.append(block)
        row_names += [name] * rows
    up = upscale_of(h, w)
    grid = grid_array(np.concatenate(slots), nrow=cols, pad=pad, upscale=up)
    font = ImageFont.load_default()
    draw = ImageDraw.Draw(Image.new("L", (1, 1)))
    margin = 6 + max(int(math.ceil(draw.textlength(s, font=font))) for s in row_names)
    mode = "L" if grid.ndim == 2 else "RGB"
    canvas = Image.new(mode, (margin + grid.shape[1], grid.shape[0]), 255 if mode == "L" else (255, 255, 255))
    canvas.paste(Image.fromarray(grid), (margin, 0))
    draw = ImageDraw.Draw(canvas)
    tile = h * up
    for r, name in enumerate(row_names):
        top, bottom = draw.textbbox((0, 0), name, font=font)[1::2]
        y = pad + r * (tile + pad) + (tile - (bottom - top)) // 2 - top
        draw.text((3, y), name, fill=0 if mode == "L" else (0, 0, 0), font=font)
    return canvas


def save_grid(x: np.ndarray, path: str | Path, nrow: int | None = None, labels: list[str] | None = None) -> Path:
    """A grid as PNG or JPEG (by the suffix); with ``labels`` (one class name per image) a labelled grid."""
    from PIL import Image

    path = Path(path)
    x = np.asarray(x)
    img = labelled_grid(x, labels) if labels is not None else Image.fromarray(grid_array(x, nrow))
    if path.suffix.lower() in (".jpg", ".jpeg"):
        img.save(path, quality=95)
    else:
        img.save(path)
    return path


def save_image(x: np.ndarray, path: str | Path) -> None:
    """One image (C, H, W) in [0, 1] at its own size (PNG or JPEG by the suffix)."""
    from PIL import Image

    a = (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)
    Image.fromarray(a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)).save(path)
