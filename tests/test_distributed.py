"""Issue 7: torchrun + DistributedDataParallel on the CPU (gloo, loopback only).

Two processes on a global batch of 64 must compute what one process computes on that batch (the
same data slices, the same noise, gradients averaged by DDP), write one set of files, and leave
checkpoints that a single process resumes, and the reverse.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import gankit
from gankit import cli
from gankit import distributed as dist
from gankit.errors import GankitError

# ring: an MLP GAN with R1 (a double backward through the DDP-wrapped D) and an EMA generator
TINY = ("generator.hidden=[32,32]", "discriminator.hidden=[32,32]", "data.n_samples=2000",
        "train.batch_size=64", "log.every=5", "log.checkpoint_every=10", "log.sample_every=10",
        "train.threads=1", "log.progress=off")


def torchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc-per-node 2 -m gankit ...``: a free loopback port, gloo."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "gankit", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def weights(run: Path) -> dict[str, torch.Tensor]:
    """The final generator (EMA) and the newest checkpoint's D."""
    ckpt = sorted((run / "checkpoints").glob("step_*.safetensors"))[-1]
    state = load_file(ckpt)
    return {**load_file(run / "generator.safetensors"), **{k: v for k, v in state.items() if k.startswith("train/nets/D/")}}


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys() and any(k.startswith("train/nets/D/") for k in a)
    for k in a:  # the same sums in another order (two half-batch means, averaged)
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5, msg=lambda m: f"{k}: {m}")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Single-process references (20 and 30 steps) and the 2-process runs the tests compare with them."""
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this PyTorch has no gloo backend")
    tmp = tmp_path_factory.mktemp("ddp")
    one20 = gankit.train("ring", *TINY, "train.steps=20", out=tmp / "one20", quiet=True)
    one30 = gankit.train("ring", *TINY, "train.steps=30", out=tmp / "one30", quiet=True)
    two = torchrun("train", "ring", *TINY, "train.steps=20", "--out", str(tmp / "two20"), cwd=tmp)
    # a single-process checkpoint continued by two processes
    gankit.train("ring", *TINY, "train.steps=20", out=tmp / "handover", quiet=True)
    resumed = torchrun("train", "train.steps=30", "--resume", str(tmp / "handover"), cwd=tmp)
    return {"tmp": tmp, "one20": one20, "one30": one30, "two": two, "resumed": resumed}


def test_two_processes_match_one_process(runs):
    two = runs["two"]
    assert two.returncode == 0, two.stderr[-3000:]
    assert_same(weights(runs["tmp"] / "two20"), weights(runs["one20"]))


def test_only_rank_0_writes_and_prints(runs):
    run, out = runs["tmp"] / "two20", runs["two"].stdout
    assert out.count("gankit: training ring") == 1 and out.count("gankit: done") == 1, out
    steps = [line.split(",")[0] for line in (run / "metrics.csv").read_text().splitlines()[1:]]
    assert steps == ["5", "10", "15", "20"]  # one row per logged step: one writer, merged losses
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == sorted(
        p.name for p in (runs["one20"] / "checkpoints").iterdir())
    assert sorted(p.name for p in run.iterdir()) == sorted(p.name for p in runs["one20"].iterdir())
    assert not any(runs["tmp"].glob("runs"))  # no rank wrote a default run folder


def test_checkpoints_move_between_world_sizes(runs):
    """Two processes continue a single-process checkpoint, and one process continues theirs."""
    resumed = runs["resumed"]
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert resumed.stdout.count("resuming") == 1
    assert_same(weights(runs["tmp"] / "handover"), weights(runs["one30"]))
    back = gankit.train("ring", *TINY, "train.steps=30", resume=runs["tmp"] / "two20", quiet=True)
    assert_same(weights(back), weights(runs["one30"]))


# ----------------------------------------------------------------------------- without processes


def test_world_from_torchrun_environment():
    assert dist.from_env({}) == dist.World(0, 0, 1)
    w = dist.from_env({"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "4"})
    assert (w.rank, w.local_rank, w.size, w.main, w.distributed) == (3, 1, 4, False, True)
    with pytest.raises(GankitError, match="torchrun"):
        dist.from_env({"RANK": "x", "WORLD_SIZE": "2"})
    with pytest.raises(GankitError, match="inconsistent"):
        dist.from_env({"RANK": "2", "WORLD_SIZE": "2"})


def test_batch_must_split_over_processes_and_micro_batches():
    dist.check_batch(dist.World(0, 0, 4), 64, 2)
    with pytest.raises(GankitError, match=r"does not split over 3 processes; use a multiple of 3, e\.g\. train\.batch_size=63 or 66"):
        dist.check_batch(dist.World(0, 0, 3), 64, 1)
    with pytest.raises(GankitError, match="4 processes x train.accumulate=3"):
        dist.check_batch(dist.World(0, 0, 4), 64, 3)


def test_devices_under_torchrun():
    w = dist.World(1, 1, 2)
    assert dist.device_for(dist.World(), "cuda:3") == "cuda:3"  # one process: as configured
    assert dist.device_for(w, "cpu") == "cpu"
    if not torch.cuda.is_available():
        assert dist.device_for(w, "auto") == "cpu"
    with pytest.raises(GankitError, match="LOCAL_RANK"):
        dist.device_for(w, "cuda:1")
    with pytest.raises(GankitError, match="mps"):
        dist.device_for(w, "mps")


def test_rank_seeds_differ_and_rank_0_keeps_the_run_seed():
    assert dist.rank_seed(7, 0) == 7
    assert len({dist.rank_seed(7, r) for r in range(8)}) == 8


def test_world_size_that_does_not_divide_the_batch_exits_2(monkeypatch, tmp_path, capsys):
    for k, v in {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "3"}.items():
        monkeypatch.setenv(k, v)
    assert cli.main(["train", "ring", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "train.batch_size=512 (the global batch) does not split over 3 processes" in err
    assert not (tmp_path / "r").exists()


def test_an_error_before_the_processes_join_is_printed_by_rank_0_only(monkeypatch, tmp_path, capsys):
    """The same config error on every rank: one line on the console, exit 2 everywhere."""
    for rank in ("1", "0"):
        for k, v in {"RANK": rank, "LOCAL_RANK": rank, "WORLD_SIZE": "3"}.items():
            monkeypatch.setenv(k, v)
        assert cli.main(["train", "ring", "--out", str(tmp_path / "r")]) == 2
        err = capsys.readouterr().err
        assert err.count("does not split over 3 processes") == (rank == "0")
