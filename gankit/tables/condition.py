"""The conditional vector and training-by-sampling (Xu et al. 2019, section 4.3), for every discrete column.

The conditional vector holds one one-hot block per discrete (categorical or boolean) column, all
zero for a column that is not conditioned on. In training, each row of a batch

1. picks a discrete column uniformly and one of its categories with probability proportional to the
   log of its frequency (CTGAN's training-by-sampling: rare categories are seen often enough);
2. takes a real row that has that category (uniformly among such rows): the *anchor*;
3. is also conditioned, each with probability :data:`EXTRA_CONDITIONS`, on the anchor's values of the
   other discrete columns, so that the generator learns to meet several conditions at once
   (``gankit sample --where A=a --where B=b``); ctgan conditions on one column only.

The real rows the discriminator sees are the anchors, so real and generated rows carry the same
conditions. Unconditional sampling draws one column uniformly and a category by its true frequency
(CTGAN's rule, which leaves every column's share as in the data).

Everything is vectorised over the batch with a seeded ``torch.Generator`` (exact resume), unlike
ctgan's per-row ``np.random.choice`` loop.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gankit.errors import GankitError
from gankit.tables.transform import MixedCodec

EXTRA_CONDITIONS = 0.2


class Conditions:
    """Conditional vectors of a table's discrete columns (on ``device``)."""

    def __init__(self, codec: MixedCodec, values: np.ndarray | None = None, device="cpu") -> None:
        self.codec = codec
        self.columns = [b.column for b in codec.blocks if b.kind == "category"]  # column-space indices
        sizes = [codec.blocks[c].size for c in self.columns]
        self.offsets = np.cumsum([0] + sizes)[:-1].tolist()  # where each column's block begins
        self.sizes = sizes
        self.dim = int(sum(sizes))
        self.device = torch.device(device)
        if values is not None and self.columns:
            self._index_rows(values)
        elif self.columns:
            self.freq = [self._schema_freq(c, k) for c, k in zip(self.columns, sizes)]

    def _schema_freq(self, c: int, size: int) -> Tensor:
        """A column's training frequencies as the schema keeps them, the missing slot at its missing rate."""
        col = self.codec.schema.used[c]
        counts = [float(k) for k in col.counts][:size] + [0.0] * max(0, size - len(col.counts))
        if self.codec.blocks[c].missing:
            counts[-1] = sum(counts[:-1]) * col.missing / max(1e-12, 1 - col.missing)
        return torch.tensor(counts, dtype=torch.float64)

    def _index_rows(self, values: np.ndarray) -> None:
        """Per condition slot: its rows (sorted by slot), counts and log-frequency weights."""
        codes = np.stack([self._slots(values[:, c], k) for c, k in zip(self.columns, self.sizes)], 1)  # (N, K)
        glob = codes + np.asarray(self.offsets)  # each column's slot as a global slot of the vector
        self.codes = torch.from_numpy(glob).to(self.device)  # (N, K) long
        self.rows, self.starts, self.counts = [], [], []
        for j in range(len(self.columns)):
            order = np.argsort(glob[:, j], kind="stable")
            counts = np.bincount(codes[:, j], minlength=self.sizes[j])
            self.rows.append(torch.from_numpy(order).to(self.device))
            self.starts.append(torch.from_numpy(np.cumsum(counts) - counts).to(self.device))
            self.counts.append(torch.from_numpy(counts).to(self.device))
        self.log_freq = [torch.log1p(c.double()) for c in self.counts]
        self.freq = [c.double() for c in self.counts]

    @staticmethod
    def _slots(v: np.ndarray, size: int) -> np.ndarray:  # category index; NaN -> the missing slot
        return np.where(np.isnan(v), size - 1, np.nan_to_num(v)).astype(np.int64)

    # --------------------------------------------------------------------------- training

    def sample_train(self, n: int, gen: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        """(conditional vectors (n, dim), mask of conditioned slots (n, dim) as 0/1, anchor rows (n,))."""
        dev = self.device
        col = torch.randint(len(self.columns), (n,), generator=gen, device=dev)
        anchor = torch.empty(n, dtype=torch.long, device=dev)
        for j in range(len(self.columns)):
            pick = (col == j).nonzero().squeeze(1)
            if len(pick) == 0:
                continue
            slot = torch.multinomial(self.log_freq[j].float(), len(pick), replacement=True, generator=gen)
            u = torch.rand(len(pick), generator=gen, device=dev, dtype=torch.float64)
            at = self.starts[j][slot] + (u * self.counts[j][slot]).long()
            anchor[pick] = self.rows[j][at]
        given = torch.rand(n, len(self.columns), generator=gen, device=dev) < EXTRA_CONDITIONS
        given[torch.arange(n, device=dev), col] = True
        cond = self._vector(self.codes[anchor], given)
        return cond, self.block_mask(given), anchor

    def _vector(self, slots: Tensor, given: Tensor) -> Tensor:
        """One-hot of ``slots`` (n, K) global slot indices, only where ``given`` (n, K) bool."""
        cond = torch.zeros(len(slots), self.dim, device=slots.device)
        # add, not set: the slot index of a column that is not given is arbitrary and may be another's
        return cond.scatter_add_(1, slots, given.float())

    def block_mask(self, given: Tensor) -> Tensor:  # (n, K) bool -> (n, dim) 0/1 over the given blocks' slots
        return torch.repeat_interleave(given.float(), torch.tensor(self.sizes, device=given.device), dim=1)

    # --------------------------------------------------------------------------- sampling

    def sample_free(self, n: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        """One column uniformly, a category by its true frequency: every column keeps its share."""
        col = torch.randint(len(self.columns), (n,), generator=gen)
        slots = torch.zeros(n, len(self.columns), dtype=torch.long)
        for j in range(len(self.columns)):
            pick = (col == j).nonzero().squeeze(1)
            if len(pick):
                slots[pick, j] = torch.multinomial(self.freq[j].float().cpu(), len(pick), replacement=True,
                                                   generator=gen)
        slots += torch.tensor(self.offsets)
        given = torch.zeros(n, len(self.columns), dtype=torch.bool)
        given[torch.arange(n), col] = True
        return self._vector(slots, given), self.block_mask(given)

    def where(self, n: int, conditions: dict[str, str]) -> tuple[Tensor, Tensor]:
        """The vector of ``--where COLUMN=VALUE`` conditions, the same for n rows."""
        schema = self.codec.schema
        slots = torch.zeros(1, len(self.columns), dtype=torch.long)
        given = torch.zeros(1, len(self.columns), dtype=torch.bool)
        for name, value in conditions.items():
            c = schema.index(name)
            if c not in self.columns:
                col = schema.used[c]
                raise GankitError(f"--where {name}=...: {name} is a {col.kind} column; conditions take categorical "
                                  f"columns ({', '.join(schema.used[k].name for k in self.columns) or 'none here'})")
            j = self.columns.index(c)
            slots[0, j] = self.offsets[j] + schema.used[c].index_of(value)
            given[0, j] = True
        return self._vector(slots, given).expand(n, -1), self.block_mask(given).expand(n, -1)

    def enforce(self, fake: Tensor, cond: Tensor, mask: Tensor) -> Tensor:
        """The generator's output with each conditioned one-hot block set to its condition (n, D).

        The generator writes the asked-for values into its own output in training and in sampling
        alike, so the discriminator always judges rows that carry their conditions and the other
        columns are learnt to agree with them: the rows of ``--where A=a`` have A=a, by construction."""
        if not self.columns:
            return fake
        index = torch.cat([torch.arange(s, s + k) for s, k in
                           (self.codec.one_hot_span(c) for c in self.columns)]).to(fake.device)
        block = fake[:, index]
        set_to = torch.where(mask.bool(), cond, block)
        return fake.index_copy(1, index, set_to)


class ConditionedBatches:
    """The table task's batch source: anchor rows by training-by-sampling, with their conditions.

    Like :class:`gankit.training.batches.Batches` it counts epochs (``N // batch_size`` batches) and
    checkpoints its own ``torch.Generator``; under torchrun every process draws the same global batch
    and takes its rank's slice. A batch is ``{"x": rows (B, D), "cond": (B, dim), "mask": (B, dim)}``.
    """

    def __init__(self, tensors: dict[str, Tensor], batch_size: int, seed: int, shard: tuple[int, int],
                 conditions: Conditions) -> None:
        self.x = tensors["x"]
        self.n, self.batch_size, self.cond = len(self.x), batch_size, conditions
        rank, size = shard
        self.local = batch_size // size
        self.offset = rank * self.local
        self.gen = torch.Generator(conditions.device).manual_seed(seed)
        self.per_epoch = max(1, self.n // batch_size)
        self.epoch = self.pos = 0

    def next(self) -> dict[str, Tensor]:
        if self.pos >= self.per_epoch:
            self.epoch, self.pos = self.epoch + 1, 0
        self.pos += 1
        if self.cond.columns:
            cond, mask, anchor = self.cond.sample_train(self.batch_size, self.gen)
        else:  # no discrete column: plain uniform rows, an empty conditional vector
            anchor = torch.randint(self.n, (self.batch_size,), generator=self.gen, device=self.gen.device)
            cond = mask = torch.zeros(self.batch_size, 0, device=self.x.device)
        part = slice(self.offset, self.offset + self.local)
        return {"x": self.x.index_select(0, anchor[part].to(self.x.device)), "cond": cond[part].to(self.x.device),
                "mask": mask[part].to(self.x.device)}

    def state_dict(self) -> dict:
        # "items": what a resume checks the data's size against (gankit.run.session)
        return {"gen": self.gen.get_state(), "items": self.n, "epoch": self.epoch, "pos": self.pos}

    def load_state_dict(self, s: dict) -> None:
        self.gen.set_state(s["gen"])
        self.epoch, self.pos = int(s["epoch"]), int(s["pos"])
