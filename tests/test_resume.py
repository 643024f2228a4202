"""Exact resume: a run killed anywhere and resumed ends bit-identical to an uninterrupted one.

The killed runs are real processes stopped with SIGKILL (or SIGINT/SIGTERM for the graceful
stop). To pay for ``import torch`` once, one helper process imports gankit and then forks a child
per scenario before any real tensor work; each child runs the CLI and is killed by the fault hook
``GANKIT_TEST_CRASH`` (after a step, or halfway through writing a checkpoint file) or by a signal
from the helper. The resumes then run in-process and are compared with an uninterrupted run:
same weights, optimiser and RNG state byte for byte, same metrics.csv except wall-clock seconds.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import pictures_off
from gankit import checkpoint
from gankit.cli import main

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork and POSIX signals")

STEPS = 24
#: tiny deterministic run: 128 ring points, batches of 16, 2 D steps per G step (4 steps per epoch),
#: dropout in D (so the global torch RNG matters), checkpoints every 3 steps (mid-epoch and at
#: epoch ends), a metrics row every 2 steps
TINY = ["ring", f"train.steps={STEPS}", "train.batch_size=16", "data.n_samples=128", "generator.hidden=[8]",
        "generator.latent_dim=4", "discriminator.hidden=[8]", "discriminator.dropout=0.2", "train.n_critic=2",
        "log.every=2", "log.checkpoint_every=3", "log.sample_every=1000", "log.keep_checkpoints=2",
        "log.grid_size=16", "train.deterministic=true", "train.threads=1", "log.progress=off"]
LONG = ["train.steps=100000"]  # runs stopped from outside; resumed with train.steps=STEPS

ZYGOTE = r"""
import json, os, sys, time
from pathlib import Path
import gankit.run.session  # noqa: F401  (imports torch once; the forked children share it)
from gankit.cli import main
import torch
torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # its first use imports torch._dynamo (seconds)
import gankit.report.grids, gankit.report.plots  # noqa: E401
def _stub(*args, **kwargs):
    return args[1]
gankit.report.grids.save_grid = gankit.report.plots.table_plot = gankit.report.plots.loss_curves = _stub
try:
    import gankit.report.html
    gankit.report.html.build_report = _stub
except ImportError:
    pass

jobs = json.load(sys.stdin)
children = {}
for job in jobs:
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        fd = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1); os.dup2(fd, 2)
        if job.get("crash"):
            os.environ["GANKIT_TEST_CRASH"] = job["crash"]
        try:
            code = main(job["argv"])
        except BaseException:
            import traceback; traceback.print_exc(); code = 99
        sys.stdout.flush(); sys.stderr.flush()
        os._exit(code)
    children[pid] = job
status = {}
pending = {pid: job for pid, job in children.items() if job.get("signal")}
deadline = time.time() + 180
while pending and time.time() < deadline:
    for pid, job in list(pending.items()):
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status[pid] = st
            del pending[pid]
        elif Path(job["wait_for"]).exists():
            os.kill(pid, job["signal"])
            del pending[pid]
    time.sleep(0.002)
result = {}
for pid, job in children.items():
    st = status[pid] if pid in status else os.waitpid(pid, 0)[1]
    result[job["name"]] = os.waitstatus_to_exitcode(st)
