"""Super-resolution figures as the SR literature computes them, pure numpy (no torch).

* :func:`luminance`: Y of MATLAB's ``rgb2ycbcr`` (ITU-R BT.601 studio range),
  ``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` with RGB in [0, 1], so Y lies in [16, 235]; a
  one-channel image is scored on its own values times 255, as the MATLAB scripts do (they convert
  only 3-channel files: ``if size(im, 3) == 3, im = rgb2ycbcr(im)``; Set14 holds one such file). ``rounded=True`` rounds Y to whole numbers as ``rgb2ycbcr`` does on uint8
  images (the benchmark scripts of SRCNN, VDSR and SRGAN read uint8 files).
* :func:`psnr_y`, :func:`ssim_y`: PSNR and SSIM on Y in [0, 255] with a border of ``scale`` pixels
  cropped (the evaluation code of SRCNN/VDSR/SRGAN). SSIM is Wang et al. 2004 (``ssim_index.m``):
  11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255, 'valid' filtering, no
  downsampling.
* :func:`matlab_bicubic`: MATLAB's ``imresize(img, scale, 'bicubic')``: the cubic kernel with a = -0.5,
  antialiasing when shrinking (the kernel widened by 1/scale), mirrored borders, output side
  ``ceil(side * scale)``.
* :func:`sharpness`: high-frequency energy of the output over the ground truth's, on Y: the energy
  above the low-resolution input's Nyquist frequency (0.5 / scale cycles per pixel), where a
  super-resolution model has to invent detail. 1 = as much detail as the truth; bicubic scores far
  below 1, a PSNR-trained model below 1, an adversarially trained one nearer 1.

Images are numpy arrays (H, W) or (H, W, C) with values in [0, 1] (floats) or uint8 [0, 255].
"""

from __future__ import annotations

import math

import numpy as np


def as_float(img) -> np.ndarray:
    """An image (H, W[, C]) as float64 in [0, 1] (uint8 divided by 255)."""
    a = np.asarray(img)
    return a.astype(np.float64) / 255.0 if a.dtype == np.uint8 else a.astype(np.float64)


def luminance(img, rounded: bool = False) -> np.ndarray:
    """Y (float64, (H, W)) of an RGB (H, W, 3) image in [16, 235]; a one-channel (H, W) / (H, W, 1) image's
    own values in [0, 255]."""
    a = as_float(img)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 2:
        y = 255.0 * a
    else:
        y = 16.0 + 65.481 * a[..., 0] + 128.553 * a[..., 1] + 24.966 * a[..., 2]
    return np.round(y) if rounded else y


def _crop(y: np.ndarray, border: int) -> np.ndarray:
    return y[border:-border, border:-border] if border > 0 else y


def _pair(out, ref, border: int, rounded: bool) -> tuple[np.ndarray, np.ndarray]:
    a, b = luminance(out, rounded), luminance(ref, rounded)
    if a.shape != b.shape:
        raise ValueError(f"output {a.shape} and reference {b.shape} differ in size")
    return _crop(a, border), _crop(b, border)


