"""Checkpoints: plain tensors in safetensors, everything else in a JSON sidecar. Never pickle.

A checkpoint ``NAME`` is two files: ``NAME.safetensors`` (tensors only) and ``NAME.json``
(metadata, including the sha256 of the tensor file). Both are written to a temporary file,
flushed to disk and renamed into place, tensors first: the JSON is the commit marker, so a crash
mid-write leaves the previous checkpoint whole, and a damaged tensor file is caught by its checksum.

Nested state (model and optimiser state dicts, RNG states) is flattened to ``a/b/c`` keys:
tensors go to safetensors, JSON-able leaves to the sidecar.

Loading never unpickles: ``torch.load`` / ``pickle`` can run arbitrary code hidden in a file
(the reason safetensors exists), so pickled ``.pt``/``.pth``/``.ckpt`` files are refused by name
and by content, and a checkpoint's metadata may only name a tensor file beside it.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from gankit.errors import GankitError

FORMAT = "gankit-checkpoint"
FORMAT_VERSION = 1
SEP = "/"

#: Fault injection for the crash tests only: ``GANKIT_TEST_CRASH=mid-write:NAME`` SIGKILLs the
#: process halfway through writing file NAME, as a power cut would. Unset in normal use.
CRASH_ENV = "GANKIT_TEST_CRASH"

_PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b"PK\x03\x04")
_PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".bin")


class CheckpointTooNew(GankitError):
    """A checkpoint written by a newer gankit: refused, never skipped as if it were damaged."""


# ----------------------------------------------------------------------------- nested <-> flat


def flatten(tree: Any, prefix: str = "") -> tuple[dict[str, torch.Tensor], Any]:
    """Split a nested dict/list of tensors and plain values into (flat tensors, JSON skeleton).

    In the skeleton each tensor is replaced by ``{"__tensor__": key}``. Tensors are copied to the
    CPU, so the result is a snapshot that later training steps do not change.
    """
    tensors: dict[str, torch.Tensor] = {}

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, torch.Tensor):
            tensors[path] = node.detach().cpu().contiguous().clone()
            return {"__tensor__": path}
        if isinstance(node, dict):
            return {"__dict__": [[_key(k), walk(v, f"{path}{SEP}{k}" if path else str(k))] for k, v in node.items()]}
        if isinstance(node, (list, tuple)):
            out = [walk(v, f"{path}{SEP}{i}" if path else str(i)) for i, v in enumerate(node)]
            return {"__tuple__": out} if isinstance(node, tuple) else out
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        raise TypeError(f"cannot store {type(node).__name__} at {path!r} in a checkpoint")

    return tensors, walk(tree, prefix)


def _key(k: Any) -> Any:
    if isinstance(k, (str, int)) and not isinstance(k, bool):
        return k
    raise TypeError(f"checkpoint dict keys must be str or int, got {k!r}")


def unflatten(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Inverse of :func:`flatten`. Raises KeyError/TypeError/ValueError on a malformed skeleton."""
    if isinstance(skeleton, dict):
        if "__tensor__" in skeleton:
            return tensors[skeleton["__tensor__"]]
        if "__dict__" in skeleton:
            return {k: unflatten(v, tensors) for k, v in skeleton["__dict__"]}
        if "__tuple__" in skeleton:
            return tuple(unflatten(v, tensors) for v in skeleton["__tuple__"])
        return {k: unflatten(v, tensors) for k, v in skeleton.items()}
    if isinstance(skeleton, list):
        return [unflatten(v, tensors) for v in skeleton]
    return skeleton


def first_nonfinite(tensors: dict[str, torch.Tensor]) -> str | None:
    """Key of the first floating-point tensor holding NaN or Inf, else None."""
    for k, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            return k
    return None


@dataclass
class Snapshot:
    """Flattened CPU copy of nested training state: what a checkpoint file holds, kept in memory.

    The divergence guard rolls back to one without reading the disk; :func:`save` writes one.
    """

    tensors: dict[str, torch.Tensor]
    skeleton: Any

    @classmethod
    def of(cls, state: dict) -> "Snapshot":
        return cls(*flatten(state))

    def plus(self, key: str, tree: Any) -> "Snapshot":
        """This snapshot with one more top-level entry ``key`` (a snapshot of a dict)."""
        tensors, skeleton = flatten(tree, key)
        return Snapshot({**self.tensors, **tensors}, {"__dict__": [*self.skeleton["__dict__"], [key, skeleton]]})

    def state(self) -> dict:
        """The nested state with fresh tensor copies: loading it must not alias the snapshot
        (``Optimizer.load_state_dict`` keeps CPU tensors as they are, and updates them in place)."""
        return unflatten(self.skeleton, {k: t.clone() for k, t in self.tensors.items()})


# ----------------------------------------------------------------------------- atomic files


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: files get the permissions ``open()`` would give them (mkstemp alone makes them owner-only)
_FILE_MODE = 0o666 & ~_umask()


