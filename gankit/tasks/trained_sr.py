"""A trained super-resolution generator on its own: ``gankit.load(run).upscale(img)``, ``gankit upscale``.

:meth:`TrainedUpscaler.upscale` takes a PIL image or a numpy array ((H, W) or (H, W, C); uint8, or
floats in [0, 1]) of any size and aspect and returns the same kind, ``scale`` times larger. It works
in tiles of ``tile`` input pixels, each read with a margin of the network's reach
(:meth:`gankit.models.srresnet.SRResNet.margin`) around it and cut back to its own part of the
output: batch norm runs in evaluation mode, so every output pixel sees exactly the input window it
sees in a whole-image pass: the tiled output equals the whole-image output (no seams, no blending),
and memory stays bounded by the tile, not the image.

Greyscale input to a colour model goes in as three equal channels and comes back greyscale; colour
input to a greyscale model is upscaled channel by channel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from gankit.errors import GankitError
from gankit.tasks.base import Trained


class TrainedUpscaler(Trained):
    kind = "image"

    def __init__(self, G: nn.Module, meta: dict) -> None:
        self.G, self.meta = G, meta
        self.scale = int(meta["scale"])
        self.tile = int(meta.get("tile") or 128)
        d = meta["data"]
        self.channels = int(d["shape"][0])
        self.offset, self.span = float(d["offset"][0]), float(d["scale"][0])
        self.shape = tuple(d["shape"])

    @property
    def device(self) -> torch.device:
        return next(self.G.parameters()).device

    def sample(self, n: int, *, seed: int | None = None, label=None, **_):
        raise GankitError("a super-resolution run upscales images instead of sampling: gankit upscale RUN IN --out OUT "
                          "(Python: gankit.load(run).upscale(img))")

    samples = sample

    @torch.inference_mode()
    def upscale_tensor(self, x: torch.Tensor, tile: int | None = None) -> torch.Tensor:
        """(N, C, h, w) in [0, 1] -> (N, C, h * scale, w * scale) in [0, 1], tile by tile (``tile=0``: whole)."""
        tile = self.tile if tile is None else tile
        was = self.G.training
        self.G.eval()
        try:
            x = (x.to(self.device, torch.float32) - self.offset) / self.span
            if not tile or (x.shape[-2] <= tile and x.shape[-1] <= tile):
                out = self.G(x)
            else:
                out = self._tiled(x, tile)
        finally:
            self.G.train(was)
        return (out * self.span + self.offset).clamp(0, 1)

    def _tiled(self, x: torch.Tensor, tile: int) -> torch.Tensor:
        s, m = self.scale, self.G.margin()
        n, c, h, w = x.shape
        out = x.new_empty(n, c, h * s, w * s)
        for top in range(0, h, tile):
            for left in range(0, w, tile):
                t0, l0 = max(0, top - m), max(0, left - m)
                b1, r1 = min(h, top + tile), min(w, left + tile)
                piece = self.G(x[:, :, t0:min(h, b1 + m), l0:min(w, r1 + m)])
                dt, dl = (top - t0) * s, (left - l0) * s
                out[:, :, top * s:b1 * s, left * s:r1 * s] = piece[:, :, dt:dt + (b1 - top) * s, dl:dl + (r1 - left) * s]
        return out

    def exportable(self, **options):
        """G itself (evaluation mode, the whole image at once): (n, C, h, w) in the network's space in,
        (n, C, h * scale, w * scale) out, any h and w."""
        import copy

        from gankit.tasks.base import Exportable

        describe = {"inputs": {"x": {"shape": ["batch", self.channels, "height", "width"], "dtype": "float32",
                                     "encode": "(x01 - offset) / scale, x01 the image in [0, 1]"}},
                    "output": {"name": "y", "shape": ["batch", self.channels, f"height*{self.scale}",
                                                      f"width*{self.scale}"]},
                    "decode": {"offset": self.offset, "scale": self.span, "rule": "clip(y * scale + offset, 0, 1)"},
                    "upscale": self.scale, "notes": "batch norm in evaluation mode, as gankit upscale; gankit "
                    "upscales in tiles with margins, which gives the same pixels as this whole-image network"}
        x = torch.rand(2, self.channels, 12, 10)
        dims = {0: ("batch", 1, 1), 2: ("height", 1, 4), 3: ("width", 1, 4)}
        return Exportable(copy.deepcopy(self.G).cpu().eval(), {"x": x}, {"x": dims}, ("y",), describe)

    def upscale(self, img, tile: int | None = None):
        """A PIL image or an (H, W[, C]) array, ``scale`` times larger, of the same kind and value range."""
        return apply_to_image(img, self.channels, lambda x: self.upscale_tensor(x, tile), "upscale")

    def upscale_file(self, src: Path, out: Path, tile: int | None = None) -> Path:
        """Read an image file, upscale it, write it (format from ``out``'s suffix)."""
        return write_image(self.upscale(read_image(src), tile), out)


def apply_to_image(img, channels: int, fn, what: str):
    """``fn`` ((1, C, h, w) in [0, 1] -> (1, C, H, W) in [0, 1], for a model of ``channels`` channels) on a
    PIL image or an (H, W[, C]) array (uint8, or floats in [0, 1]); the result of the same kind and range.
    Greyscale into a colour model goes in as three equal channels and comes back greyscale (their mean);
    colour into a greyscale model goes channel by channel."""
    from PIL import Image

    pil = isinstance(img, Image.Image)
    a = np.asarray(img.convert("L" if img.mode in ("1", "L", "I", "I;16", "F", "LA") else "RGB") if pil else img)
    if a.ndim not in (2, 3) or a.size == 0 or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)):
        raise GankitError(f"{what} takes an (H, W) or (H, W, 1|3|4) image, got an array of shape {a.shape}")
    is_u8 = a.dtype == np.uint8
    f = a.astype(np.float32) / 255.0 if is_u8 else a.astype(np.float32)
    grey_in = f.ndim == 2
    f = f[..., None] if grey_in else f[..., :3]
    x = torch.from_numpy(np.ascontiguousarray(f.transpose(2, 0, 1)))[None]  # (1, C, h, w)
    if channels == 3 and x.shape[1] == 1:
        y = fn(x.expand(1, 3, *x.shape[2:])).mean(1, keepdim=True)
    elif channels == 1 and x.shape[1] == 3:
        y = torch.cat([fn(x[:, i:i + 1]) for i in range(3)], 1)
    else:
        y = fn(x)
    out = y[0].cpu().numpy().transpose(1, 2, 0)
    if grey_in:
        out = out[..., 0]
    if is_u8 or pil:
        out = np.round(out * 255.0).astype(np.uint8)
    return Image.fromarray(out) if pil else out


