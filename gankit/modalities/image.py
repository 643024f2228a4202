"""Images (N, C, H, W) with pixels in [0, 1]: trained in the generator's output range.

[0, 1] -> [-1, 1] for a tanh G as in DCGAN (Radford et al. 2016), [0, 1] for sigmoid as in the Keras
MNIST GAN. Previews are sample grids (labelled rows for class-conditional runs, real images drawn
once beside them); samples save as a grid .png or .jpg, one .png per image in a folder (class
sub-folders when conditional), .npy (+ ``.labels.npy``) or .csv (one flattened image per row).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gankit.errors import GankitError
from gankit.modalities import MODALITIES
from gankit.modalities.base import Codec, Modality, is_folder, save_csv, save_npy


class PixelCodec(Codec):
    """The image codec. 8-bit images stay 8-bit in memory (CIFAR-10's 50,000 are 150 MB so, 600 MB as float32,
    and a quarter of the bytes to move to a GPU): :meth:`encode` keeps uint8 pixels as they are, and
    :meth:`to_training` turns each drawn batch into training values, on the batch's device, with the float32
    rounding a conversion of the whole set gives (:func:`gankit.data.images.unit`, then the affine map)."""

    def encode(self, raw: np.ndarray) -> torch.Tensor:  # (N, C, H, W) uint8 stays uint8; floats in [0, 1] map
        if raw.dtype == np.uint8:
            return torch.from_numpy(np.ascontiguousarray(raw))
        return super().encode(raw)

    def to_training(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) uint8 -> float32 in G's output range
        unit = x.float().mul_(1.0 / 255.0)
        return (unit - self.offset.to(x.device)).div_(self.scale.to(x.device))

    def decode(self, x: torch.Tensor) -> torch.Tensor:  # training values or stored uint8 -> [0, 1]
        return super().decode(self.to_training(x) if x.dtype == torch.uint8 else x)


def output_range(output: str) -> tuple[float, float]:
    """Training range of pixels: the generator's output range."""
    return (0.0, 1.0) if output == "sigmoid" else (-1.0, 1.0)


@MODALITIES.register("image", "images (N, C, H, W) in [0, 1]")
class ImageModality(Modality):
    name = "image"
    formats = ".png or .jpg (grid), folder/ (one PNG per image), .npy, .csv"
    clamp = (0.0, 1.0)
    has_domain_classifier = True
    #: 10,000 images for a finished run (the usual FID budget); 1,000 during training, where an
    #: evaluation must cost seconds, not minutes
    eval_items = (10_000, 1_000)

    def fit(self, raw, *, output: str, standardize: bool, seed: int = 0):
        lo, hi = output_range(output)
        codec = PixelCodec(offset=torch.tensor([-lo / (hi - lo)]), scale=torch.tensor([1.0 / (hi - lo)]),
                           clamp=self.clamp)
        return codec.encode(raw.x), codec

    def codec_from(self, meta: dict) -> Codec:
        base = super().codec_from(meta)
        return PixelCodec(base.offset, base.scale, base.clamp)

    def save_real(self, data, path: Path, n: int = 64) -> bool:
        """Up to ``n`` real images (the same share of each class, the first of each), labelled by class."""
        from gankit.report.grids import save_grid

        pick, labels = real_pick(data, n)
        save_grid(data.decode(data.x[pick]).numpy(), path, labels=labels)
        return True

    def preview(self, x, path, *, real=None, nrow=None, columns=None, title="", labels=None, codec=None):
        from gankit.report.grids import save_grid

        save_grid(x, path, nrow=nrow, labels=labels)

    def save(self, x, out: Path, *, columns=None, labels=None, label_name="label", nrow=None, codec=None) -> Path:
        if is_folder(out):
            save_folder(x, out, labels)
            return out
        out.parent.mkdir(parents=True, exist_ok=True)
        suffix = out.suffix.lower()
        if suffix == ".npy":
            save_npy(x, out, labels)
        elif suffix in (".png", ".jpg", ".jpeg"):
            from gankit.report.grids import save_grid

            save_grid(x, out, nrow=nrow, labels=labels)
        elif suffix == ".csv":
            flat = x.reshape(len(x), -1)
            save_csv(flat, out, [f"p{i}" for i in range(flat.shape[1])], labels, label_name)
        else:
            raise GankitError(f"--out {out}: unknown format {suffix!r}; use {self.formats}")
        return out


def real_pick(data, n: int) -> tuple[list[int], list[str] | None]:
    """Indices of up to n real items in class order, the same number of each class (no randomness: the
    run's random streams stay untouched), and their class names (None for unlabelled data)."""
    if data.labels is None or not data.classes:
        return list(range(min(n, len(data)))), None
    labels = data.labels.numpy()
    k = len(data.classes)
    per = max(1, n // k)
    pick = [int(i) for c in range(k) for i in np.flatnonzero(labels == c)[:per]]
    return pick, [str(data.classes[labels[i]]) for i in pick]


def class_folder(name: str) -> str:
    """A class name as a folder name (no path separators; no leading dot, which readers skip as hidden)."""
    safe = name.replace("/", "_").replace("\\", "_").strip() or "_"
    return "_" + safe[1:] if safe.startswith(".") else safe


def item_paths(out: Path, n: int, labels: list[str] | None, suffix: str, width: int = 1) -> list[Path]:
    """Where each of ``n`` items goes in a folder: ``out/0007.png``, or with class names one sub-folder per
    class numbered from 0 in each (``out/<class>/0000.png``), the layout gankit reads back as labelled.
    Sub-folders are made here; ``width``: the least digits of an unlabelled name."""
    out.mkdir(parents=True, exist_ok=True)
    if labels is None:
        w = max(width, len(str(n - 1)))
        return [out / f"{i:0{w}d}{suffix}" for i in range(n)]
    w = max(4, len(str(n - 1)))
    count: dict[str, int] = {}
    paths = []
    for name in labels:
        sub = out / class_folder(str(name))
        k = count.get(sub.name, 0)
        if k == 0:
            sub.mkdir(exist_ok=True)
        count[sub.name] = k + 1
        paths.append(sub / f"{k:0{w}d}{suffix}")
    return paths


def save_folder(x: np.ndarray, out: Path, labels: list[str] | None) -> None:
    """One PNG per image; with class names, one sub-folder per class (``out/<class>/0000.png``): the
    layout gankit reads back as a labelled image folder."""
    from gankit.report.grids import save_image

    for img, path in zip(x, item_paths(out, len(x), labels, ".png")):
        save_image(img, path)
