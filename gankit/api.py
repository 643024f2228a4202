"""The library's face: train, load, evaluate and inspect GANs from Python (the CLI calls only this).

    import gankit
    run = gankit.train("digits", "train.steps=500")          # -> the run folder (a Path)
    run = gankit.train("digits", {"train.steps": 500})       # overrides as a dict
    g = gankit.load(run)                                     # the trained generator
    x = g.sample(1000, seed=0)                               # numpy, in the data's own space
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

Overrides = Sequence[str] | Mapping[str, object]


def _as_list(overrides) -> list[str]:
    """``("a=1", "b=2")``, ``["a=1"]`` or ``{"a": 1}`` -> ["a=1", ...] (dict values written as YAML)."""
    out: list[str] = []
    for item in overrides:
        if isinstance(item, Mapping):
            import yaml

            for k, v in item.items():
                text = v if isinstance(v, str) else yaml.safe_dump(v, default_flow_style=True).strip()
                out.append(f"{k}={text.removesuffix(chr(10) + '...').strip()}")
        elif isinstance(item, (list, tuple)):
            out += _as_list(item)
        else:
            out.append(str(item))
    return out


def load_config(source=None, *overrides):
    """A validated :class:`gankit.config.Config` from a preset name or YAML file plus overrides."""
    from gankit.config import load

    return load(source, _as_list(overrides))


def resolve_config(source=None, overrides=(), resume=None):
    """The config ``train`` would use: a run's own (``resume``), a Config, a preset or a YAML file."""
    from gankit.config import Config, apply_overrides, validate
    from gankit.errors import GankitError
    from gankit.presets import DEFAULT_PRESET
    from gankit.run.folder import load_run_config

    overrides = _as_list(overrides)
    if isinstance(source, Config):
        return validate(apply_overrides(source, overrides))
    if resume is not None:
        cfg = load_run_config(resume)
        if source is not None and source != cfg.preset:  # naming the run's own preset changes nothing
            raise GankitError(f"resuming {resume} continues the run with its own config (preset {cfg.preset}); "
                              f"give no preset or config file, only key=value overrides")
        return validate(apply_overrides(cfg, overrides))
    return load_config(source or DEFAULT_PRESET, overrides)


def train(source=None, *overrides, out=None, resume=None, quiet: bool = False) -> Path:
    """Train from a preset name, YAML path or Config with ``key=value`` overrides; returns the run folder.

    ``resume=RUN`` continues a run folder from its newest checkpoint (overrides may change what does
    not shape the networks or the data). Errors are :class:`gankit.errors.GankitError` with a message
    that says what to change.
    """
    from gankit.run.session import train as _train

    cfg = resolve_config(source, overrides, resume)
    return _train(cfg, out, resume=resume, quiet=quiet)


def load(run, device: str = "cpu"):
    """Load the trained model of a run folder: ``gankit.load(run).sample(n, seed=None, label=None)``."""
    from gankit.sampling import load as _load

    return _load(run, device)


def list_presets() -> list[str]:
    from gankit.presets import PRESETS

    return list(PRESETS)


def summary(source=None, *overrides) -> str:
    """Keras-style tables for G, D and the combined model of a preset, YAML file or run folder."""
    from gankit.tasks import get_task

    if source is not None and Path(str(source)).is_dir():
        cfg = resolve_config(None, overrides, resume=source)
    else:
        cfg = resolve_config(source, overrides)
    return get_task(cfg.task).summarize(cfg)
