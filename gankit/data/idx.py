"""MNIST and Fashion-MNIST from the four standard IDX ``.gz`` files.

``data.path`` may name a folder holding them; otherwise they are downloaded once into the cache
(``data.cache_dir``, ``$GANKIT_CACHE`` or ``~/.cache/gankit``) and checked against the official md5
sums. ``$GANKIT_MIRROR`` (a base URL) replaces the built-in mirrors, e.g. for an internal server.
The training split is used for training; the t10k split, when its files are there, is the
evaluation's held-out reference (gankit/data/split.py).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import shutil
import struct
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from gankit.config.schema import DataConfig
from gankit.data import Raw
from gankit.errors import GankitError

FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

MD5: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

MIRRORS: dict[str, list[str]] = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
}

CLASSES = {
    "mnist": [str(i) for i in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"],
}

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
           0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (gzip or plain), checking magic number, dimensions and length."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise GankitError(f"{p}: cannot read ({e.strerror})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
            raise GankitError(f"{p}: corrupt or truncated gzip file ({e}); delete it and download again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES or not 1 <= raw[3] <= 4:
        raise GankitError(f"{p}: not an IDX file (wrong magic number {raw[:4].hex() or 'empty'}); "
                          f"expected e.g. train-images-idx3-ubyte.gz from the MNIST release")
    dtype, ndim = np.dtype(_DTYPES[raw[2]]), raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise GankitError(f"{p}: IDX header is truncated")
    start = 4 + 4 * ndim
    dims = struct.unpack(f">{ndim}I", raw[4:start])
    items = math.prod(dims)  # Python ints: no overflow on a corrupt header
    if len(raw) - start < items * dtype.itemsize:
        raise GankitError(f"{p}: IDX header says shape {dims} ({items * dtype.itemsize} bytes) but the file "
                          f"holds only {len(raw) - start} bytes (truncated download?); delete it and "
                          f"download again")
    if items == 0:  # numpy cannot even represent some empty shapes, e.g. (0, 2**21, 2**21, 2**21)
        raise GankitError(f"{p}: IDX header says shape {dims}: the file holds no items; delete it and download again")
    return np.frombuffer(raw, dtype=dtype, count=items, offset=start).reshape(dims)


def md5(path: Path) -> str:
    """Hex md5 of a file, read in 1 MiB chunks (the official MNIST checksums are md5)."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_root(cache_dir: str | None) -> Path:
    """Where downloads go: data.cache_dir, else $GANKIT_CACHE, else ~/.cache/gankit."""
    return Path(cache_dir or os.environ.get("GANKIT_CACHE") or Path.home() / ".cache" / "gankit")


def download(name: str, folder: Path, files: tuple[str, ...] = FILES[:2]) -> None:
    """Download ``files`` of dataset ``name`` into ``folder``, verifying md5, atomically."""
    mirrors = [os.environ["GANKIT_MIRROR"]] if os.environ.get("GANKIT_MIRROR") else MIRRORS[name]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise GankitError(f"cannot create cache folder {folder} ({e.strerror}); set data.cache_dir") from None
    for fname in files:
        dest = folder / fname
        if dest.exists() and md5(dest) == MD5[name][fname]:
            continue
        errors = []
        for base in mirrors:
            url = base.rstrip("/") + "/" + fname
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{fname}.")
            try:
                with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=30) as resp:
                    shutil.copyfileobj(resp, out)
                got = md5(Path(tmp))
                if got != MD5[name][fname]:
                    errors.append(f"{url}: md5 {got} != {MD5[name][fname]}")
                    continue
                os.replace(tmp, dest)
                break
            except urllib.error.HTTPError as e:
                errors.append(f"{url}: HTTP {e.code} {e.reason}")
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
                errors.append(f"{url}: {getattr(e, 'reason', e)}")
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        else:
            raise GankitError(
                f"could not download {fname} ({'; '.join(errors)}); download the four IDX files by "
                f"hand into a folder and pass data.path=FOLDER"
            )


def load_idx_folder(folder: Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 28, 28) uint8, labels (N,) uint8) of one split from an IDX folder."""
    found = {}
    for kind in ("images", "labels"):
        stem = f"{split}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
        for cand in (folder / f"{stem}.gz", folder / stem):
            if cand.exists():
                found[kind] = cand
                break
        else:
            raise GankitError(f"{folder}: missing {stem}.gz; the folder must hold the MNIST-format IDX files")
    images, labels = read_idx(found["images"]), read_idx(found["labels"])
    if images.ndim != 3:
        raise GankitError(f"{found['images']}: expected (N, H, W) images, got shape {images.shape}; "
                          f"is it a labels file?")
    if labels.ndim != 1:
        raise GankitError(f"{found['labels']}: expected (N,) labels, got shape {labels.shape}; "
                          f"is it an images file?")
    if len(images) != len(labels):
        raise GankitError(f"{folder}: {len(images)} images but {len(labels)} labels; files from different sets?")
    return images, labels


def _load(name: str, cfg: DataConfig) -> Raw:
    if cfg.path is not None:
        folder = Path(cfg.path)
        if not folder.is_dir():
            raise GankitError(f"data.path {cfg.path!r} is not a folder; give the folder holding the IDX .gz "
                              f"files, or leave data.path unset to download {name} into the cache")
    else:
        folder = cache_root(cfg.cache_dir) / name
        missing = [f for f in FILES[:2] if not (folder / f).exists()]
        if missing:
            if not cfg.download:
                raise GankitError(f"{name} is not in {folder} and data.download=false; set data.path=FOLDER")
            download(name, folder)
    return _raw(name, folder, *load_idx_folder(folder))


def _raw(name: str, folder: Path, images: np.ndarray, labels: np.ndarray) -> Raw:
    if images.dtype != np.uint8:
        raise GankitError(f"{folder}: images are {images.dtype}, expected 8-bit pixels as in the {name} release")
    classes = CLASSES[name]
    if len(labels) and not 0 <= int(labels.min()) <= int(labels.max()) < len(classes):
        raise GankitError(f"{folder}: labels must be 0..{len(classes) - 1} for {name}, found "
                          f"{int(labels.min())}..{int(labels.max())}")
    x = images.astype(np.float32)
    x /= 255.0  # in place: one float copy of the images at a time (188 MB for MNIST), not two
    x = x[:, None]  # (N, 1, H, W) in [0, 1]; (N, 1, 28, 28) for MNIST
    return Raw(x, "image", labels=labels.astype(np.int64), classes=classes)


def test_split(name: str, cfg: DataConfig) -> Raw | None:
    """The official test split (the t10k files) when it lies beside the training files, else None
    (it is not downloaded: evaluation then scores against the training split)."""
    if not has_test_split(name, cfg):
        return None
    folder = Path(cfg.path) if cfg.path is not None else cache_root(cfg.cache_dir) / name
    return _raw(name, folder, *load_idx_folder(folder, "t10k"))


def has_test_split(name: str, cfg: DataConfig) -> bool:
    """Whether the t10k files lie beside the training files (nothing is read)."""
    folder = Path(cfg.path) if cfg.path is not None else cache_root(cfg.cache_dir) / name
    return any((folder / f"t10k-images-idx3-ubyte{ext}").exists() for ext in (".gz", ""))


def mnist(cfg: DataConfig, seed: int) -> Raw:
    return _load("mnist", cfg)


def fashion_mnist(cfg: DataConfig, seed: int) -> Raw:
    return _load("fashion-mnist", cfg)
