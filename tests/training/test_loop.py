"""The loop's conventions: learning-rate schedules, time budgets, a resume before the first checkpoint."""

from __future__ import annotations

import csv
import json
import math
import shutil

import pytest
import torch

import gankit
from gankit import checkpoint
from gankit.cli import main
from gankit.training.phases import schedule_factor

pytestmark = pytest.mark.usefixtures("no_pictures")  # tests/conftest.py

RING = ["ring", "data.n_samples=256", "train.batch_size=32", "generator.hidden=[8]", "discriminator.hidden=[8]",
        "log.every=5", "log.sample_every=1000", "train.threads=1", "train.deterministic=true", "log.progress=off"]


def test_schedule_factors():
    assert [schedule_factor("constant", s, 10) for s in (0, 5, 10)] == [1.0, 1.0, 1.0]
    assert [schedule_factor("linear", s, 10) for s in (0, 5, 10)] == [1.0, 0.5, 0.0]
    assert schedule_factor("cosine", 0, 10) == 1.0 and schedule_factor("cosine", 10, 10) == pytest.approx(0.0)
    assert schedule_factor("cosine", 5, 10) == pytest.approx(0.5)


def test_each_optimiser_follows_its_own_schedule_and_it_resumes(tmp_path):
    args = [*RING, "train.steps=20", "generator.schedule=cosine", "discriminator.schedule=linear",
            "log.checkpoint_every=10"]
    whole = gankit.train(*args, out=tmp_path / "whole", quiet=True)
    state, _ = checkpoint.load(checkpoint.checkpoints_in(whole / "checkpoints")[-1])
    lr = {n: state["train"]["opts"][n]["param_groups"][0]["lr"] for n in ("G", "D")}
    assert lr["G"] == pytest.approx(2e-3 * 0.5 * (1 + math.cos(math.pi * 19 / 20)))  # set before step 20
    assert lr["D"] == pytest.approx(2e-3 * (1 - 19 / 20))  # the ring preset: lr 2e-3
    part = gankit.train(*[a for a in args if a != "train.steps=20"], "train.steps=10", out=tmp_path / "part",
                        quiet=True)
    gankit.train(None, "train.steps=20", resume=part, quiet=True)
    # a schedule runs over train.steps: 10 steps of a 10-step schedule are not the first half of a
    # 20-step one, so the resumed run (now 20 steps) differs from the one trained for 20 from the start
    assert (part / "generator.safetensors").read_bytes() != (whole / "generator.safetensors").read_bytes()



def test_decay_start_holds_each_rate_before_its_schedule(tmp_path):
    args = [*RING, "train.steps=20", "generator.schedule=linear", "generator.decay_start=0.5",
            "discriminator.schedule=cosine", "discriminator.decay_start=0.25", "log.checkpoint_every=10"]
    run = gankit.train(*args, out=tmp_path / "held", quiet=True)
    lr = {}
    for ckpt in checkpoint.checkpoints_in(run / "checkpoints"):  # steps 10 and 20
        state, _ = checkpoint.load(ckpt)
        lr[ckpt.stem] = {n: state["train"]["opts"][n]["param_groups"][0]["lr"] for n in ("G", "D")}
    # G: full for steps 0-9, then 1 -> 0 over the last 10; D: full for 0-4, then a cosine over 15
    assert lr["step_00000010"]["G"] == pytest.approx(2e-3)  # set before step 10: the hold's last
    assert lr["step_00000020"]["G"] == pytest.approx(2e-3 * (1 - 9 / 10))
    assert lr["step_00000010"]["D"] == pytest.approx(2e-3 * 0.5 * (1 + math.cos(math.pi * 4 / 15)))
    assert lr["step_00000020"]["D"] == pytest.approx(2e-3 * 0.5 * (1 + math.cos(math.pi * 14 / 15)))


@pytest.mark.parametrize(("args", "message"), [
    (["generator.decay_start=1"], "generator.decay_start must be in [0, 1), got 1.0"),
    (["facades-pix2pix", "discriminator.decay_start=0.5"],
     "task=pix2pix holds both rates with translate.decay_start; set that instead"),
])
def test_a_bad_decay_start_is_refused(args, message, capsys):
    preset = [] if args[0].startswith("facades") else RING
    assert main(["train", *preset, *args, "--dry-run"]) == 2
    assert message in capsys.readouterr().err


def test_a_scheduled_run_stopped_midway_and_resumed_ends_as_the_whole(tmp_path):
    """What a time limit then ``--resume`` does to a scheduled run (benchmarks/cifar10.py's 30 then 90
    minutes): the same train.steps, so the same rates at every step, and the same weights at the end."""
    args = [*RING, "train.steps=20", "generator.schedule=linear", "discriminator.schedule=cosine",
            "log.checkpoint_every=10", "log.keep_checkpoints=5"]
    whole = gankit.train(*args, out=tmp_path / "whole", quiet=True)
    part = tmp_path / "part"
    shutil.copytree(whole, part)
    (part / "generator.safetensors").unlink()
    for late in checkpoint.checkpoints_in(part / "checkpoints")[1:]:  # as if it had stopped at step 10
        checkpoint.remove(late)
    assert [c.stem for c in checkpoint.checkpoints_in(part / "checkpoints")] == ["step_00000010"]
    gankit.train(None, resume=part, quiet=True)
    assert (part / "generator.safetensors").read_bytes() == (whole / "generator.safetensors").read_bytes()