def psnr_y(out, ref, border: int = 0, rounded: bool = True) -> float:
    """PSNR in dB of Y (peak 255) with ``border`` pixels cropped on each side; inf when equal."""
    a, b = _pair(out, ref, border, rounded)
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    """MATLAB's ``fspecial('gaussian', size, sigma)``: normalised to sum 1."""
    r = np.arange(size) - (size - 1) / 2
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _filter_valid(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """'valid' 2-D correlation of ``x`` with the (symmetric, separable) Gaussian window ``w``."""
    k = w.shape[0]
    row = w.sum(axis=0)  # the 2-D Gaussian is the outer product of this 1-D one
    win = np.lib.stride_tricks.sliding_window_view(x, k, axis=1) @ row
    return np.lib.stride_tricks.sliding_window_view(win, k, axis=0) @ row


def ssim_y(out, ref, border: int = 0, rounded: bool = True) -> float:
    """Mean SSIM of Y (Wang et al. 2004, ``ssim_index.m``: 11x11 Gaussian, sigma 1.5, L = 255)."""
    a, b = _pair(out, ref, border, rounded)
    if min(a.shape) < 11:
        raise ValueError(f"SSIM needs at least 11x11 pixels after cropping, got {a.shape}")
    w = gaussian_window()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a, mu_b = _filter_valid(a, w), _filter_valid(b, w)
    var_a = _filter_valid(a * a, w) - mu_a ** 2
    var_b = _filter_valid(b * b, w) - mu_b ** 2
    cov = _filter_valid(a * b, w) - mu_a * mu_b
    m = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(m.mean())


def cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's and PIL's bicubic)."""
    ax = np.abs(x)
    ax2, ax3 = ax ** 2, ax ** 3
    return ((1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2)))


def resize_matrix(n_in: int, n_out: int, scale: float, antialias: bool = True) -> np.ndarray:
    """(n_out, n_in) weights of MATLAB's imresize along one axis (``contributions`` in imresize.m)."""
    width = 4.0
    kernel = cubic
    if scale < 1 and antialias:
        kernel = lambda t: scale * cubic(scale * t)  # noqa: E731
        width = width / scale
    x = np.arange(1, n_out + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)  # output pixel centres in input coordinates (1-based)
    left = np.floor(u - width / 2)
    ind = left[:, None] + np.arange(int(math.ceil(width)) + 2)[None, :]
    weights = kernel(u[:, None] - ind)
    weights /= weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(n_in), np.arange(n_in)[::-1]])  # symmetric padding
    ind = mirror[np.mod(ind - 1, 2 * n_in).astype(np.int64)]
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.repeat(np.arange(n_out), ind.shape[1]), ind.ravel()), weights.ravel())
    return m


def matlab_bicubic(img, scale: float, antialias: bool = True, size: tuple[int, int] | None = None) -> np.ndarray:
    """MATLAB's ``imresize(img, scale)`` (bicubic) of an (H, W[, C]) image, as float64 in the input's range
    (uint8 input: rounded and clipped back to uint8, as MATLAB returns it). ``size``: (H, W) out instead
    of ``ceil(side * scale)``."""
    a = np.asarray(img)
    x = a.astype(np.float64)
    h, w = x.shape[:2]
    oh, ow = size if size is not None else (math.ceil(h * scale), math.ceil(w * scale))
    rows, cols = resize_matrix(h, oh, scale, antialias), resize_matrix(w, ow, scale, antialias)
    # MATLAB resizes along the dimension with the smaller scale first; for one scale: rows then columns
    y = np.tensordot(rows, x, axes=(1, 0))
    y = np.moveaxis(np.tensordot(cols, y, axes=(1, 1)), 0, 1)
    if a.dtype == np.uint8:
        return np.clip(np.round(y), 0, 255).astype(np.uint8)
    return y


def high_frequency_energy(y: np.ndarray, cutoff: float) -> float:
    """Energy of ``y``'s spectrum above ``cutoff`` cycles per pixel (radially), mean removed."""
    f = np.fft.fft2(y - y.mean())
    fy = np.fft.fftfreq(y.shape[0])[:, None]
    fx = np.fft.fftfreq(y.shape[1])[None, :]
    return float(np.sum(np.abs(f[np.hypot(fy, fx) > cutoff]) ** 2))


def sharpness(out, ref, scale: int, border: int | None = None) -> float:
    """High-frequency energy of the output's Y over the ground truth's, above 0.5/scale cycles per pixel
    (the low-resolution input's Nyquist frequency); borders of ``scale`` pixels cropped."""
    a, b = _pair(out, ref, scale if border is None else border, rounded=False)
    cutoff = 0.5 / scale
    ref_energy = high_frequency_energy(b, cutoff)
    return math.nan if ref_energy == 0 else high_frequency_energy(a, cutoff) / ref_energy
