"""Use a trained model on its own: load a run folder's exported model, save its samples.

``load(run)`` reads ``generator.json`` (+ ``.safetensors``) and hands it to the task that wrote it
(``"task"`` in the JSON; gankit 0.1.0's files, which predate tasks, are the noise task's).
``save_samples`` writes samples in the form ``--out`` asks for, through the data's modality.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gankit import checkpoint
from gankit.errors import GankitError
from gankit.run.folder import CONFIG, MODEL


def load(run: str | Path, device: str = "cpu"):
    """Load the final model of a run folder (or a ``generator.json`` path)."""
    p = Path(run)
    if not p.exists():
        raise GankitError(f"{p}: no such run folder")
    json_path = p / f"{MODEL}.json" if p.is_dir() else p
    if p.is_dir() and not json_path.exists():
        if (p / CONFIG).exists():
            raise GankitError(f"{p}: the run has no final generator yet (unfinished?); resume it with "
                              f"gankit train --resume {p}")
        raise GankitError(f"{p}: not a gankit run folder (no {MODEL}.json)")
    state, meta = checkpoint.load(json_path)
    from gankit.tasks import get_task

    return get_task(meta.get("task", "noise")).load_trained(state, meta, str(json_path), device)


def save_samples(x: np.ndarray, kind: str, out: str | Path, columns: list[str] | None = None,
                 nrow: int | None = None, labels: list[str] | None = None, label_name: str = "label") -> Path:
    """Write samples by the output's form (.npy, .png, .csv, folder/: what the modality offers).

    ``labels`` (class names, one per sample, from a conditional run) become a last .csv column.
    """
    from gankit.modalities import get_modality

    try:
        return get_modality(kind).save(x, Path(out), columns=columns, labels=labels, label_name=label_name,
                                       nrow=nrow)
    except OSError as e:
        raise GankitError(f"cannot write {out} ({e.strerror})") from None
