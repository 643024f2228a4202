"""gankit: train, evaluate and use Generative Adversarial Networks.

Public API (imports torch only when first used)::

    import gankit
    run = gankit.train("digits", "train.steps=500")     # -> run folder
    g = gankit.load(run)                                # trained generator
    x = g.sample(1000)                                  # numpy, in the data's own space
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "train", "load", "load_config", "list_presets", "summary"]


def load_config(source=None, *overrides: str):
    """A validated :class:`gankit.config.Config` from a preset name or YAML file plus overrides."""
    from gankit.config import load

    return load(source, list(overrides))


def train(source=None, *overrides: str, out=None, resume=None, quiet: bool = False):
    """Train from a preset name, YAML path or Config; returns the run folder (a Path)."""
    from gankit.config import Config, apply_overrides, validate
    from gankit.run.folder import load_run_config
    from gankit.runner import train as _train

    if resume is not None:
        cfg = validate(apply_overrides(load_run_config(resume), list(overrides)))
    elif isinstance(source, Config):
        cfg = validate(apply_overrides(source, list(overrides)))
    else:
        cfg = load_config(source, *overrides)
    return _train(cfg, out, resume=resume, quiet=quiet)


def load(run, device: str = "cpu"):
    """Load the trained generator of a run folder: ``gankit.load(run).sample(n)``."""
    from gankit.sampling import load as _load

    return _load(run, device)


def list_presets() -> list[str]:
    from gankit.presets import PRESETS

    return list(PRESETS)


def summary(source=None, *overrides: str) -> str:
    """Keras-style tables for G, D and the combined model of a preset, YAML file or run folder."""
    from gankit.cli import summary_text

    return summary_text(source, list(overrides))
