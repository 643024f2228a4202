"""gankit: train, evaluate and use Generative Adversarial Networks.

Public API (imports torch only when first used; :mod:`gankit.api` has the details)::

    import gankit
    run = gankit.train("digits", "train.steps=500")     # -> run folder
    g = gankit.load(run)                                # trained generator
    x = g.sample(1000)                                  # numpy (images) or a DataFrame (tables)
    scores = gankit.evaluate(run)                       # what `gankit eval RUN` prints, as a dict
    gankit.export(run, "onnx", "generator.onnx")        # the generator as a file that runs without gankit
    gankit.augment("mnist-cgan", out="aug", ratio=1, measure=True)   # more labelled data, its gain measured
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "train", "load", "evaluate", "load_config", "list_presets", "summary", "export", "augment"]


def __getattr__(name: str):
    if name in ("train", "load", "evaluate", "load_config", "list_presets", "summary", "export", "augment"):
        from gankit import api

        return getattr(api, name)
    raise AttributeError(f"module 'gankit' has no attribute {name!r}")
