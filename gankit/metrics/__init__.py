"""Evaluation metrics: features -> statistics -> score, each step a pure function.

Python API (all inputs (N, D) features or (N, ...) samples as tensors or numpy arrays)::

    from gankit import metrics
    metrics.fid(real_feats, fake_feats)                  # Fréchet distance (Heusel et al. 2017)
    metrics.kid(real_feats, fake_feats)                  # (mean, std), Bińkowski et al. 2018
    metrics.prdc(real_feats, fake_feats)                 # precision/recall k=3, density/coverage k=5
    metrics.mode_coverage(samples, centres, std)         # VEEGAN / PacGAN toy protocol
    metrics.classifier_score(probs)                      # Inception-score formula, Salimans et al. 2016
    metrics.evaluate_run("runs/ring-...")                # what `gankit eval RUN` does; writes eval.json
    metrics.evaluate_samples(real, fake, target, dataset="ring", metrics="modes,fid", step=500)
                                                         # the same on samples in memory

Modules, each importing only those listed before it:

* ``base`` (the feature-extractor contract, :class:`Target`), ``fid``, ``prdc``, ``modes``: pure parts;
* ``classifier`` (the domain classifier), ``features`` (the extractor registry: raw, classifier, inception);
* ``registry``: ``METRICS``, the registry behind ``--metrics`` / ``eval.metrics``; each entry declares
  its scores, their directions, its primary score, the data it fits, and turns an ``EvalContext``
  into named scores;
* ``pipeline``: the one evaluation (defaults, checks, real reference, extractor, scores with provenance);
* ``evaluate`` (``gankit eval RUN``, eval.json) and ``tracker`` (evaluation during training, best/,
  early stopping; ``evalcsv`` is its eval_metrics.csv).
"""

from __future__ import annotations

from gankit.metrics.base import FeatureExtractor, Target
from gankit.metrics.evaluate import evaluate_run
from gankit.metrics.features import EXTRACTORS, extract, get_extractor
from gankit.metrics.fid import GaussianStats, fid, frechet_distance, gaussian_stats, kid, stream_stats
from gankit.metrics.modes import (class_histogram, classifier_score, conditional_accuracy, kl_to_uniform,
                                  mode_coverage, toy_modes)
from gankit.metrics.pipeline import evaluate_samples
from gankit.metrics.prdc import density_coverage, knn_radii, prdc, precision_recall
from gankit.metrics.registry import METRICS, Metric, Score, Scores

__all__ = [
    "METRICS", "Metric", "Score", "Scores", "EXTRACTORS", "FeatureExtractor", "Target", "extract", "get_extractor",
    "GaussianStats", "gaussian_stats", "stream_stats", "frechet_distance", "fid", "kid",
    "knn_radii", "precision_recall", "density_coverage", "prdc",
    "mode_coverage", "kl_to_uniform", "class_histogram", "conditional_accuracy", "classifier_score", "toy_modes",
    "evaluate_run", "evaluate_samples",
]
