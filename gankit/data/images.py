"""A folder or archive of images (PNG, JPG, BMP, GIF, WebP), optionally one sub-folder per class.

All images are decoded once into one (N, C, H, W) uint8 array, and stay so in memory (CIFAR-10's 50,000
pictures are 150 MB there, 600 MB as float32): the image codec (:class:`gankit.modalities.image.PixelCodec`)
turns each training batch into floats as it is drawn, with the same float32 rounding a per-image
conversion gives (:func:`unit`). Sets with 16-bit greyscale files are float32 in [0, 1] instead.
``data.image_size`` resizes to a square; without it all images must share one size. An archive (.zip,
.tar.gz, ...) is read in memory as if it were its unpacked folder (:mod:`gankit.data.archives`).
``data.channels`` forces grayscale (1) or RGB (3); by default RGB is used when any image has colour, else
grayscale. Decoding happens once, at load; training only indexes the resulting array.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gankit.config.schema import DataConfig
from gankit.data import Raw, archives
from gankit.data.archives import IMAGES, one_image
from gankit.errors import GankitError

EXTENSIONS = set(IMAGES)


def find_images(folder: Path) -> tuple[list[Path], list[str] | None, list[int] | None]:
    """Image files in ``folder``; when all live in sub-folders, the first level names the classes.

    Hidden files and folders (``.ipynb_checkpoints``, macOS ``._x.png`` forks) are skipped.
    """
    files = sorted(
        p for p in folder.rglob("*")
        if p.suffix.lower() in EXTENSIONS and not any(q.startswith(".") for q in p.relative_to(folder).parts)
        and p.is_file()
    )
    if files and all(p.parent != folder for p in files):
        classes = sorted({p.relative_to(folder).parts[0] for p in files})
        index = {c: i for i, c in enumerate(classes)}
        return files, classes, [index[p.relative_to(folder).parts[0]] for p in files]
    return files, None, None


#: modes without colour; 16-bit grayscale ("I;16*", or "I" in older Pillow) needs its own scaling
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
WIDE_GRAY_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}


def image_folder(cfg: DataConfig, seed: int) -> Raw:
    """An image folder or archive (sub-folders = classes) as (N, C, H, W) uint8 pixels (float32 in [0, 1] for
    16-bit greyscale)."""
    pics, classes, labels = decode_all(cfg.path)
    sizes = {p.size for p in pics}
    if cfg.image_size is None and len(sizes) > 1:
        shown = ", ".join(f"{w}x{h}" for w, h in sorted(sizes)[:4])
        raise GankitError(f"{cfg.path}: images have mixed sizes ({shown}); set data.image_size=N to resize them")
    channels = cfg.channels if cfg.channels is not None else 3 if any(map(_has_colour, pics)) else 1
    size = (cfg.image_size, cfg.image_size) if cfg.image_size is not None else None
    x = stack_images(pics, channels, size)  # (N, C, H, W) uint8, or float32 in [0, 1]
    return Raw(x, "image", labels=np.array(labels, np.int64) if labels else None, classes=classes)


def sources(path: str | None, *, labelled: bool = True) -> tuple[list, list[str], list[str] | None, list[int] | None]:
    """(what PIL opens: file paths or in-memory files, their names for errors, classes, labels) of an
    image folder or archive (:mod:`gankit.data.archives`: read in memory, never extracted); ``labelled``:
    the sub-folders are classes, so one without images is refused."""
    import io

    if path is None:
        raise GankitError("data.name=images needs data.path=FOLDER (a folder, .zip or .tar.gz of PNG/JPG images, "
                          "sub-folders = classes), e.g. gankit train images-dcgan data.path=my_images/")
    p = Path(path)
    if archives.is_archive(p):
        found, listed = archives.read(p, EXTENSIONS)
        k = archives.wrapper_depth([parts for parts, _ in found], listed)
        classes, labels = classes_of([parts[k:] for parts, _ in found])
        top = found[0][0][:k] if found else ()
        folders = {f[k] for f in listed if len(f) == k + 1 and f[:k] == top}
        opened, names = [io.BytesIO(b) for _, b in found], [f"{p}:{'/'.join(parts)}" for parts, _ in found]
    else:
        if p.is_file() and p.suffix.lower() in EXTENSIONS:
            raise one_image(p)
        if not p.is_dir():
            raise GankitError(f"data.path {path!r} is not a folder of images (nor a .zip/.tar.gz archive of them)")
        opened, classes, labels = find_images(p)
        folders = {q.name for q in p.iterdir() if q.is_dir() and not q.name.startswith(".")}
        names = [str(f) for f in opened]
    if labelled and classes:
        no_empty_class(p, classes, folders)
    return opened, names, classes, labels


def no_empty_class(path: Path, classes: list[str], folders: set[str]) -> None:
    """Refuse a class sub-folder without images: its class would silently vanish from the labels (and from a
    conditional model), which a user who made the folder did not mean."""
    empty = sorted(folders - set(classes))
    if empty:
        shown = ", ".join(classes[:3]) + (f" and {len(classes) - 3} more" if len(classes) > 3 else "")
        raise GankitError(f"{path}: class sub-folder {empty[0]}/ holds no images (the classes with images: {shown}); "
                          f"put its images in it or remove it")


def classes_of(rels: list[tuple[str, ...]]) -> tuple[list[str] | None, list[int] | None]:
    """When every file lies in a sub-folder, the first level names the classes."""
    if not rels or any(len(r) < 2 for r in rels):
        return None, None
    classes = sorted({r[0] for r in rels})
    index = {c: i for i, c in enumerate(classes)}
    return classes, [index[r[0]] for r in rels]


def decode_all(path: str | None) -> tuple[list, list[str] | None, list[int] | None]:
    """The decoded images (upright: EXIF rotation applied), classes and labels of a folder or archive."""
    from PIL import ImageOps

    def upright(im):
        im.load()
        return ImageOps.exif_transpose(im)  # camera JPGs store their rotation in EXIF: pictures stand upright

    pics, classes, labels = _read_each(path, upright)
    return pics, classes, labels


def image_sizes(path: str) -> list[tuple[int, int]]:
    """(width, height) of every image of a folder or archive, upright, from the file headers alone."""

    def size(im):
        w, h = im.size
        return (h, w) if im.getexif().get(0x0112, 1) in (5, 6, 7, 8) else (w, h)  # EXIF: a quarter turn

    return _read_each(path, size)[0]


def _read_each(path: str | None, read) -> tuple[list, list[str] | None, list[int] | None]:
    """(``read(image)`` of every image of a folder or archive, classes, labels); a file PIL cannot
    open is refused by name."""
    from PIL import Image, UnidentifiedImageError

    opened, names, classes, labels = sources(path)
    if not opened:
        raise GankitError(f"{path}: no images found (looked for {', '.join(sorted(EXTENSIONS))})")
    out = []
    for src, name in zip(opened, names):
        try:
            with Image.open(src) as im:
                out.append(read(im))
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError,
                Image.DecompressionBombError) as e:
            raise GankitError(f"{name}: cannot decode image ({e}); remove or replace the file") from None
    return out, classes, labels


def stack_images(pics: list, channels: int, size: tuple[int, int] | None) -> np.ndarray:
    """Decoded images -> (N, C, H, W) uint8 in one preallocated array, or float32 in [0, 1] when some file
    is 16-bit greyscale (scaled by 65535 instead of clipped at 255). ``unit`` of the uint8 array is, pixel
    for pixel, what :func:`to_array` gives each image."""
    if any(p.mode in WIDE_GRAY_MODES for p in pics):
        return np.stack([to_array(p, channels, size) for p in pics])
    first = pixels(pics[0], channels, size)
    out = np.empty((len(pics), *first.shape), np.uint8)
    out[0] = first
    for i, p in enumerate(pics[1:], 1):
        out[i] = pixels(p, channels, size)
    return out


def unit(x: np.ndarray) -> np.ndarray:
    """Images as float32 in [0, 1]: 8-bit pixels divided by 255 with :func:`to_array`'s float32 rounding
    (the same Python float times float32: the same numbers); float images as they are."""
    if x.dtype != np.uint8:
        return x
    out = x.astype(np.float32)
    out *= 1.0 / 255.0
    return out


def pixels(img, channels: int, size: tuple[int, int] | None) -> np.ndarray:
    """One 8-bit PIL image -> (C, H, W) uint8, converted to ``channels`` and resized to ``size`` as
    :func:`to_array` does (it is ``to_array`` before the scaling to [0, 1])."""
    from PIL import Image

    img = img.convert("L" if channels == 1 else "RGB")
    if size is not None and img.size != size:
        img = img.resize(size, Image.Resampling.BILINEAR)
    a = np.asarray(img)
    return np.repeat(a[None], channels, 0) if a.ndim == 2 else a.transpose(2, 0, 1)


def to_array(img, channels: int, size: tuple[int, int] | None) -> np.ndarray:
    """One PIL image -> (C, H, W) float32 in [0, 1], converted to ``channels`` and resized to ``size``.

    Resizing stretches to the square (no crop), bilinear; colour -> gray uses PIL's ITU-R 601 luma.
    """
    from PIL import Image

    if img.mode in WIDE_GRAY_MODES:
        # 16-bit gray: PIL's convert("L") would clip at 255 instead of scaling
        img = Image.fromarray(np.clip(np.asarray(img, dtype=np.float32) / 65535.0, 0.0, 1.0))  # mode "F"
        scale = 1.0
    else:
        img = img.convert("L" if channels == 1 else "RGB")
        scale = 1.0 / 255.0
    if size is not None and img.size != size:
        img = img.resize(size, Image.Resampling.BILINEAR)
    a = np.asarray(img, dtype=np.float32) * scale
    if a.ndim == 2:
        a = np.repeat(a[None], channels, 0)  # gray image, also when RGB is forced
    else:
        a = a.transpose(2, 0, 1)
    return np.clip(a, 0.0, 1.0)


def _has_colour(img) -> bool:
    """True when some pixel has R, G, B not all equal (an RGB file of gray content counts as gray)."""
    if img.mode in GRAY_MODES:
        return False
    a = np.asarray(img.convert("RGB"), dtype=np.int16)
    return not ((a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all())
