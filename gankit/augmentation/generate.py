"""Synthetic items per class from a run's class-conditional generator, optionally filtered.

* The generator: the run's sampling copy — the moving average of G's weights when the run kept one
  (``ema.decay``; Yazici et al. 2019 show it gives better samples), else G itself; ``ema=False``
  takes G's own weights from the run's final checkpoint, to measure what the average is worth.
* Images are quantised to 8 bits as they are written (PNG), so the items measured are the items
  written.
* The confidence filter keeps a synthetic item only when a classifier trained on the *real training
  split* gives its intended class at least probability ``t`` (the filtering of Ravuri & Vinyals 2019
  and of "Synthetic data from diffusion models improves ImageNet classification", Azizi et al. 2023);
  items are drawn in rounds until each class has its count or 20 times its count was drawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from gankit.augmentation.sets import Split
from gankit.errors import GankitError

#: the confidence filter gives up on a class after drawing this many times its count
MAX_DRAWN = 20


def load_sampler(run: Path, *, ema: bool, has_ema: bool, device: str = "cpu") -> tuple[object, str]:
    """(the run's trained generator, which weights: "EMA", "G", "G (the run kept no EMA)")."""
    from gankit.sampling import load

    if ema or not has_ema:
        return load(run, device), ("EMA" if has_ema else "G (the run kept no EMA)")
    return _raw_generator(run, device), "G (not the EMA; from the final checkpoint)"


def _raw_generator(run: Path, device: str) -> object:
    """G's own weights (not their moving average) at the run's newest checkpoint, as a trained model."""
    from gankit import checkpoint as ckpt
    from gankit.run.folder import CHECKPOINTS
    from gankit.run.resume import upgrade
    from gankit.tasks import get_task

    found = ckpt.checkpoints_in(Path(run) / CHECKPOINTS)
    if not found:
        raise GankitError(f"{run}: no checkpoint holds G's own weights; sample its EMA generator (leave out --no-ema)")
    state, meta = ckpt.load(found[-1])
    model = meta.get("model")
    if not isinstance(model, dict):
        raise GankitError(f"{found[-1]}: the checkpoint does not describe its model (an older gankit); use the EMA")
    nets = upgrade(state, meta)["train"]["nets"]
    task = get_task(model["meta"].get("task", "noise"))
    return task.load_trained({name: nets[name] for name in model["tensors"]}, model["meta"], str(found[-1]), device)


def check_conditional(g, split: Split, run) -> list:
    """The label ``g.samples`` takes for each class of ``split`` (refusing a generator without classes)."""
    if split.kind == "mixed":
        schema = getattr(g, "schema", None)
        if schema is None or schema.label is None or schema.label != split.table.label:
            raise GankitError(f"{run} was not trained with data.label_column={split.table.label}, so it cannot make "
                              f"rows of a chosen class; train one with gankit augment table data.path=... "
                              f"data.label_column={split.table.label}")
        cats = schema.column(schema.label).categories
        return list(cats)
    if not getattr(g, "num_classes", 0):
        raise GankitError(f"{run} is not class-conditional, so it cannot make items of a chosen class; train one "
                          f"with gankit augment PRESET data.path=... (it trains a conditional generator), or "
                          f"gankit train ... conditional.mode=projection")
    names = [str(c) for c in (g.classes or range(g.num_classes))]
    if names != split.classes:
        raise GankitError(f"{run} was trained on the classes {', '.join(names[:10])}, but the data has "
                          f"{', '.join(split.classes[:10])}; give the run's own data (data.path=...)")
    return list(range(len(names)))


def _seed(seed: int, k: int, r: int = 0) -> int:
    """A sampling seed per (seed, class, round): independent streams for every class."""
    return int(np.random.SeedSequence([seed, k, r]).generate_state(1)[0])


def draw_class(g, split: Split, label, k: int, n: int, seed: int) -> np.ndarray:
    """``n`` synthetic items of class ``k`` in the split's space (images quantised; table features)."""
    x = g.samples(n, label=label, seed=seed)
    if split.kind == "image":
        return (np.round(np.clip(x, 0, 1) * 255) / 255).astype(np.float32)
    if split.kind == "mixed":
        return np.delete(np.asarray(x, np.float64), split.table.label_at, axis=1)
    return np.asarray(x, np.float64)


def draw(g, split: Split, labels: list, counts: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y): ``counts[k]`` synthetic items of every class k."""
    xs, ys = [], []
    for k, n in enumerate(counts):
        if n > 0:
            xs.append(draw_class(g, split, labels[k], k, int(n), _seed(seed, k)))
            ys.append(np.full(int(n), k, np.int64))
    return _stack(xs, split), np.concatenate(ys) if ys else np.zeros(0, np.int64)


def draw_filtered(g, split: Split, labels: list, counts: np.ndarray, seed: int,
                  proba: Callable[[np.ndarray], np.ndarray], threshold: float) -> tuple[np.ndarray, np.ndarray, list]:
    """(x, y, per-class record) of synthetic items whose class ``proba`` (a classifier of the real training
    split) puts at ``threshold`` or above; a class short of its count after MAX_DRAWN x its count keeps
    what passed."""
    xs, ys, record = [], [], []
    for k, n in enumerate(counts):
        kept, drawn, r = [], 0, 0
        while n > 0 and sum(len(a) for a in kept) < n and drawn < MAX_DRAWN * n:
            want = n - sum(len(a) for a in kept)
            batch = min(max(2 * want, 64), MAX_DRAWN * n - drawn)
            x = draw_class(g, split, labels[k], k, int(batch), _seed(seed, k, r + 1))
            kept.append(x[proba(x)[:, k] >= threshold])
            drawn, r = drawn + batch, r + 1
        got = _stack(kept, split)[: int(n)] if kept else _stack([], split)
        xs.append(got)
        ys.append(np.full(len(got), k, np.int64))
        record.append({"class": split.classes[k], "wanted": int(n), "kept": int(len(got)), "drawn": int(drawn),
                       "pass_rate": round(sum(len(a) for a in kept) / drawn, 4) if drawn else None})
    return _stack(xs, split), np.concatenate(ys), record


def _stack(parts: list, split: Split) -> np.ndarray:
    if parts:
        return np.concatenate(parts)
    return np.zeros((0, *split.shape), split.train.x.dtype)
