"""benchmarks/facades.py: the helpers its baseline rows rest on (the runs themselves need ../shared)."""

import numpy as np

from benchmarks.facades import partners


def test_partners_pair_every_image_with_another_one():
    for n in (2, 3, 106):
        p = partners(n, seed=n)
        assert sorted(p) == list(range(n))
        assert all(p != np.arange(n))
    assert list(partners(106, 0)) == list(partners(106, 0))