def read_image(src: Path):
    """An image file as a PIL image (EXIF orientation applied); a one-line error when it cannot be read."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(src) as im:
            im.load()
            return ImageOps.exif_transpose(im)
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise GankitError(f"{src}: cannot read image ({e})") from None


def write_image(img, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        img.save(out)
    except (OSError, ValueError) as e:
        raise GankitError(f"cannot write {out} ({e})") from None
    return out


def build_upscaler_net(meta: dict) -> nn.Module:
    from gankit.models.srresnet import SRResNet

    g = meta["generator"]
    return SRResNet(int(meta["data"]["shape"][0]), int(g["channels"][0]), int(g["blocks"]), int(meta["scale"]),
                    g.get("output", "none"))


def load_upscaler(state: dict, meta: dict, source: str, device: str = "cpu") -> TrainedUpscaler:
    G = build_upscaler_net(meta)
    try:
        G.load_state_dict(state["G"])
    except (KeyError, RuntimeError) as e:
        raise GankitError(f"{source}: the weights do not fit the generator it describes ({str(e)[:160]})") from None
    G = G.to(device).eval()
    if torch.device(device).type == "cpu":
        # channels-last on the CPU, as the training loop runs conv nets: oneDNN's NCHW kernel for the 9x9
        # convolution to 1-3 channels is 6x slower, and upscaling 3.7x slower in all (BENCHMARKS.md)
        G.to(memory_format=torch.channels_last)
    return TrainedUpscaler(G, meta)
