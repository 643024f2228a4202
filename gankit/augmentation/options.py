"""What ``gankit augment`` was asked to do, checked once, and how many synthetic items each class gets.

Three ways to size the synthetic part, one per use the literature names (Shorten & Khoshgoftaar
2019, "A survey on Image Data Augmentation for Deep Learning", section on GAN-based augmentation):

* ``per_class=N``: N synthetic items of every class (multiply a small data set evenly);
* ``balance=True``: every class brought up to the largest class's count (a skewed data set);
* ``ratio=K``: K synthetic items per real item of each class (the synthetic-to-real ratio studied by
  Ravuri & Vinyals 2019 and Besnier et al. 2020; 0.5, 1, 2, ...).

No torch here: the command line checks its options before anything heavy is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gankit.errors import GankitError, arg

#: image classifiers built in, and table classifiers built in (``classifier=`` names)
IMAGE_CLASSIFIERS = ("cnn",)
TABLE_CLASSIFIERS = ("gradient_boosting", "logistic")
#: the non-generative augmentations of images (``baseline=``); tables use SMOTE
IMAGE_BASELINES = ("crop", "flip")


@dataclass
class AugmentOptions:
    """The options of :func:`gankit.augment` / ``gankit augment``, as given; :meth:`check` refuses bad ones."""

    per_class: int | None = None
    balance: bool = False
    ratio: float | None = None
    measure: bool = False
    seeds: int = 3
    classifier: Any = None  # None: the built-in ones; "cnn", "gradient_boosting,logistic", or an estimator
    filter: float | None = None  # keep synthetic items whose intended class has at least this probability
    ema: bool = True  # sample the moving average of G's weights when the run kept one
    pool: str | None = None  # extra real items for the positive control (same kind as data.path)
    baseline: str = "crop"  # images: crop (shifts by up to a few pixels), flip; tables: SMOTE(-NC) always
    seed: int = 0
    cnn_steps: int = 1000  # optimiser steps of the built-in CNN (batch 64), the same for every arm
    device: str = "cpu"
    notes: list[str] = field(default_factory=list)  # what augment decided on the user's behalf

    def check(self) -> "AugmentOptions":
        """Refuse options that cannot work, each with one line naming it and what to give instead."""
        modes = [self.per_class is not None, bool(self.balance), self.ratio is not None]
        if sum(modes) != 1:
            raise GankitError(f"give exactly one of {arg('per_class', 'N')}, {arg('balance')} or "
                              f"{arg('ratio', 'K')} (how many synthetic items each class gets)")
        if self.per_class is not None and (not _is_int(self.per_class) or self.per_class < 1):
            raise GankitError(f"{arg('per_class', self.per_class)}: give a whole number >= 1 of synthetic items "
                              f"per class")
        if self.ratio is not None and not (np.isfinite(float(self.ratio)) and float(self.ratio) > 0):
            raise GankitError(f"{arg('ratio', self.ratio)}: the synthetic-to-real ratio must be > 0 (synthetic "
                              f"items per real item of each class; 1 doubles every class)")
        if not _is_int(self.seeds) or self.seeds < 1:
            raise GankitError(f"{arg('seeds', self.seeds)}: give a whole number >= 1 of seeds (3 or more give a "
                              f"spread to judge the gain by)")
        if self.filter is not None and not 0 < float(self.filter) < 1:
            raise GankitError(f"{arg('filter', self.filter)}: the confidence filter is a probability between 0 "
                              f"and 1 (e.g. 0.9 keeps items a classifier of the real data gives >= 90% to their class)")
        if not _is_int(self.cnn_steps) or self.cnn_steps < 1:
            raise GankitError(f"{arg('cnn_steps', self.cnn_steps)}: give a whole number >= 1 of training steps")
        bad = [p for p in self.baseline_parts() if p not in IMAGE_BASELINES]
        if bad:
            raise GankitError(f"{arg('baseline', self.baseline)}: unknown augmentation {bad[0]!r}; use a comma list "
                              f"of {', '.join(IMAGE_BASELINES)}")
        return self

    def baseline_parts(self) -> list[str]:
        return [p.strip() for p in str(self.baseline or "").split(",") if p.strip()]

    def mode(self) -> str:
        """The sizing rule in words, for reports: ``per_class=100``, ``balance``, ``ratio=1``."""
        if self.per_class is not None:
            return f"per_class={self.per_class}"
        return "balance" if self.balance else f"ratio={self.ratio:g}"

    def plan(self, counts: np.ndarray) -> np.ndarray:
        """Synthetic items per class, given the real training items per class (``counts``)."""
        counts = np.asarray(counts, np.int64)
        if self.per_class is not None:
            return np.full(len(counts), int(self.per_class), np.int64)
        if self.balance:
            return counts.max() - counts
        return np.round(float(self.ratio) * counts).astype(np.int64)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