def _crash_here(point: str) -> None:
    if os.environ.get(CRASH_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # POSIX
            os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            half = len(data) // 2
            f.write(data[:half])
            if os.environ.get(CRASH_ENV):
                f.flush()
                _crash_here(f"mid-write:{path.name}")
            f.write(data[half:])
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def clean_temp(folder: Path) -> None:
    """Delete temporary files that a killed :func:`atomic_write` left in ``folder``."""
    for p in Path(folder).glob(".*.tmp"):
        try:
            p.unlink()
        except OSError:
            pass


# ----------------------------------------------------------------------------- save / load


def save(stem: str | Path, state: dict | Snapshot, meta: dict | None = None) -> Path:
    """Save nested ``state`` as ``stem.safetensors`` + ``stem.json``; returns the JSON path.

    Refuses (GankitError) to write a checkpoint holding NaN or Inf: a diverged state is never
    the one a resume starts from.
    """
    stem = Path(stem)
    snap = state if isinstance(state, Snapshot) else Snapshot.of(state)
    bad = first_nonfinite(snap.tensors)
    if bad is not None:
        raise GankitError(f"refusing to write checkpoint {stem.name}: tensor {bad} is not finite")
    tensors = snap.tensors or {"__empty__": torch.zeros(0)}
    blob = st_save(tensors)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "tensors": stem.name + ".safetensors",
        "meta": meta or {},
        "state": snap.skeleton,
    }
    atomic_write(stem.with_suffix(".safetensors"), blob)
    json_path = stem.with_suffix(".json")
    atomic_write(json_path, json.dumps(doc, indent=1).encode())
    return json_path


def _refuse_pickle(p: Path, head: bytes) -> None:
    if p.suffix.lower() in _PICKLE_SUFFIXES or head.startswith(_PICKLE_MAGIC):
        raise GankitError(f"{p}: a pickled (torch.save) file, which gankit never loads because "
                          f"unpickling can run code; give a gankit checkpoint (NAME.json + NAME.safetensors)")


def read_meta(json_path: str | Path) -> dict:
    """The checkpoint's JSON document, checked for format and version (tensors not read)."""
    p = Path(json_path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise GankitError(f"{p}: no such checkpoint") from None
    except IsADirectoryError:
        raise GankitError(f"{p}: is a folder, not a checkpoint file") from None
    except OSError as e:
        raise GankitError(f"{p}: cannot read checkpoint ({e.strerror})") from None
    _refuse_pickle(p, raw[:4])
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise GankitError(f"{p}: damaged checkpoint metadata ({type(e).__name__}); use an earlier checkpoint") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise GankitError(f"{p}: not a gankit checkpoint (no \"format\": \"{FORMAT}\")")
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise GankitError(f"{p}: damaged checkpoint metadata (format_version {version!r})")
    if version > FORMAT_VERSION:
        raise CheckpointTooNew(
            f"{p}: checkpoint format {version} is from a newer gankit (this one reads "
            f"{FORMAT_VERSION}); upgrade gankit"
        )
    name = doc.get("tensors")
    if not isinstance(name, str) or Path(name).name != name or not name.endswith(".safetensors"):
        raise GankitError(f"{p}: damaged checkpoint metadata (\"tensors\" must name a .safetensors "
                          f"file beside it, got {name!r})")
    if not isinstance(doc.get("meta", {}), dict):
        raise GankitError(f"{p}: damaged checkpoint metadata (\"meta\" is not a mapping)")
    return doc


def load(json_path: str | Path) -> tuple[dict, dict]:
    """Load a checkpoint written by :func:`save`; returns (state, meta). Verifies the checksum."""
    p = Path(json_path)
    if p.suffix == ".safetensors":
        p = p.with_suffix(".json")
    _refuse_pickle(p, b"")
    doc = read_meta(p)
    tpath = p.parent / doc["tensors"]
    try:
        blob = tpath.read_bytes()
    except OSError as e:
        raise GankitError(f"{tpath}: cannot read checkpoint tensors ({e.strerror}); use an earlier checkpoint") from None
    # a safetensors file starts with its header length (8 bytes, little-endian), which can look like
    # pickle's b"\x80\x02" (a 640-byte header), then its JSON header "{": only sniff without the "{"
    _refuse_pickle(tpath, blob[:4] if blob[8:9] != b"{" else b"")
    if hashlib.sha256(blob).hexdigest() != doc.get("sha256"):
        raise GankitError(f"{tpath}: checksum mismatch, the file is damaged; use an earlier checkpoint")
    try:
        tensors = st_load(blob)
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise GankitError(f"{tpath}: not a valid safetensors file ({e})") from None
    try:
        state = unflatten(doc.get("state"), tensors)
    except (KeyError, TypeError, ValueError, RecursionError) as e:
        raise GankitError(f"{p}: metadata does not match its tensors ({type(e).__name__}: {e})") from None
    return state, doc.get("meta", {})


def checkpoints_in(folder: str | Path) -> list[Path]:
    """Checkpoint JSON files ``step_XXXXXXXX.json`` in ``folder``, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("step_*.json"))


def remove(json_path: Path) -> None:
    for p in (json_path, json_path.with_suffix(".safetensors")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def quarantine(json_path: Path) -> None:
    """Rename a damaged checkpoint to ``*.damaged``: kept for inspection, but never loaded again,
    and never counted among the checkpoints that pruning keeps."""
    for p in (json_path, json_path.with_suffix(".safetensors")):
        if p.exists():
            os.replace(p, p.with_name(p.name + ".damaged"))
