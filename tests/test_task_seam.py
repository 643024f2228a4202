"""A new task is one file plus one registration: the loop runs it without knowing what it computes.

The task here is shaped like the hardest one the roadmap brings (CycleGAN, Zhu et al. 2017): two
generators and two discriminators fed by an input batch (digits and their mirror images), a G-only
warm-up phase (each generator learns to reproduce its input) before the adversarial phases, a
linear learning-rate decay for the generators' optimiser, and a metrics.csv column of its own
(``cycle``). It is registered from this module, before ``gankit.cli.main`` runs in-process (or in
a child process that runs this file as a script), and trains, resumes exactly after a SIGKILL,
samples and reports through the CLI.
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gankit import checkpoint
from gankit.cli import main
from gankit.losses import lsgan_d, lsgan_g
from gankit.tasks import TASKS
from gankit.tasks.base import OptimizerSetting, Phase, Task, Trained

WARMUP = 4
G_NETS, D_NETS = ("G_ab", "G_ba"), ("D_a", "D_b")


def _generator(shape: tuple[int, ...]) -> nn.Module:
    dim = math.prod(shape)
    return nn.Sequential(nn.Flatten(), nn.Linear(dim, dim), nn.Tanh(), nn.Unflatten(1, shape))


def _discriminator(shape: tuple[int, ...]) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(shape), 1))


class ToyCycle(Task):
    """Unpaired translation A <-> B with cycle consistency, in miniature."""

    name = "toy-cycle"
    columns = ("rec_loss", "d_loss", "g_loss", "cycle")

    def __init__(self, data, device) -> None:
        self.data = data
        self.nets = {n: _generator(data.shape).to(device) for n in G_NETS}
        self.nets |= {n: _discriminator(data.shape).to(device) for n in D_NETS}
        self.optimizers = {"G": OptimizerSetting(G_NETS, 1e-3, (0.5, 0.999), "linear"),
                           "D": OptimizerSetting(D_NETS, 1e-3, (0.5, 0.999))}
        self.ema = {}

    @classmethod
    def from_config(cls, cfg, data, device):
        return cls(data, device)

    def batch_tensors(self, data):
        return {"a": data.x, "b": data.x.flip(-1)}  # domain B: the mirror images

    def phases(self):
        return [Phase("warmup", "G", G_NETS, stop=WARMUP, loss_stat="rec_loss"),
                Phase("D", "D", D_NETS, start=WARMUP, loss_stat="d_loss"),
                Phase("G", "G", G_NETS, frozen=D_NETS, batch=False, start=WARMUP, loss_stat="g_loss")]

    def inputs(self, phase, batch, ctx):
        if batch is not None:
            ctx.carry.update(batch)
        a, b = ctx.carry["a"], ctx.carry["b"]
        if phase.name != "D":
            return {"a": a, "b": b}
        with torch.no_grad():
            return {"a": a, "b": b, "fake_a": self.nets["G_ba"](b), "fake_b": self.nets["G_ab"](a)}

    def loss(self, phase, x, ctx):
        n = ctx.train_nets
        if phase.name == "warmup":
            return F.l1_loss(n["G_ab"](x["a"]), x["a"]) + F.l1_loss(n["G_ba"](x["b"]), x["b"]), {}
        if phase.name == "D":
            return (lsgan_d(real=n["D_a"](x["a"]), fake=n["D_a"](x["fake_a"]))
                    + lsgan_d(real=n["D_b"](x["b"]), fake=n["D_b"](x["fake_b"]))), {}
        fake_b, fake_a = n["G_ab"](x["a"]), n["G_ba"](x["b"])
        cycle = F.l1_loss(n["G_ba"](fake_b), x["a"]) + F.l1_loss(n["G_ab"](fake_a), x["b"])
        adv = lsgan_g(fake=self.nets["D_b"](fake_b)) + lsgan_g(fake=self.nets["D_a"](fake_a))
        return adv + 10 * cycle, {"cycle": cycle.detach()}

    def fixed_inputs(self, n, seed):
        return {"a": self.data.x[:n]}

    def preview(self, nets, fixed):
        with torch.no_grad():
            return self.data.decode(nets["G_ab"](fixed["a"])).numpy(), None

    def export(self, nets, step):
        meta = {"task": self.name, "step": step,
                "data": {"kind": "image", "shape": list(self.data.shape), **self.data.codec.to_dict()}}
        return "generator", {n: nets[n].state_dict() for n in G_NETS}, meta

    @classmethod
    def load_trained(cls, state, meta, source, device="cpu"):
        return ToyTranslator(state, meta)


class ToyTranslator(Trained):
    def __init__(self, state, meta) -> None:
        from gankit.modalities import get_modality

        self.shape = tuple(meta["data"]["shape"])
        self.G = _generator(self.shape)
        self.G.load_state_dict(state["G_ab"])
        self.codec = get_modality("image").codec_from(meta["data"])

    def sample(self, n, *, seed=None, label=None):
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        a = torch.rand(n, *self.shape, generator=gen) * 2 - 1  # inputs of domain A, translated to B
        with torch.no_grad():
            return self.codec.decode(self.G(a)).numpy()


if "toy-cycle" not in TASKS:  # the one registration
    TASKS.register("toy-cycle", "two generators and two discriminators (test)")(ToyCycle)

ARGS = ["digits", "task=toy-cycle", "train.steps=12", "train.batch_size=32", "log.every=2",
        "log.checkpoint_every=4", "log.sample_every=6", "log.grid_size=16", "train.deterministic=true",
        "train.threads=1", "log.progress=off"]


def rows(run: Path) -> list[dict]:
    with open(run / "metrics.csv", newline="") as f:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(f)]


def test_a_registered_task_trains_samples_and_reports(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *ARGS, "--out", str(run), "--quiet"]) == 0
    table = rows(run)
    assert list(table[0]) == ["step", "epoch", "rec_loss", "d_loss", "g_loss", "cycle"]
    warm, adversarial = table[:2], table[2:]  # rows at steps 2, 4 | 6, 8, 10, 12
    assert all(r["rec_loss"] and not r["d_loss"] and not r["cycle"] for r in warm)
    assert all(r["d_loss"] and r["g_loss"] and r["cycle"] and not r["rec_loss"] for r in adversarial)
    state, meta = checkpoint.load(checkpoint.checkpoints_in(run / "checkpoints")[-1])
    assert meta["step"] == 12 and state["train"]["updates"] == {"warmup": 4, "D": 8, "G": 8}
    lr_g = state["train"]["opts"]["G"]["param_groups"][0]["lr"]
    lr_d = state["train"]["opts"]["D"]["param_groups"][0]["lr"]
    assert lr_g == 1e-3 * (1 - 11 / 12) and lr_d == 1e-3  # linear decay, set at the start of step 12

    assert main(["sample", str(run), "--n", "8", "--out", str(tmp_path / "x.npy"), "--seed", "1"]) == 0
    x = np.load(tmp_path / "x.npy")
    assert x.shape == (8, 1, 8, 8) and 0 <= x.min() and x.max() <= 1
    assert main(["report", str(run)]) == 0
    page = (run / "report.html").read_text()
    assert "last cycle" in page and "step_00000012" in page


def test_a_registered_task_resumes_exactly_after_a_kill(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert main(["train", *ARGS, "--out", str(whole), "--quiet"]) == 0
    env = {**os.environ, checkpoint.CRASH_ENV: "step:7"}  # mid adversarial phase, after the step-4 checkpoint
    child = subprocess.run([sys.executable, __file__, "train", *ARGS, "--out", str(killed), "--quiet"], env=env,
                           capture_output=True, text=True, timeout=300)
    assert child.returncode == -9, child.stderr[-2000:]
    assert main(["train", "--resume", str(killed), "--quiet"]) == 0
    assert (killed / "generator.safetensors").read_bytes() == (whole / "generator.safetensors").read_bytes()
    a, b = (checkpoint.load(checkpoint.checkpoints_in(r / "checkpoints")[-1])[0] for r in (whole, killed))
    sa, sb = checkpoint.Snapshot.of(a["train"]), checkpoint.Snapshot.of(b["train"])
    assert sa.tensors.keys() == sb.tensors.keys()
    assert all(torch.equal(sa.tensors[k], sb.tensors[k]) for k in sa.tensors)
    assert rows(killed) == rows(whole)


if __name__ == "__main__":  # the child process of the kill test: this module's task, then the CLI
    sys.exit(main(sys.argv[1:]))
