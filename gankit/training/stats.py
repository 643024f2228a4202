"""Statistics reported by name (stylegan2-ada's ``training_stats.report``).

A task's phases return ``{name: 0-d tensor}``; the loop sums them on the device every step (no host
sync) and reads the means once per ``log.every`` steps: one metrics.csv row, one health check, one
TensorBoard point. The columns are the task's ``columns``, so each task logs what it computes.
"""

from __future__ import annotations

import torch
from torch import Tensor


class StatSums:
    def __init__(self, columns: tuple[str, ...], device: torch.device) -> None:
        self.columns = list(columns)
        self.acc = torch.zeros(len(self.columns), device=device)  # sums since the last row
        self.n = 0  # steps summed
        self.counts = [0] * len(self.columns)  # steps that reported each column (a phase may be off)

    def add(self, stats: dict[str, Tensor]) -> None:
        have = [c in stats for c in self.columns]
        if all(have):
            self.acc += torch.stack([stats[c] for c in self.columns])
        elif any(have):
            zero = self.acc.new_zeros(())
            self.acc += torch.stack([stats.get(c, zero).float() for c in self.columns])
        self.counts = [k + h for k, h in zip(self.counts, have)]
        self.n += 1

    def means(self, acc: Tensor | None = None) -> dict[str, float]:
        """The mean of each column over the steps that reported it (columns no step reported are left out)."""
        acc = self.acc if acc is None else acc
        if all(k == self.n for k in self.counts):
            return dict(zip(self.columns, (acc / self.n).tolist()))
        return {c: a / k for c, a, k in zip(self.columns, acc.tolist(), self.counts) if k}

    def reset(self) -> None:
        self.acc.zero_()
        self.n = 0
        self.counts = [0] * len(self.columns)

    def state(self) -> tuple[Tensor, dict]:
        """(the sums tensor, JSON-able counters) for a checkpoint."""
        return self.acc, {"acc_n": self.n, "counts": list(self.counts)}

    def load(self, acc: Tensor, meta: dict) -> None:
        if tuple(acc.shape) != (len(self.columns),):
            raise ValueError(f"acc has shape {tuple(acc.shape)}, expected ({len(self.columns)},)")
        self.acc = acc.to(self.acc.device)
        self.n = int(meta["acc_n"])
        self.counts = [int(k) for k in meta.get("counts", [self.n] * len(self.columns))]
