"""MNIST-format IDX loading from a folder and the download path, against tiny files made here.

The download tests serve the tiny files from a local ``http.server`` on 127.0.0.1 (never the
internet), point ``$GANKIT_MIRROR`` at it and patch the md5 table with the tiny files' sums.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import struct
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from gankit.config import DataConfig
from gankit.data import guess_name, load_data
from gankit.data import idx as idx_mod
from gankit.data.idx import CLASSES, read_idx
from gankit.errors import GankitError

N = 20


def idx_bytes(a: np.ndarray, code: int = 0x08) -> bytes:
    """IDX encoding: 0, 0, dtype code, ndim, then big-endian uint32 dims, then the data."""
    return bytes([0, 0, code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()


def write_idx(path: Path, a: np.ndarray, *, gz: bool = True) -> Path:
    data = idx_bytes(a)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.fixture
def tiny(tmp_path) -> tuple[Path, np.ndarray, np.ndarray]:
    """A folder with the two training IDX .gz files: 20 random 28x28 images and labels 0..9."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(N, 28, 28), dtype=np.uint8)
    images[0] = 0
    images[1] = 255
    labels = (np.arange(N) % 10).astype(np.uint8)
    folder = tmp_path / "idx"
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte.gz", images)
    write_idx(folder / "train-labels-idx1-ubyte.gz", labels)
    return folder, images, labels


def one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert "\n" not in msg
    return msg


# ----------------------------------------------------------------------------- reading


def test_read_idx_round_trip_gz_and_plain(tmp_path):
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "a.gz", a)), a)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "a", a, gz=False)), a)
    b = np.array([1.5, -2.0], dtype=">f4")
    (tmp_path / "f").write_bytes(idx_bytes(b, 0x0D))
    np.testing.assert_array_equal(read_idx(tmp_path / "f"), b)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_load_from_folder(tiny, name):
    folder, images, labels = tiny
    d = load_data(DataConfig(name=name, path=str(folder)), output="sigmoid")
    assert d.x.shape == (N, 1, 28, 28) and d.shape == (1, 28, 28)
    np.testing.assert_allclose(d.x[:, 0].numpy(), images / 255.0, atol=1e-7)
    assert float(d.x[0].max()) == 0.0 and float(d.x[1].min()) == 1.0
    assert d.labels.tolist() == labels.tolist()
    assert d.classes == CLASSES[name] and len(d.classes) == 10
    assert d.name == name


def test_auto_name_and_plain_files(tiny, tmp_path):
    folder, images, labels = tiny
    assert guess_name(DataConfig(path=str(folder))) == "mnist"
    plain = tmp_path / "plain"
    plain.mkdir()
    write_idx(plain / "train-images-idx3-ubyte", images, gz=False)
    write_idx(plain / "train-labels-idx1-ubyte", labels, gz=False)
    d = load_data(DataConfig(path=str(plain)), output="tanh")
    assert d.name == "mnist" and len(d) == N
    assert float(d.x.min()) == -1.0 and float(d.x.max()) == 1.0


def test_limit(tiny):
    folder, images, labels = tiny
    d = load_data(DataConfig(name="mnist", path=str(folder), limit=5), output="sigmoid")
    assert len(d) == 5 and d.labels.tolist() == labels[:5].tolist()


# ----------------------------------------------------------------------------- bad files


def test_truncated_gzip(tiny):
    folder, _, _ = tiny
    f = folder / "train-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[:-200])
    with pytest.raises(GankitError, match="corrupt or truncated gzip") as e:
        load_data(DataConfig(name="mnist", path=str(folder)))
    assert "train-images-idx3-ubyte.gz" in one_line(e)


def test_corrupt_gzip_body(tiny):
    folder, _, _ = tiny
    f = folder / "train-images-idx3-ubyte.gz"
    raw = bytearray(f.read_bytes())
    for i in range(20, 60):  # garble the deflate stream after the 10-byte gzip header
        raw[i] ^= 0xFF
    f.write_bytes(bytes(raw))
    with pytest.raises(GankitError, match="corrupt or truncated gzip") as e:
        load_data(DataConfig(name="mnist", path=str(folder)))
    one_line(e)


def test_wrong_magic(tiny):
    folder, images, _ = tiny
    data = bytearray(idx_bytes(images))
    data[2] = 0x42  # unknown dtype code
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(data)))
    with pytest.raises(GankitError, match="not an IDX file .*wrong magic") as e:
        load_data(DataConfig(name="mnist", path=str(folder)))
    assert "train-images-idx3-ubyte.gz" in one_line(e)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"PK\x03\x04 not idx at all"))
    with pytest.raises(GankitError, match="wrong magic"):
        load_data(DataConfig(name="mnist", path=str(folder)))


def test_count_larger_than_file(tiny):
    folder, images, _ = tiny
    data = bytearray(idx_bytes(images))
    data[4:8] = struct.pack(">I", 1000)  # header claims 1000 images, file holds 20
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(data)))
    with pytest.raises(GankitError, match="truncated") as e:
        load_data(DataConfig(name="mnist", path=str(folder)))
    msg = one_line(e)
    assert "(1000, 28, 28)" in msg and "train-images-idx3-ubyte.gz" in msg


def test_absurd_header_does_not_overflow(tmp_path):
    (tmp_path / "x").write_bytes(bytes([0, 0, 8, 4]) + struct.pack(">4I", *(2**32 - 1,) * 4))
    with pytest.raises(GankitError, match="truncated"):
        read_idx(tmp_path / "x")


