"""Evaluation during training: scores every ``eval.every`` steps, the best generator, early stopping.

Losses say little about a GAN's quality, so the loop can score the sampling generator (the EMA copy
when EMA is on) with the metrics of :mod:`gankit.metrics` on a small fixed sample:

* **Same numbers as ``gankit eval``.** Both go through :mod:`gankit.metrics.pipeline` (its
  :data:`~gankit.metrics.pipeline.IN_TRAINING` defaults: fewer images, only cheap metrics): the same
  real subset (``torch.randperm`` seeded with ``eval.seed``), the same generated samples
  (:meth:`TrainedGenerator.sample` with ``seed=eval.seed``), the same scoring, so the score at the
  last step equals ``gankit eval RUN --n N --seed S`` on the final generator. The noise is the same
  at every evaluation, so the curve shows the generator changing, not the sample.
* **Real features once.** The pipeline's plan (metrics, extractor, the real set's features) is made
  before training (a bad metric, extractor or sample size fails there, before the run folder is
  written) and reused.
* **Training is not disturbed.** Sampling uses its own ``torch.Generator``; the global torch, CUDA,
  numpy and Python RNG states are saved and put back around each evaluation, and the generator's
  train/eval mode is restored: a run with evaluation on ends with the same weights as one without.
* **Resumable.** The tracker's state (best value and step, evaluations since the best, the best
  generator's weights) is part of every training checkpoint, so a resumed or rolled-back run keeps
  the same best and the same patience count; ``RUN/best/`` is rewritten from that state when the
  file on disk belongs to an abandoned timeline.

Files: ``eval_metrics.csv`` (:mod:`gankit.metrics.evalcsv`), ``best/generator.{json,safetensors}`` +
``best/config.yaml`` (``gankit sample RUN --best``, ``gankit eval RUN/best``), the settings and
provenance in ``run.json``.

Which way each score is better, and which score stands for a metric, is declared with the metric in
:mod:`gankit.metrics.registry`. Density is best near 1, not at an extreme, so it cannot pick the best.
"""

from __future__ import annotations

import math
import random
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch import Tensor

from gankit import checkpoint
from gankit.config import Config, dump
from gankit.data import Data
from gankit.errors import GankitError
from gankit.metrics.evalcsv import EVAL_COLUMNS
from gankit.run.folder import BEST, CONFIG, EVAL_CSV, MODEL, CsvLog
from gankit.metrics.pipeline import IN_TRAINING, choose_metrics, json_safe, prepare_for_data, target_of
from gankit.metrics.registry import METRICS, NEITHER, direction, find_score, owner, ranked_scores, scores_of

__all__ = ["EVAL_COLUMNS", "Evaluator", "best_score", "early_stop_message", "rng_untouched"]



@contextmanager
def rng_untouched(device: torch.device) -> Iterator[None]:
    """Put back every RNG state the training loop draws from (torch CPU and CUDA, numpy, Python)."""
    np_state, py_state = np.random.get_state(), random.getstate()
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        try:
            yield
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)




def best_score(name: str, metrics: list[str], *, explicit: bool) -> str:
    """The score that picks best/: ``eval.best_metric`` checked, or the first metric's primary score.

    A metric that does not pick the best by itself (prdc: coverage judges diversity only) gives way
    to the next one, and picks only when it is alone.
    """
    if not name:
        first = next((m for m in metrics if METRICS.get(m).picks_best), metrics[0])
        return METRICS.get(first).primary
    if name in METRICS and METRICS.get(name).picks_best:  # a metric's name stands for its primary score
        name = METRICS.get(name).primary
    score = find_score(name)
    if score is not None and score.better == NEITHER:
        raise GankitError(f"eval.best_metric={name} cannot pick the best: {score.note}")
    if score is None:
        raise GankitError(f"eval.best_metric: unknown score {name!r}; choose one of {', '.join(ranked_scores())}")
    if explicit and name not in scores_of(metrics):
        raise GankitError(f"eval.best_metric={name} is not computed by eval.metrics={','.join(metrics)}; "
                          f"add {owner(name)} to eval.metrics")
    return name