json.dump(result, sys.stdout)
"""

#: name -> (how the child dies, the step of the newest intact checkpoint it must leave behind)
CRASHES = {
    "after-step-10": ("step:10", 9),
    "mid-write-tensors": ("mid-write:step_00000012.safetensors", 9),
    "mid-write-json": ("mid-write:step_00000012.json", 9),
    "mid-write-generator": ("mid-write:generator.safetensors", STEPS),
}
#: name -> signal sent from outside once the first checkpoint exists
SIGNALS = {"external-sigkill": signal.SIGKILL, "sigint": signal.SIGINT, "sigterm": signal.SIGTERM}


@pytest.fixture(autouse=True, scope="module")
def no_pictures():
    """Sample grids, plots and reports are not what these tests check (tests/conftest.py)."""
    with pictures_off():
        yield


def run_cli(*argv: str) -> int:
    return main(["train", *argv, "--quiet"])


def metric_rows(run: Path) -> list[list[str]]:
    """metrics.csv without the wall-clock column."""
    with open(run / "metrics.csv", newline="") as f:
        return [r[:-1] for r in csv.reader(f)]


def assert_same_run(run: Path, ref: Path) -> None:
    """Bit-identical final generator and last checkpoint (models, optimisers, RNGs, data order)."""
    assert (run / "generator.safetensors").read_bytes() == (ref / "generator.safetensors").read_bytes()
    last = f"checkpoints/step_{STEPS:08d}.safetensors"
    assert (run / last).read_bytes() == (ref / last).read_bytes()
    assert metric_rows(run) == metric_rows(ref)
    assert json.loads((run / "run.json").read_text())["status"] == "complete"


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The uninterrupted TINY run, keeping all its checkpoints (3, 6, ..., 24)."""
    out = tmp_path_factory.mktemp("ref") / "run"
    assert run_cli(*TINY, "log.keep_checkpoints=100", "--out", str(out)) == 0
    return out


@pytest.fixture(scope="module")
def killed(tmp_path_factory, request) -> dict[str, tuple[int, Path, str]]:
    """Run every crash and signal scenario at once; name -> (exit code, run folder, its output).

    The helper process runs while this one makes the reference run (two cores, half the wait)."""
    root = tmp_path_factory.mktemp("killed")
    jobs = []
    for name, (crash, _) in CRASHES.items():
        jobs.append({"name": name, "crash": crash, "log": str(root / f"{name}.log"),
                     "argv": ["train", *TINY, "--out", str(root / name), "--quiet"]})
    for name, sig in SIGNALS.items():
        jobs.append({"name": name, "signal": int(sig), "log": str(root / f"{name}.log"),
                     "wait_for": str(root / name / "checkpoints" / "step_00000003.json"),
                     "argv": ["train", *TINY, *LONG, "--out", str(root / name), "--quiet"]})
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        request.getfixturevalue("reference")
    finally:
        stdout, stderr = proc.communicate(json.dumps(jobs), timeout=300)
    assert proc.returncode == 0, stderr
    codes = json.loads(stdout)
    return {name: (codes[name], root / name, (root / f"{name}.log").read_text()) for name in codes}


@pytest.mark.parametrize("name", list(CRASHES))
def test_sigkill_then_resume_is_bit_identical(name, killed, reference):
    code, run, output = killed[name]
    assert code == -signal.SIGKILL, output
    newest_ok = CRASHES[name][1]
    state, meta = checkpoint.load(checkpoint.checkpoints_in(run / "checkpoints")[-1])
    assert meta["step"] == newest_ok  # the interrupted write never became a checkpoint
    assert json.loads((run / "run.json").read_text())["status"] == "running"
    assert not (run / "generator.json").exists()
    assert run_cli("--resume", str(run)) == 0
    assert_same_run(run, reference)
    leftovers = [p.name for d in (run, run / "checkpoints") for p in d.glob(".*.tmp")]
    assert leftovers == []


def test_external_sigkill_at_a_random_moment(killed, reference):
    code, run, output = killed["external-sigkill"]
    assert code == -signal.SIGKILL, output
    newest = checkpoint.load(checkpoint.checkpoints_in(run / "checkpoints")[-1])[1]["step"]
    assert 3 <= newest < STEPS, "the kill came too late to test a resume"
    assert run_cli("--resume", str(run), f"train.steps={STEPS}") == 0
    assert_same_run(run, reference)


