"""Exponential moving average of the generator's weights (Karras et al. 2018; Yazıcı et al. 2019).

After each G step: θ_ema ← β·θ_ema + (1 − β)·θ. Buffers (batch-norm statistics) are copied. Early in
training β is warmed up as β_t = min(β, (1 + t)/(10 + t)) (TensorFlow's ``num_updates`` rule), so the
average does not cling to the random initial weights for thousands of steps. The
averaged generator is what sampling uses by default when EMA is on: it is smoother and usually
better than the raw weights at any single step.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    def beta(self, step: int | None) -> float:
        return self.decay if step is None else min(self.decay, (1 + step) / (10 + step))

    @torch.no_grad()
    def update(self, model: nn.Module, step: int | None = None) -> None:
        """Average in ``model``'s weights; ``step`` (G steps done before this one) warms β up."""
        src = [p.detach() for p in model.parameters()]
        dst = list(self.model.parameters())
        torch._foreach_lerp_(dst, src, 1.0 - self.beta(step))  # dst += (1-β)(src - dst)
        for b_ema, b in zip(self.model.buffers(), model.buffers()):
            b_ema.copy_(b)

    def state_dict(self) -> dict:
        return self.model.state_dict()

    def load_state_dict(self, sd: dict) -> None:
        self.model.load_state_dict(sd)
