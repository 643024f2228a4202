"""The divergence guard: the last state known finite, and the rollback to it.

The loop checks the loss sums every few steps (one host sync) and every tensor before it is
checkpointed. On NaN/Inf it rolls back to the last good state (kept in memory), scales the learning
rates by ``train.divergence_lr_factor`` and goes on, at most ``train.max_rollbacks`` times; then it
stops with a message that says what to change.
"""

from __future__ import annotations

from pathlib import Path

from gankit.checkpoint import Snapshot
from gankit.errors import GankitError


class Guard:
    def __init__(self, max_rollbacks: int, factor: float) -> None:
        self.max_rollbacks, self.factor = max_rollbacks, factor
        self.rollbacks = 0
        self.lr_scale = 1.0  # product of the factor over the rollbacks so far
        self.good: Snapshot | None = None  # the rollback target
        self.good_step = 0
        self.good_extra: dict = {}  # JSON-able loop state at the good state (counters, callbacks)
        self.good_ckpt: Path | None = None  # newest checkpoint on disk, named in the final error

    def keep(self, snap: Snapshot, step: int, extra: dict) -> None:
        self.good, self.good_step, self.good_extra = snap, step, extra

    def roll_back(self, step: int, why: str) -> tuple[dict, dict]:
        """(the good state, its extra) with the rollback counted; GankitError when none are left."""
        if self.rollbacks >= self.max_rollbacks:
            where = f"; the last good checkpoint is {self.good_ckpt}" if self.good_ckpt else ""
            tried = (f" after {self.rollbacks} rollback(s) with the learning rates scaled down to "
                     f"{self.lr_scale:.3g}x" if self.rollbacks else "")
            raise GankitError(f"training diverged at step {step} ({why}){tried}; lower generator.lr and "
                              f"discriminator.lr (or raise train.max_rollbacks) and check the data for "
                              f"extreme values{where}")
        assert self.good is not None
        self.rollbacks += 1
        self.lr_scale *= self.factor
        return self.good.state(), self.good_extra

    def record(self, step: int, why: str) -> dict:
        return {"step": step, "to_step": self.good_step, "reason": why, "lr_scale": self.lr_scale}

    def message(self, step: int, why: str) -> str:
        return (f"gankit: warning: training diverged at step {step} ({why}); rolled back to step {self.good_step} "
                f"and scaled the learning rates to {self.lr_scale:.3g}x (rollback {self.rollbacks} of "
                f"{self.max_rollbacks})")
