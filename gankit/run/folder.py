"""Reading a run folder back (its layout is written by :mod:`gankit.runner`)."""

from __future__ import annotations

from pathlib import Path

from gankit.config import Config
from gankit.errors import GankitError


def load_run_config(run_dir: str | Path) -> Config:
    from gankit.config import from_dict, read_yaml

    p = Path(run_dir) / "config.yaml"
    if not p.exists():
        raise GankitError(f"{run_dir}: not a gankit run folder (no config.yaml)")
    return from_dict(read_yaml(p), source=str(p))
