"""Image-folder loading: PNG/JPG written with Pillow, channel inference, resizing, classes, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.config import DataConfig
from gankit.data import guess_name, load_data
from gankit.data.images import image_folder, unit
from gankit.errors import GankitError


def save(path: Path, a: np.ndarray, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a).save(path, **kw)
    return path


def gray_images(n: int, h: int = 6, w: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, h, w), dtype=np.uint8)


def load(folder: Path, **kw):
    """The loaded set with its 8-bit pixels as floats in [0, 1], as training sees them."""
    raw = image_folder(DataConfig(name="images", path=str(folder), **kw), 0)
    raw.x = unit(raw.x)
    return raw


def test_grayscale_png_exact(tmp_path):
    imgs = gray_images(4)
    for i, a in enumerate(imgs):
        save(tmp_path / f"{i}.png", a)
    stored = image_folder(DataConfig(name="images", path=str(tmp_path)), 0).x
    assert stored.dtype == np.uint8 and stored.shape == (4, 1, 6, 5)
    np.testing.assert_array_equal(stored[:, 0], imgs)
    raw = load(tmp_path)
    assert raw.x.shape == (4, 1, 6, 5) and raw.x.dtype == np.float32 and raw.kind == "image"
    np.testing.assert_allclose(raw.x[:, 0], imgs / 255.0, atol=1e-7)
    assert raw.labels is None and raw.classes is None
    assert guess_name(DataConfig(path=str(tmp_path))) == "images"


def test_rgb_png_exact_channel_order(tmp_path):
    a = np.zeros((4, 4, 3), np.uint8)
    a[..., 0], a[..., 1], a[..., 2] = 200, 100, 10
    save(tmp_path / "c.png", a)
    save(tmp_path / "d.png", a[::-1].copy())
    raw = load(tmp_path)
    assert raw.x.shape == (2, 3, 4, 4)
    np.testing.assert_allclose(raw.x[0, :, 0, 0], [200 / 255, 100 / 255, 10 / 255], atol=1e-7)


def test_rgb_file_of_gray_content_is_gray(tmp_path):
    g = gray_images(1)[0]
    save(tmp_path / "a.png", np.stack([g, g, g], -1))
    raw = load(tmp_path)
    assert raw.x.shape == (1, 1, 6, 5)
    np.testing.assert_allclose(raw.x[0, 0], g / 255.0, atol=1e-7)


def test_any_colour_image_makes_the_set_rgb(tmp_path):
    g = gray_images(1)[0]
    save(tmp_path / "a.png", g)
    c = np.stack([g, 255 - g, g], -1)
    save(tmp_path / "b.png", c)
    raw = load(tmp_path)
    assert raw.x.shape == (2, 3, 6, 5)
    for ch in range(3):  # the gray image is repeated on the three channels
        np.testing.assert_allclose(raw.x[0, ch], g / 255.0, atol=1e-7)
    np.testing.assert_allclose(raw.x[1].transpose(1, 2, 0), c / 255.0, atol=1e-7)


def test_channels_forced(tmp_path):
    c = np.random.default_rng(1).integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
    save(tmp_path / "a.png", c)
    gray = load(tmp_path, channels=1)
    assert gray.x.shape == (1, 1, 6, 5)
    luma = np.asarray(Image.fromarray(c).convert("L"), np.float32) / 255.0  # ITU-R 601 luma
    np.testing.assert_allclose(gray.x[0, 0], luma, atol=1e-7)
    ref = (c[..., 0] * 0.299 + c[..., 1] * 0.587 + c[..., 2] * 0.114) / 255.0
    assert np.abs(gray.x[0, 0] - ref).max() < 1.5 / 255

    (tmp_path / "a.png").unlink()
    g = gray_images(1)[0]
    save(tmp_path / "g.png", g)
    rgb = load(tmp_path, channels=3)
    assert rgb.x.shape == (1, 3, 6, 5)
    assert (rgb.x[0, 0] == rgb.x[0, 1]).all() and (rgb.x[0, 1] == rgb.x[0, 2]).all()


def test_image_size_resizes(tmp_path):
    save(tmp_path / "a.png", np.full((12, 10), 77, np.uint8))
    save(tmp_path / "b.png", np.full((20, 30), 200, np.uint8))
    with pytest.raises(GankitError, match=r"mixed sizes \(10x12, 30x20\).*data.image_size") as e:
        load(tmp_path)
    assert "\n" not in str(e.value)
    raw = load(tmp_path, image_size=8)
    assert raw.x.shape == (2, 1, 8, 8)
    np.testing.assert_allclose(raw.x[0], 77 / 255.0, atol=1e-6)  # constant images stay constant
    np.testing.assert_allclose(raw.x[1], 200 / 255.0, atol=1e-6)
    # a gradient keeps its direction after resizing
    save(tmp_path / "b.png", np.tile(np.linspace(0, 255, 30).astype(np.uint8), (20, 1)))
    raw = load(tmp_path, image_size=8)
    row = raw.x[1, 0, 4]
    assert (np.diff(row) > 0).all() and row[0] < 0.1 and row[-1] > 0.9


def test_jpg(tmp_path):
    a = np.zeros((16, 16, 3), np.uint8)
    a[..., 0] = 180
    a[..., 2] = 40
    save(tmp_path / "x.jpg", a, quality=95)
    save(tmp_path / "y.JPEG", a, quality=95)
    raw = load(tmp_path)
    assert raw.x.shape == (2, 3, 16, 16)
    np.testing.assert_allclose(raw.x[:, :, 8, 8], [[180 / 255, 0, 40 / 255]] * 2, atol=4 / 255)


def test_sixteen_bit_gray_png_is_scaled_not_clipped(tmp_path):
    a = (np.arange(30).reshape(6, 5) * 2000).astype(np.uint16)
    save(tmp_path / "w.png", a)
    raw = load(tmp_path)
    assert raw.x.shape == (1, 1, 6, 5)
    np.testing.assert_allclose(raw.x[0, 0], a / 65535.0, atol=1e-6)


def test_class_subfolders(tmp_path):
    g = gray_images(5)
    save(tmp_path / "cats" / "1.png", g[0])
    save(tmp_path / "cats" / "2.png", g[1])
    save(tmp_path / "dogs" / "1.png", g[2])
    save(tmp_path / "dogs" / "deep" / "x.png", g[3])
    save(tmp_path / ".hidden" / "h.png", g[4])  # hidden folders and files are skipped
    (tmp_path / "dogs" / "._1.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (tmp_path / "notes.txt").write_text("not an image")
    raw = load(tmp_path)
    assert raw.classes == ["cats", "dogs"]
    assert raw.labels.tolist() == [0, 0, 1, 1]
    assert raw.x.shape == (4, 1, 6, 5)
    d = load_data(DataConfig(path=str(tmp_path)))
    assert d.labels.tolist() == [0, 0, 1, 1] and d.classes == ["cats", "dogs"]


def test_files_at_top_level_mean_no_classes(tmp_path):
    g = gray_images(2)
    save(tmp_path / "a.png", g[0])
    save(tmp_path / "sub" / "b.png", g[1])
    raw = load(tmp_path)
    assert len(raw.x) == 2 and raw.labels is None and raw.classes is None


def test_empty_folder(tmp_path):
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(GankitError, match="no images found") as e:
        load(tmp_path)
    assert str(tmp_path) in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\n garbage", "truncated"])
def test_bad_image_names_the_file(tmp_path, content):
    save(tmp_path / "good.png", gray_images(1)[0])
    bad = tmp_path / "bad.png"
    if content == "truncated":
        save(bad, gray_images(1, 64, 64)[0])
        bad.write_bytes(bad.read_bytes()[:200])
    else:
        bad.write_bytes(content)
    with pytest.raises(GankitError, match="cannot decode image") as e:
        load(tmp_path)
    msg = str(e.value)
    assert str(bad) in msg and "\n" not in msg


def test_missing_path_and_file_path(tmp_path):
    with pytest.raises(GankitError, match="is not a folder of images"):
        load(tmp_path / "nope")
    with pytest.raises(GankitError, match="needs data.path"):
        image_folder(DataConfig(name="images"), 0)


@pytest.mark.parametrize("output,lo", [("tanh", -1.0), ("sigmoid", 0.0)])
def test_training_range(tmp_path, output, lo):
    save(tmp_path / "a.png", np.array([[0, 255], [51, 102]], np.uint8).repeat(2, 0).repeat(2, 1))
    d = load_data(DataConfig(name="images", path=str(tmp_path)), output=output)
    assert d.x.shape == (1, 1, 4, 4) and d.x.dtype == torch.uint8  # stored as pixels, floats per batch
    x = d.training(d.x)
    assert x.dtype == torch.float32 and float(x.min()) == lo and float(x.max()) == 1.0
    assert torch.equal(d.decode(d.x), d.decode(x))


@pytest.mark.parametrize("output", ["tanh", "sigmoid"])
def test_batches_of_pixels_are_the_floats_a_whole_set_conversion_gives(output):
    """8-bit images stay uint8 in memory and become training values a batch at a time: bit for bit the
    values of converting the whole set to float32 first (the path before), for every pixel value."""
    from gankit.data import Raw, prepare
    from gankit.modalities.base import Codec
    from gankit.training.batches import Batches

    px = np.arange(256, dtype=np.uint8).reshape(4, 1, 8, 8)
    d = prepare(Raw(px, "image"), "images", output=output, standardize=False)
    assert d.x.dtype == torch.uint8 and torch.equal(d.x, torch.from_numpy(px))
    whole = Codec(d.codec.offset, d.codec.scale, d.codec.clamp).encode(unit(px))  # float32 set, then affine
    assert torch.equal(d.training(d.x), whole)
    batches = Batches({"x": d.x}, 2, seed=0, transforms={"x": d.training})
    first = batches.perm[:2]
    batch = batches.next()["x"]
    assert batch.dtype == torch.float32 and torch.equal(batch, whole[first])


@pytest.mark.parametrize("channels,size", [(3, None), (1, None), (3, (5, 5)), (1, (7, 4))])
def test_one_uint8_pass_gives_each_image_its_own_float_pixels(channels, size):
    """image_folder decodes through one uint8 array and converts it once: bit for bit what a float32
    conversion per image (to_array, the path before) gives, for colour, grey, palette and RGBA files."""
    from gankit.data.images import stack_images, to_array

    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
    pics = [Image.fromarray(rgb), Image.fromarray(rgb[..., 0]), Image.fromarray(rgb).convert("P"),
            Image.fromarray(np.dstack([rgb, rgb[..., :1]]), "RGBA"), Image.fromarray(np.full((6, 5), 255, np.uint8))]
    stored = stack_images(pics, channels, size)
    assert stored.dtype == np.uint8
    got = unit(stored)
    want = np.stack([to_array(p, channels, size) for p in pics])
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
