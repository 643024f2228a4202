"""Evaluation during training: scores every ``eval.every`` steps, the best generator, early stopping.

Losses say little about a GAN's quality, so the loop can score the sampling generator (the EMA copy
when EMA is on) with the metrics of :mod:`gankit.metrics` on a small fixed sample:

* **Same numbers as ``gankit eval``.** The real subset (``torch.randperm`` seeded with ``eval.seed``)
  and the generated samples (:meth:`TrainedGenerator.sample` with ``seed=eval.seed``) are drawn
  exactly as :func:`gankit.metrics.evaluate_run` draws them, so the score at the last step equals
  ``gankit eval RUN --n N --seed S`` on the final generator. The noise is the same at every
  evaluation, so the curve shows the generator changing, not the sample.
* **Real features once.** The extractor and the real set's features are made before training (a
  bad metric, extractor or sample size fails there, before the run folder is written) and reused.
* **Training is not disturbed.** Sampling uses its own ``torch.Generator``; the global torch, CUDA,
  numpy and Python RNG states are saved and put back around each evaluation, and the generator's
  train/eval mode is restored: a run with evaluation on ends with the same weights as one without.
* **Resumable.** The tracker's state (best value and step, evaluations since the best, the best
  generator's weights) is part of every training checkpoint, so a resumed or rolled-back run keeps
  the same best and the same patience count; ``RUN/best/`` is rewritten from that state when the
  file on disk belongs to an abandoned timeline.

Files: ``eval_metrics.csv`` (step, metric, value; one row per score, long format, because
``metrics.csv`` has fixed columns), ``best/generator.{json,safetensors}`` + ``best/config.yaml``
(``gankit sample RUN --best``, ``gankit eval RUN/best``), the settings and provenance in ``run.json``.

Which way is better (Heusel et al. 2017 FID, Bińkowski et al. 2018 KID: lower; Kynkäänniemi et al.
2019 precision/recall, Naeem et al. 2020 coverage, VEEGAN/PacGAN modes captured: higher) is in
:data:`DIRECTION`. Density is best near 1, not at an extreme, so it cannot pick the best.
"""

from __future__ import annotations

import csv
import io
import math
import random
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch import Tensor

from gankit import checkpoint
from gankit.config import Config, dump
from gankit.data import Data, guess_name
from gankit.errors import GankitError

EVAL_CSV = "eval_metrics.csv"
EVAL_COLUMNS = ["step", "metric", "value"]
BEST_DIR = "best"
#: generated samples per evaluation: small, so an evaluation costs seconds, not minutes
DEFAULT_N = {"image": 1000, "table": 2500}  # 2,500: the VEEGAN/PacGAN toy protocol

#: score -> +1 when higher is better, -1 when lower is better
DIRECTION = {
    "fid": -1, "kid": -1, "reverse_kl": -1, "class_kl": -1,
    "precision": 1, "recall": 1, "coverage": 1, "modes_captured": 1, "hq_fraction": 1,
    "mean_confidence": 1, "conditional_accuracy": 1,
}
#: equal values of a score are told apart by a second one (8 of 8 modes: the cleaner samples win)
TIE_BREAK = {"modes_captured": "hq_fraction"}
#: metric -> the scores it makes (conditional_accuracy only for class-conditional runs)
SCORES_OF = {
    "fid": ["fid"], "kid": ["kid"], "prdc": ["precision", "recall", "density", "coverage"],
    "modes": ["modes_captured", "hq_fraction", "reverse_kl"],
    "classes": ["class_kl", "mean_confidence", "conditional_accuracy"],
}
#: metric -> the score that stands for it in eval.best_metric
PRIMARY = {"fid": "fid", "kid": "kid", "modes": "modes_captured", "classes": "class_kl"}


def default_metrics(kind: str, labelled: bool, dataset: str) -> list[str]:
    """Cheap scores that fit the data: modes (+ raw FID) for ring/grid, classifier FID and the class
    histogram for labelled images, FID on raw features otherwise (KID would cost 100 subsets of
    n x n kernel matrices per evaluation; FID one covariance per set)."""
    from gankit.metrics.modes import toy_modes

    if toy_modes(dataset) is not None:
        return ["modes", "fid"]
    if kind == "image" and labelled:
        return ["fid", "classes"]
    return ["fid"]


def _names(spec: str) -> list[str]:
    return list(dict.fromkeys(s.strip() for s in spec.split(",") if s.strip()))


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


def eval_due(every: int, step: int, total: int) -> bool:
    """Whether ``eval.every=every`` evaluates after ``step`` of ``total`` (0 = never)."""
    return every > 0 and (step % every == 0 or step == total)