def test_a_time_limit_stops_cleanly_and_train_steps_reproduces_it(tmp_path):
    limited = gankit.train(*RING, "train.steps=100000", "train.time_limit=2s", out=tmp_path / "lim", quiet=True)
    info = json.loads((limited / "run.json").read_text())
    reached = info["time_limit"]["step"]
    assert info["status"] == "complete" and info["steps_done"] == reached and 0 < reached < 100000
    assert info["time_limit"]["reproduce"] == f"train.steps={reached}"
    again = gankit.train(*RING, f"train.steps={reached}", out=tmp_path / "again", quiet=True)
    assert (again / "generator.safetensors").read_bytes() == (limited / "generator.safetensors").read_bytes()


def test_a_bad_time_limit_is_refused(capsys):
    assert main(["train", *RING, "train.time_limit=soon", "--dry-run"]) == 2
    assert "train.time_limit must be a duration such as 90s, 5m or 2h" in capsys.readouterr().err


def test_resume_before_the_first_checkpoint_starts_again(tmp_path, capsys):
    """A job script that always passes --resume after a pre-emption: a run killed before its first
    checkpoint starts again from step 0 (and says so) and ends as an uninterrupted run."""
    whole = gankit.train(*RING, "train.steps=12", out=tmp_path / "whole", quiet=True)
    run = tmp_path / "run"
    gankit.train(*RING, "train.steps=12", out=run, quiet=True)
    for p in checkpoint.checkpoints_in(run / "checkpoints"):  # as if killed before the first one
        checkpoint.remove(p)
    (run / "generator.json").unlink()
    (run / "run.json").write_text(json.dumps({"status": "running"}))
    with open(run / "metrics.csv", "a") as f:
        f.write("13,0,1")  # a half row of the killed process
    capsys.readouterr()
    assert main(["train", "--resume", str(run)]) == 0
    assert "has no checkpoint yet" in capsys.readouterr().out
    assert (run / "generator.safetensors").read_bytes() == (whole / "generator.safetensors").read_bytes()

    def rows(r):
        with open(r / "metrics.csv", newline="") as f:
            return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]

    assert rows(run) == rows(whole)


def test_a_spent_time_budget_is_refused_on_resume(tmp_path, capsys):
    run = gankit.train(*RING, "train.steps=100000", "train.time_limit=1s", out=tmp_path / "r", quiet=True)
    assert main(["train", "--resume", str(run)]) == 2
    assert "has used its train.time_limit=1s" in capsys.readouterr().err
    assert main(["train", "--resume", str(run), "train.time_limit=2s", "--quiet"]) == 0  # a bigger budget goes on
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "complete" and info["seconds"] >= 1.0 and len(info["resumed"]) == 1


def test_a_cpu_clock_budget_counts_the_process_cpu_time_not_the_wall_clock(tmp_path, monkeypatch):
    """train.time_clock=cpu: time the process spends off the CPU (here a sleep in every step, as when other
    jobs hold the cores) does not use the budget; the wall clock does."""
    import time as _time

    from gankit.training import loop as loop_mod

    real_step = loop_mod.Loop.after_step

    def slow(self, step, flag):  # 20 ms off the CPU per step
        _time.sleep(0.02)
        return real_step(self, step, flag)

    monkeypatch.setattr(loop_mod.Loop, "after_step", slow)
    runs = {clock: gankit.train(*RING, "train.steps=100000", "train.time_limit=1s", f"train.time_clock={clock}",
                                "train.threads=1", out=tmp_path / clock, quiet=True) for clock in ("wall", "cpu")}
    info = {c: json.loads((r / "run.json").read_text()) for c, r in runs.items()}
    assert info["cpu"]["time_limit"]["clock"] == "cpu" and info["cpu"]["time_limit"]["cpu_seconds"] >= 1.0
    assert info["wall"]["time_limit"]["cpu_seconds"] < 1.0 <= info["wall"]["seconds"]
    assert info["cpu"]["seconds"] > info["cpu"]["time_limit"]["cpu_seconds"]  # the sleeps: wall > CPU
    assert info["cpu"]["steps_done"] > info["wall"]["steps_done"]


def test_ema_switched_on_at_a_resume_starts_from_the_weights(tmp_path):
    run = gankit.train(*RING, "train.steps=10", "ema.decay=0", "log.checkpoint_every=10", out=tmp_path / "r",
                       quiet=True)
    gankit.train(None, "train.steps=20", "ema.decay=0.9", resume=run, quiet=True)
    state, _ = checkpoint.load(checkpoint.checkpoints_in(run / "checkpoints")[-1])
    assert "G" in state["train"]["emas"] and torch.isfinite(state["train"]["emas"]["G"]["0.weight"]).all()
