"""Held-out data, one way for every modality: the reference evaluation scores against when present.

A score against the very items G was trained on rewards memorising them; held-out items do not.
Three sources, the first that applies wins:

1. ``data.test_path``: a separate folder or file of the same kind as ``data.path``, read by the same
   loader (its classes are matched to the training classes by name);
2. ``data.holdout=FRACTION``: :func:`split_holdout` takes that share of the loaded items out of
   training, drawn with ``train.seed``; what was held out (fraction, seed, items, and a sha256 of
   the held-out indices) goes into run.json, so a split can be checked and repeated;
3. a data set's own test split (:data:`TEST_SPLITS`: MNIST's and Fashion-MNIST's ``t10k`` files when
   they are in the data's folder; they are never downloaded for this), or a split by file name
   (``data.test_pattern``, sound folders: the files whose names it matches, left out of training).

Held-out items are encoded with the *training* data's codec, so both share one training space. The
training loop never sees any of this: :func:`gankit.data.load_data` hands it the training part only.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from gankit.config.schema import DataConfig
from gankit.errors import GankitError
from gankit.registry import Registry

if TYPE_CHECKING:
    from gankit.data import Data, Raw

#: data set name -> its official test split (None when its files are not at hand)
TEST_SPLITS: Registry[Callable[[DataConfig], Optional["Raw"]]] = Registry("test split")


def _idx_test(name: str) -> Callable[[DataConfig], Optional["Raw"]]:
    def load(cfg: DataConfig) -> Optional["Raw"]:
        from gankit.data.idx import test_split

        return test_split(name, cfg)

    def exists(cfg: DataConfig) -> bool:
        from gankit.data.idx import has_test_split

        return has_test_split(name, cfg)

    load.exists = exists
    return load


TEST_SPLITS.register("mnist", "the t10k files beside the training files")(_idx_test("mnist"))
TEST_SPLITS.register("fashion-mnist", "the t10k files beside the training files")(_idx_test("fashion-mnist"))


@TEST_SPLITS.register("sound", "the files whose names data.test_pattern matches")
def _sound_test(cfg: DataConfig) -> Optional["Raw"]:
    from gankit.data.sounds import test_split

    return test_split(cfg)


_sound_test.exists = lambda cfg: cfg.test_pattern is not None


def has_test_split(name: str, cfg: DataConfig) -> bool:
    """Whether data set ``name`` has its own test split under ``cfg``, without reading it (each entry of
    :data:`TEST_SPLITS` carries an ``exists`` probe)."""
    return name in TEST_SPLITS and TEST_SPLITS.get(name).exists(cfg)


def split_holdout(raw: "Raw", fraction: float, seed: int) -> tuple["Raw", "Raw", dict]:
    """(training part, held-out part, what was held out) of loaded data; items keep their order."""
    keep, held, info = holdout_indices(len(raw.x), fraction, seed)
    return _take(raw, keep), _take(raw, held), info


def holdout_indices(n: int, fraction: float, seed: int, what: str = "items"):
    """(kept indices, held-out indices, what was held out) of ``n`` items, both sorted: ``round(fraction * n)``
    items (at least 1, leaving at least 1) drawn with ``seed``; the record carries a sha256 of the indices."""
    import numpy as np

    if n < 2:
        raise GankitError(f"data.holdout={fraction} needs at least 2 {what} to split, but the data has {n}")
    k = min(n - 1, max(1, round(fraction * n)))
    held = np.sort(np.random.default_rng(seed).permutation(n)[:k])
    info = {"holdout": fraction, "seed": seed, "items": n, "held_out": int(k),
            "indices_sha256": hashlib.sha256(held.astype("<i8").tobytes()).hexdigest()}
    return np.setdiff1d(np.arange(n), held), held, info


def _take(raw: "Raw", index) -> "Raw":
    labels = raw.labels[index] if raw.labels is not None else None
    return replace(raw, x=raw.x[index], labels=labels)


def like_training(raw: "Raw", train: "Data", source: str) -> "Data":
    """Held-out ``raw`` as a :class:`gankit.data.Data` in the training data's space and class indices."""
    import numpy as np
    import torch

    from gankit.data import Data, kept_raw

    expected = (train.values.shape[1],) if train.values is not None else tuple(train.shape)  # mixed: column space
    x = None
    # compared in training space where encoding changes the shape (sound: clips -> spectrograms); a numeric
    # table is compared as read, since its per-column codec would broadcast a one-column file to any width
    if raw.kind == train.kind and train.values is None and train.modality.keeps_raw:
        try:
            x = train.codec.encode(raw.x)
        except (RuntimeError, ValueError):  # a table of another width: refused below by its own shape
            x = None
    got = tuple(raw.x.shape[1:]) if x is None else tuple(x.shape[1:])
    if raw.kind != train.kind or got != expected:
        raise GankitError(f"{source} holds {raw.kind} items of shape {tuple(raw.x.shape[1:])}, but the training "
                          f"data has {train.kind} items of shape {tuple(train.shape)}; give held-out data of the "
                          f"same kind and size")
    labels = None
    if train.classes and raw.labels is not None and raw.classes:
        unknown = sorted(set(raw.classes) - set(train.classes))
        if unknown:
            raise GankitError(f"{source} has classes the training data lacks ({', '.join(unknown[:5])}); "
                              f"held-out data must use the training classes ({', '.join(train.classes[:10])})")
        index = np.array([train.classes.index(c) for c in raw.classes], np.int64)
        labels = torch.from_numpy(index[raw.labels])
    return Data(train.codec.encode(raw.x) if x is None else x, train.kind, train.name, train.codec, labels, train.classes, train.columns,
                train.label_name, values=raw.x if raw.schema is not None else None, raw=kept_raw(raw))


def heldout_data(cfg: DataConfig, train: "Data") -> tuple[Optional["Data"], str]:
    """(the held-out data of ``train``, made from ``cfg``, or None; where it comes from, for provenance)."""
    from gankit.data import DATASETS, guess_name
    from gankit.data.guess import NO_FILES

    if train.heldout is not None:
        return train.heldout, f"holdout {cfg.holdout}"
    if cfg.test_path is not None:
        if guess_name(cfg) in NO_FILES:
            raise GankitError(f"data.test_path is for data read from files, but {guess_name(cfg)} is made in "
                              f"memory; use data.holdout=FRACTION to hold some of it out")
        if not Path(cfg.test_path).exists():
            raise GankitError(f"data.test_path {cfg.test_path!r} does not exist; give the held-out folder or file")
        schema = getattr(train.codec, "schema", None)  # a mixed table: read with the training columns' kinds
        if schema is not None:
            from gankit.data.frames import load_like

            return like_training(load_like(cfg.test_path, schema), train, "data.test_path"), "data.test_path"
        test_cfg = replace(cfg, path=cfg.test_path, test_path=None, holdout=0.0, limit=None)
        return like_training(DATASETS.get(guess_name(cfg))(test_cfg, 0), train, "data.test_path"), "data.test_path"
    name = guess_name(cfg)
    if name in TEST_SPLITS:
        raw = TEST_SPLITS.get(name)(cfg)
        if raw is not None:
            return like_training(raw, train, f"{name}'s test split"), f"{name} test split"
    return None, ""