class Evaluator:
    """Scores the sampling generator during training, keeps the best one, says when to stop.

    Made before training (every input error is a GankitError then); :meth:`evaluate` runs in the
    loop; :meth:`state_dict` / :meth:`load_state_dict` go into the training checkpoints.
    """

    def __init__(self, cfg: Config, data: Data, device: torch.device, num_classes: int, run_dir: Path,
                 *, quiet: bool = True) -> None:
        from gankit.metrics import METRICS
        from gankit.metrics.features import Target, default_extractor, extract, get_extractor
        from gankit.metrics.modes import toy_modes

        ev = cfg.eval
        self.cfg, self.data, self.device, self.num_classes = cfg, data, device, num_classes
        self.run_dir = run_dir  # only named here: nothing is written before training starts
        self.every, self.patience, self.seed = ev.every, ev.patience, ev.seed
        self.dataset = guess_name(cfg.data)
        labelled = data.labels is not None and bool(data.classes)
        self.target = Target(data.kind, tuple(data.shape), cfg.data, labelled)
        names = _names(ev.metrics) if ev.metrics.strip() else default_metrics(data.kind, labelled, self.dataset)
        self.best_metric = self._best_metric(ev.best_metric.strip(), names, explicit=bool(ev.metrics.strip()))
        if self.best_metric == "conditional_accuracy" and num_classes == 0:
            raise GankitError("eval.best_metric=conditional_accuracy is for class-conditional runs; "
                              "choose class_kl or fid")
        if self.best_metric not in {s for n in names for s in SCORES_OF.get(n, [])}:
            names.append(next(n for n, scores in SCORES_OF.items() if self.best_metric in scores))
        for n in names:
            if n not in METRICS:
                raise GankitError(f"eval.metrics: unknown metric {n!r}; choose from {', '.join(METRICS.names())}")
            if n == "modes" and toy_modes(self.dataset) is None:
                raise GankitError(f"eval.metrics: modes is for the ring and grid toy sets, not {self.dataset}; "
                                  f"use {'classes or fid' if labelled and data.kind == 'image' else 'fid'}")
            if n == "classes" and not (data.kind == "image" and labelled):
                raise GankitError(f"eval.metrics: classes needs labelled images, but {self.dataset} has no class "
                                  f"labels; use fid")
        self.metrics = {n: METRICS.get(n) for n in names}
        self.n = ev.n if ev.n is not None else DEFAULT_N[data.kind]
        self.n_real = min(self.n, len(data))
        for n, m in self.metrics.items():
            have = min(self.n, self.n_real) if m.uses_features else self.n
            if have < m.min_samples:
                both = " generated and real" if m.uses_features else " generated"
                raise GankitError(f"eval.metrics: {n} needs at least {m.min_samples}{both} samples, but eval.n="
                                  f"{self.n} gives {self.n} generated and {self.n_real} real; raise eval.n (and "
                                  f"use data with at least {m.min_samples} items)")
        # real samples and their features: once, before training (as gankit.metrics.evaluate_run draws them)
        gen = torch.Generator().manual_seed(self.seed)
        pick = torch.randperm(len(data), generator=gen)[: self.n_real]
        self.real = data.decode(data.x[pick])  # (n_real, *shape), data space
        self.extractor = None
        self.shared: dict = {}  # EvalContext cache entries every evaluation reuses
        with rng_untouched(device):
            if any(m.uses_features for m in self.metrics.values()):
                name = ev.extractor.strip() or default_extractor(self.target)
                try:
                    self.extractor = get_extractor(name, self.target, quiet=quiet).to(device)
                except GankitError as e:  # its hints name `gankit eval`'s --extractor: say which key chose it
                    raise GankitError(f"eval.extractor={name}: {e}") from None
                self.shared["real"] = extract(self.extractor, self.real, device=device)  # (n_real, D)
            if "classes" in self.metrics:
                from gankit.metrics.classifier import ClassifierFeatures

                if not isinstance(self.extractor, ClassifierFeatures):
                    self.shared["classifier"] = get_extractor("classifier", self.target, quiet=quiet).to(device)
            # one scoring of the real set against itself: any error shows now, not mid-run, and the
            # metric libraries' first-use imports (seconds for torchmetrics) are not paid at step K
            self.score(self.real, None, 0)
        # tracker state (checkpointed)
        self.best_value: float | None = None
        self.best_tie: float | None = None
        self.best_step: int | None = None
        self.best_scores: dict = {}
        self.best_G: dict[str, Tensor] | None = None
        self.since_best = 0  # evaluations without a new best
        self.evaluations = 0
        self.seconds = 0.0
        self.csv_file = None
        self.writer = None

    # ------------------------------------------------------------------ settings

    @staticmethod
    def _best_metric(name: str, metrics: list[str], *, explicit: bool) -> str:
        """The score that picks best/: ``eval.best_metric`` checked, or the first metric's main score."""
        if not name:
            first = next((m for m in metrics if m in PRIMARY), None)
            return PRIMARY[first] if first else "coverage"  # prdc alone
        name = PRIMARY.get(name, name)
        if name == "density":
            raise GankitError("eval.best_metric=density cannot pick the best: density is best near 1, not at an "
                              "extreme; use coverage, precision or recall")
        if name not in DIRECTION:
            raise GankitError(f"eval.best_metric: unknown score {name!r}; choose one of {', '.join(DIRECTION)}")
        if explicit and name not in {s for m in metrics for s in SCORES_OF.get(m, [])}:
            owner = next(m for m, scores in SCORES_OF.items() if name in scores)
            raise GankitError(f"eval.best_metric={name} is not computed by eval.metrics={','.join(metrics)}; "
                              f"add {owner} to eval.metrics")
        return name

    def provenance(self) -> dict:
        """How every in-training score was made (stored in run.json)."""
        ex = self.extractor.provenance() if self.extractor is not None else {"extractor": None}
        return {"every": self.every, "metrics": list(self.metrics), "n_generated": self.n, "n_real": self.n_real,
                "reference": self.dataset, "reference_split": "train", "seed": self.seed, **ex,
                "best_metric": self.best_metric, "higher_is_better": DIRECTION[self.best_metric] > 0,
                "patience": self.patience, "file": EVAL_CSV}

    # ------------------------------------------------------------------ scoring

    def sample(self, G: torch.nn.Module, meta: dict) -> tuple[Tensor, Tensor | None]:
        """(eval.n samples in data space, the class each was asked for or None), as ``gankit eval``."""
        from gankit.tasks.trained import TrainedGenerator

        was = G.training
        try:
            g = TrainedGenerator(G, meta)  # puts G in eval mode (batch norm uses its running statistics)
            fake = torch.from_numpy(g.sample(self.n, seed=self.seed))
            return fake, (g.labels_for(self.n) if g.num_classes > 0 else None)
        finally:
            G.train(was)

    def score(self, fake: Tensor, requested: Tensor | None, step: int) -> dict[str, dict]:
        """Scores with provenance of ``fake`` (n, *shape) against the fixed real set."""
        from gankit.metrics.evaluate import REFERENCE_SPLIT, EvalContext

        ctx = EvalContext(self.real, fake, self.target, self.dataset, self.extractor, requested, self.seed,
                          str(self.device), True, _cache=dict(self.shared))
        out: dict[str, dict] = {}
        for name, m in self.metrics.items():
            common = {"n_generated": len(fake), "seed": self.seed, "step": step}
            if m.uses_features:
                common |= {"n_real": len(self.real), "reference_split": REFERENCE_SPLIT, "reference": self.dataset,
                           **self.extractor.provenance()}
            for score, body in m.compute(ctx).items():
                out[score] = {**common, **body, "metric": name}
        return out

    def evaluate(self, G: torch.nn.Module, meta: dict, step: int) -> dict[str, float] | None:
        """Score G at ``step``, record the scores and keep G when it is the best so far.

        Returns {score: value}, or None when G's output is not finite (the divergence guard's case).
        """
        t0 = time.perf_counter()
        with rng_untouched(self.device):
            fake, requested = self.sample(G, meta)
            if not bool(torch.isfinite(fake).all()):
                self.seconds += time.perf_counter() - t0
                return None
            scores = self.score(fake, requested, step)
        values = {k: float(v["value"]) for k, v in scores.items()}
        self.evaluations += 1
        self.writer.writerows([[step, k, _fmt(v)] for k, v in values.items()])
        self.csv_file.flush()
        if self.improves(values):
            self.best_value = values[self.best_metric]
            tie = TIE_BREAK.get(self.best_metric)
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
        sign = DIRECTION[self.best_metric]
        if v * sign != self.best_value * sign:
            return v * sign > self.best_value * sign
        tie = TIE_BREAK.get(self.best_metric)
        t = values.get(tie) if tie else None
        return t is not None and self.best_tie is not None and t * DIRECTION[tie] > self.best_tie * DIRECTION[tie]

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
        return {PRIMARY.get(n, "coverage") for n in self.metrics} | {self.best_metric}

    # ------------------------------------------------------------------ files

    def open_csv(self, run_dir: Path) -> None:
        path = run_dir / EVAL_CSV
        new = not path.exists()
        self.csv_file = open(path, "a", newline="")
        self.writer = csv.writer(self.csv_file)
        if new:
            self.writer.writerow(EVAL_COLUMNS)
            self.csv_file.flush()

    def close_csv(self) -> None:
        if self.csv_file is not None:
            self.csv_file.close()
            self.csv_file = None

    def truncate(self, run_dir: Path, step: int) -> None:
        """Keep the complete rows up to ``step`` (a resume or rollback goes back there)."""
        reopen = self.csv_file is not None
        self.close_csv()
        truncate_eval_csv(run_dir / EVAL_CSV, step)
        if reopen:
            self.open_csv(run_dir)

    def write_best(self, meta: dict) -> None:
        """best/generator.{safetensors,json} (+ config.yaml, for `gankit eval RUN/best`)."""
        folder = self.run_dir / BEST_DIR
        doc = {**meta, "step": self.best_step,
               "eval": {"metric": self.best_metric, "value": self.best_value, "step": self.best_step,
                        "higher_is_better": DIRECTION[self.best_metric] > 0, "scores": self.best_scores}}
        checkpoint.save(folder / "generator", {"G": self.best_G}, doc)
        if not (folder / "config.yaml").exists():
            checkpoint.atomic_write(folder / "config.yaml", dump(self.cfg).encode())

    def sync_best(self, meta: dict) -> None:
        """Make best/ match the tracker after a resume or rollback (files of an abandoned timeline go)."""
        folder = self.run_dir / BEST_DIR
        try:
            on_disk = checkpoint.read_meta(folder / "generator.json")["meta"].get("step")
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
                "folder": BEST_DIR}

    # ------------------------------------------------------------------ checkpoint state

    def state_dict(self) -> dict:
        return {"best_value": self.best_value, "best_tie": self.best_tie, "best_step": self.best_step,
                "best_metric": self.best_metric, "best_scores": self.best_scores, "since_best": self.since_best,
                "evaluations": self.evaluations, "seconds": self.seconds,
                **({"best_G": self.best_G} if self.best_G is not None else {})}

    def load_state_dict(self, s: dict | None) -> None:
        """Restore the tracker; a checkpoint made without evaluation, or for another best_metric, starts afresh."""
        if not isinstance(s, dict) or s.get("best_metric") != self.best_metric:
            self.best_value = self.best_tie = self.best_step = self.best_G = None
            self.best_scores, self.since_best = {}, 0
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


