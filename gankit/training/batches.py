"""Shuffled mini-batches of in-memory tensors: a permutation per epoch, no DataLoader.

The order comes from its own ``torch.Generator`` so that data order is reproducible and its state
can be checkpointed. Incomplete last batches are dropped (constant batch size). A batch is a dict
of tensors that share their first dimension (``{"x": images, "y": labels}``, or two image sets for
a translation task).

``shard=(rank, world_size)``: every process draws the same permutation and takes its rank's
contiguous slice of each global batch of ``batch_size`` (then B = batch_size / world_size).
"""

from __future__ import annotations

import torch
from torch import Tensor


class Batches:
    def __init__(self, tensors: dict[str, Tensor], batch_size: int, seed: int, shard: tuple[int, int] = (0, 1)) -> None:
        self.tensors = {k: v for k, v in tensors.items() if v is not None}
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
        return {k: v.index_select(0, idx) for k, v in self.tensors.items()}

    def state_dict(self) -> dict:
        return {"gen": self.gen.get_state(), "perm": self.perm.cpu(), "epoch": self.epoch, "pos": self.pos}

    def load_state_dict(self, s: dict) -> None:
        self.gen.set_state(s["gen"])
        self.perm = s["perm"].to(self.device)
        self.epoch, self.pos = int(s["epoch"]), int(s["pos"])
