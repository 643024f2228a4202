"""Checkpoint files: exact round trip, atomic writes, checksums, refusal of damaged or foreign files."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time

import pytest
import torch

from gankit import checkpoint
from gankit.errors import GankitError


def nested_state() -> dict:
    """Everything a training checkpoint holds: tensors of several dtypes, tuples, int keys, None."""
    g = torch.Generator().manual_seed(3)
    return {
        "model": {"w": torch.randn(3, 4, generator=g), "b": torch.zeros(4, dtype=torch.float64)},
        "opt": {"state": {0: {"step": torch.tensor(5.0), "exp_avg": torch.randn(3, generator=g)}},
                "param_groups": [{"lr": 2e-4, "betas": (0.5, 0.999), "params": [0], "fused": None}]},
        "rng": g.get_state(),
        "ints": torch.arange(5, dtype=torch.int64),
        "flag": True, "name": "x", "nothing": None, "epoch": 7, "pair": (1, [2.5, "a"]),
    }


def assert_equal(a, b) -> None:
    assert type(a) is type(b)
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_equal(x, y)
    else:
        assert a == b


def test_round_trip_is_exact(tmp_path):
    state = nested_state()
    path = checkpoint.save(tmp_path / "step_00000001", state, {"step": 1})
    loaded, meta = checkpoint.load(path)
    assert_equal(loaded, state)
    assert meta == {"step": 1}
    assert checkpoint.load(tmp_path / "step_00000001.safetensors")[1] == meta  # either file names it


def test_files_get_normal_permissions(tmp_path):
    path = checkpoint.save(tmp_path / "c", nested_state())
    mask = os.umask(0)
    os.umask(mask)
    for p in (path, path.with_suffix(".safetensors")):
        assert p.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's owner-only 0600


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "run.json"
    checkpoint.atomic_write(target, b"old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        checkpoint.atomic_write(target, b"new contents")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("victim", ["safetensors", "json"])
def test_sigkill_mid_write_keeps_the_previous_checkpoint(tmp_path, victim):
    """A real SIGKILL halfway through rewriting a checkpoint: the old one still loads, whole."""
    stem = tmp_path / "step_00000005"
    old = nested_state()
    checkpoint.save(stem, old, {"step": 5})
    new = {**old, "model": {"w": old["model"]["w"] + 1, "b": old["model"]["b"]}}
    pid = os.fork()
    if pid == 0:  # the child dies inside atomic_write, as in a power cut
        os.environ[checkpoint.CRASH_ENV] = f"mid-write:{stem.name}.{victim}"
        try:
            checkpoint.save(stem, new, {"step": 6})
        finally:
            os._exit(3)  # reached only if the crash hook did not fire
    for _ in range(3000):  # never hang the suite: give the child 30 s
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the child did not finish")
    assert os.waitstatus_to_exitcode(status) == -signal.SIGKILL
    temps = list(tmp_path.glob(".*.tmp"))
    assert len(temps) == 1  # the half-written file never replaced the real one
    if victim == "safetensors":
        loaded, meta = checkpoint.load(stem.with_suffix(".json"))
        assert_equal(loaded, old) and meta == {"step": 5}
    else:  # new tensors are in place but the commit marker (JSON) is old: refused, never mixed
        with pytest.raises(GankitError, match="checksum mismatch"):
            checkpoint.load(stem.with_suffix(".json"))
    checkpoint.clean_temp(tmp_path)
    assert not list(tmp_path.glob(".*.tmp"))


def test_checksum_detects_a_flipped_bit(tmp_path):
    path = checkpoint.save(tmp_path / "c", nested_state())
    t = path.with_suffix(".safetensors")
    blob = bytearray(t.read_bytes())
    blob[-3] ^= 0x01
    t.write_bytes(bytes(blob))
    with pytest.raises(GankitError, match=r"c\.safetensors: checksum mismatch.*use an earlier checkpoint"):
        checkpoint.load(path)


def test_truncated_tensors_with_a_matching_checksum_are_refused(tmp_path):
    path = checkpoint.save(tmp_path / "c", nested_state())
    t = path.with_suffix(".safetensors")
    blob = t.read_bytes()[:40]
    t.write_bytes(blob)
    doc = json.loads(path.read_text())
    doc["sha256"] = hashlib.sha256(blob).hexdigest()
    path.write_text(json.dumps(doc))
    with pytest.raises(GankitError, match="not a valid safetensors file"):
        checkpoint.load(path)


@pytest.mark.parametrize("damage, message", [
    (lambda d: "{not json", "damaged checkpoint metadata"),
    (lambda d: json.dumps({**d, "format": "other"}), "not a gankit checkpoint"),
    (lambda d: json.dumps({**d, "format_version": "1"}), "damaged checkpoint metadata"),
    (lambda d: json.dumps({**d, "tensors": "../../secret.safetensors"}), "must name a .safetensors file beside it"),
    (lambda d: json.dumps({**d, "state": {"__tensor__": "missing"}}), "metadata does not match its tensors"),
    (lambda d: json.dumps({**d, "state": {"__dict__": [[1, 2, 3]]}}), "metadata does not match its tensors"),
    (lambda d: "[" * 100_000 + "]" * 100_000, "damaged checkpoint metadata"),
    (lambda d: json.dumps({**d, "meta": [1]}), "\"meta\" is not a mapping"),
])
def test_damaged_metadata_gives_one_clear_error(tmp_path, damage, message):
    path = checkpoint.save(tmp_path / "c", nested_state())
    path.write_text(damage(json.loads(path.read_text())))
    with pytest.raises(GankitError, match=message) as e:
        checkpoint.load(path)
    assert str(path) in str(e.value) or "c.safetensors" in str(e.value)
    assert "\n" not in str(e.value)


def test_a_checkpoint_from_a_newer_gankit_is_refused_not_skipped(tmp_path):
    path = checkpoint.save(tmp_path / "c", nested_state())
    path.write_text(json.dumps({**json.loads(path.read_text()), "format_version": checkpoint.FORMAT_VERSION + 1}))
    with pytest.raises(checkpoint.CheckpointTooNew, match="newer gankit.*upgrade gankit"):
        checkpoint.load(path)


def test_non_finite_state_is_never_written(tmp_path):
    state = nested_state()
    state["model"]["w"][1, 2] = float("nan")
    with pytest.raises(GankitError, match="model/w is not finite"):
        checkpoint.save(tmp_path / "c", state)
    assert list(tmp_path.iterdir()) == []


def test_snapshot_does_not_alias_what_is_loaded_from_it():
    state = nested_state()
    snap = checkpoint.Snapshot.of(state)
    state["model"]["w"].add_(1)  # training goes on after the snapshot
    restored = snap.state()
    restored["opt"]["state"][0]["exp_avg"].mul_(0)  # an optimiser updating the restored state in place
    assert not torch.equal(snap.tensors["model/w"], state["model"]["w"])
    assert snap.tensors["opt/state/0/exp_avg"].abs().sum() > 0
    assert checkpoint.first_nonfinite(snap.tensors) is None


def test_quarantine_and_listing(tmp_path):
    for step in (3, 12, 6):
        checkpoint.save(tmp_path / f"step_{step:08d}", {"x": torch.ones(1)})
    assert [p.name for p in checkpoint.checkpoints_in(tmp_path)] == [
        "step_00000003.json", "step_00000006.json", "step_00000012.json"]
    checkpoint.quarantine(tmp_path / "step_00000012.json")
    assert [p.stem for p in checkpoint.checkpoints_in(tmp_path)] == ["step_00000003", "step_00000006"]
    assert (tmp_path / "step_00000012.safetensors.damaged").exists()
    checkpoint.remove(tmp_path / "step_00000003.json")
    assert [p.stem for p in checkpoint.checkpoints_in(tmp_path)] == ["step_00000006"]
    assert checkpoint.checkpoints_in(tmp_path / "nope") == []


def test_a_header_length_that_looks_like_pickle_still_loads(tmp_path):
    """safetensors starts with its header length: 640 bytes is b"\\x80\\x02...", pickle's magic."""
    state = {"a" * 580: torch.zeros(1)}
    path = checkpoint.save(tmp_path / "c", state)
    assert path.with_suffix(".safetensors").read_bytes()[:2] == b"\x80\x02"
    assert_equal(checkpoint.load(path)[0], state)
