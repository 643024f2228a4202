"""The reference: the classic PyTorch MNIST GAN loop, written plainly.

This is what gankit is measured against (issue 5). It is deliberately the loop most tutorials
show — a ``DataLoader`` over a pre-normalised ``TensorDataset`` (batch 64, shuffled), three D
forwards per step (``D(real)``, ``D(fake.detach())``, ``D(fake)``), two Adam optimisers with
``torch``'s default implementation, ``zero_grad()`` — with the models of gankit's ``mnist-mlp``
preset (G 100-256-512-784 tanh, D 784-512-256-1, ReLU; Adam lr 2e-4, betas (0.5, 0.999)).

The loss is ``nn.BCEWithLogitsLoss`` on D's logits: the same maths as gankit's ``bce``
(``BCE(x, 1) = softplus(-x)``, ``BCE(x, 0) = softplus(x)``, means over the batch; D loss = real
term + fake term; non-saturating G loss, Goodfellow et al. 2014). The classic ``Sigmoid`` +
``nn.BCELoss`` computes the same numbers less stably. The layers are in the same ``nn.Sequential``
order as gankit's MLPs, so ``state_dict`` keys match and one network's weights load into the other
(tests/test_reference_equivalence.py relies on this).

Run as a script it trains for ``--steps`` steps and prints ``first step done`` after the first one
(``benchmarks/run.py`` times start-up to that line from outside)::

    python benchmarks/reference.py --steps 5 [--data ../shared/data/mnist]
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

LATENT = 100
IMAGE = (1, 28, 28)
LR, BETAS = 2e-4, (0.5, 0.999)


def generator() -> nn.Sequential:  # (N, 100) -> (N, 1, 28, 28) in [-1, 1]
    return nn.Sequential(
        nn.Linear(LATENT, 256), nn.ReLU(),
        nn.Linear(256, 512), nn.ReLU(),
        nn.Linear(512, 784), nn.Tanh(),
        nn.Unflatten(1, IMAGE),
    )


def discriminator() -> nn.Sequential:  # (N, 1, 28, 28) -> (N, 1) logits
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 512), nn.ReLU(),
        nn.Linear(512, 256), nn.ReLU(),
        nn.Linear(256, 1),
    )


def optimizers(G: nn.Module, D: nn.Module) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam as the tutorials write it: torch's default implementation for the device."""
    return torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS), torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)


def loader(x: Tensor, batch_size: int = 64) -> DataLoader:
    """x: (N, 1, 28, 28) already in [-1, 1] (the 'pre-normalised TensorDataset')."""
    return DataLoader(TensorDataset(x), batch_size=batch_size, shuffle=True, drop_last=True)


criterion = nn.BCEWithLogitsLoss()


def train_step(G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
               real: Tensor, z: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One D update then one G update on a real batch (N, 1, 28, 28); returns (d_loss, g_loss).

    ``z`` (N, latent) defaults to fresh N(0, 1) noise of this module's latent size."""
    b = real.size(0)
    ones = torch.ones(b, 1, device=real.device)
    zeros = torch.zeros(b, 1, device=real.device)
    if z is None:
        z = torch.randn(b, LATENT, device=real.device)
    fake = G(z)

    # (1) update D: maximise log D(x) + log(1 - D(G(z)))
    opt_d.zero_grad()
    d_loss = criterion(D(real), ones) + criterion(D(fake.detach()), zeros)
    d_loss.backward()
    opt_d.step()

    # (2) update G: maximise log D(G(z))
    opt_g.zero_grad()
    g_loss = criterion(D(fake), ones)
    g_loss.backward()
    opt_g.step()
    return d_loss, g_loss


class Loop:
    """The epoch loop, resumable step by step so a benchmark can interleave it with gankit."""

    def __init__(self, x: Tensor, batch_size: int = 64, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.G, self.D = generator().to(self.device), discriminator().to(self.device)
        self.opt_g, self.opt_d = optimizers(self.G, self.D)
        self.loader = loader(x, batch_size)
        self._it = iter(self.loader)

    def train_step(self, real: Tensor) -> tuple[Tensor, Tensor]:
        return train_step(self.G, self.D, self.opt_g, self.opt_d, real)

    def steps(self, n: int) -> None:
        for _ in range(n):
            try:
                (real,) = next(self._it)
            except StopIteration:  # next epoch
                self._it = iter(self.loader)
                (real,) = next(self._it)
            real = real.to(self.device)
            self.train_step(real)  # the tutorials print .item() every few hundred steps; not timed here


def load_mnist(folder: str | Path) -> Tensor:  # (60000, 1, 28, 28) float32 in [-1, 1]
    raw = gzip.decompress((Path(folder) / "train-images-idx3-ubyte.gz").read_bytes())
    images = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, *IMAGE)
    return torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--data", help="MNIST IDX folder; default: random stand-in data of MNIST's shape")
    a = p.parse_args()
    x = load_mnist(a.data) if a.data else torch.rand(60000, *IMAGE) * 2 - 1
    loop = Loop(x)
    loop.steps(1)
    print("first step done", flush=True)
    loop.steps(a.steps - 1)


if __name__ == "__main__":
    main()
