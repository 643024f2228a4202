"""PSNR / SSIM on Y, MATLAB's bicubic imresize and the sharpness ratio against hand-computed values."""

import math

import numpy as np
import pytest

from gankit.metrics.sr import cubic, luminance, matlab_bicubic, psnr_y, resize_matrix, sharpness, ssim_y


def test_luminance_is_matlab_rgb2ycbcr_studio_range():
    rgb = np.array([[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]])
    assert luminance(rgb) == pytest.approx(np.array([[16.0, 235.0, 16 + 65.481]]))
    assert luminance(np.array([[0.5]])) == pytest.approx(np.array([[127.5]]))  # one channel: its own values
    assert luminance(np.array([[[255, 255, 255]]], np.uint8)) == pytest.approx(np.array([[235.0]]))


def test_psnr_of_a_constant_difference():
    ref = np.full((8, 8), 100 / 255)
    out = ref + 5 / 255  # Y differs by 5 everywhere: PSNR = 10 log10(255^2 / 25)
    assert psnr_y(out, ref, rounded=False) == pytest.approx(10 * math.log10(255 ** 2 / 25))
    assert psnr_y(ref, ref) == math.inf


def test_psnr_crops_the_border():
    ref = np.zeros((10, 10))
    out = ref.copy()
    out[0, :] = 1.0  # only the border differs
    assert psnr_y(out, ref, border=1) == math.inf
    assert psnr_y(out, ref, border=0, rounded=False) == pytest.approx(10 * math.log10(255 ** 2 / (255 ** 2 / 10)))


def test_ssim_of_constant_images_is_the_luminance_term():
    a, b = 0.4, 0.6  # Y = 102 and 153: variances 0, so SSIM = (2ab + C1) / (a^2 + b^2 + C1)
    c1 = (0.01 * 255) ** 2
    ya, yb = 0.4 * 255, 0.6 * 255
    expected = (2 * ya * yb + c1) / (ya ** 2 + yb ** 2 + c1)
    assert ssim_y(np.full((16, 16), a), np.full((16, 16), b), rounded=False) == pytest.approx(expected)
    x = np.random.default_rng(0).random((20, 24, 3))
    assert ssim_y(x, x, border=2) == pytest.approx(1.0)
    assert ssim_y(x, 1 - x) < 0.5


def test_cubic_kernel_values():
    # Keys a = -0.5: 1.5|x|^3 - 2.5|x|^2 + 1 on [0, 1], -0.5|x|^3 + 2.5|x|^2 - 4|x| + 2 on (1, 2]
    assert cubic(np.array([0.0, 0.25, 0.75, 1.25, 2.0])) == pytest.approx([1.0, 0.8671875, 0.2265625, -0.0703125, 0.0])


def test_bicubic_upscale_of_an_impulse_and_a_ramp():
    m = resize_matrix(8, 16, 2.0)  # output centres at input positions j - 0.25 and j + 0.25
    assert m[8, 4] == pytest.approx(cubic(np.array([0.25]))[0])
    assert m[8, 3] == pytest.approx(cubic(np.array([0.75]))[0])
    ramp = np.tile(np.arange(8, dtype=float), (8, 1))
    up = matlab_bicubic(ramp, 2)
    assert up.shape == (16, 16)
    centre = (np.arange(1, 17) / 2 + 0.5 * (1 - 0.5)) - 1  # linear functions are reproduced inside
    assert up[5, 4:12] == pytest.approx(centre[4:12])


def test_bicubic_downscale_keeps_constants_and_antialiases():
    flat = np.full((12, 9, 3), 0.3)
    small = matlab_bicubic(flat, 1 / 3)
    assert small.shape == (4, 3, 3) and small == pytest.approx(0.3)
    stripes = np.tile([0.0, 1.0], (16, 8))  # the finest stripes average out when shrinking
    assert np.ptp(matlab_bicubic(stripes, 0.25)[1:-1, 1:-1]) < 0.05
    assert matlab_bicubic(np.full((4, 4), 200, np.uint8), 0.5).dtype == np.uint8


def test_sharpness_ratio():
    rng = np.random.default_rng(1)
    ref = rng.random((32, 32))
    assert sharpness(ref, ref, 4) == pytest.approx(1.0)
    assert sharpness(np.full((32, 32), 0.5), ref, 4) == pytest.approx(0.0)
    assert sharpness(0.5 + 2 * (ref - 0.5), ref, 4) == pytest.approx(4.0)  # twice the amplitude, 4x the energy
    blurred = matlab_bicubic(matlab_bicubic(ref, 0.25), 4)
    assert sharpness(blurred, ref, 4) < 0.3
