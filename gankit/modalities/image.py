"""Images (N, C, H, W) with pixels in [0, 1]: trained in the generator's output range.

[0, 1] -> [-1, 1] for a tanh G as in DCGAN (Radford et al. 2016), [0, 1] for sigmoid as in the Keras
MNIST GAN. Previews are sample grids; samples save as a grid .png, one .png per image in a folder,
.npy or .csv (one flattened image per row).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gankit.errors import GankitError
from gankit.modalities import MODALITIES
from gankit.modalities.base import Codec, Modality, is_folder, save_csv, save_npy


def output_range(output: str) -> tuple[float, float]:
    """Training range of pixels: the generator's output range."""
    return (0.0, 1.0) if output == "sigmoid" else (-1.0, 1.0)


@MODALITIES.register("image", "images (N, C, H, W) in [0, 1]")
class ImageModality(Modality):
    name = "image"
    formats = ".png (grid), folder/ (one PNG per image), .npy, .csv"
    clamp = (0.0, 1.0)

    def fit(self, raw, *, output: str, standardize: bool):
        lo, hi = output_range(output)
        codec = Codec(offset=torch.tensor([-lo / (hi - lo)]), scale=torch.tensor([1.0 / (hi - lo)]), clamp=self.clamp)
        return codec.encode(raw.x), codec

    def preview(self, x, path, *, real=None, nrow=None, columns=None, title=""):
        from gankit.report.grids import save_grid

        save_grid(x, path, nrow=nrow)

    def save(self, x, out: Path, *, columns=None, labels=None, label_name="label", nrow=None) -> Path:
        if is_folder(out):
            from gankit.report.grids import save_image

            out.mkdir(parents=True, exist_ok=True)
            width = len(str(len(x) - 1))
            for i, img in enumerate(x):
                save_image(img, out / f"{i:0{width}d}.png")
            return out
        out.parent.mkdir(parents=True, exist_ok=True)
        suffix = out.suffix.lower()
        if suffix == ".npy":
            save_npy(x, out)
        elif suffix == ".png":
            from gankit.report.grids import save_grid

            save_grid(x, out, nrow=nrow)
        elif suffix == ".csv":
            flat = x.reshape(len(x), -1)
            save_csv(flat, out, [f"p{i}" for i in range(flat.shape[1])], labels, label_name)
        else:
            raise GankitError(f"--out {out}: unknown format {suffix!r}; use .npy, .png, .csv or a folder/")
        return out
