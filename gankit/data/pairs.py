"""Images for translation (pix2pix, CycleGAN): two domains A and B, each image kept whole as uint8.

Layouts of ``data.path`` (and of ``data.test_path``):

* **side-by-side images** (the pix2pix releases, e.g. facades: photo left, label map right): a folder
  (or archive) of images A|B, each cut at half its width, which must be even;
* **two folders** ``A/`` and ``B/`` (any case; also ``trainA/`` + ``trainB/`` or ``testA/`` + ``testB/``, the
  CycleGAN releases). For paired translation (pix2pix) their files must pair up by name; for unpaired
  translation (CycleGAN) any two sets of images do. Side-by-side images are unpaired by CycleGAN too:
  its batches draw A and B images independently.

Each image is resized (bicubic) so that its shorter side is ``translate.load`` (``translate.size`` when
0), aspect kept; a pair's B image is resized to its A image's size. Training draws random
``translate.size`` square crops (the same place in both images of a pair) and random flips. Both domains
get ``data.channels`` channels (by default RGB when any image has colour, else greyscale).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from gankit.data import Data
from gankit.data.imageset import check_sizes
from gankit.errors import GankitError

FOLDER_PAIRS = (("a", "b"), ("traina", "trainb"), ("testa", "testb"))


@dataclass
class TranslationSet(Data):
    """Whole images as uint8 (C, H, W) tensors: domain ``a`` and domain ``b`` (``paired``: item i of
    each belong together)."""

    a: list = field(default_factory=list)
    b: list = field(default_factory=list)
    names_a: list = field(default_factory=list)
    names_b: list = field(default_factory=list)
    paired: bool = True
    layout: str = "side-by-side"


def _files(folder: Path) -> dict[str, Path]:
    from gankit.data.images import EXTENSIONS

    return {f.name: f for f in sorted(folder.iterdir())
            if f.is_file() and f.suffix.lower() in EXTENSIONS and not f.name.startswith(".")}


def domain_folders(path: str) -> tuple[Path, Path] | None:
    """(folder A, folder B) when ``path`` holds an A/B (or trainA/trainB, testA/testB) pair of folders."""
    p = Path(path)
    if not p.is_dir():
        return None
    subs = {q.name.lower(): q for q in p.iterdir() if q.is_dir()}
    for a, b in FOLDER_PAIRS:
        if a in subs and b in subs:
            return subs[a], subs[b]
    return None


def match_names(fa: dict, fb: dict, path: str) -> list[str]:
    """The names both folders hold, refusing folders whose names do not pair up (a few listed)."""
    if set(fa) != set(fb):
        odd = sorted(set(fa) ^ set(fb))
        raise GankitError(f"{path}: A and B images do not pair up by name ({len(odd)} without a partner, e.g. "
                          f"{', '.join(odd[:3])}); pix2pix needs matching file names")
    return sorted(fa)


def read_domains(path: str, paired: bool) -> tuple[list, list, list[str], list[str], str]:
    """(A pictures, B pictures, names, names, layout) as PIL images."""
    from gankit.data.images import sources
    from gankit.data.imageset import _decode

    folders = domain_folders(path)
    if folders is not None:
        fa, fb = _files(folders[0]), _files(folders[1])
        if not fa or not fb:
            raise GankitError(f"{path}: no images in {folders[0] if not fa else folders[1]}")
        na = match_names(fa, fb, path) if paired else sorted(fa)
        nb = na if paired else sorted(fb)
        a = _decode([fa[n] for n in na], [str(fa[n]) for n in na])
        b = _decode([fb[n] for n in nb], [str(fb[n]) for n in nb])
        return a, b, [str(fa[n]) for n in na], [str(fb[n]) for n in nb], "folders"
    opened, names, _, _ = sources(path)
    if not opened:
        raise GankitError(f"{path}: no images found")
    pics, a, b = _decode(opened, names), [], []
    for im, name in zip(pics, names):
        w, h = im.size
        if w % 2:
            raise GankitError(f"{name}: a side-by-side A|B image needs an even width, got {w}x{h}; or give folders "
                              f"A/ and B/")
        a.append(im.crop((0, 0, w // 2, h)))
        b.append(im.crop((w // 2, 0, w, h)))
    return a, b, names, names, "side-by-side"


def resized(im, short: int, size: tuple[int, int] | None = None):
    """``im`` with its shorter side ``short`` (aspect kept), or exactly ``size`` (W, H)."""
    from PIL import Image

    if size is None:
        w, h = im.size
        k = short / min(w, h)
        size = (max(short, round(w * k)), max(short, round(h * k)))
    return im if im.size == size else im.resize(size, Image.BICUBIC)


def read_translation(path: str, paired: bool, short: int, channels: int | None,
                     where: str = "data.path") -> TranslationSet:
    """The images of ``path`` as uint8 tensors, resized to shorter side ``short`` (no codec yet)."""
    from gankit.data.imageset import _channels, to_uint8

    pa, pb, na, nb, layout = read_domains(path, paired)
    ch = _channels(pa + pb, channels, na + nb, where)
    a = [resized(im, short) for im in pa]
    b = [resized(im, short, a[i].size if paired else None) for i, im in enumerate(pb)]
    a = [torch.from_numpy(to_uint8(im, ch)) for im in a]
    b = [torch.from_numpy(to_uint8(im, ch)) for im in b]
    return TranslationSet(torch.empty(0), "image", "images", None, a=a, b=b, names_a=na, names_b=nb, paired=paired,
                          layout=layout)


def codec_of(output: str):
    from gankit.modalities.base import Codec
    from gankit.modalities.image import output_range

    lo, hi = output_range(output)
    return Codec(offset=torch.tensor([-lo / (hi - lo)]), scale=torch.tensor([1.0 / (hi - lo)]), clamp=(0.0, 1.0))


def centre(t: torch.Tensor, size: int) -> torch.Tensor:
    top, left = (t.shape[1] - size) // 2, (t.shape[2] - size) // 2
    return t[:, top:top + size, left:left + size]


def load_translation_set(cfg, *, paired: bool, path: str | None = None, where: str = "data.path",
                         short: int | None = None) -> TranslationSet:
    """The translation data of a config (``path``: another folder, e.g. data.test_path; ``short``: the
    shorter side images are resized to, by default translate.load or translate.size). Held-out pairs
    (``data.holdout``) ride along as ``.heldout``."""
    path = path if path is not None else cfg.data.path
    if path is None:
        raise GankitError(f"task={cfg.task} needs data.path=FOLDER of side-by-side A|B images, or folders A/ and B/")
    t = cfg.translate
    data = read_translation(path, paired, short or t.load or t.size, cfg.data.channels, where)
    if cfg.data.limit is not None:
        k = cfg.data.limit
        data = replace(data, a=data.a[:k], b=data.b[:k], names_a=data.names_a[:k], names_b=data.names_b[:k])
    check_sizes(data.a, data.names_a, t.size, where, "translate.size")
    check_sizes(data.b, data.names_b, t.size, where, "translate.size")
    data.codec = codec_of(cfg.generator.output)
    data.x = training_view(data, t.size)
    if cfg.data.holdout > 0 and path == cfg.data.path:
        data = split(data, cfg.data.holdout, cfg.train.seed)
    return data


def training_view(data: TranslationSet, size: int) -> torch.Tensor:
    """``x``: centre crops of the larger domain in training space (one item per training item)."""
    items = data.a if len(data.a) >= len(data.b) else data.b
    crops = torch.stack([centre(t, size) for t in items]).float() / 255.0
    return data.codec.encode(crops)


def split(data: TranslationSet, fraction: float, seed: int) -> TranslationSet:
    """The training pairs, the held-out ones as ``.heldout`` (unpaired sets: each domain split alike)."""
    from gankit.data.split import holdout_indices

    _, held, info = holdout_indices(min(len(data.a), len(data.b)), fraction, seed, "images per domain")
    k = len(held)

    def take(idx, items):
        return [items[i] for i in idx]

    keep_a, keep_b = np.setdiff1d(np.arange(len(data.a)), held), np.setdiff1d(np.arange(len(data.b)), held)
    out = replace(data, a=take(keep_a, data.a), b=take(keep_b, data.b), names_a=take(keep_a, data.names_a),
                  names_b=take(keep_b, data.names_b))
    out.x = data.x[: max(len(out.a), len(out.b))]
    out.heldout = replace(data, a=take(held, data.a), b=take(held, data.b), names_a=take(held, data.names_a),
                          names_b=take(held, data.names_b), x=data.x[:k])
    out.split = info
    return out
