"""Batches: one permutation per epoch, sharded by rank; random crops of differently sized images."""

from __future__ import annotations

import pytest
import torch

from gankit.training.batches import Batches, CropBatches


def test_batches_cover_an_epoch_and_resume_in_place():
    x, y = torch.arange(20.0).reshape(10, 2), torch.arange(10)
    b = Batches({"x": x, "y": y}, 5, seed=0)
    first = [b.next() for _ in range(2)]
    assert sorted(torch.cat([f["y"] for f in first]).tolist()) == list(range(10))  # one epoch: every item once
    assert all(torch.equal(f["x"][:, 0] / 2, f["y"].float()) for f in first)  # rows stay together
    state = b.state_dict()
    again = Batches({"x": x, "y": y}, 5, seed=99)
    again.load_state_dict(state)
    assert torch.equal(b.next()["y"], again.next()["y"]) and b.epoch == again.epoch == 1


def test_shards_split_the_global_batch():
    x = torch.arange(8.0)[:, None]
    whole = Batches({"x": x}, 4, seed=3).next()["x"]
    parts = [Batches({"x": x}, 4, seed=3, shard=(r, 2)).next()["x"] for r in (0, 1)]
    assert torch.equal(torch.cat(parts), whole)


def images(seed: int = 0) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    low = [torch.rand(3, h, w, generator=g) for h, w in ((6, 9), (8, 8), (12, 7), (6, 6))]
    high = [torch.nn.functional.interpolate(t[None], scale_factor=4, mode="nearest")[0] for t in low]
    return low, high


def test_crops_have_the_size_and_stay_aligned_across_scales():
    low, high = images()
    b = CropBatches({"lr": low, "hr": high}, size=5, batch_size=2, seed=0)
    for _ in range(5):
        batch = b.next()
        assert batch["lr"].shape == (2, 3, 5, 5) and batch["hr"].shape == (2, 3, 20, 20)
        # nearest-neighbour upscaling: the high-resolution crop is the low one, each pixel 4x4
        assert torch.equal(batch["hr"][:, :, ::4, ::4], batch["lr"])


def test_crops_resume_exactly_and_differ_by_seed():
    low, high = images()
    a = CropBatches({"lr": low, "hr": high}, size=4, batch_size=2, seed=0)
    for _ in range(3):
        a.next()
    state = a.state_dict()
    b = CropBatches({"lr": low, "hr": high}, size=4, batch_size=2, seed=5)
    b.load_state_dict(state)
    for _ in range(4):
        assert torch.equal(a.next()["hr"], b.next()["hr"])
    c = CropBatches({"lr": low, "hr": high}, size=4, batch_size=2, seed=1)
    assert not torch.equal(c.next()["lr"], CropBatches({"lr": low}, size=4, batch_size=2, seed=0).next()["lr"])


def test_images_smaller_than_the_crop_are_refused():
    low, _ = images()
    with pytest.raises(ValueError, match="smaller than the crop size 7"):
        CropBatches({"lr": low}, size=7, batch_size=2, seed=0)