@pytest.mark.parametrize("name", ["sigint", "sigterm"])
def test_graceful_stop_checkpoints_and_exits_130(name, killed, reference):
    code, run, output = killed[name]
    assert code == 130, output
    last = output.strip().splitlines()[-1]  # (health warnings may come before it)
    assert last.startswith("gankit: stopped at step ") and f"gankit train --resume {run}" in last, output
    assert "Traceback" not in output
    stopped = int(last.split("stopped at step ")[1].split(";")[0])
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "interrupted" and info["steps_done"] == stopped
    newest = checkpoint.checkpoints_in(run / "checkpoints")[-1]
    assert newest.name == f"step_{stopped:08d}.json"  # the step it finished was checkpointed
    assert int(metric_rows(run)[-1][0]) <= stopped
    assert stopped < STEPS, "the signal came too late to test a resume"
    assert run_cli("--resume", str(run), f"train.steps={STEPS}") == 0
    assert_same_run(run, reference)


# ----------------------------------------------------------------------------- in-process resumes


def _rewind(src: Path, dst: Path, step: int) -> Path:
    """A copy of ``src`` as if it had been killed just after writing checkpoint ``step``."""
    shutil.copytree(src, dst)
    for p in checkpoint.checkpoints_in(dst / "checkpoints"):
        if int(p.stem[5:]) > step:
            checkpoint.remove(p)
    for name in ("generator.json", "generator.safetensors"):
        (dst / name).unlink()
    info = json.loads((dst / "run.json").read_text())
    (dst / "run.json").write_text(json.dumps({**info, "status": "running"}))
    return dst


@pytest.mark.parametrize("step", [3, 12])  # mid-epoch, epoch end
def test_resume_from_a_checkpoint_is_bit_identical(step, reference, tmp_path):
    run = _rewind(reference, tmp_path / "run", step)
    with open(run / "metrics.csv", "a") as f:
        f.write("1")  # a half-written row from the killed process: its step must not survive
    assert run_cli("--resume", str(run)) == 0
    for ckpt in checkpoint.checkpoints_in(reference / "checkpoints"):
        assert (run / "checkpoints" / ckpt.name).with_suffix(".safetensors").read_bytes() == \
            ckpt.with_suffix(".safetensors").read_bytes()
    assert (run / "generator.safetensors").read_bytes() == (reference / "generator.safetensors").read_bytes()
    assert metric_rows(run) == metric_rows(reference)


