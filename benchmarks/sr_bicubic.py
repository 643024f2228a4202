"""The published x4 bicubic row of Set5 and Set14, reproduced (issue 14).

Upscales each ``img_NNN_SRF_4_LR.png`` (made with MATLAB's imresize) back to its ``_HR.png`` with
bicubic interpolation, then scores PSNR/SSIM on Y (gankit.metrics.sr: MATLAB's studio-range YCbCr,
border of 4 pixels cropped) and the sharpness ratio. Two upscalers: PIL's BICUBIC and gankit's
MATLAB-style ``imresize`` (numpy). Published (SRGAN paper, Table 2): Set5 28.43 / 0.8211, Set14
25.99 / 0.7486.

    python -m benchmarks.sr_bicubic [--root ../shared/data/sr]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from gankit.metrics.sr import matlab_bicubic, psnr_y, sharpness, ssim_y

PUBLISHED = {"Set5": (28.43, 0.8211), "Set14": (25.99, 0.7486)}
SCALE = 4


def pairs(folder: Path):
    for hr in sorted(folder.glob(f"*_SRF_{SCALE}_HR.png")):
        lr = hr.with_name(hr.name.replace("_HR.png", "_LR.png"))
        yield read(lr), read(hr)


def read(path: Path) -> np.ndarray:
    """(H, W) for a one-channel file (scored on its own values, as the MATLAB scripts do), else (H, W, 3)."""
    with Image.open(path) as im:
        return np.asarray(im if im.mode == "L" else im.convert("RGB"))


def upscale_pil(lr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(lr).resize((size[1], size[0]), Image.Resampling.BICUBIC))


def upscale_matlab(lr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return matlab_bicubic(lr, SCALE, size=size)


def row(folder: Path, upscale) -> tuple[float, float, float, int]:
    p, s, sh = [], [], []
    for lr, hr in pairs(folder):
        out = upscale(lr, hr.shape[:2])
        p.append(psnr_y(out, hr, SCALE))
        s.append(ssim_y(out, hr, SCALE))
        sh.append(sharpness(out, hr, SCALE))
    return float(np.mean(p)), float(np.mean(s)), float(np.mean(sh)), len(p)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sr"))
    root = Path(ap.parse_args(argv).root)
    print("| set | bicubic | PSNR (dB) | SSIM | sharpness | published | dPSNR |")
    print("|---|---|---|---|---|---|---|")
    for name, (pp, ps) in PUBLISHED.items():
        for label, fn in (("MATLAB imresize (numpy)", upscale_matlab), ("PIL BICUBIC", upscale_pil)):
            p, s, sh, n = row(root / name, fn)
            print(f"| {name} ({n}) | {label} | {p:.2f} | {s:.4f} | {sh:.3f} | {pp:.2f} / {ps:.4f} | {p - pp:+.3f} |")


if __name__ == "__main__":
    main()
