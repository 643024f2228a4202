"""The callbacks of a run (rank 0), their start on a new or resumed run folder, and the closing work."""

from __future__ import annotations

import sys

from gankit.audio import PREVIEW_AUDIO
from gankit.errors import GankitError
from gankit.run.folder import CURVES, EVAL_CSV, HEALTH, METRIC_CURVES, METRICS
from gankit.training.callbacks import Evaluation, Health, MetricsLog, Previews, TensorBoard


def main_callbacks(cfg, loop, data, quiet: bool) -> list:
    """Made before the run folder is written, so that a missing optional extra (TensorBoard) or a
    bad evaluation setting fails first. MetricsLog and TensorBoard start with the folder."""
    from gankit.config.schema import lookup, to_dict
    from gankit.monitor import ADVICE_KEYS, HealthMonitor, mean_pairwise_distance, sample_warmup

    task = loop.task
    real_items = data.decode(data.x[: data.modality.spread_items]).numpy()
    flat = to_dict(cfg)
    monitor = HealthMonitor(probability=task.probability, real_spread=mean_pairwise_distance(real_items),
                            warmup=sample_warmup(loop.total, cfg.ema.decay),
                            settings={k: lookup(flat, k) for k in ADVICE_KEYS},
                            cannot=data.modality.unusable_keys)
    callbacks = [Health(loop, monitor), Previews(loop, data)]
    loop.tb_class = None
    if cfg.log.tensorboard:
        from gankit.tblog import summary_writer_class

        loop.tb_class = summary_writer_class()
    loop.evaluator = None
    if cfg.eval.every > 0:
        if not getattr(task, "evaluable", False):
            raise GankitError(f"eval.every: in-training evaluation is not available for task={cfg.task} yet; "
                              f"set eval.every=0")
        from gankit.metrics.tracker import Evaluator

        loop.evaluator = Evaluator(cfg, data, loop.device, task.num_classes, loop.folder.path, quiet=quiet)
        callbacks.append(Evaluation(loop, loop.evaluator))  # before a resume: its state is in the checkpoint
    return callbacks


def start_callbacks(loop, step: int, *, resumed: bool) -> None:
    """Open the logs (cut back to ``step`` on a resumed run) and add the callbacks that need the folder."""
    if resumed:  # warnings of steps after the checkpoint belong to the abandoned timeline
        loop.folder.cut_jsonl(HEALTH, step)
    if resumed and step == 0:  # a run restarted before its first checkpoint: nothing of it is kept
        (loop.folder / HEALTH).unlink(missing_ok=True)
        for p in loop.folder.samples.glob("step_*.png"):
            p.unlink()
        for p in (loop.folder.samples / PREVIEW_AUDIO).glob("step_*/*.wav"):  # a sound run's preview clips
            p.unlink()
    loop.callbacks.insert(0, MetricsLog(loop, loop.task.columns))
    tb = None
    if loop.tb_class is not None:
        from gankit.tblog import TensorBoardLog

        tb = TensorBoard(TensorBoardLog(loop.folder.path, loop.tb_class, resume_step=step if resumed else None))
        loop.callbacks.append(tb)
    if loop.evaluator is not None:
        ev = next(c for c in loop.callbacks if isinstance(c, Evaluation))
        ev.tb = tb
        if resumed:
            loop.evaluator.truncate(loop.folder.path, step)
        ev.start()
        loop.info["eval"] = {**loop.evaluator.provenance(), "best": loop.evaluator.best_info()}


def draw_curves(loop) -> None:
    """curves.png (and metric_curves.png): a plot must never fail a finished run."""
    from gankit.report import plots

    folder = loop.folder
    try:
        plots.loss_curves(folder / METRICS, folder / CURVES)
    except Exception as e:
        print(f"gankit: warning: could not draw {CURVES} ({e})", file=sys.stderr)
    ev = loop.evaluator
    if (folder / EVAL_CSV).exists():
        try:
            best = (ev.best_metric, ev.best_step) if ev is not None and ev.best_step is not None else None
            from gankit.metrics.registry import direction

            plots.metric_curves(folder / EVAL_CSV, folder / METRIC_CURVES, best=best, direction=direction)
        except Exception as e:
            print(f"gankit: warning: could not draw {METRIC_CURVES} ({e})", file=sys.stderr)


def closing_lines(loop) -> None:
    ev, folder = loop.evaluator, loop.folder
    if loop.stopped_early and ev is not None:
        from gankit.metrics.tracker import early_stop_message

        loop.say(early_stop_message(ev, loop.stepper.step))
    if loop.stopped_at_limit:
        loop.say(f"gankit: train.time_limit reached at step {loop.stepper.step}; train.steps="
                 f"{loop.stepper.step} reproduces this run")
    samples = sorted(folder.samples.glob("step_*.png"))
    where = f"; samples {samples[-1]}" if samples else ""
    loop.say(f"gankit: done in {loop.seconds:.1f}s{where}; use it: {loop.task.usage(folder)}")
    if ev is not None and ev.best_step is not None:
        loop.say(f"gankit: best {ev.best_metric} {ev.best_value:.4g} at step {ev.best_step}: gankit sample "
                 f"{folder} --best --n 64 --out best.png")
