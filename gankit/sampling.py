"""Use a trained model on its own: load a run folder's exported model, save its samples.

``load(run)`` reads ``generator.json`` (+ ``.safetensors``) and hands it to the task that wrote it
(``"task"`` in the JSON; gankit 0.1.0's files, which predate tasks, are the noise task's).
``load(run, checkpoint="latest")`` uses a training checkpoint instead: each one carries what the
task's export would be at its step (``meta["model"]``), so a run that is still training, or was
stopped, can be sampled without its data or a second training process.
``save_samples`` writes samples in the form ``--out`` asks for, through the data's modality.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gankit import checkpoint as ckpt
from gankit.errors import GankitError, resume_hint, wording
from gankit.run.folder import CHECKPOINTS, CONFIG, MODEL, RunFolder


def load(run: str | Path, device: str = "cpu", checkpoint: str | int | None = None):
    """Load the final model of a run folder (or a ``generator.json`` path); with ``checkpoint``
    ("latest", a step or a checkpoint file), the model as it stood at that training checkpoint."""
    p = Path(run)
    if not p.exists():
        raise GankitError(f"{p}: no such run folder")
    if checkpoint is not None:
        return _from_checkpoints(_checkpoint_paths(p, checkpoint), device)
    json_path = p / f"{MODEL}.json" if p.is_dir() else p
    if p.is_dir() and not json_path.exists():
        raise GankitError(_no_model_yet(p))
    state, meta = ckpt.load(json_path)
    if isinstance(meta.get("model"), dict) and "train" in state:  # a training checkpoint given as the run
        return _trained_from_checkpoint(state, meta, json_path, device)
    from gankit.tasks import get_task

    return get_task(meta.get("task", "noise")).load_trained(state, meta, str(json_path), device)


def _no_model_yet(p: Path) -> str:
    """Why a run folder has no final model, and what to do: wait or sample a checkpoint while it
    trains (resuming would start a second process on a live run); resume once it has stopped."""
    if not (p / CONFIG).exists():
        return f"{p}: not a gankit run folder (no {MODEL}.json)"
    status = RunFolder(p).read_info().get("status")
    has_ckpt = bool(ckpt.checkpoints_in(p / CHECKPOINTS))
    latest = wording(f"gankit sample {p} --checkpoint latest", f"gankit.load({str(p)!r}, checkpoint='latest')")
    if status == "running":
        now = f"sample its newest checkpoint with {latest}" if has_ckpt else "it has no checkpoint yet either"
        return (f"{p}: the run is still training (no final generator yet); {now}, or wait for it to finish "
                f"(if its process was killed, continue it with {resume_hint(p)})")
    what = {"interrupted": "was interrupted", "failed": "failed"}.get(status, "stopped")
    also = f", or sample its newest checkpoint with {latest}" if has_ckpt else ""
    return f"{p}: the run {what} and has no final generator; continue it with {resume_hint(p)}{also}"


def _checkpoint_paths(run: Path, which: str | int) -> list[Path]:
    """The checkpoint files ``which`` names, newest first ("latest": all of the run's, to skip a
    damaged or just-pruned newest one)."""
    folder = run / CHECKPOINTS if run.is_dir() else run.parent
    which = str(which)
    if which == "latest":
        found = ckpt.checkpoints_in(folder)
        if not found:
            raise GankitError(f"{run}: no checkpoint yet (one is written every log.checkpoint_every steps)")
        return found[::-1]
    if which.isdigit():
        path = folder / f"step_{int(which):08d}.json"
        if not path.exists():
            steps = [int(q.stem[5:]) for q in ckpt.checkpoints_in(folder) if q.stem[5:].isdigit()]
            raise GankitError(f"{run}: no checkpoint of step {int(which)}; it has steps "
                              f"{', '.join(map(str, steps)) or 'none yet'} (or use latest)")
        return [path]
    path = Path(which)
    return [path if path.exists() or not (folder / path).exists() else folder / path]


def _from_checkpoints(paths: list[Path], device: str):
    error = None
    for path in paths:
        try:
            state, meta = ckpt.load(path)
        except ckpt.CheckpointTooNew:
            raise
        except GankitError as e:  # damaged, or pruned by the live run as we read it: try an older one
            error = error or e
            continue
        return _trained_from_checkpoint(state, meta, path, device)
    raise error


def _trained_from_checkpoint(state: dict, meta: dict, path: Path, device: str):
    from gankit.run.resume import upgrade
    from gankit.tasks import get_task

    model = meta.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("meta"), dict):
        raise GankitError(f"{path}: this checkpoint does not describe its model (written by an older gankit); "
                          f"sample the run's final generator once it has finished")
    try:
        train = upgrade(state, meta)["train"]
        task = get_task(model["meta"].get("task", "noise"))
        return task.trained_from_checkpoint(train, model, str(path), device)
    except (KeyError, TypeError) as e:
        raise GankitError(f"{path}: damaged checkpoint ({type(e).__name__}: {e}); use an earlier one") from None


def save_samples(x: np.ndarray, kind: str, out: str | Path, columns: list[str] | None = None,
                 nrow: int | None = None, labels: list[str] | None = None, label_name: str = "label",
                 label_position: int | None = None) -> Path:
    """Write samples by the output's form (.npy, .png, .csv, folder/: what the modality offers).

    ``labels`` (class names, one per sample, from a conditional run) become a .csv column at
    ``label_position`` (None: the last).
    """
    from gankit.modalities import get_modality

    try:
        extra = {"label_position": label_position} if label_position is not None else {}
        return get_modality(kind).save(x, Path(out), columns=columns, labels=labels, label_name=label_name,
                                       nrow=nrow, **extra)
    except OSError as e:
        raise GankitError(f"cannot write {out} ({e.strerror})") from None
