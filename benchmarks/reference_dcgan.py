"""The DCGAN reference: the PyTorch DCGAN example's loop, written plainly, with the ``mnist-dcgan``
preset's networks and DCGAN's own step (Radford et al. 2016: lr 2e-4, no penalty; ``CLASSIC_STEP``).

The loop is the one of ``benchmarks/reference.py`` — a ``DataLoader`` over a pre-normalised
``TensorDataset``, ``D(real)``, ``D(fake.detach())``, ``D(fake)``, two Adam optimisers with torch's
default implementation, ``zero_grad()`` — plus what the preset adds: an exponential moving average
of G's weights after each G step, written as the usual per-parameter loop, with gankit's warm-up
β_t = min(β, (1 + t)/(10 + t)) and the batch-norm statistics copied.

Networks (layer order and names as gankit's, so state dicts load across):
  G: z (N, 64) -> Linear -> (64, 7, 7) -> BN -> ReLU -> ConvT 64->32 (4, 2, 1) -> BN -> ReLU
     -> ConvT 32->1 (4, 2, 1) -> tanh -> (N, 1, 28, 28)
  D: x (N, 1, 28, 28) -> Conv 1->32 (4, 2, 1) -> LeakyReLU 0.2 -> Conv 32->64 (4, 2, 1) -> LeakyReLU 0.2
     -> flatten -> Linear 3136->1 -> (N, 1) logit
Weights start as in the paper: N(0, 0.02) for convolutions and linear layers, batch-norm scales
N(1, 0.02), biases 0.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from benchmarks import reference

LATENT = 64
LR, BETAS = 2e-4, (0.5, 0.999)
EMA_DECAY = 0.999

#: the ``mnist-dcgan`` preset trains with lr 1e-3 and a lazy R1 penalty (better samples, see
#: gankit/presets.py); these overrides turn it back into the classic step this loop computes, which is
#: what the speed benchmark times and tests/test_reference_equivalence.py checks
CLASSIC_STEP = [f"generator.lr={LR}", f"discriminator.lr={LR}", "penalty.r1_gamma=0"]


def weights_init(m: nn.Module) -> None:
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def generator() -> nn.Sequential:  # (N, 64) -> (N, 1, 28, 28) in [-1, 1]
    G = nn.Sequential(
        nn.Linear(LATENT, 64 * 7 * 7), nn.Unflatten(1, (64, 7, 7)), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 4, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 4, 2, 1), nn.Tanh(),
    )
    G.apply(weights_init)
    return G


class Discriminator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        self.head = nn.Linear(64 * 7 * 7, 1)
        self.apply(weights_init)

    def forward(self, x: Tensor) -> Tensor:  # (N, 1, 28, 28) -> (N, 1) logits
        return self.head(self.features(x))


def ema_update(G_ema: nn.Module, G: nn.Module, step: int) -> None:
    """θ_ema ← β·θ_ema + (1 − β)·θ with β warmed up; ``step`` = G steps done before this one."""
    beta = min(EMA_DECAY, (1 + step) / (10 + step))
    with torch.no_grad():
        for p_ema, p in zip(G_ema.parameters(), G.parameters()):
            p_ema.mul_(beta).add_(p, alpha=1 - beta)
        for b_ema, b in zip(G_ema.buffers(), G.buffers()):
            b_ema.copy_(b)


class Loop(reference.Loop):
    """reference.Loop with the DCGAN networks and the EMA of G."""

    def __init__(self, x: Tensor, batch_size: int = 64, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.G, self.D = generator().to(self.device), Discriminator().to(self.device)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=LR, betas=BETAS)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=LR, betas=BETAS)
        self.loader = reference.loader(x, batch_size)
        self._it = iter(self.loader)
        self.done = 0

    def train_step(self, real: Tensor) -> tuple[Tensor, Tensor]:
        b = real.size(0)
        z = torch.randn(b, LATENT, device=real.device)
        out = reference.train_step(self.G, self.D, self.opt_g, self.opt_d, real, z)
        ema_update(self.G_ema, self.G, self.done)
        self.done += 1
        return out
