"""Shuffled mini-batches of in-memory data: a permutation per epoch, no DataLoader.

The order comes from its own ``torch.Generator`` so that data order is reproducible and its state
can be checkpointed. Incomplete last batches are dropped (constant batch size). A batch is a dict
of tensors that share their first dimension (``{"x": images, "y": labels}``, or two image sets for
a translation task). ``transforms`` maps some of them from their stored form to training values as they
are drawn (8-bit images to floats: :meth:`gankit.data.Data.training`), so a set is held in memory once, small.

``shard=(rank, world_size)``: every process draws the same permutation and takes its rank's
contiguous slice of each global batch of ``batch_size`` (then B = batch_size / world_size).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor


class Batches:
    def __init__(self, tensors: dict[str, Tensor], batch_size: int, seed: int, shard: tuple[int, int] = (0, 1),
                 transforms: dict[str, Callable[[Tensor], Tensor]] | None = None) -> None:
        self.tensors = {k: v for k, v in tensors.items() if v is not None}
        self.transforms = transforms or {}
        first = next(iter(self.tensors.values()))
        self.n = first.shape[0]
        self.device = first.device
        self.batch_size = batch_size
        rank, size = shard
        self.local = batch_size // size
        self.offset = rank * self.local
        self.gen = torch.Generator().manual_seed(seed)
        self.per_epoch = self.n // batch_size
        self.epoch = 0
        self.pos = 0
        self.perm = torch.randperm(self.n, generator=self.gen).to(self.device)

    def next(self) -> dict[str, Tensor]:  # each (B, *item_shape)
        if self.pos >= self.per_epoch:
            self.epoch += 1
            self.pos = 0
            self.perm = torch.randperm(self.n, generator=self.gen).to(self.device)
        start = self.pos * self.batch_size + self.offset
        idx = self.perm[start : start + self.local]
        self.pos += 1
        out = {k: v.index_select(0, idx) for k, v in self.tensors.items()}
        return {k: self.transforms[k](v) if k in self.transforms else v for k, v in out.items()}

    def state_dict(self) -> dict:
        return {"gen": self.gen.get_state(), "perm": self.perm.cpu(), "epoch": self.epoch, "pos": self.pos}

    def load_state_dict(self, s: dict) -> None:
        self.gen.set_state(s["gen"])
        self.perm = s["perm"].to(self.device)
        self.epoch, self.pos = int(s["epoch"]), int(s["pos"])


class CropBatches(Batches):
    """Batches of random ``size`` x ``size`` crops from images of different sizes (a list of
    (C, H, W) tensors, each at least ``size`` on both sides), as super-resolution trains on patches.

    The crop positions come from the sampler's own ``torch.Generator``, checkpointed with the order,
    so a resumed run draws the same crops. Every list in ``images`` (e.g. the low- and the
    high-resolution version) is cropped at the same place, scaled by its size relative to the first.
    """

    def __init__(self, images: dict[str, list[Tensor]], size: int, batch_size: int, seed: int,
                 shard: tuple[int, int] = (0, 1)) -> None:
        first = next(iter(images.values()))
        for name, items in images.items():
            if len(items) != len(first):
                raise ValueError(f"{name}: {len(items)} images, expected {len(first)}")
        small = [tuple(t.shape[-2:]) for t in first if min(t.shape[-2:]) < size]
        if small:
            raise ValueError(f"{len(small)} images are smaller than the crop size {size} (e.g. {small[0]})")
        self.images, self.size = images, size
        self.crop_gen = torch.Generator().manual_seed(seed + 1)
        index = torch.arange(len(first), device=first[0].device)  # the permutation lives beside the images
        super().__init__({"_index": index}, batch_size, seed, shard)

    def next(self) -> dict[str, Tensor]:  # each (B, C, size * scale, size * scale)
        idx = super().next()["_index"].tolist()
        first = next(iter(self.images.values()))
        out = {name: [] for name in self.images}
        for i in idx:
            h, w = first[i].shape[-2:]
            top = int(torch.randint(0, h - self.size + 1, (1,), generator=self.crop_gen))
            left = int(torch.randint(0, w - self.size + 1, (1,), generator=self.crop_gen))
            for name, items in self.images.items():
                k = items[i].shape[-1] // w  # this list's scale relative to the first
                out[name].append(items[i][..., top * k:(top + self.size) * k, left * k:(left + self.size) * k])
        return {name: torch.stack(crops) for name, crops in out.items()}

    def state_dict(self) -> dict:
        return {**super().state_dict(), "crop": self.crop_gen.get_state()}

    def load_state_dict(self, s: dict) -> None:
        super().load_state_dict(s)
        self.crop_gen.set_state(s["crop"])
