"""Mode-specific normalisation and one-hot blocks (gankit.tables.transform), and the conditional vector
with training-by-sampling (gankit.tables.condition), on tables the tests make."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gankit.errors import GankitError
from gankit.tables.condition import EXTRA_CONDITIONS, ConditionedBatches, Conditions
from gankit.tables.schema import Column, TableSchema
from gankit.tables.transform import VALUE_RANGE, MixedCodec, fit_mixture


def table(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, TableSchema]:
    """Two number columns (one bimodal with missing cells), a category column with missing cells and a
    rare category, and a yes/no column."""
    rng = np.random.default_rng(seed)
    x = np.where(rng.random(n) < 0.5, rng.normal(0, 1, n), rng.normal(20, 0.5, n))
    x[::25] = np.nan
    age = rng.integers(18, 90, n).astype(float)
    cat = rng.choice(4, n, p=[0.6, 0.3, 0.09, 0.01]).astype(float)
    cat[::40] = np.nan
    yes = (rng.random(n) < 0.3).astype(float)
    cols = [Column("x", "continuous", "", 0), Column("age", "integer", "", 1),
            Column("c", "categorical", "", 2, categories=["a", "b", "c", "d"]),
            Column("yes", "boolean", "", 3, categories=["no", "yes"])]
    return np.stack([x, age, cat, yes], 1), TableSchema(cols, "test")


def test_a_bimodal_column_gets_two_heavy_modes():
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(-2, 0.1, 2000), rng.normal(2, 0.1, 2000)])
    means, stds, weights = fit_mixture(z, 0)
    heavy = sorted(m for m, w in zip(means, weights) if w > 0.2)
    assert len(heavy) == 2 and abs(heavy[0] + 2) < 0.05 and abs(heavy[1] - 2) < 0.05
    assert abs(sum(weights) - 1) < 1e-9 and min(stds) > 0


def test_layout_heads_and_round_trip():
    values, schema = table()
    codec = MixedCodec.fit(values, schema, seed=0)
    x = codec.encode(values, seed=0)
    heads = codec.heads()
    assert x.shape == (len(values), codec.width) == (len(values), sum(h.size for h in heads))
    assert [h.kind for h in heads][:2] == ["continuous", "categorical"]  # a number: its scalar, then its mode
    assert heads[-2].size == 5 and heads[-1].size == 2  # 4 categories + missing; yes/no without missing
    assert x[:, [s for b, s in zip(codec.blocks, codec.starts) if b.kind == "number"]].abs().max() <= VALUE_RANGE
    back = codec.decode(x).numpy()
    assert np.array_equal(np.isnan(back), np.isnan(values))  # missing cells come back missing, exactly
    np.testing.assert_array_equal(back[:, 2:], values[:, 2:])  # categories exactly
    ok = ~np.isnan(values[:, 0])
    assert np.median(np.abs(back[ok, 0] - values[ok, 0])) < 1e-4  # numbers to float32 precision (but clipped tails)
    # encoding is reproducible by seed, and a codec survives JSON
    assert torch.equal(codec.encode(values, seed=0), x)
    again = MixedCodec.from_dict(json.loads(json.dumps(codec.to_dict())))
    torch.testing.assert_close(again.decode(x), codec.decode(x), rtol=0, atol=0, equal_nan=True)


def test_training_by_sampling_draws_anchors_that_carry_their_conditions():
    values, schema = table()
    codec = MixedCodec.fit(values, schema, seed=0)
    cond = Conditions(codec, values)
    assert cond.columns == [2, 3] and cond.dim == 5 + 2
    c, mask, anchor = cond.sample_train(4000, torch.Generator().manual_seed(0))
    slots = torch.from_numpy(np.stack([cond._slots(values[:, j], k) for j, k in zip(cond.columns, cond.sizes)], 1))
    for j, (off, size) in enumerate(zip(cond.offsets, cond.sizes)):
        block, given = c[:, off : off + size], mask[:, off] > 0
        assert torch.equal(block.sum(1) > 0, given)  # a block is one-hot exactly where it is given
        assert torch.equal(block[given].argmax(1), slots[anchor[given], j])  # ... with the anchor's value
    share = (mask[:, cond.offsets] > 0).float().mean(0)  # the anchor column (1/2) + extra conditions
    expected = 0.5 + 0.5 * EXTRA_CONDITIONS
    assert torch.allclose(share, torch.full_like(share, expected), atol=0.04)
    # log-frequency: the 1% category is drawn far more often than 1% of the rows on its column
    picked = c[:, cond.offsets[0] + 3][mask[:, cond.offsets[0]] > 0].mean()
    assert picked > 0.1


def test_where_and_enforce_set_exactly_the_asked_blocks():
    values, schema = table()
    codec = MixedCodec.fit(values, schema, seed=0)
    cond = Conditions(codec, values)
    c, mask = cond.where(6, {"c": " b ", "yes": "yes"})  # spaces around a value do not matter
    fake = torch.rand(6, codec.width)
    out = cond.enforce(fake, c, mask)
    start, size = codec.one_hot_span(2)
    assert torch.equal(out[:, start : start + size], torch.tensor([[0.0, 1, 0, 0, 0]]).expand(6, -1))
    start, size = codec.one_hot_span(3)
    assert torch.equal(out[:, start : start + size], torch.tensor([[0.0, 1]]).expand(6, -1))
    untouched = torch.ones(codec.width, dtype=torch.bool)
    for j in (2, 3):
        s, k = codec.one_hot_span(j)
        untouched[s : s + k] = False
    assert torch.equal(out[:, untouched], fake[:, untouched])
    # the first category of the first discrete column (global slot 0), alone: nothing else set
    c, mask = cond.where(3, {"c": "a"})
    assert torch.equal(c, torch.tensor([[1.0, 0, 0, 0, 0, 0, 0]]).expand(3, -1))
    assert torch.equal(mask, torch.tensor([[1.0, 1, 1, 1, 1, 0, 0]]).expand(3, -1))
    with pytest.raises(GankitError, match="never occurs.*a, b, c, d"):
        cond.where(2, {"c": "zebra"})
    with pytest.raises(GankitError, match="continuous column"):
        cond.where(2, {"x": "1"})
    with pytest.raises(GankitError, match="unknown column 'nope'.*x, age, c, yes"):
        cond.where(2, {"nope": "1"})


def test_conditioned_batches_resume_exactly_and_shard():
    values, schema = table()
    codec = MixedCodec.fit(values, schema, seed=0)
    tensors = {"x": codec.encode(values)}
    cond = Conditions(codec, values)
    a = ConditionedBatches(tensors, 100, 3, (0, 1), cond)
    for _ in range(35):
        a.next()
    state = a.state_dict()
    want = [a.next() for _ in range(3)]
    b = ConditionedBatches(tensors, 100, 99, (0, 1), cond)
    b.load_state_dict(state)
    got = [b.next() for _ in range(3)]
    assert all(torch.equal(w[k], g[k]) for w, g in zip(want, got) for k in w)
    assert a.epoch == 1 and state["items"] == len(values)
    halves = [ConditionedBatches(tensors, 100, 3, (r, 2), cond).next() for r in (0, 1)]
    whole = ConditionedBatches(tensors, 100, 3, (0, 1), cond).next()
    assert torch.equal(torch.cat([h["x"] for h in halves]), whole["x"])