def test_images_labels_count_mismatch(tiny):
    folder, _, labels = tiny
    write_idx(folder / "train-labels-idx1-ubyte.gz", labels[:15])
    with pytest.raises(GankitError, match="20 images but 15 labels") as e:
        load_data(DataConfig(name="mnist", path=str(folder)))
    one_line(e)


def test_swapped_files(tiny):
    folder, images, labels = tiny
    write_idx(folder / "train-images-idx3-ubyte.gz", labels)
    with pytest.raises(GankitError, match=r"expected \(N, H, W\) images"):
        load_data(DataConfig(name="mnist", path=str(folder)))


def test_labels_out_of_range(tiny):
    folder, _, labels = tiny
    write_idx(folder / "train-labels-idx1-ubyte.gz", labels + 5)
    with pytest.raises(GankitError, match=r"labels must be 0\.\.9"):
        load_data(DataConfig(name="mnist", path=str(folder)))


@pytest.mark.parametrize("missing", ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"])
def test_missing_file(tiny, missing):
    folder, _, _ = tiny
    (folder / missing).unlink()
    with pytest.raises(GankitError, match=f"missing {missing}") as e:
        load_data(DataConfig(name="mnist", path=str(folder)))
    one_line(e)


def test_path_not_a_folder(tmp_path):
    with pytest.raises(GankitError, match="is not a folder.*leave data.path unset"):
        load_data(DataConfig(name="mnist", path=str(tmp_path / "nope")))


# ----------------------------------------------------------------------------- download


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def server(tiny, monkeypatch):
    """Serve the tiny IDX folder on 127.0.0.1 and make gankit download from it."""
    folder, images, labels = tiny
    requests: list[str] = []
    handler = type("H", (_Handler,), {"requests": requests})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GANKIT_MIRROR", f"http://127.0.0.1:{httpd.server_address[1]}/")
    sums = {f.name: hashlib.md5(f.read_bytes()).hexdigest() for f in folder.iterdir()}
    monkeypatch.setattr(idx_mod, "MD5", {"mnist": dict(sums), "fashion-mnist": dict(sums)})
    yield folder, images, labels, requests
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_download_to_cache_then_reuse(server, tmp_path):
    folder, images, labels, requests = server
    cache = tmp_path / "cache"
    cfg = DataConfig(name="mnist", cache_dir=str(cache))
    d = load_data(cfg, output="sigmoid")
    assert sorted(requests) == ["/train-images-idx3-ubyte.gz", "/train-labels-idx1-ubyte.gz"]
    for f in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        assert (cache / "mnist" / f).read_bytes() == (folder / f).read_bytes()
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]  # no temporary files left
    np.testing.assert_allclose(d.x[:, 0].numpy(), images / 255.0, atol=1e-7)
    assert d.labels.tolist() == labels.tolist()

    d2 = load_data(cfg, output="sigmoid")  # second load: from the cache, no request
    assert len(requests) == 2
    assert (d2.x == d.x).all()


def test_download_uses_gankit_cache_env(server, tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "envcache"))
    d = load_data(DataConfig(name="fashion-mnist"), output="sigmoid")
    assert len(d) == N and d.classes[0] == "T-shirt/top"
    assert (tmp_path / "envcache" / "fashion-mnist" / "train-images-idx3-ubyte.gz").is_file()


def test_wrong_md5_is_refused_and_leaves_nothing(server, tmp_path, monkeypatch):
    _, _, _, requests = server
    monkeypatch.setitem(idx_mod.MD5["mnist"], "train-images-idx3-ubyte.gz", "0" * 32)
    cache = tmp_path / "cache"
    with pytest.raises(GankitError, match="could not download train-images-idx3-ubyte.gz .*md5") as e:
        load_data(DataConfig(name="mnist", cache_dir=str(cache)))
    assert "data.path" in one_line(e)
    assert requests == ["/train-images-idx3-ubyte.gz"]
    assert list((cache / "mnist").iterdir()) == []  # no partial or temporary file


def test_server_missing_file(server, tmp_path):
    folder, _, _, _ = server
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    cache = tmp_path / "cache"
    with pytest.raises(GankitError, match="could not download train-labels-idx1-ubyte.gz .*HTTP 404"):
        load_data(DataConfig(name="mnist", cache_dir=str(cache)))
    assert [p.name for p in (cache / "mnist").iterdir()] == ["train-images-idx3-ubyte.gz"]


def test_no_download_when_disabled(server, tmp_path):
    _, _, _, requests = server
    with pytest.raises(GankitError, match="data.download=false") as e:
        load_data(DataConfig(name="mnist", cache_dir=str(tmp_path / "c"), download=False))
    assert "data.path" in one_line(e)
    assert requests == []


def test_unreachable_mirror(tmp_path, monkeypatch):
    with socket_closed_port() as port:
        monkeypatch.setenv("GANKIT_MIRROR", f"http://127.0.0.1:{port}/")
    with pytest.raises(GankitError, match="could not download") as e:
        load_data(DataConfig(name="mnist", cache_dir=str(tmp_path / "c")))
    one_line(e)


def socket_closed_port():
    """A context giving a local port that nothing listens on once the context closes."""
    import contextlib
    import socket

    @contextlib.contextmanager
    def cm():
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        yield port

    return cm()


def test_header_with_a_zero_dimension_is_refused(tmp_path):
    """Found by tests/test_properties.py: numpy cannot reshape to (0, 2**21, 2**21, 2**21)."""
    p = tmp_path / "empty-idx4-ubyte"
    p.write_bytes(b"\x00\x00\x08\x04" + b"\x00\x00\x00\x00" + b"\x00\x20\x00\x00" * 3)
    with pytest.raises(GankitError, match="holds no items"):
        read_idx(p)
