"""The metric registry: each metric with what it declares about itself, and what metrics read.

A :class:`Metric` entry (``gankit eval --metrics NAME``, ``eval.metrics=NAME``) says

* which scores it makes (:class:`Score`), and for each which way is better: Heusel et al. 2017 FID,
  Bińkowski et al. 2018 KID, reverse KL, class KL: lower; Kynkäänniemi et al. 2019 precision/recall,
  Naeem et al. 2020 coverage, VEEGAN/PacGAN modes captured and high-quality share, Salimans et al.
  2016's score on the classifier: higher. Density is best near 1, not at an extreme: no direction,
  so it cannot pick the best generator. Mixed tables: SDMetrics' quality, column shapes and pair
  trends, train-on-synthetic utility, DCR overfitting protection: higher; exact copies of training
  rows: lower; a distance to closest record alone: none (small is a copy, large is noise). Equal
  values of a score may be told apart by a tie-break (8 of 8 modes: the cleaner samples win);
* its primary score (the one that stands for it on the console and in ``eval.best_metric=NAME``);
* what it reads (features from the extractor, the domain classifier) and how many samples it needs;
* which data it fits, and what to tell the user when it does not.

:class:`EvalContext` is what a metric's ``compute`` reads: real and generated samples in the data's
own space, the extractor, the classifier, cached features and probabilities.
:mod:`gankit.metrics.pipeline` chooses metrics, checks them and adds the provenance to each score;
:mod:`gankit.report.plots` reads the directions here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np
import torch
from torch import Tensor

from gankit.errors import GankitError

from gankit.metrics.base import FeatureExtractor, Target, classifiable
from gankit.metrics.features import extract
from gankit.metrics.fid import KID_SUBSET_SIZE, KID_SUBSETS, fid, kid
from gankit.metrics.modes import class_histogram, classifier_score, conditional_accuracy, mode_coverage, toy_modes
from gankit.metrics.prdc import K_DENSITY_COVERAGE, K_PRECISION_RECALL, prdc
from gankit.registry import Registry

if TYPE_CHECKING:
    from gankit.metrics.tables import TableEval

#: score name -> {"value": number, ...what else the score needs said about it}
Scores = dict[str, dict]

HIGHER, LOWER, NEITHER = 1, -1, 0


@dataclass
class EvalContext:
    """What the metrics read: real and generated samples, the extractor, the classifier, a cache."""

    real: Tensor  # (N, *shape) data space
    fake: Tensor  # (M, *shape) data space
    target: Target
    dataset: str
    extractor: FeatureExtractor | None  # None when no chosen metric uses features
    requested: Tensor | None = None  # (M,) class each generated sample was asked for (conditional runs)
    seed: int = 0
    device: str = "cpu"
    classifier: FeatureExtractor | None = None  # the domain classifier (the extractor itself when it is one)
    # mixed tables: the schema, the real training rows (and holdout, eval.target); real/fake in column space
    table: TableEval | None = None
    _cache: dict = field(default_factory=dict)

    def _features(self, which: str) -> Tensor:  # (N, D)
        if self.extractor is None:
            raise RuntimeError("a metric asked for features but none were planned")
        if which not in self._cache:
            x = self.real if which == "real" else self.fake
            self._cache[which] = extract(self.extractor, x, device=self.device)
        return self._cache[which]

    def real_features(self) -> Tensor:
        return self._features("real")

    def fake_features(self) -> Tensor:
        return self._features("fake")

    def train_features(self) -> Tensor:  # (N_train, D) features of the training items (prepare_for_data)
        if "train" not in self._cache:
            raise GankitError("this metric compares samples with the training data, which only an evaluation of a "
                              "run (gankit eval, eval.every) or evaluate_sound_files has at hand")
        return self._cache["train"]

    def fake_probs(self) -> Tensor:  # (M, K) the classifier's class probabilities of the generated samples
        if self.classifier is None:
            raise RuntimeError("a metric asked for the classifier but none was planned")
        if "fake_probs" not in self._cache:
            clf = self.classifier
            # the classifier is also the feature extractor (the default for labelled images): reuse its features
            self._cache["fake_probs"] = (clf.probs_of_features(self.fake_features()) if clf is self.extractor
                                         else clf.probs(self.fake))
        return self._cache["fake_probs"]


@dataclass(frozen=True)
class Score:
    name: str
    better: int  # HIGHER, LOWER or NEITHER (cannot pick the best)
    tie_break: str | None = None  # a score of the same metric that decides between equal values
    note: str = ""  # NEITHER: why, and what to use instead


def _any_data(target: Target, dataset: str) -> bool:
    return True


def _toy(target: Target, dataset: str) -> bool:
    return toy_modes(dataset) is not None


def _labelled(target: Target, dataset: str) -> bool:
    return classifiable(target)


def _table_kind(target: Target, dataset: str) -> bool:
    return target.mixed  # a table read with its column kinds (the table task)


def _table_target(target: Target, dataset: str) -> bool:
    return target.mixed and target.column is not None


def _not_mixed(target: Target, dataset: str) -> bool:
    return not target.mixed  # category indices are not coordinates: a mixed table has its own metrics


@dataclass(frozen=True)
class Metric:
    compute: Callable[[EvalContext], Scores]
    scores: tuple[Score, ...]  # what it makes, in this order (conditional_accuracy only for conditional runs)
    primary: str  # the score that stands for it: console line, eval.best_metric=<metric>
    uses_features: bool  # scores carry the extractor's provenance
    min_samples: int  # of each of real and generated (of generated only, without features)
    uses_classifier: bool = False  # reads the domain classifier's class probabilities
    picks_best: bool = True  # False: its primary picks best/ only when no other metric is chosen
    fits: Callable[[Target, str], bool] = _any_data  # (target, dataset name) -> can it score this data
    unfit: str = ""  # why not, with {name} and {dataset} filled in
    uses_training: bool = False  # reads the training items' features (EvalContext.train_features)
    against_real: bool = True  # has a real-vs-real value (not: the real set would be the training data itself)


METRICS: Registry[Metric] = Registry("metric")


def _fid(ctx: EvalContext) -> Scores:
    return {"fid": {"value": fid(ctx.real_features(), ctx.fake_features())}}


def _kid(ctx: EvalContext) -> Scores:
    mean, std = kid(ctx.real_features(), ctx.fake_features(), seed=ctx.seed)
    size = min(KID_SUBSET_SIZE, len(ctx.real), len(ctx.fake))
    return {"kid": {"value": mean, "std": std, "subsets": KID_SUBSETS, "subset_size": size}}


def _prdc(ctx: EvalContext) -> Scores:
    s = prdc(ctx.real_features(), ctx.fake_features())
    return {**{n: {"value": s[n], "k": K_PRECISION_RECALL} for n in ("precision", "recall")},
            **{n: {"value": s[n], "k": K_DENSITY_COVERAGE} for n in ("density", "coverage")}}


def _modes(ctx: EvalContext) -> Scores:
    centres, std = toy_modes(ctx.dataset)  # fits: a toy set
    m = mode_coverage(ctx.fake.reshape(len(ctx.fake), -1), centres, std)
    how = {"centres": ctx.dataset, "std": std, "hq_within_std": 3.0}
    return {
        "modes_captured": {"value": m["modes_captured"], "n_modes": m["n_modes"], "histogram": m["histogram"], **how},
        "hq_fraction": {"value": m["hq_fraction"], **how},
        "reverse_kl": {"value": m["reverse_kl"], **how},
    }


def _classes(ctx: EvalContext) -> Scores:
    clf, probs = ctx.classifier, ctx.fake_probs()
    h = class_histogram(probs)
    who = clf.provenance()
    out = {
        "class_kl": {"value": h["kl_to_uniform"], "histogram": h["histogram"], "classes": clf.classes, **who},
        "mean_confidence": {"value": h["mean_confidence"], **who},
    }
    if ctx.requested is not None:  # conditional run: was the class that was asked for made?
        out["conditional_accuracy"] = {"value": conditional_accuracy(probs, ctx.requested), **who}
    return out


def _classifier_score(ctx: EvalContext) -> Scores:
    return {"classifier_score": {"value": classifier_score(ctx.fake_probs()), "splits": 1,
                                 "n_classes": len(ctx.classifier.classes), **ctx.classifier.provenance()}}


NOT_MIXED = "{name} reads feature vectors; {dataset} is a mixed table: use fidelity, utility or privacy"
LABELLED = "{name} needs labelled images (the domain classifier reads them), and {dataset} is not a labelled image set"
METRICS.register("fid", "Fréchet distance of feature Gaussians (Heusel et al. 2017)")(
    Metric(_fid, (Score("fid", LOWER),), "fid", True, 2, fits=_not_mixed, unfit=NOT_MIXED))
METRICS.register("kid", "kernel distance, unbiased MMD^2 (Bińkowski et al. 2018)")(
    Metric(_kid, (Score("kid", LOWER),), "kid", True, 2, fits=_not_mixed, unfit=NOT_MIXED))
METRICS.register("prdc", "precision/recall k=3 (Kynkäänniemi 2019), density/coverage k=5 (Naeem 2020)")(Metric(
    _prdc, (Score("precision", HIGHER), Score("recall", HIGHER),
            Score("density", NEITHER, note="density is best near 1, not at an extreme; use coverage, precision "
                                           "or recall"),
            Score("coverage", HIGHER)),
    "coverage", True, K_DENSITY_COVERAGE + 1, picks_best=False, fits=_not_mixed,
    unfit=NOT_MIXED))  # coverage judges diversity only
METRICS.register("modes", "modes captured, high-quality share, reverse KL (ring, grid)")(Metric(
    _modes, (Score("modes_captured", HIGHER, tie_break="hq_fraction"), Score("hq_fraction", HIGHER),
             Score("reverse_kl", LOWER)),
    "modes_captured", False, 1, fits=_toy, unfit="{name} is for the ring and grid toy sets, not {dataset}"))
METRICS.register("classes", "class histogram KL to uniform and mean confidence (labelled images)")(Metric(
    _classes, (Score("class_kl", LOWER), Score("mean_confidence", HIGHER), Score("conditional_accuracy", HIGHER)),
    "class_kl", False, 1, uses_classifier=True, fits=_labelled, unfit=LABELLED))
METRICS.register("classifier_score", "Inception-score formula on the domain classifier (Salimans et al. 2016)")(
    Metric(_classifier_score, (Score("classifier_score", HIGHER),), "classifier_score", False, 1,
           uses_classifier=True, fits=_labelled, unfit=LABELLED))


def _nearest(ctx: EvalContext) -> Scores:
    from gankit.metrics.nearest import nearest_scores

    return nearest_scores(ctx.fake_features(), ctx.real_features(), ctx.train_features())


METRICS.register("nearest", "nearest-neighbour distance of samples to training items in classifier features "
                            "(a near-copy check), beside the held-out items' own")(Metric(
    _nearest, (Score("nn_distance", NEITHER, note="a distance to the nearest training item is neither better small "
                                                  "(copies) nor large (noise) alone: compare it with real_to_train"),
               Score("near_copies", LOWER)),
    "near_copies", True, 2, picks_best=False, fits=_labelled, unfit=LABELLED, uses_training=True,
    against_real=False))


# ----------------------------------------------------------------------------- mixed tables (CTGAN-class)


def _table(ctx: EvalContext, name: str, holdout: bool = False, target: bool = False) -> TableEval:
    """``ctx.table``, refused with what to set when this evaluation lacks what metric ``name`` reads."""
    t = ctx.table
    if t is None:
        raise GankitError(f"{name} scores mixed tables (numbers, categories, dates) read with a column schema; "
                          f"{ctx.dataset} was not read as one")
    if (target and t.target is None) or (holdout and t.holdout is None):
        needs = " and ".join((["eval.target=COLUMN"] if target else []) + (["a held-out part (data.holdout=0.2)"]
                                                                           if holdout else []))
        raise GankitError(f"{name} needs {needs}")
    return t


def _column_space(ctx: EvalContext, t: TableEval) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """real, fake and the table's own rows as float64, every one at the precision of the generated rows
    (float32 tensors: the training rows rounded the same way, so that equal rows stay equal)."""
    def same(x: np.ndarray) -> np.ndarray:
        return x.astype(np.float32).astype(np.float64) if ctx.fake.dtype == torch.float32 else x.astype(np.float64)

    real, fake = (v.detach().cpu().double().numpy() for v in (ctx.real, ctx.fake))
    rows = {"train": same(t.train), **({"holdout": same(t.holdout)} if t.holdout is not None else {})}
    return real, fake, rows


def _fidelity(ctx: EvalContext) -> Scores:
    from gankit.metrics.tables import fidelity

    t = _table(ctx, "fidelity")
    real, fake, _ = _column_space(ctx, t)
    f = fidelity(real, fake, t.schema)
    how = {"definition": "SDMetrics QualityReport", "thresholds": f["thresholds"]}
    return {"quality": {"value": f["quality"], **how},
            "column_shapes": {"value": f["column_shapes"], "columns": f["shape_details"]},
            "column_pair_trends": {"value": f["column_pair_trends"], "pairs": f["pair_details"], **how}}


def _utility(ctx: EvalContext) -> Scores:
    from gankit.metrics.table_utility import utility

    t = _table(ctx, "utility", holdout=True, target=True)
    _, fake, rows = _column_space(ctx, t)
    u = utility(fake, rows["train"], rows["holdout"], t.schema, t.target, seed=ctx.seed)
    how = {"target": t.target, "task": u["task"], **({"minority": u["minority"]} if "minority" in u else {})}
    keys = {"utility": "f1", "utility_auc": "auc", "utility_accuracy": "accuracy"} if u["task"] == "classification" \
        else {"utility": "r2"}
    return {score: {"value": u["synthetic"][k], "measure": "f1_minority" if k == "f1" else k,
                    "train_on_real": u["real"][k], **how,
                    "models": {m: {w: s[w][k] for w in ("synthetic", "real")} for m, s in u["models"].items()}}
            for score, k in keys.items()}


def _privacy(ctx: EvalContext) -> Scores:
    from gankit.metrics.table_privacy import privacy

    t = _table(ctx, "privacy", holdout=True)
    _, fake, rows = _column_space(ctx, t)
    p = privacy(fake, rows["train"], rows["holdout"], t.schema)
    how = {"definition": "SDMetrics DCR", "n_train": len(rows["train"]), "n_holdout": len(rows["holdout"])}
    return {"dcr_synthetic": {"value": p["dcr_synthetic"], "statistic": "median", **how},
            "dcr_holdout": {"value": p["dcr_holdout"], "statistic": "median", **how},
            "dcr_overfitting_protection": {"value": p["overfitting_protection"],
                                           "closer_to_training": p["closer_to_training"],
                                           "dcr_synthetic_to_holdout": p["dcr_synthetic_to_holdout"], **how},
            "exact_copies": {"value": p["exact_copies"], "share": p["exact_copies_share"], "n": len(fake),
                             "holdout_exact_copies": p["holdout_exact_copies"]}}


TABLES = "{name} scores mixed tables (read with a column schema), and {dataset} is not a table"
DCR_NOTE = ("a distance to closest record is not better small (copies) or large (noise) alone: compare "
            "dcr_synthetic with dcr_holdout, or rank by dcr_overfitting_protection")
METRICS.register("fidelity", "column shapes and column-pair trends, SDMetrics' QualityReport (mixed tables)")(Metric(
    _fidelity, (Score("quality", HIGHER), Score("column_shapes", HIGHER), Score("column_pair_trends", HIGHER)),
    "quality", False, 2, fits=_table_kind, unfit=TABLES))
METRICS.register("utility", "train on synthetic, test on real: F1/AUC/accuracy or R² (Xu et al. 2019)")(Metric(
    _utility, (Score("utility", HIGHER), Score("utility_auc", HIGHER), Score("utility_accuracy", HIGHER)),
    "utility", False, 2, fits=_table_target, unfit=TABLES + " with eval.target=COLUMN (gankit eval --target COLUMN)"))
METRICS.register("privacy", "distance to closest record (SDMetrics DCR) and exact copies of training rows")(Metric(
    _privacy, (Score("dcr_synthetic", NEITHER, note=DCR_NOTE), Score("dcr_holdout", NEITHER, note=DCR_NOTE),
               Score("dcr_overfitting_protection", HIGHER), Score("exact_copies", LOWER)),
    "dcr_overfitting_protection", False, 1, picks_best=False, fits=_table_kind, unfit=TABLES))


# ----------------------------------------------------------------------------- looking scores up


def _scores() -> dict[str, tuple[str, Score]]:
    """score name -> (the metric that makes it, its declaration), over the whole registry."""
    return {s.name: (name, s) for name in METRICS for s in METRICS.get(name).scores}


def find_score(name: str) -> Score | None:
    return _scores()[name][1] if name in _scores() else None


def direction(score: str) -> int:
    """HIGHER (+1), LOWER (-1), or NEITHER (0; also for names no metric makes)."""
    s = find_score(score)
    return s.better if s is not None else NEITHER


def owner(score: str) -> str:
    """The metric that makes ``score`` (a KeyError for names no metric makes)."""
    return _scores()[score][0]


def ranked_scores() -> list[str]:
    """The scores that can pick the best generator (those with a direction)."""
    return [n for n, (_, s) in _scores().items() if s.better != NEITHER]


def scores_of(metrics: list[str]) -> list[str]:
    """Every score the metrics make."""
    return [s.name for m in metrics for s in METRICS.get(m).scores]
