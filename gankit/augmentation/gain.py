"""The measurement: does adding synthetic items help a classifier on real data it has never seen?

The protocol (the "train on real + synthetic, test on real" comparison of Antoniou et al. 2017 and
Ravuri & Vinyals 2019, with the controls a reader needs to believe it):

1. *Held-out items*: real items that neither the generator, nor any classifier, nor the confidence
   filter was trained on (the run's ``data.holdout`` draw, its ``data.test_path`` or the set's own
   test split: :mod:`gankit.augmentation.sets`). Every score below is measured on them.
2. *Arms*, each a classifier trained from scratch on the real training split plus:
   ``real`` nothing; ``gan`` the generator's items (the counts ``--per-class``/``--balance``/``--ratio``
   ask for); ``gan_filtered`` the same number of items that a classifier of the real split is confident
   about (``filter``); ``baseline`` as many items from the standard non-generative augmentation (shifts
   and flips of images, SMOTE rows of tables: :mod:`gankit.augmentation.baselines`); ``extra_real``,
   the positive control, as many *real* items from a pool kept apart from the training split
   (``pool``), which shows what a gain looks like when the items are as good as they can be.
3. *Seeds*: each arm is trained with seeds ``seed .. seed + seeds - 1``; a seed sets the classifier's
   initialisation and order, the synthetic draw, the baseline's randomness and the pool's draw, so
   the arms of one seed differ only in their added items and the gain over ``real`` is a paired
   difference. Its mean and spread (sample standard deviation) over the seeds are reported
   (:mod:`gankit.augmentation.report`). The generator itself is trained once: its own variance is not
   in the spread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from gankit.augmentation import baselines, classifiers
from gankit.augmentation.options import AugmentOptions
from gankit.augmentation.sets import Items, Split

ARMS = {"real": "real only", "gan": "+ synthetic (GAN)", "gan_filtered": "+ synthetic, confidence-filtered",
        "baseline": "+ standard augmentation", "extra_real": "+ extra real items (positive control)"}


@dataclass
class Protocol:
    """What the measurement needs: the split, the counts per class, the options and how to draw items."""

    split: Split
    counts: np.ndarray  # synthetic items per class
    opts: AugmentOptions
    synthetic: Callable[[int], tuple[np.ndarray, np.ndarray]]  # seed -> (x, y) from the generator
    filtered: Optional[Callable] = None  # (seed, proba) -> (x, y, record): the confidence-filtered draw
    pool: Optional[Items] = None  # extra real items for the positive control
    say: Callable[[str], None] = lambda line: None

    @property
    def seeds(self) -> list[int]:
        return [self.opts.seed + i for i in range(self.opts.seeds)]


def baseline_name(split: Split, opts: AugmentOptions) -> str:
    if split.kind == "image":
        return " + ".join(["shifts" if p == "crop" else "flips" for p in opts.baseline_parts()]) or "copies"
    return "SMOTE-NC" if split.table is not None and not all(split.table.numeric) else "SMOTE"


def baseline_items(split: Split, counts: np.ndarray, seed: int, opts: AugmentOptions) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the non-generative augmentation, ``counts[k]`` items of each class k."""
    rng = np.random.default_rng([seed, 1])
    if split.kind == "image":
        parts = opts.baseline_parts()
        if "crop" not in parts:
            return baselines.shifted_images(split.train, counts, rng, flip="flip" in parts, pad=0)
        return baselines.shifted_images(split.train, counts, rng, flip="flip" in parts)
    return baselines.smote(split.train, split.table, counts, rng)


def extra_real(pool: Items, counts: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(x, y, per-class shortfall): ``counts[k]`` pool items of class k drawn without replacement (all of
    them when the pool has fewer)."""
    rng = np.random.default_rng([seed, 2])
    pick, short = [], []
    for k, n in enumerate(counts):
        members = np.flatnonzero(pool.y == k)
        take = min(int(n), len(members))
        pick.append(rng.choice(members, take, replace=False) if take else np.zeros(0, np.int64))
        short.append(int(n) - take)
    idx = np.concatenate(pick).astype(np.int64)
    return pool.x[idx], pool.y[idx], short


def measure(p: Protocol) -> dict:
    """Scores of every arm, classifier and seed on the held-out items:
    ``{"seeds", "added": {arm: [items per seed]}, "scores": {classifier: {arm: [scores per seed]}}, ...}``."""
    split, k = p.split, len(p.split.classes)
    specs = classifiers.specs(p.opts.classifier, "image" if split.kind == "image" else "table")
    out = {"seeds": p.seeds, "added": {}, "scores": {name: {} for name, _ in specs}, "filter": [], "shortfall": []}
    for i, seed in enumerate(p.seeds):
        extra = _added_sets(p, seed, out)
        for name, spec in specs:
            def score(x: np.ndarray, y: np.ndarray, arm: str):
                model = classifiers.fit(spec, x, y, split, seed, cnn_steps=p.opts.cnn_steps, device=p.opts.device)
                s = classifiers.scores(split.holdout.y, model.proba(split.holdout.x), k)
                out["scores"][name].setdefault(arm, []).append(s)
                p.say(f"gankit: augment: seed {i + 1}/{len(p.seeds)}, {name}, {ARMS[arm]}: accuracy "
                      f"{s['accuracy']:.4f}, macro-F1 {s['macro_f1']:.4f}")
                return model

            real = score(split.train.x, split.train.y, "real")
            for arm, (x, y) in extra.items():
                score(*_join(split.train, x, y), arm)
            if p.filtered is not None and p.opts.filter is not None:
                fx, fy, record = p.filtered(seed, real.proba)
                out["filter"].append({"seed": seed, "classifier": name, "classes": record})
                out["added"].setdefault("gan_filtered", []).append(int(len(fy)))
                score(*_join(split.train, fx, fy), "gan_filtered")
    return out


def _added_sets(p: Protocol, seed: int, out: dict) -> dict:
    """{arm: (x, y)} of the items each arm adds for this seed (the same for every classifier)."""
    sets = {"gan": p.synthetic(seed), "baseline": baseline_items(p.split, p.counts, seed, p.opts)}
    if p.pool is not None:
        x, y, short = extra_real(p.pool, p.counts, seed)
        sets["extra_real"] = (x, y)
        out["shortfall"] = short
    for arm, (_, y) in sets.items():
        out["added"].setdefault(arm, []).append(int(len(y)))
    return sets


def _join(train: Items, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([train.x, x.astype(train.x.dtype, copy=False)]), np.concatenate([train.y, y])