class Evaluator:
    """Scores the sampling generator during training, keeps the best one, says when to stop.

    Made before training (every input error is a GankitError then); :meth:`evaluate` runs in the
    loop; :meth:`state_dict` / :meth:`load_state_dict` go into the training checkpoints.
    """

    def __init__(self, cfg: Config, data: Data, device: torch.device, num_classes: int, run_dir: Path,
                 *, quiet: bool = True) -> None:
        ev = cfg.eval
        self.cfg, self.data, self.device, self.num_classes = cfg, data, device, num_classes
        self.run_dir = run_dir  # only named here: nothing is written before training starts
        self.every, self.patience, self.seed = ev.every, ev.patience, ev.seed
        names, self.best_metric = self._choose(cfg, data, num_classes)
        with rng_untouched(device):
            # the real samples and their features: once, before training, as `gankit eval` draws them
            self.plan = prepare_for_data(data, cfg.data, IN_TRAINING, metrics=names, n=ev.n, seed=ev.seed,
                                         extractor=ev.extractor.strip() or None, device=device, quiet=quiet,
                                         table_target=ev.target)
            # one scoring of the real set against itself: any error shows now, not mid-run, and the
            # metric libraries' first-use imports (seconds for torchmetrics) are not paid at step K
            self.score(self.plan.real, None, 0)
        self.metrics, self.extractor, self.dataset = self.plan.metrics, self.plan.extractor, self.plan.dataset
        self.n, self.n_real = self.plan.n, len(self.plan.real)
        self._reset()
        self.evaluations = 0
        self.seconds = 0.0
        self.log: CsvLog | None = None  # eval_metrics.csv, open while training

    def _reset(self) -> None:
        """No best yet (tracker state, checkpointed)."""
        self.best_value: float | None = None
        self.best_tie: float | None = None
        self.best_step: int | None = None
        self.best_scores: dict = {}
        self.best_G: dict[str, Tensor] | None = None
        self.since_best = 0  # evaluations without a new best

    # ------------------------------------------------------------------ settings

    @staticmethod
    def _choose(cfg: Config, data: Data, num_classes: int) -> tuple[list[str], str]:
        """(metrics, the score that picks best/): eval.metrics or the defaults, plus best_metric's owner."""
        ev = cfg.eval
        explicit = bool(ev.metrics.strip())
        names = choose_metrics(ev.metrics if explicit else None, target_of(data, cfg.data, ev.target), data.name,
                               IN_TRAINING)
        best = best_score(ev.best_metric.strip(), names, explicit=explicit)
        if best == "conditional_accuracy" and num_classes == 0:
            raise GankitError("eval.best_metric=conditional_accuracy is for class-conditional runs; "
                              "choose class_kl or fid")
        if best not in scores_of(names):
            names.append(owner(best))
        return names, best

    def provenance(self) -> dict:
        """How every in-training score was made (stored in run.json)."""
        return {"every": self.every, "metrics": list(self.metrics), "n_generated": self.n, "n_real": self.n_real,
                "reference": self.dataset, "reference_split": self.plan.reference_split, "seed": self.seed,
                **self.plan.provenance(),
                "best_metric": self.best_metric, "higher_is_better": direction(self.best_metric) > 0,
                "patience": self.patience, "file": EVAL_CSV}

    # ------------------------------------------------------------------ scoring

    def sample(self, G: torch.nn.Module, meta: dict) -> tuple[Tensor, Tensor | None]:
        """(eval.n samples in data space, the class each was asked for or None), as ``gankit eval``."""
        from gankit.tasks import get_task

        was = G.training
        try:  # G in eval mode: batch norm's running statistics
            return self.plan.generate(get_task(meta.get("task", "noise")).trained(G, meta))
        finally:
            G.train(was)

    def score(self, fake: Tensor, requested: Tensor | None, step: int) -> dict[str, dict]:
        """Scores with provenance of ``fake`` (n, *shape) against the fixed real set."""
        return self.plan.score(fake, requested, step)

    def evaluate(self, G: torch.nn.Module, meta: dict, step: int) -> dict[str, float] | None:
        """Score G at ``step``, record the scores and keep G when it is the best so far.

        Returns {score: value}, or None when G's output is not finite (the divergence guard's case).
        """
        t0 = time.perf_counter()
        with rng_untouched(self.device):
            fake, requested = self.sample(G, meta)
            # a mixed table's missing cells are NaN by design: only infinities mean a diverged generator
            bad = torch.isinf(fake) if self.plan.target.mixed else ~torch.isfinite(fake)
            if bool(bad.any()):
                self.seconds += time.perf_counter() - t0
                return None
            scores = self.score(fake, requested, step)
        values = {k: float(v["value"]) for k, v in scores.items()}
        self.evaluations += 1
        self.log.write([[step, k, _fmt(v)] for k, v in values.items()])
        if self.improves(values):
            self.best_value = values[self.best_metric]
            tie = find_score(self.best_metric).tie_break
            self.best_tie = values[tie] if tie in values else None
            self.best_step, self.best_scores, self.since_best = step, json_safe(scores), 0
            self.best_G = {k: v.detach().cpu().clone() for k, v in G.state_dict().items()}
            self.write_best(meta)
        else:
            self.since_best += 1
        self.seconds += time.perf_counter() - t0
        return values

    def improves(self, values: dict[str, float]) -> bool:
        """Strictly better than the best so far (NaN and inf never are)."""
        v = values.get(self.best_metric, math.nan)
        if not math.isfinite(v):
            return False
        if self.best_value is None:
            return True
        sign = direction(self.best_metric)
        if v * sign != self.best_value * sign:
            return v * sign > self.best_value * sign
        tie = find_score(self.best_metric).tie_break
        t = values.get(tie) if tie else None
        return t is not None and self.best_tie is not None and t * direction(tie) > self.best_tie * direction(tie)

    def exhausted(self) -> bool:
        """Patience used up: ``eval.patience`` evaluations in a row without a new best."""
        return self.patience > 0 and self.since_best >= self.patience

    def summary(self, values: dict[str, float], step: int) -> str:
        shown = ", ".join(f"{k} {_fmt(v)}" for k, v in values.items() if k in self.shown())
        best = (f"best {self.best_metric} {_fmt(self.best_value)} at step {self.best_step}"
                if self.best_step is not None else f"no finite {self.best_metric} yet")
        return f"gankit: eval at step {step}: {shown} ({best})"

    def shown(self) -> set[str]:
        """Scores worth a console line: each metric's main one, and the one that picks best/."""
        return {m.primary for m in self.metrics.values()} | {self.best_metric}

    # ------------------------------------------------------------------ files

    def open_csv(self, run_dir: Path) -> None:
        self.log = CsvLog(run_dir / EVAL_CSV, EVAL_COLUMNS, one_row_per_step=False)  # several scores a step
        self.log.open()

    def close_csv(self) -> None:
        if self.log is not None:
            self.log.close()

    def truncate(self, run_dir: Path, step: int) -> None:
        """Keep the complete rows up to ``step`` (a resume or rollback goes back there)."""
        log = self.log or CsvLog(run_dir / EVAL_CSV, EVAL_COLUMNS, one_row_per_step=False)
        log.truncate(step)  # an open log is reopened after the cut

    def write_best(self, meta: dict) -> None:
        """best/generator.{safetensors,json} (+ config.yaml, for `gankit eval RUN/best`)."""
        folder = self.run_dir / BEST
        doc = {**meta, "step": self.best_step,
               "eval": {"metric": self.best_metric, "value": self.best_value, "step": self.best_step,
                        "higher_is_better": direction(self.best_metric) > 0, "scores": self.best_scores}}
        checkpoint.save(folder / MODEL, {"G": self.best_G}, doc)
        if not (folder / CONFIG).exists():
            checkpoint.atomic_write(folder / CONFIG, dump(self.cfg).encode())

    def sync_best(self, meta: dict) -> None:
        """Make best/ match the tracker after a resume or rollback (files of an abandoned timeline go)."""
        folder = self.run_dir / BEST
        try:
            on_disk = checkpoint.read_meta(folder / f"{MODEL}.json")["meta"].get("step")
        except GankitError:
            on_disk = None
        if self.best_G is None:
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
        elif on_disk != self.best_step:
            self.write_best(meta)

    def best_info(self) -> dict | None:
        if self.best_step is None:
            return None
        return {"metric": self.best_metric, "value": self.best_value, "step": self.best_step,
                "folder": BEST}

    # ------------------------------------------------------------------ checkpoint state

    def state_dict(self) -> dict:
        return {"best_value": self.best_value, "best_tie": self.best_tie, "best_step": self.best_step,
                "best_metric": self.best_metric, "best_scores": self.best_scores, "since_best": self.since_best,
                "evaluations": self.evaluations, "seconds": self.seconds,
                **({"best_G": self.best_G} if self.best_G is not None else {})}

    def load_state_dict(self, s: dict | None) -> None:
        """Restore the tracker; a checkpoint made without evaluation, or for another best_metric, starts afresh."""
        if not isinstance(s, dict) or s.get("best_metric") != self.best_metric:
            self._reset()
            self.evaluations = int(s.get("evaluations", 0)) if isinstance(s, dict) else 0
            self.seconds = float(s.get("seconds", 0.0)) if isinstance(s, dict) else 0.0
            return
        self.best_value = None if s["best_value"] is None else float(s["best_value"])
        self.best_tie = None if s.get("best_tie") is None else float(s["best_tie"])
        self.best_step = None if s["best_step"] is None else int(s["best_step"])
        self.best_scores = s.get("best_scores") or {}
        self.best_G = s.get("best_G")
        self.since_best, self.evaluations = int(s["since_best"]), int(s["evaluations"])
        self.seconds = float(s.get("seconds", 0.0))


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def early_stop_message(ev: Evaluator, step: int) -> str:
    best = (f"best {ev.best_metric} {_fmt(ev.best_value)} at step {ev.best_step}, kept in {ev.run_dir / BEST}"
            if ev.best_value is not None else f"{ev.best_metric} was never finite, so there is no best/")
    return (f"gankit: stopping early at step {step}: {ev.best_metric} has not improved for {ev.since_best} "
            f"evaluations (eval.patience={ev.patience}); {best}")

