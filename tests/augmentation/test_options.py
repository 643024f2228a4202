"""How many synthetic items each class gets, and the options refused with one line."""

from __future__ import annotations

import numpy as np
import pytest

from gankit.augmentation.options import AugmentOptions
from gankit.errors import GankitError


def test_each_mode_sizes_the_classes():
    counts = np.array([50, 10, 5])
    assert AugmentOptions(per_class=7).plan(counts).tolist() == [7, 7, 7]
    assert AugmentOptions(balance=True).plan(counts).tolist() == [0, 40, 45]  # up to the largest class
    assert AugmentOptions(ratio=1).plan(counts).tolist() == [50, 10, 5]
    assert AugmentOptions(ratio=0.5).plan(counts).tolist() == [25, 5, 2]  # round half to even: 2.5 -> 2
    assert AugmentOptions(ratio=2.5).mode() == "ratio=2.5" and AugmentOptions(balance=True).mode() == "balance"


@pytest.mark.parametrize("options, words", [
    ({}, "exactly one of"),
    ({"per_class": 3, "ratio": 1.0}, "exactly one of"),
    ({"ratio": 0}, "must be > 0"),
    ({"ratio": -1.5}, "must be > 0"),
    ({"ratio": float("nan")}, "must be > 0"),
    ({"per_class": 0}, ">= 1"),
    ({"per_class": 2.5}, "whole number"),
    ({"balance": True, "seeds": 0}, "seeds"),
    ({"balance": True, "filter": 1.5}, "between 0 and 1"),
    ({"balance": True, "baseline": "crop,rotate"}, "unknown augmentation 'rotate'"),
])
def test_bad_options_are_refused_naming_them(options, words):
    with pytest.raises(GankitError, match=words):
        AugmentOptions(**options).check()
