"""The SNGAN reference: the PyTorch DCGAN example's loop, written plainly, around a cifar10-sngan preset's
own networks (gankit.models.sngan, built from the preset's config: the same modules, so the same maths,
and the same initial weights as gankit's run).

The loop is the one of ``benchmarks/reference_dcgan.py``, conditional and with the preset's step: a
``DataLoader`` over a pre-normalised ``TensorDataset`` of (images, labels); for each of the ``n_critic`` D
updates a new batch, ``fake = G(z, y)``, ``D(real, y)`` and ``D(fake.detach(), y)`` as two forwards and the
hinge loss (Lim & Ye 2017; Miyato et al. 2018); then G's update on the last fake through ``D(fake, y)``
with D trainable, so D's weight gradients are computed there too; two Adam optimisers in torch's default
implementation, ``zero_grad()``; an exponential moving average of G after each G step, written as the
usual per-parameter loop with gankit's warm-up β_t = min(β, (1 + t)/(10 + t)) and the batch-norm
statistics copied. ``precision="bf16"`` wraps the forwards in ``torch.autocast`` and ``channels_last``
converts the networks and each batch, as PyTorch's tutorials show.

Run as a script it times gankit's step against this loop side by side, in one process, on random data
of CIFAR-10's shape (speed does not depend on the pixels)::

    OMP_NUM_THREADS=1 python -m benchmarks.reference_sngan --pairs 5 --seconds 4
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader, TensorDataset

if __package__ in (None, ""):  # `python benchmarks/reference_sngan.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def cifar_like(n: int, classes: int = 10, seed: int = 0, side: int = 32, channels: int = 3):
    """A labelled set of CIFAR-10's shape as gankit's Data (images in training space [-1, 1]), built in
    memory: random pixels, for speed figures, and a stand-in where the real set is not on the machine."""
    import numpy as np

    from gankit.data import Raw, prepare

    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, channels, side, side), dtype=np.uint8).astype(np.float32) / 255.0
    y = rng.integers(0, classes, size=n)
    return prepare(Raw(x, "image", labels=y, classes=[f"class{k}" for k in range(classes)]), "cifar-like",
                   output="tanh", standardize=True)


def gankit_setup(preset: str, data, device: str, *, batch: int | None = None, precision: str = "fp32",
                 channels_last: bool | None = None, overrides: tuple[str, ...] = ()):
    """(stepper, batches) of ``gankit train PRESET`` on ``data`` (a gankit Data), as gankit.run.session.build
    makes them, at ``batch`` (None: the preset's ``train.batch_size``), with the Stepper's ``channels_last``
    choice open (None: gankit's default, on for conv nets on the CPU only)."""
    from gankit.config import load
    from gankit.tasks import get_task
    from gankit.training.batches import Batches
    from gankit.training.phases import Stepper

    sized = [] if batch is None else [f"train.batch_size={batch}"]
    cfg = load(preset, ["data.path=null", "data.test_path=null", *sized, f"train.device={device}",
                        f"train.precision={precision}", *overrides])
    dev = torch.device(device)
    task = get_task(cfg.task).from_config(cfg, data, dev)
    stepper = Stepper(task, total=cfg.train.steps or 1, precision=precision, channels_last=channels_last)
    tensors = {k: v.to(dev) for k, v in task.batch_tensors(data).items()}
    return stepper, Batches(tensors, cfg.train.batch_size, seed=0)


def hinge_d(real: Tensor, fake: Tensor) -> Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


class Loop:
    """The plain loop (module docstring) around copies of a gankit stepper's networks (``like``)."""

    def __init__(self, like, data, batch_size: int = 64, device: str | torch.device = "cpu", *,
                 precision: str = "fp32", channels_last: bool = False) -> None:
        self.device = torch.device(device)
        task = like.task
        self.G, self.D = copy.deepcopy(task.G).to(self.device), copy.deepcopy(task.D).to(self.device)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        for net in (self.G, self.D):
            net.to(memory_format=fmt)  # gankit's CPU default is channels-last: the reference's own choice here
        self.channels_last = channels_last
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.ema_decay = next(iter(task.ema.values()), 0.0)
        g, d = task.optimizers["G"], task.optimizers["D"]
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=g.lr, betas=g.betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=d.lr, betas=d.betas)
        self.n_critic, self.latent = task.s.n_critic, task.s.latent_dim
        self.loader = DataLoader(TensorDataset(data.x.cpu(), data.labels.cpu()), batch_size=batch_size, shuffle=True,
                                 drop_last=True)
        self._it = iter(self.loader)
        self.amp = torch.bfloat16 if precision == "bf16" else None
        self.done = 0

    def autocast(self):
        return nullcontext() if self.amp is None else torch.autocast(self.device.type, dtype=self.amp)

    def batch(self) -> tuple[Tensor, Tensor]:
        try:
            real, y = next(self._it)
        except StopIteration:  # next epoch
            self._it = iter(self.loader)
            real, y = next(self._it)
        real = real.to(self.device)
        if self.channels_last:
            real = real.contiguous(memory_format=torch.channels_last)
        return real, y.to(self.device)

    def train_step(self) -> tuple[Tensor, Tensor]:
        for _ in range(self.n_critic):
            real, y = self.batch()
            z = torch.randn(real.size(0), self.latent, device=self.device)
            with self.autocast():
                fake = self.G(z, y)
                d_loss = hinge_d(self.D(real, y), self.D(fake.detach(), y))
            self.opt_d.zero_grad()
            d_loss.backward()
            self.opt_d.step()
        with self.autocast():
            g_loss = -self.D(fake, y).mean()
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()
        if self.ema_decay > 0:
            self.ema_update()
        self.done += 1
        return d_loss, g_loss

    def ema_update(self) -> None:
        beta = min(self.ema_decay, (1 + self.done) / (10 + self.done))
        with torch.no_grad():
            for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
                p_ema.mul_(beta).add_(p, alpha=1 - beta)
            for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
                b_ema.copy_(b)

    def steps(self, n: int) -> None:
        for _ in range(n):
            self.train_step()  # the tutorials print .item() every few hundred steps; not timed here


def compare(preset: str, device: str, pairs: int, seconds: float, *, n: int = 2048, batch: int | None = None,
            overrides: tuple[str, ...] = ()) -> dict:
    """gankit's step against the plain loop, alternating timed blocks (benchmarks/run.py's method), at
    ``batch`` (None: the preset's ``train.batch_size``)."""
    from benchmarks.run import GankitLoop, LAST_BLOCKS, LAST_CPU_RATIO, block_size, side_by_side

    torch.manual_seed(0)
    data = cifar_like(n)
    stepper, batches = gankit_setup(preset, data, device, batch=batch, overrides=overrides)
    batch = batches.batch_size
    ours, ref = GankitLoop(stepper, batches), Loop(stepper, data, batch, device)
    block = block_size([ours.steps, ref.steps], seconds, device)
    t_ref, t_ours, ratio = side_by_side(lambda: ref.steps(block), lambda: ours.steps(block), pairs, device)
    return {"preset": preset, "device": device, "threads": torch.get_num_threads(), "batch": batch,
            "block_steps": block, "pairs": pairs, "ref_sps": block / t_ref, "gankit_sps": block / t_ours,
            "ratio": ratio, "cpu_time_ratio": LAST_CPU_RATIO[0], "block_seconds": dict(LAST_BLOCKS)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.reference_sngan", description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="cifar10-sngan")
    p.add_argument("--device", default="cpu")
    p.add_argument("--pairs", type=int, default=5, help="alternating (reference, gankit) block pairs")
    p.add_argument("--seconds", type=float, default=4.0, help="length of one timed block")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=None, help="batch size (default: the preset's train.batch_size)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    r = compare(a.preset, a.device, a.pairs, a.seconds, batch=a.batch)
    print(json.dumps(r, indent=1))
    print(f"{a.preset}, {a.device}, {a.threads} thread(s), batch {r['batch']}: gankit {r['gankit_sps']:.3f} steps/s, "
          f"plain loop {r['ref_sps']:.3f} steps/s, ratio {r['ratio']:.2f}x (CPU time {r['cpu_time_ratio']:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
