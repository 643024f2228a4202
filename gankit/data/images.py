"""A folder of images (PNG, JPG, BMP, GIF, WebP), optionally one sub-folder per class.

All images are decoded once into an (N, C, H, W) array in [0, 1]. ``data.image_size`` resizes to a
square; without it all images must share one size. ``data.channels`` forces grayscale (1) or RGB (3);
by default RGB is used when any image has colour, else grayscale.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gankit.config import DataConfig
from gankit.data import DATASETS, Raw
from gankit.errors import GankitError

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"}


def find_images(folder: Path) -> tuple[list[Path], list[str] | None, list[int] | None]:
    """Image files in ``folder``; when they live in sub-folders, those name the classes."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
    subdirs = sorted({p.parent for p in files if p.parent != folder})
    if files and subdirs and all(p.parent != folder for p in files):
        classes = sorted({p.relative_to(folder).parts[0] for p in files})
        index = {c: i for i, c in enumerate(classes)}
        return files, classes, [index[p.relative_to(folder).parts[0]] for p in files]
    return files, None, None


@DATASETS.register("images", "a folder of PNG/JPG images (sub-folders = classes), data.path=FOLDER")
def image_folder(cfg: DataConfig, seed: int) -> Raw:
    from PIL import Image, UnidentifiedImageError

    if cfg.path is None:
        raise GankitError("data.name=images needs data.path=FOLDER (a folder of PNG/JPG images)")
    folder = Path(cfg.path)
    if not folder.is_dir():
        raise GankitError(f"data.path {cfg.path!r} is not a folder of images")
    files, classes, labels = find_images(folder)
    if not files:
        raise GankitError(f"{folder}: no images found (looked for {', '.join(sorted(EXTENSIONS))})")
    pics = []
    for f in files:
        try:
            with Image.open(f) as im:
                im.load()
                pics.append(im.copy())
        except (UnidentifiedImageError, OSError, ValueError) as e:
            raise GankitError(f"{f}: cannot decode image ({e}); remove or replace the file") from None
    channels = cfg.channels
    if channels is None:
        colour = any(p.mode not in ("1", "L", "LA", "I", "I;16", "F") and not _is_gray(p) for p in pics)
        channels = 3 if colour else 1
    mode = "L" if channels == 1 else "RGB"
    sizes = {p.size for p in pics}
    if cfg.image_size is None and len(sizes) > 1:
        shown = ", ".join(f"{w}x{h}" for w, h in sorted(sizes)[:4])
        raise GankitError(f"{folder}: images have mixed sizes ({shown}); set data.image_size=N to resize them")
    arrays = []
    for p in pics:
        p = p.convert(mode)
        if cfg.image_size is not None and p.size != (cfg.image_size, cfg.image_size):
            p = p.resize((cfg.image_size, cfg.image_size), Image.Resampling.BILINEAR)
        a = np.asarray(p, dtype=np.float32) / 255.0
        arrays.append(a[None] if a.ndim == 2 else a.transpose(2, 0, 1))
    x = np.stack(arrays)  # (N, C, H, W)
    return Raw(x, "image", labels=np.array(labels, np.int64) if labels else None, classes=classes)


def _is_gray(img) -> bool:
    if img.mode not in ("RGB", "RGBA", "P"):
        return False
    a = np.asarray(img.convert("RGB"), dtype=np.int16)
    return bool((a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all())
