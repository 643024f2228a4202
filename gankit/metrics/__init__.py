"""Evaluation metrics: features -> statistics -> score, each step a pure function.

Python API (all inputs (N, D) features or (N, ...) samples as tensors or numpy arrays)::

    from gankit import metrics
    metrics.fid(real_feats, fake_feats)                  # Fréchet distance (Heusel et al. 2017)
    metrics.kid(real_feats, fake_feats)                  # (mean, std), Bińkowski et al. 2018
    metrics.prdc(real_feats, fake_feats)                 # precision/recall k=3, density/coverage k=5
    metrics.mode_coverage(samples, centres, std)         # VEEGAN / PacGAN toy protocol
    metrics.evaluate_run("runs/ring-...")                # what `gankit eval RUN` does; writes eval.json
    metrics.evaluate_samples(real, fake, target, dataset="ring", metrics="modes,fid", step=500)
                                                         # the same on samples in memory (during training)

``METRICS`` is the registry behind ``gankit eval --metrics``: each entry turns an
:class:`~gankit.metrics.evaluate.EvalContext` (real and generated samples, the feature extractor)
into named scores; :mod:`gankit.metrics.evaluate` adds the provenance to each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from gankit.errors import GankitError
from gankit.metrics.features import EXTRACTORS, FeatureExtractor, extract, get_extractor
from gankit.metrics.fid import GaussianStats, fid, frechet_distance, gaussian_stats, kid, stream_stats
from gankit.metrics.modes import class_histogram, conditional_accuracy, kl_to_uniform, mode_coverage, toy_modes
from gankit.metrics.prdc import (K_DENSITY_COVERAGE, K_PRECISION_RECALL, density_coverage, knn_radii, prdc,
                                 precision_recall)
from gankit.registry import Registry

if TYPE_CHECKING:
    from gankit.metrics.evaluate import EvalContext

#: score name -> {"value": number, ...what else the score needs said about it}
Scores = dict[str, dict]


@dataclass(frozen=True)
class Metric:
    compute: Callable[["EvalContext"], Scores]
    uses_features: bool  # scores carry the extractor's provenance
    min_samples: int  # of each of real and generated


METRICS: Registry[Metric] = Registry("metric")


def _fid(ctx: "EvalContext") -> Scores:
    return {"fid": {"value": fid(ctx.real_features(), ctx.fake_features())}}


def _kid(ctx: "EvalContext") -> Scores:
    from gankit.metrics.fid import KID_SUBSET_SIZE, KID_SUBSETS

    mean, std = kid(ctx.real_features(), ctx.fake_features(), seed=ctx.seed)
    size = min(KID_SUBSET_SIZE, len(ctx.real), len(ctx.fake))
    return {"kid": {"value": mean, "std": std, "subsets": KID_SUBSETS, "subset_size": size}}


def _prdc(ctx: "EvalContext") -> Scores:
    s = prdc(ctx.real_features(), ctx.fake_features())
    return {**{n: {"value": s[n], "k": K_PRECISION_RECALL} for n in ("precision", "recall")},
            **{n: {"value": s[n], "k": K_DENSITY_COVERAGE} for n in ("density", "coverage")}}


def _modes(ctx: "EvalContext") -> Scores:
    modes = toy_modes(ctx.dataset)
    if modes is None:
        raise GankitError(f"--metrics modes is for the ring and grid toy sets, not {ctx.dataset}; "
                          f"use --metrics classes for labelled images")
    centres, std = modes
    m = mode_coverage(ctx.fake.reshape(len(ctx.fake), -1), centres, std)
    how = {"centres": ctx.dataset, "std": std, "hq_within_std": 3.0}
    return {
        "modes_captured": {"value": m["modes_captured"], "n_modes": m["n_modes"], "histogram": m["histogram"], **how},
        "hq_fraction": {"value": m["hq_fraction"], **how},
        "reverse_kl": {"value": m["reverse_kl"], **how},
    }


def _classes(ctx: "EvalContext") -> Scores:
    clf = ctx.classifier()
    # the classifier is also the feature extractor (the default for labelled images): reuse its features
    probs = clf.probs_of_features(ctx.fake_features()) if clf is ctx.extractor else clf.probs(ctx.fake)
    h = class_histogram(probs)
    who = clf.provenance()
    out = {
        "class_kl": {"value": h["kl_to_uniform"], "histogram": h["histogram"], "classes": clf.classes, **who},
        "mean_confidence": {"value": h["mean_confidence"], **who},
    }
    if ctx.requested is not None:  # conditional run: was the class that was asked for made?
        out["conditional_accuracy"] = {"value": conditional_accuracy(probs, ctx.requested), **who}
    return out


METRICS.register("fid", "Fréchet distance of feature Gaussians (Heusel et al. 2017)")(Metric(_fid, True, 2))
METRICS.register("kid", "kernel distance, unbiased MMD^2 (Bińkowski et al. 2018)")(Metric(_kid, True, 2))
METRICS.register("prdc", "precision/recall k=3 (Kynkäänniemi 2019), density/coverage k=5 (Naeem 2020)")(
    Metric(_prdc, True, K_DENSITY_COVERAGE + 1))
METRICS.register("modes", "modes captured, high-quality share, reverse KL (ring, grid)")(Metric(_modes, False, 1))
METRICS.register("classes", "class histogram KL to uniform and mean confidence (labelled images)")(
    Metric(_classes, False, 1))


# after METRICS exists: evaluate looks metrics up in it
from gankit.metrics.evaluate import evaluate_run, evaluate_samples  # noqa: E402


__all__ = [
    "METRICS", "Metric", "Scores", "EXTRACTORS", "FeatureExtractor", "extract", "get_extractor",
    "GaussianStats", "gaussian_stats", "stream_stats", "frechet_distance", "fid", "kid",
    "knn_radii", "precision_recall", "density_coverage", "prdc",
    "mode_coverage", "kl_to_uniform", "class_histogram", "conditional_accuracy", "toy_modes", "evaluate_run",
    "evaluate_samples",
]
