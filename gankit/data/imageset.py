"""Images of any sizes for super-resolution: each kept whole, as uint8, with its low-resolution version.

Two layouts of ``data.path`` (and of ``data.test_path``):

* **a folder (or archive) of images** of any sizes: the high-resolution (HR) images; each is cut to
  sides divisible by ``generator.scale`` and its low-resolution (LR) input is made by MATLAB-style
  bicubic downscaling with antialiasing (:func:`gankit.metrics.sr.matlab_bicubic`, what the
  benchmark sets' LR files were made with);
* **paired LR/HR images**: sub-folders ``HR/`` and ``LR/`` (any case) whose files share their names,
  or files named ``NAME_HR.png`` / ``NAME_LR.png`` side by side (the Set5/Set14 layout). An HR image
  must be ``scale`` times its LR image (an HR side up to ``scale - 1`` pixels longer is cut).

``data.channels`` forces 1 or 3 channels; by default RGB when any image has colour, else greyscale.
Images smaller than the training patch (``sr.patch``) are refused by name. ``x`` of the returned data
holds each HR image's centre ``patch`` crop in training space (previews, statistics); training draws
random crops from the whole images (:class:`gankit.training.batches.CropBatches`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from gankit.data import Data
from gankit.errors import GankitError


@dataclass
class ImageSet(Data):
    """Whole images as uint8 (C, H, W) tensors: ``hr`` and the matching ``lr`` (``scale`` times smaller)."""

    hr: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    names: list = field(default_factory=list)
    scale: int = 4
    paired: bool = False
    # files with one channel (PIL mode L, I, ...): in a colour set they are read as three equal channels, and
    # ``gankit eval`` scores them on their own values, as the SR literature's MATLAB scripts do
    one_channel: list = field(default_factory=list)


def pair_files(path: str) -> tuple[list[Path], list[Path]] | None:
    """(HR files, LR files) of a paired folder, matched by name; None when ``path`` is not one."""
    p = Path(path)
    if not p.is_dir():
        return None
    subs = {q.name.lower(): q for q in p.iterdir() if q.is_dir()}
    if "hr" in subs and "lr" in subs:
        hr = {f.name: f for f in sorted(subs["hr"].iterdir()) if f.is_file() and not f.name.startswith(".")}
        lr = {f.name: f for f in sorted(subs["lr"].iterdir()) if f.is_file() and not f.name.startswith(".")}
    else:
        hr = {f.name.replace("_HR.", "."): f for f in sorted(p.glob("*_HR.*"))}
        lr = {f.name.replace("_LR.", "."): f for f in sorted(p.glob("*_LR.*"))}
        if not hr and not lr:
            return None
    if set(hr) != set(lr):
        odd = sorted(set(hr) ^ set(lr))
        raise GankitError(f"{path}: HR and LR images do not pair up by name ({len(odd)} without a partner, e.g. "
                          f"{', '.join(odd[:3])})")
    return [hr[k] for k in sorted(hr)], [lr[k] for k in sorted(hr)]


def _decode(files: list, names: list[str]) -> list:
    from PIL import Image, ImageOps

    out = []
    for f, name in zip(files, names):
        try:
            with Image.open(f) as im:
                im.load()
                out.append(ImageOps.exif_transpose(im))
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as e:
            raise GankitError(f"{name}: cannot decode image ({e}); remove or replace the file") from None
    return out


def to_uint8(img, channels: int) -> np.ndarray:
    """A PIL image -> (C, H, W) uint8 with ``channels`` channels."""
    from gankit.data.images import to_array

    return np.round(to_array(img, channels, None) * 255.0).astype(np.uint8)


def _channels(pics: list, forced: int | None, names: list[str] | None = None, where: str = "data.path") -> int:
    """``forced`` (data.channels), else 3 when any image has colour, else 1. Files of both kinds (one-channel
    and colour modes) without ``forced`` are refused: which to train on is the user's choice to make."""
    from gankit.data.images import GRAY_MODES, _has_colour

    if forced is not None:
        return forced
    grey = [p.mode in GRAY_MODES for p in pics]
    if any(grey) and not all(grey):
        shown = ", ".join(n for n, g in zip(names or [], grey) if g)[:120]
        raise GankitError(f"{where}: {sum(grey)} of {len(pics)} images are one-channel and the rest colour "
                          f"({shown or 'greyscale files'}); set data.channels=3 to read greyscale as three equal "
                          "channels, or data.channels=1 to train on luminance")
    return 3 if any(map(_has_colour, pics)) else 1


