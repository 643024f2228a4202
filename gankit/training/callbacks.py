"""What the loop tells the world: each callback reacts to the loop's events and keeps its own state.

Events (rank 0 only; the loop calls them in this order within a step):
``on_row(step, means)`` once per ``log.every`` steps, with the statistics' means by name;
``on_evaluate(step) -> stop?`` at evaluation steps; ``on_samples(step, x, nrow)`` with the preview
samples (data space) at sampling steps; ``on_rollback(step)`` after the divergence guard went back
to ``step``. ``state_dict``/``load_state_dict`` travel in every
checkpoint (and in the guard's good state), so a resumed or rolled-back run behaves as the
uninterrupted one.
"""

from __future__ import annotations

import sys

from gankit.monitor import HealthMonitor, HealthWarning
from gankit.run.folder import HEALTH, METRICS, CsvLog


class Callback:
    name = ""

    def on_row(self, step: int, means: dict[str, float]) -> None: ...

    def on_evaluate(self, step: int) -> bool:
        return False

    def on_samples(self, step: int, x, nrow: int | None) -> None: ...

    def on_rollback(self, step: int) -> None: ...

    def close(self) -> None: ...

    def state_dict(self) -> dict | None:
        return None

    def load_state_dict(self, state: dict) -> None: ...


class MetricsLog(Callback):
    """metrics.csv: step, epoch, the task's statistics, seconds (cut back on resume and rollback)."""

    name = "metrics"

    def __init__(self, loop, columns: tuple[str, ...]) -> None:
        self.loop, self.columns = loop, columns
        self.csv = CsvLog(loop.folder / METRICS, ["step", "epoch", *columns, "seconds"])
        self.csv.truncate(loop.stepper.step)
        self.csv.open()

    def on_row(self, step, means):
        values = [f"{means[c]:.6g}" if c in means else "" for c in self.columns]  # "": a phase that was off
        self.csv.write([[step, self.loop.batches.epoch, *values, f"{self.loop.seconds:.3f}"]])

    def on_rollback(self, step):
        self.csv.truncate(step)

    def close(self):
        self.csv.close()


class Health(Callback):
    """The health monitor's warnings: console (stderr), health.jsonl, and run.json (for the report)."""

    name = "health"

    def __init__(self, loop, monitor: HealthMonitor) -> None:
        self.loop, self.monitor = loop, monitor

    def on_row(self, step, means):
        self.report(self.monitor.observe(step, means))

    def on_samples(self, step, x, nrow):
        self.report(self.monitor.observe_samples(step, x))

    def on_rollback(self, step):
        """Warnings of the abandoned steps go (health.jsonl and run.json keep one timeline)."""
        self.loop.folder_cut_jsonl(HEALTH, step)
        self.loop.info["warnings"] = [w for w in self.loop.info.get("warnings", []) if w.get("step", 0) <= step]

    def report(self, warnings: list[HealthWarning]) -> None:
        if not warnings:
            return
        self.loop.folder_append(HEALTH, [w.to_dict() for w in warnings])
        for w in warnings:
            self.loop.say(f"gankit: warning: {w.message}", err=True)
        self.loop.write_info(warnings=[*self.loop.info.get("warnings", []), *(w.to_dict() for w in warnings)])

    def state_dict(self):
        return self.monitor.state_dict()

    def load_state_dict(self, state):
        if state is not None:
            self.monitor.load_state_dict(state)


class Previews(Callback):
    """samples/step_*.png: the preview samples drawn by the data's modality (rows labelled with the
    task's preview classes), and once per run samples/real.png, real data for the report to show beside."""

    name = "previews"

    def __init__(self, loop, data) -> None:
        self.loop, self.data = loop, data
        self.real = data.modality.real_preview(data)
        self.real_drawn = False

    def on_samples(self, step, x, nrow):
        folder, modality = self.loop.folder, self.data.modality
        if not self.real_drawn:
            self.real_drawn = True
            modality.save_real(self.data, folder.real_path)
        modality.preview(x, folder.sample_path(step), real=self.real, nrow=nrow, columns=self.data.columns,
                         labels=self.loop.task.preview_labels(len(x)), codec=self.data.codec)


class TensorBoard(Callback):
    """The same numbers as TensorBoard events (log.tensorboard=true)."""

    name = "tensorboard"

    def __init__(self, log) -> None:
        self.log = log

    def on_row(self, step, means):
        self.log.scalars("train", means, step)

    def close(self):
        self.log.close()


class Evaluation(Callback):
    """In-training evaluation (eval.every): scores, best/, early stopping (gankit.metrics.tracker)."""

    name = "eval"

    def __init__(self, loop, evaluator, tb=None) -> None:
        self.loop, self.ev, self.tb = loop, evaluator, tb

    def _meta(self) -> dict:
        return self.loop.export()[2]

    def start(self) -> None:
        self.ev.sync_best(self._meta())
        self.ev.open_csv(self.loop.folder.path)

    def on_evaluate(self, step) -> bool:
        """Score the sampling generator at ``step`` (before its checkpoint, which then holds the
        result); True when the patience is used up."""
        ev, loop = self.ev, self.loop
        values = ev.evaluate(loop.stepper.sampling_nets()["G"], self._meta(), step)
        if values is None:
            loop.say(f"gankit: warning: evaluation at step {step} skipped: the generator's output is not finite",
                     err=True)
            return False
        if self.tb is not None:
            self.tb.log.scalars("eval", values, step)
            self.tb.log.flush()
        if ev.best_step == step:
            loop.write_info(eval={**loop.info.get("eval", {}), "best": ev.best_info()})
        loop.say(ev.summary(values, step))
        return ev.exhausted() and step < loop.total

    def on_rollback(self, step):
        self.ev.truncate(self.loop.folder.path, step)
        self.ev.sync_best(self._meta())

    def state_dict(self):
        return self.ev.state_dict()

    def load_state_dict(self, state):
        self.ev.load_state_dict(state)

    def close(self):
        self.ev.close_csv()


def say(line: str, bar=None, err: bool = False) -> None:
    """Print a line without breaking the progress bar."""
    f = sys.stderr if err else sys.stdout
    if bar is not None:
        bar.write(line, file=f)
    else:
        print(line, file=f, flush=True)
