"""Resuming a run folder: the newest intact checkpoint, the config check, and old layouts read anew.

``gankit train --resume RUN`` continues from the newest checkpoint that loads (a damaged newer one is
skipped and kept aside as ``*.damaged``). A run killed before its first checkpoint starts again from
step 0, and says so. The config may change what does not shape the networks or the data (learning
rates, steps, logging, ``data.path``: a moved data set); a change of anything else is refused with
the key that changed (``gankit.config.locked_changes``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from gankit import checkpoint
from gankit.errors import GankitError, arg
from gankit.run.folder import CHECKPOINTS, CONFIG


def find_resume_point(run_dir: Path) -> tuple[Path, dict, dict, list[Path]] | None:
    """(newest intact checkpoint, its state, its meta, newer damaged checkpoints it skipped), or None
    when the run has no checkpoint at all (killed before its first)."""
    if not run_dir.is_dir():
        raise GankitError(f"{arg('resume', run_dir)}: no such run folder")
    if not (run_dir / CONFIG).exists():
        raise GankitError(f"{arg('resume', run_dir)}: not a gankit run folder (no {CONFIG})")
    damaged: list[tuple[Path, str]] = []
    for p in reversed(checkpoint.checkpoints_in(run_dir / CHECKPOINTS)):
        try:
            state, meta = checkpoint.load(p)
        except checkpoint.CheckpointTooNew:
            raise
        except GankitError as e:
            damaged.append((p, str(e)))
            continue
        for q, why in damaged:
            print(f"gankit: warning: skipping damaged checkpoint ({why})", file=sys.stderr)
        return p, upgrade(state, meta), meta, [q for q, _ in damaged]
    if damaged:
        raise GankitError(f"{run_dir}: no usable checkpoint to resume from ({len(damaged)} damaged; newest: "
                          f"{damaged[0][1]}); start a new run instead")
    return None


def check_config_unchanged(cfg, meta: dict, source: Path) -> None:
    """Refuse a resume whose config changes the networks or data the checkpoint was made with."""
    from gankit.config import locked_changes

    saved = meta.get("config")
    if not isinstance(saved, dict):
        return
    for key, a, b in locked_changes(saved, cfg)[:1]:
        raise GankitError(f"{source}: was made with {key}={a!r} but the config now says {b!r}; "
                          f"resume with the run's own {key} (or start a new run)")


def upgrade(state: dict, meta: dict) -> dict:
    """A checkpoint of gankit 0.1.0's layout (one ``trainer`` entry; health in the meta) in today's.

    Today's: ``train`` (networks, optimisers, moving averages, scalers, task state, counters, data
    order, RNGs), ``acc`` and ``callbacks``. Only the noise task existed before, so names map 1:1.
    """
    if "trainer" not in state:
        return state
    t = state["trainer"]
    train = {"nets": {"G": t["G"], "D": t["D"]}, "opts": {"G": t["opt_g"], "D": t["opt_d"]},
             "emas": {"G": t["G_ema"]} if "G_ema" in t else {},
             "task": {"noise": t["noise"]} if "noise" in t else {},
             "step": t["step"], "updates": {"D": t["d_steps"], "G": t["step"]},
             "batches": t["batches"], "rng": t["rng"]}
    if "scaler_g" in t:
        train["scalers"] = {"G": t["scaler_g"], "D": t["scaler_d"]}
    callbacks = {}
    if meta.get("health") is not None:
        callbacks["health"] = meta["health"]
    if state.get("eval") is not None:
        callbacks["eval"] = state["eval"]
    return {"train": train, "acc": state["acc"], "callbacks": callbacks}