def test_resume_skips_a_damaged_newest_checkpoint(reference, tmp_path, capsys):
    run = _rewind(reference, tmp_path / "run", 15)
    t = run / "checkpoints" / "step_00000015.safetensors"
    blob = bytearray(t.read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # one flipped bit in the weights
    t.write_bytes(bytes(blob))
    assert run_cli("--resume", str(run)) == 0
    err = capsys.readouterr().err
    assert "skipping damaged checkpoint" in err and "checksum mismatch" in err
    assert (run / "checkpoints" / "step_00000015.safetensors.damaged").exists()  # kept aside, not reused
    assert (run / "generator.safetensors").read_bytes() == (reference / "generator.safetensors").read_bytes()
    assert metric_rows(run) == metric_rows(reference)


def test_resume_restores_every_part_of_the_state(reference, tmp_path):
    """Resuming and checkpointing at once changes nothing: the state round-trips exactly."""
    from gankit.config import load
    from gankit.distributed import World
    from gankit.run.folder import RunFolder
    from gankit.run.session import batches_of, build, make_loop, total_steps
    import torch

    cfg = load(TINY[0], TINY[1:])
    state, meta = checkpoint.load(reference / "checkpoints" / "step_00000015.json")
    cpu, world = torch.device("cpu"), World()
    data, trainer = build(cfg, cpu)
    batches = batches_of(cfg, data, cpu, world, trainer.task)
    loop = make_loop(cfg, RunFolder(tmp_path), data, trainer, batches, total_steps(cfg, len(data))[0], cpu, world,
                     quiet=True)
    loop.restore(state, meta)
    again = loop.snapshot().plus("callbacks", loop.callback_states())
    saved = checkpoint.Snapshot.of(state)
    assert again.skeleton == saved.skeleton
    assert again.tensors.keys() == saved.tensors.keys()
    assert all(torch.equal(again.tensors[k], saved.tensors[k]) for k in saved.tensors)
    assert trainer.step == 15 and trainer.updates["D"] == 30 and batches.epoch == 3 and batches.pos == 6
    assert trainer.opts["G"].state_dict()["state"][0]["step"].item() == 15


def test_same_seed_same_result(reference, tmp_path):
    """Two runs with one seed (train.deterministic=true) agree bit for bit; another seed does not."""
    assert run_cli(*TINY, "log.keep_checkpoints=100", "--out", str(tmp_path / "again")) == 0
    assert_same_run(tmp_path / "again", reference)
    assert (tmp_path / "again" / "config.yaml").read_bytes() == (reference / "config.yaml").read_bytes()
    assert run_cli(*TINY, "train.seed=1", "--out", str(tmp_path / "other")) == 0
    assert (tmp_path / "other" / "generator.safetensors").read_bytes() != \
        (reference / "generator.safetensors").read_bytes()
    assert metric_rows(tmp_path / "other") != metric_rows(reference)


#: images with every stateful feature: conditional D, EMA generator, DiffAugment (global RNG), DCGAN
IMAGES = ["digits", "data.name=images", "train.steps=6", "train.batch_size=8", "generator.arch=dcgan",
          "discriminator.arch=dcgan", "generator.channels=[8,4]", "discriminator.channels=[4,8]",
          "generator.latent_dim=8", "conditional.mode=projection", "ema.decay=0.9",
          "augment.policy=translation,cutout",
          "log.checkpoint_every=3", "log.sample_every=1000", "log.keep_checkpoints=100", "log.grid_size=10",
          "train.deterministic=true", "train.threads=1", "log.progress=off"]


def image_folder(root: Path) -> Path:
    """Two classes of 8x8 grayscale noise images, one sub-folder each."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        for i in range(12):
            Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(root / cls / f"{i}.png")
    return root


def test_resume_is_exact_with_ema_conditioning_and_augmentation(tmp_path):
    images = [*IMAGES, f"data.path={image_folder(tmp_path / 'pics')}"]
    full = tmp_path / "full"
    assert run_cli(*images, "--out", str(full)) == 0
    run = _rewind(full, tmp_path / "run", 3)
    assert run_cli("--resume", str(run)) == 0
    assert (run / "generator.safetensors").read_bytes() == (full / "generator.safetensors").read_bytes()
    for ckpt in checkpoint.checkpoints_in(full / "checkpoints"):
        assert (run / "checkpoints" / ckpt.name).with_suffix(".safetensors").read_bytes() == \
            ckpt.with_suffix(".safetensors").read_bytes()
    assert metric_rows(run) == metric_rows(full)
    assert "G" in checkpoint.load(full / "checkpoints" / "step_00000006.json")[0]["train"]["emas"]


@pytest.mark.parametrize("fused", [True, False])
def test_optimiser_state_gets_the_parameter_layout_back(fused):
    """Checkpoints store contiguous tensors; Adam's moments of a channels-last weight must be
    channels-last again after loading, or the fused update mixes up entries."""
    import torch

    from gankit.training.phases import match_layouts

    def adam(p):
        return torch.optim.Adam([p], lr=0.1, fused=fused or None, foreach=not fused or None)

    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(2, 3, 4, 4).to(memory_format=torch.channels_last))
    opt = adam(p)
    p.grad = torch.randn_like(p)
    opt.step()
    state = checkpoint.Snapshot.of(opt.state_dict()).state()  # as saved and loaded: contiguous
    p2 = torch.nn.Parameter(p.detach().clone())
    opt2 = adam(p2)
    opt2.load_state_dict(state)
    match_layouts(opt2)
    assert opt2.state[p2]["exp_avg"].is_contiguous(memory_format=torch.channels_last)
    g = torch.randn_like(p)
    p.grad, p2.grad = g.clone(), g.clone()
    opt.step()
    opt2.step()
    assert torch.equal(p, p2)
