"""Property tests (hypothesis): arbitrary input is either accepted or refused with GankitError.

Never another exception: a crash with a traceback is a bug whatever the input. Accepted input
must also be *right*: an accepted config survives the round trip through the run folder's
config.yaml, and loaded data is finite with the shape the file describes.
"""

from __future__ import annotations

import gzip
import json
import string
import struct

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gankit import checkpoint
from gankit.config import Config, DataConfig, all_keys, dump, load, merge_dict, validate
from gankit.data import load_data
from gankit.errors import GankitError
from gankit.run.folder import load_run_config

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SLOW = settings(FAST, max_examples=60)  # each example resolves a preset

KEYS = all_keys()
yaml_ish = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "null", "~", "true", "off", "1e-3", "-1", "0", ".inf", "-.nan", "[1, 2]", "[]", "[[1]]",
                     "{a: 1}", "'quoted'", "&a 1", "*a", "!!binary aGk=", "2001-12-14", "!!python/none ''",
                     "1_000", "0x1F", "[256, 256]", "[0.5, 0.999]", "{steps: 3}", "- x", "|\n x", "9" * 40]),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.lists(st.integers(-3, 2000), max_size=4).map(str),
)
key_ish = st.one_of(st.sampled_from(KEYS), st.sampled_from(["train", "data", "generator", "version", "preset"]),
                    st.text(alphabet=string.ascii_lowercase + "._= ", max_size=20))


def round_trips(cfg: Config, folder) -> None:
    """What a run writes to config.yaml reads back as the same config (resume depends on it)."""
    (folder / "config.yaml").write_text(dump(cfg))
    assert dump(load_run_config(folder)) == dump(cfg)


@SLOW
@given(items=st.lists(st.tuples(key_ish, yaml_ish), max_size=4), sep=st.sampled_from(["=", "", "=="]))
@example(items=[("train.steps", "1e400")], sep="=")
@example(items=[("version", "2")], sep="=")  # found by this test: the run could not read its own config.yaml
@example(items=[("generator.betas", "[.nan, 0.5]")], sep="=")
@example(items=[("train.seed", str(2**64))], sep="=")
@example(items=[("data", "{None: 1}")], sep="=")
def test_overrides_apply_or_raise_gankit_error(tmp_path, items, sep):
    overrides = [f"{k}{sep}{v}" for k, v in items]
    try:
        cfg = load("ring", overrides)
    except GankitError as e:
        assert str(e) and "\n" not in str(e)
        return
    round_trips(cfg, tmp_path)


@FAST
@given(doc=st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.one_of(st.sampled_from(KEYS + ["train", "data", "version"]),
                                                         st.text(max_size=8)), children, max_size=4)),
    max_leaves=12))
def test_yaml_documents_merge_or_raise_gankit_error(tmp_path, doc):
    try:
        cfg = validate(merge_dict(Config(), doc, source="c.yaml"))
    except GankitError as e:
        assert "\n" not in str(e)
        return
    round_trips(cfg, tmp_path)


def load_table(tmp_path, name: str, blob: bytes):
    p = tmp_path / name
    p.write_bytes(blob)
    return load_data(DataConfig(name="table", path=str(p)))


def check_loaded(data, rows: int | None = None, cols: int | None = None) -> None:
    assert torch.isfinite(data.x).all() and torch.isfinite(data.offset).all() and torch.isfinite(data.scale).all()
    assert data.x.ndim == 2 and len(data) >= 1
    if rows is not None:
        assert tuple(data.x.shape) == (rows, cols)


@FAST
@given(blob=st.one_of(st.binary(max_size=300),
                      st.text(alphabet="0123456789.,-+eE;\t naif\n\"", max_size=200).map(str.encode)))
@example(blob=b"1e39,1\n2,3\n")  # found by this test: became inf in float32
@example(blob=b"a,b\n1,2\n3\n")
@example(blob=b"\x00,1\n")
def test_arbitrary_csv_loads_or_raises_gankit_error(tmp_path, blob):
    try:
        data = load_table(tmp_path, "t.csv", blob)
    except GankitError as e:
        assert "t.csv" in str(e) or "data" in str(e)
        return
    check_loaded(data)


@FAST
@given(table=st.lists(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=2), min_size=1,
                      max_size=20), header=st.booleans(), fmt=st.sampled_from(["{:.17g}", "{!r}", "{:e}"]))