def read_set(path: str, scale: int, channels: int | None,
             where: str = "data.path") -> tuple[list, list, list[str], bool, int, list[bool]]:
    """(HR arrays, LR arrays, names, paired, channels, one-channel files) of a folder in either layout."""
    from gankit.data.images import GRAY_MODES, sources
    from gankit.metrics.sr import matlab_bicubic

    pairs = pair_files(path)
    if pairs is not None:
        hr_pics, lr_pics = _decode(pairs[0], [str(f) for f in pairs[0]]), _decode(pairs[1], [str(f) for f in pairs[1]])
        names = [str(f) for f in pairs[0]]
        ch = _channels(hr_pics, channels, names, where)
        hr, lr = [], []
        for h, low, name in zip(hr_pics, lr_pics, names):
            a, b = to_uint8(h, ch), to_uint8(low, ch)
            H, W = b.shape[1] * scale, b.shape[2] * scale
            if not (H <= a.shape[1] < H + scale and W <= a.shape[2] < W + scale):
                raise GankitError(f"{name}: HR {a.shape[2]}x{a.shape[1]} is not generator.scale={scale} times its LR "
                                  f"{b.shape[2]}x{b.shape[1]}")
            hr.append(a[:, :H, :W])
            lr.append(b)
        return hr, lr, names, True, ch, [p.mode in GRAY_MODES for p in hr_pics]
    opened, names, _, _ = sources(path, labelled=False)  # sub-folders are no classes here
    if not opened:
        raise GankitError(f"{path}: no images found")
    pics = _decode(opened, names)
    ch = _channels(pics, channels, names, where)
    hr = [to_uint8(p, ch) for p in pics]
    hr = [a[:, : a.shape[1] // scale * scale, : a.shape[2] // scale * scale] for a in hr]
    lr = [np.ascontiguousarray(matlab_bicubic(a.transpose(1, 2, 0), 1 / scale).transpose(2, 0, 1)) for a in hr]
    return hr, lr, names, False, ch, [p.mode in GRAY_MODES for p in pics]


def check_sizes(images: list, names: list[str], patch: int, where: str, key: str = "sr.patch") -> None:
    """Refuse images smaller than the training patch (or crop) that ``key`` sets, naming one of them."""
    small = [(n, a.shape) for n, a in zip(names, images) if min(a.shape[1:]) < patch]
    if small:
        n, s = small[0]
        raise GankitError(f"{where}: {len(small)} image(s) smaller than the training patch {key}={patch} (e.g. {n}: "
                          f"{s[2]}x{s[1]}); lower {key} or remove them")


def load_image_set(cfg, *, path: str | None = None, seed: int = 0, where: str = "data.path") -> ImageSet:
    """The super-resolution data of a config (``path``: another folder, e.g. data.test_path); held-out
    images (``data.holdout``) ride along as ``.heldout``."""
    from gankit.modalities.base import Codec
    from gankit.modalities.image import output_range

    path = path if path is not None else cfg.data.path
    if path is None:
        raise GankitError("task=superres needs data.path=FOLDER of images (any sizes), or paired HR/ and LR/ folders")
    scale, patch = cfg.generator.scale, cfg.sr.patch
    hr, lr, names, paired, ch, grey = read_set(path, scale, cfg.data.channels, where)
    if cfg.data.limit is not None:
        hr, lr, names, grey = hr[: cfg.data.limit], lr[: cfg.data.limit], names[: cfg.data.limit], grey[: cfg.data.limit]
    check_sizes(hr, names, patch, where)
    lo, hi = output_range(cfg.generator.output)
    codec = Codec(offset=torch.tensor([-lo / (hi - lo)]), scale=torch.tensor([1.0 / (hi - lo)]), clamp=(0.0, 1.0))
    crops = np.stack([centre(a, patch) for a in hr]).astype(np.float32) / 255.0
    data = ImageSet(codec.encode(crops), "image", "images", codec, hr=[torch.from_numpy(a) for a in hr],
                    lr=[torch.from_numpy(a) for a in lr], names=names, scale=scale, paired=paired,
                    one_channel=grey)
    if cfg.data.holdout > 0 and path == cfg.data.path:
        data = split(data, cfg.data.holdout, seed)
    return data


def centre(a: np.ndarray, size: int) -> np.ndarray:
    top, left = (a.shape[1] - size) // 2, (a.shape[2] - size) // 2
    return a[:, top:top + size, left:left + size]


def split(data: ImageSet, fraction: float, seed: int) -> ImageSet:
    """The training images, the held-out ones as ``.heldout`` (drawn as gankit.data.split does)."""
    from gankit.data.split import holdout_indices

    keep, held, info = holdout_indices(len(data.hr), fraction, seed, "images")

    def take(idx) -> ImageSet:
        return replace(data, x=data.x[torch.from_numpy(idx)], hr=[data.hr[i] for i in idx],
                       lr=[data.lr[i] for i in idx], names=[data.names[i] for i in idx],
                       one_channel=[data.one_channel[i] for i in idx])

    out = take(keep)
    out.heldout = take(held)
    out.split = info
    return out
