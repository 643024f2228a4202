"""The one training loop: steps a task's phases, reads statistics, calls back, checkpoints, rolls back.

Every task runs through this loop; it knows none of them. Per step:

1. ``Stepper.train_step``: the task's phases (gankit/training/phases.py); their statistics are summed
   by name on the device.
2. Every ``log.every`` steps (and every few steps for the divergence check) the sums are read: one
   host sync; under torchrun averaged over the processes, together with any process's stop request.
   Non-finite sums roll back to the last good state (guard.py).
3. Callbacks (callbacks.py): a metrics row, health, TensorBoard; an evaluation at ``eval.every``
   steps (which may stop early); preview samples at ``log.sample_every`` steps.
4. At ``log.checkpoint_every`` steps, at the end, and when stopping: a checkpoint with everything
   (task, optimisers, data order, every RNG, statistic sums, callbacks' state), after a check that
   every tensor is finite. It becomes the guard's rollback target.

SIGINT/SIGTERM finish the current step, checkpoint and raise :class:`Interrupted`.
``train.time_limit`` stops the same way at the limit and records the step reached.
Only rank 0 writes files; decisions all processes must take together (roll back, stop) are made on
values averaged or OR-ed over the processes, at the same steps everywhere.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time

import torch

from gankit import __version__, checkpoint
from gankit import distributed as dist
from gankit.errors import GankitError, Interrupted, resume_hint
from gankit.run.folder import INFO, RunFolder
from gankit.training.callbacks import Callback, say
from gankit.training.guard import Guard
from gankit.training.rng import stop_signals
from gankit.training.stats import StatSums

#: the divergence guard looks at the statistic sums at least this often (one host sync per look)
CHECK_EVERY = 10


def _crash_step() -> int | None:
    """``GANKIT_TEST_CRASH=step:N``: the crash tests SIGKILL the run right after step N."""
    spec = os.environ.get(checkpoint.CRASH_ENV, "")
    return int(spec[5:]) if spec.startswith("step:") and spec[5:].isdigit() else None


def every(value: int | None, total: int, parts: int) -> int:
    """An interval setting, or ``total / parts`` when unset."""
    return value if value is not None else max(1, math.ceil(total / parts))


class Loop:
    """One ``train`` call on a run folder: the steps, their bookkeeping and the callbacks."""

    def __init__(self, stepper, batches, total: int, folder: RunFolder, *, world, device, guard: Guard,
                 intervals: dict[str, int], run_meta: dict, fixed: dict | None = None, time_limit: float | None = None,
                 time_clock: str = "wall", quiet: bool = True) -> None:
        self.stepper, self.batches, self.total, self.folder = stepper, batches, total, folder
        self.world, self.device, self.guard = world, device, guard
        self.iv, self.run_meta, self.fixed = intervals, run_meta, fixed
        self.time_limit, self.time_clock, self.quiet = time_limit, time_clock, quiet
        self.task = stepper.task
        self.sums = StatSums(self.task.columns, device)
        self.callbacks: list[Callback] = []
        self.info: dict = {}
        self.seconds = 0.0  # training wall clock over all sessions of the run
        self.cpu_seconds = 0.0  # this process's CPU time in training over all sessions (train.time_clock=cpu)
        self.bar = None
        self.stopped_early = False
        self.stopped_at_limit = False
        self.data = None  # set by the session
        self.evaluator = None  # eval.every > 0: gankit.metrics.tracker.Evaluator (rank 0)
        self.tb_class = None  # log.tensorboard=true: the SummaryWriter class (rank 0)

    # ------------------------------------------------------------------ small services for callbacks

    def say(self, line: str, err: bool = False) -> None:
        if not self.quiet or err:
            say(line, self.bar, err)

    def write_info(self, **changes) -> None:
        self.info.update(changes)
        if self.world.main:
            self.folder.write_json(INFO, self.info)

    def folder_append(self, name: str, rows: list[dict]) -> None:
        self.folder.append_jsonl(name, rows)

    def folder_cut_jsonl(self, name: str, step: int) -> None:
        self.folder.cut_jsonl(name, step)

    def export(self):
        """The task's trained model as it stands: (stem, tensors, meta)."""
        return self.task.export(self.stepper.sampling_nets(), self.stepper.step)

    def model_meta(self) -> dict:
        """What :meth:`export` would write now, without the tensors (they are in the checkpoint):
        a checkpoint carrying it can be sampled on its own (``gankit sample RUN --checkpoint``),
        while the run trains, without its data or config."""
        stem, tensors, meta = self.export()
        return {"stem": stem, "tensors": sorted(tensors), "meta": meta}

    # ------------------------------------------------------------------ state

    def snapshot(self) -> checkpoint.Snapshot:
        """Tensors and structure of the training state (checked for NaN before it is kept)."""
        return checkpoint.Snapshot.of({"train": self.stepper.state_dict(self.batches), "acc": self.sums.acc})

    def callback_states(self) -> dict:
        return {c.name: s for c in self.callbacks if (s := c.state_dict()) is not None}

    def extra(self) -> dict:
        """JSON-able loop state: counters, time, the guard's record."""
        return {**self.sums.state()[1], "seconds": self.seconds, "cpu_seconds": self.cpu_seconds,
                "rollbacks": self.guard.rollbacks,
                "lr_scale": self.guard.lr_scale}

    def restore(self, state: dict, extra: dict) -> None:
        """Load a checkpoint's (or the guard's) state into the stepper, the sums and the callbacks."""
        self.stepper.load_state_dict(state["train"], self.batches)
        self.sums.load(state["acc"], extra)
        self.seconds = float(extra["seconds"])
        self.cpu_seconds = float(extra.get("cpu_seconds", extra["seconds"]))  # older checkpoints: the wall clock
        self.guard.rollbacks = int(extra.get("rollbacks", 0))
        self.guard.lr_scale = float(extra.get("lr_scale", 1.0))
        saved = state.get("callbacks") or {}
        for c in self.callbacks:
            if c.state_dict() is not None:
                c.load_state_dict(saved.get(c.name))
        self.stepper.lr_scale = self.guard.lr_scale
        self.stepper.set_lrs()

    def save_checkpoint(self, snap: checkpoint.Snapshot) -> None:
        """Write ``snap`` plus the callbacks' state (taken now, after this step's previews) and keep
        it as the rollback target."""
        full = snap.plus("callbacks", self.callback_states())
        extra = self.extra()
        if self.world.main:
            meta = {"step": self.stepper.step, "epoch": self.batches.epoch, **extra, **self.run_meta,
                    "model": self.model_meta(), "gankit_version": __version__}
            self.guard.good_ckpt = checkpoint.save(self.folder.checkpoint_stem(self.stepper.step), full, meta)
            for old in checkpoint.checkpoints_in(self.folder.checkpoints)[: -self.iv["keep"]]:
                checkpoint.remove(old)
        self.guard.keep(full, self.stepper.step, extra)

    def roll_back(self, step: int, why: str) -> None:
        """Back to the guard's good state with lower learning rates (or stop when out of rollbacks)."""
        state, extra = self.guard.roll_back(step, why)
        rollbacks, scale = self.guard.rollbacks, self.guard.lr_scale
        self.restore(state, {**extra, "rollbacks": rollbacks, "lr_scale": scale})
        if self.world.main:
            for c in self.callbacks:
                c.on_rollback(self.guard.good_step)
            say(self.guard.message(step, why), err=True)
        self.info.setdefault("rollbacks", []).append(self.guard.record(step, why))
        self.write_info()
        if self.bar is not None:
            self.bar.n = self.stepper.step

    # ------------------------------------------------------------------ the loop

    def run(self, show: bool) -> None:
        if show:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, initial=self.stepper.step, unit="step", dynamic_ncols=True,
                            file=sys.stdout)
        self.guard.keep(self.snapshot().plus("callbacks", self.callback_states()), self.stepper.step, self.extra())
        t_start, seconds0 = time.perf_counter(), self.seconds
        cpu_start, cpu0 = time.process_time(), self.cpu_seconds
        crash = _crash_step()
        try:
            with stop_signals() as flag:
                while self.stepper.step < self.total:
                    self.sums.add(self.stepper.train_step(self.batches))
                    step = self.stepper.step
                    self.seconds = seconds0 + time.perf_counter() - t_start
                    self.cpu_seconds = cpu0 + time.process_time() - cpu_start
                    if step == crash:
                        os.kill(os.getpid(), signal.SIGKILL)
                    if self.after_step(step, flag):
                        break
        except Interrupted:
            raise
        except KeyboardInterrupt:
            self._quietly(status="interrupted")
            raise
        except OSError as e:
            self._quietly(status="failed")
            raise GankitError(f"cannot write to {e.filename or self.folder} ({e.strerror}); free disk space "
                              f"or fix permissions, then continue with {resume_hint(self.folder)}") from None
        except BaseException as e:
            self._quietly(status="failed", error=str(e).splitlines()[0] if str(e) else type(e).__name__)
            raise
        finally:
            for c in self.callbacks:
                c.close()
            if self.bar is not None:
                self.bar.close()

    def after_step(self, step: int, flag: dict) -> bool:
        """Everything after a step's phases; True when the loop ends early (evaluation patience)."""
        total, main = self.total, self.world.main
        log_now = step % self.iv["log"] == 0 or step == total
        check_now = log_now or step % self.iv["check"] == 0
        acc, stop, over = self._shared(check_now, flag["stop"], self._over_time())
        means = self.sums.means(acc) if log_now else None
        if means is not None:
            finite = all(math.isfinite(v) for v in means.values())
        else:
            finite = bool(torch.isfinite(acc).all()) if check_now else True
        if not finite:
            self.roll_back(step, "the losses are not finite")
            return False
        if log_now:
            self.sums.reset()
            if main:
                for c in self.callbacks:
                    c.on_row(step, means)
                if self.bar is not None:
                    self.bar.set_postfix({k: f"{v:.3f}" for k, v in means.items()}, refresh=False)
        if self.bar is not None:
            self.bar.update(1)
        early = False
        if self.iv["eval"] > 0 and (step % self.iv["eval"] == 0 or step == total):
            early = any(c.on_evaluate(step) for c in self.callbacks) if main else False
            early = dist.any_true(early, self.world, self.device)  # rank 0 evaluates; all stop together
        if over and step < total:  # train.time_limit: a clean end at this step, recorded in run.json
            self.stopped_at_limit = True
        stop = stop and step < total
        return self._end_of_step(step, stop, early)

    def _end_of_step(self, step: int, stop: bool, early: bool) -> bool:
        end = early or self.stopped_at_limit
        ckpt_now = step % self.iv["checkpoint"] == 0 or step == self.total or stop or end
        if ckpt_now:
            snap = self.snapshot()
            bad = checkpoint.first_nonfinite(snap.tensors)
            if dist.any_true(bad is not None, self.world, self.device):
                self.roll_back(step, f"{bad or 'a tensor of another process'} is not finite")
                return False
        if self.world.main and (step % self.iv["sample"] == 0 or step == self.total or end):
            x, nrow = self.task.preview(self.stepper.sampling_nets(), self.fixed)
            for c in self.callbacks:
                c.on_samples(step, x, nrow)
        if ckpt_now:  # after this step's previews, so the saved health state includes their check
            self.save_checkpoint(snap)
        if stop:
            self.write_info(status="interrupted", steps_done=step)
            raise Interrupted(self.folder.path, step)
        self.stopped_early = early
        return end

    def _shared(self, look: bool, stop: bool, over: bool):
        """The sums (averaged over processes at the steps they are read), and the stop and time-limit
        decisions (any process's)."""
        acc = self.sums.acc
        if self.world.distributed and look:  # one collective for all three
            shared = dist.mean(torch.cat([acc, acc.new_tensor([float(stop), float(over)])]), self.world)
            return shared[:-2], bool(shared[-2] > 0), bool(shared[-1] > 0)
        if self.world.distributed:
            return acc, False, False  # looked at with the sums, so that all stop at the same step
        return acc, stop, over

    def budget_used(self) -> float:
        """Seconds of ``train.time_limit`` used: wall clock, or this process's CPU time (``train.time_clock``)."""
        return self.cpu_seconds if self.time_clock == "cpu" else self.seconds

    def _over_time(self) -> bool:
        return self.time_limit is not None and self.budget_used() >= self.time_limit

    def _quietly(self, **changes) -> None:
        """Record a failure in run.json without hiding the error that caused it."""
        try:
            self.write_info(**changes)
        except OSError:
            pass