def truncate_eval_csv(path: Path, step: int) -> None:
    """Keep the header and the complete rows of steps <= ``step`` of an eval_metrics.csv."""
    if not path.exists():
        return
    keep = [EVAL_COLUMNS]
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)[1:]:
        row = next(csv.reader([line]), [])
        if line.endswith("\n") and len(row) == len(EVAL_COLUMNS) and row[0].isdigit() and int(row[0]) <= step:
            keep.append(row)
    buf = io.StringIO()
    csv.writer(buf).writerows(keep)
    checkpoint.atomic_write(path, buf.getvalue().encode())


def read_eval_csv(path: str | Path) -> dict[str, tuple[list[int], list[float]]]:
    """score -> (steps, values) from an eval_metrics.csv."""
    out: dict[str, tuple[list[int], list[float]]] = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            steps, values = out.setdefault(r["metric"], ([], []))
            steps.append(int(r["step"]))
            values.append(float(r["value"]))
    return out


def json_safe(scores: dict) -> dict:
    """inf/nan as null, as eval.json stores them (JSON has neither)."""
    from gankit.metrics.evaluate import _finite

    return _finite(scores)


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def early_stop_message(ev: Evaluator, step: int) -> str:
    best = (f"best {ev.best_metric} {_fmt(ev.best_value)} at step {ev.best_step}, kept in {ev.run_dir / BEST_DIR}"
            if ev.best_value is not None else f"{ev.best_metric} was never finite, so there is no best/")
    return (f"gankit: stopping early at step {step}: {ev.best_metric} has not improved for {ev.since_best} "
            f"evaluations (eval.patience={ev.patience}); {best}")


def print_line(line: str, bar=None, file=None) -> None:
    """Print a line to ``file`` (default stdout) above the progress bar when there is one."""
    file = file or sys.stdout
    if bar is not None:
        bar.write(line, file=file)
    else:
        print(line, file=file, flush=True)