def test_valid_csv_loads_exactly(tmp_path, table, header, fmt):
    lines = (["a,b"] if header else []) + [",".join(fmt.format(v) for v in row) for row in table]
    data = load_table(tmp_path, "t.csv", "\n".join(lines).encode())
    check_loaded(data, len(table), 2)
    back = (data.x.double() * data.scale.double() + data.offset.double()).numpy()
    np.testing.assert_allclose(back, np.array(table, dtype=np.float32), rtol=1e-5, atol=1e-6 * 1e6)


def npy_bytes(arr: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


@FAST
@given(blob=st.one_of(
    st.binary(max_size=200),
    st.binary(max_size=200).map(lambda b: b"\x93NUMPY\x01\x00" + b),
    st.tuples(st.sampled_from(["<f4", "<f8", "<i2", "|u1", "<c8", "|b1", "<M8[D]", "|S3"]),
              st.lists(st.integers(0, 5), min_size=0, max_size=3), st.integers(0, 64)).map(
        lambda t: npy_bytes(np.zeros(t[1], dtype=t[0]))[:128 + t[2]]),
))
@example(blob=npy_bytes(np.array([[3e38, 1.0], [-3e38, 2.0]], dtype=np.float32)))
@example(blob=npy_bytes(np.full((2, 1), 1e300)))
def test_arbitrary_npy_loads_or_raises_gankit_error(tmp_path, blob):
    try:
        data = load_table(tmp_path, "t.npy", blob)
    except GankitError as e:
        assert "t.npy" in str(e)
        return
    check_loaded(data)


def idx_header(code: int, dims: list[int]) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


@FAST
@given(blob=st.one_of(
    st.binary(max_size=200),
    st.tuples(st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x07]),
              st.lists(st.integers(0, 2**32 - 1) | st.integers(0, 30), min_size=0, max_size=5),
              st.binary(max_size=400)).map(lambda t: idx_header(t[0], t[1]) + t[2]),
), gz=st.booleans())
@example(blob=idx_header(0x0D, [2, 28, 28]) + np.full((2, 28, 28), np.nan, ">f4").tobytes(), gz=False)
@example(blob=idx_header(0x08, [2**32 - 1] * 4), gz=True)
def test_arbitrary_idx_loads_or_raises_gankit_error(tmp_path, blob, gz):
    folder = tmp_path / "mnist"
    folder.mkdir(exist_ok=True)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(blob) if gz else blob)
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(idx_header(0x08, [2]) + b"\x01\x02")
    try:
        data = load_data(DataConfig(name="mnist", path=str(folder), download=False))
    except GankitError as e:
        assert "mnist" in str(e)
        return
    assert torch.isfinite(data.x).all() and data.x.ndim == 4 and len(data) == 2
    assert float(data.x.min()) >= -1 and float(data.x.max()) <= 1  # pixels in the tanh range


@pytest.fixture(scope="module")
def a_checkpoint(tmp_path_factory):
    path = checkpoint.save(tmp_path_factory.mktemp("ck") / "step_00000001",
                           {"w": torch.ones(2, 3), "opt": {0: {"step": torch.tensor(1.0)}}, "n": (1, 2)})
    return json.loads(path.read_text()), path.with_suffix(".safetensors").read_bytes()


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(
        st.sampled_from(["__tensor__", "__dict__", "__tuple__", "w", "opt", "0"]) | st.text(max_size=4), c,
        max_size=3)), max_leaves=10)


@FAST
@given(field=st.sampled_from(["state", "meta", "tensors", "format_version", "sha256", "format"]),
       value=json_values, cut=st.integers(0, 400))
def test_arbitrary_checkpoint_metadata_loads_or_raises_gankit_error(tmp_path, a_checkpoint, field, value, cut):
    doc, blob = a_checkpoint
    (tmp_path / "step_00000001.safetensors").write_bytes(blob)
    text = json.dumps({**doc, field: value})
    p = tmp_path / "step_00000001.json"
    p.write_text(text[:cut] if cut < 50 else text)  # now and then a truncated file
    try:
        state, meta = checkpoint.load(p)
    except GankitError as e:
        assert "step_00000001" in str(e)
        return
    assert isinstance(meta, dict)


@FAST
@given(blob=st.binary(max_size=300), keep_sha=st.booleans())
def test_arbitrary_tensor_files_load_or_raise_gankit_error(tmp_path, a_checkpoint, blob, keep_sha):
    import hashlib

    doc, _ = a_checkpoint
    (tmp_path / "step_00000001.safetensors").write_bytes(blob)
    sha = hashlib.sha256(blob).hexdigest() if keep_sha else doc["sha256"]
    (tmp_path / "step_00000001.json").write_text(json.dumps({**doc, "sha256": sha}))
    with pytest.raises(GankitError):
        checkpoint.load(tmp_path / "step_00000001.json")
