"""Checkpoints: plain tensors in safetensors, everything else in a JSON sidecar. Never pickle.

A checkpoint ``NAME`` is two files: ``NAME.safetensors`` (tensors only) and ``NAME.json``
(metadata, including the sha256 of the tensor file). Both are written to a temporary file,
flushed to disk and renamed into place, tensors first: the JSON is the commit marker, so a crash
mid-write leaves the previous checkpoint whole, and a damaged tensor file is caught by its checksum.

Nested state (model and optimiser state dicts, RNG states) is flattened to ``a/b/c`` keys:
tensors go to safetensors, JSON-able leaves to the sidecar.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
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


# ----------------------------------------------------------------------------- nested <-> flat


def flatten(tree: Any, prefix: str = "") -> tuple[dict[str, torch.Tensor], Any]:
    """Split a nested dict/list of tensors and plain values into (flat tensors, JSON skeleton).

    In the skeleton each tensor is replaced by ``{"__tensor__": key}``.
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


# ----------------------------------------------------------------------------- atomic files


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
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


def save(stem: str | Path, state: dict, meta: dict | None = None) -> Path:
    """Save nested ``state`` as ``stem.safetensors`` + ``stem.json``; returns the JSON path."""
    stem = Path(stem)
    tensors, skeleton = flatten(state)
    for k, t in tensors.items():
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise GankitError(f"refusing to write checkpoint {stem.name}: tensor {k} is not finite")
    blob = st_save(tensors) if tensors else st_save({"__empty__": torch.zeros(0)})
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "tensors": stem.name + ".safetensors",
        "meta": meta or {},
        "state": skeleton,
    }
    atomic_write(stem.with_suffix(".safetensors"), blob)
    json_path = stem.with_suffix(".json")
    atomic_write(json_path, json.dumps(doc, indent=1).encode())
    return json_path


def read_meta(json_path: str | Path) -> dict:
    p = Path(json_path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GankitError(f"{p}: no such checkpoint") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise GankitError(f"{p}: damaged checkpoint metadata ({e}); use an earlier checkpoint") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise GankitError(f"{p}: not a gankit checkpoint")
    version = doc.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise GankitError(
            f"{p}: checkpoint format {version} is from a newer gankit (this one reads "
            f"{FORMAT_VERSION}); upgrade gankit"
        )
    return doc


def load(json_path: str | Path) -> tuple[dict, dict]:
    """Load a checkpoint written by :func:`save`; returns (state, meta). Verifies the checksum."""
    p = Path(json_path)
    if p.suffix == ".safetensors":
        p = p.with_suffix(".json")
    doc = read_meta(p)
    tpath = p.parent / str(doc.get("tensors", ""))
    try:
        blob = tpath.read_bytes()
    except OSError as e:
        raise GankitError(f"{tpath}: cannot read checkpoint tensors ({e.strerror})") from None
    if hashlib.sha256(blob).hexdigest() != doc.get("sha256"):
        raise GankitError(f"{tpath}: checksum mismatch, the file is damaged; use an earlier checkpoint")
    try:
        tensors = st_load(blob)
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise GankitError(f"{tpath}: not a valid safetensors file ({e})") from None
    try:
        state = unflatten(doc["state"], tensors)
    except (KeyError, TypeError, ValueError) as e:
        raise GankitError(f"{p}: metadata does not match its tensors ({e})") from None
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
