"""The noise task's D loss: lazy R1 (Mescheder et al. 2018; StyleGAN2's lazy regularisation) from
``penalty.r1_start`` on, checked against the formula on a linear D, whose input gradient is its weight."""

import pytest
import torch
from torch import nn

from gankit.losses import LOSSES
from gankit.tasks.base import PhaseContext
from gankit.tasks.noise import NoiseGAN, NoiseSettings


def _task(r1_gamma: float, r1_interval: int, r1_start: int) -> NoiseGAN:
    torch.manual_seed(0)
    G, D = nn.Linear(2, 4), nn.Linear(4, 1)
    s = NoiseSettings(latent_dim=2, n_critic=1, gp_weight=10.0, r1_gamma=r1_gamma, r1_interval=r1_interval,
                      r1_start=r1_start, acgan_weight=0.0, augment=(), noise_seed=None)
    return NoiseGAN(G, D, LOSSES.get("hinge"), s)


def _d_loss(task: NoiseGAN, step: int, updates: int) -> float:
    ctx = PhaseContext(step=step, updates=updates, repeat=0, repeats=1, accumulate=1, rank=0, world_size=1,
                       scale=1.0, train_nets=task.nets)
    real, fake = torch.randn(8, 4, generator=torch.Generator().manual_seed(1)), torch.zeros(8, 4)
    phase = task.phases()[0]
    loss, _ = task.loss(phase, {"real": real, "fake": fake, "y": None}, ctx)
    return loss.item()


@pytest.mark.parametrize(("step", "updates", "applies"), [
    (0, 0, False),      # before r1_start
    (99, 96, False),    # still before, on an interval update
    (100, 96, True),    # from r1_start, on an interval update
    (101, 97, False),   # from r1_start, between interval updates
    (5000, 4992, True),
])
def test_lazy_r1_applies_from_r1_start_on_interval_updates(step, updates, applies):
    task = _task(r1_gamma=2.0, r1_interval=16, r1_start=100)
    plain = _d_loss(_task(r1_gamma=0.0, r1_interval=16, r1_start=100), step, updates)
    # linear D: grad_x D(x) = w for every sample, so E‖∇D‖² = ‖w‖²; lazy R1 adds (γ/2)·k·‖w‖²
    term = (2.0 / 2) * 16 * task.D.weight.detach().square().sum().item()
    assert _d_loss(task, step, updates) == pytest.approx(plain + (term if applies else 0.0), rel=1e-6)


def test_r1_start_zero_regularises_from_the_first_step():
    task = _task(r1_gamma=1.0, r1_interval=1, r1_start=0)
    plain = _d_loss(_task(r1_gamma=0.0, r1_interval=1, r1_start=0), 0, 0)
    term = 0.5 * task.D.weight.detach().square().sum().item()
    assert _d_loss(task, 0, 0) == pytest.approx(plain + term, rel=1e-6)
