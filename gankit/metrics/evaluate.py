"""Score a trained run: sample, extract features, compute metrics, and say how each number was made.

``gankit eval RUN`` = :func:`evaluate_run`: load the run's final generator and its training data
(rebuilt from the run's ``config.yaml``), draw N samples with a fixed seed, compute the chosen
metrics and write ``RUN/eval.json``. Every score is stored with its provenance — extractor name and
weights sha256, number of real and generated samples, reference split, seed, checkpoint step —
because an FID without them cannot be compared with anything.

:func:`evaluate_samples` is the same on samples already in memory (for evaluation during training).
Samples are in the data's own space: images (N, C, H, W) in [0, 1], tables (N, D) in original units.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from gankit import __version__
from gankit.errors import GankitError
from gankit.metrics import METRICS, Scores
from gankit.metrics.features import FeatureExtractor, Target, default_extractor, extract, get_extractor

#: generated samples by default: 10k images (the usual FID budget), 2,500 toy/table rows (VEEGAN/PacGAN)
DEFAULT_N = {"image": 10_000, "table": 2_500}
REFERENCE_SPLIT = "train"  # the real samples are the run's training data
EVAL_FILE = "eval.json"


@dataclass
class EvalContext:
    """What the metrics read: real and generated samples, the extractor, and cached features."""

    real: Tensor  # (N, *shape) data space
    fake: Tensor  # (M, *shape) data space
    target: Target
    dataset: str
    extractor: FeatureExtractor | None  # None when no chosen metric uses features
    requested: Tensor | None = None  # (M,) class each generated sample was asked for (conditional runs)
    seed: int = 0
    device: str = "cpu"
    quiet: bool = True
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

    def classifier(self):
        """The domain classifier (the extractor itself when it is one)."""
        from gankit.metrics.classifier import ClassifierFeatures

        if isinstance(self.extractor, ClassifierFeatures):
            return self.extractor
        if "classifier" not in self._cache:
            if not (self.target.kind == "image" and self.target.labelled):
                raise GankitError(f"--metrics classes needs labelled images; {self.dataset} has no class labels")
            self._cache["classifier"] = get_extractor("classifier", self.target, quiet=self.quiet).to(self.device)
        return self._cache["classifier"]


def default_metrics(target: Target, dataset: str) -> list[str]:
    """What fits the data: modes for ring/grid, classes for labelled images, always FID/KID/PRDC."""
    from gankit.metrics.modes import toy_modes

    extra = ["modes"] if toy_modes(dataset) is not None else ["classes"] if target.kind == "image" and target.labelled else []
    return extra + ["fid", "kid", "prdc"]


def parse_metrics(spec: str | list[str] | None, target: Target, dataset: str) -> list[str]:
    if spec is None:
        return default_metrics(target, dataset)
    names = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    if not names:
        raise GankitError(f"--metrics is empty; choose from: {', '.join(METRICS.names())}")
    for n in names:
        METRICS.get(n)  # unknown names: GankitError listing the valid ones
    return list(dict.fromkeys(names))


def _finite(v):
    """JSON has no inf/nan: store them as null (the printed table says 'inf')."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v


def evaluate_samples(
    real: Tensor | np.ndarray,
    fake: Tensor | np.ndarray,
    target: Target,
    *,
    dataset: str,
    metrics: str | list[str] | None = None,
    extractor: str | None = None,
    inception_weights: str | None = None,
    seed: int = 0,
    step: int | None = None,
    requested: Tensor | np.ndarray | None = None,
    device: str = "cpu",
    quiet: bool = True,
) -> Scores:
    """Scores with provenance of generated ``fake`` (M, *shape) against ``real`` (N, *shape).

    ``requested`` (M,) gives, for a conditional generator, the class index each sample was asked for.
    """
    real_t = torch.as_tensor(np.asarray(real) if not isinstance(real, Tensor) else real).float()
    fake_t = torch.as_tensor(np.asarray(fake) if not isinstance(fake, Tensor) else fake).float()
    for what, t in (("real", real_t), ("generated", fake_t)):
        if tuple(t.shape[1:]) != tuple(target.shape):
            raise GankitError(f"{what} samples have items of shape {tuple(t.shape[1:])}, expected {tuple(target.shape)}")
    names = parse_metrics(metrics, target, dataset)
    specs = {n: METRICS.get(n) for n in names}
    for n, m in specs.items():
        uses_real = m.uses_features
        short = min(len(fake_t), len(real_t)) if uses_real else len(fake_t)
        if short < m.min_samples:
            raise GankitError(f"--metrics {n} needs at least {m.min_samples} generated"
                              f"{' and real' if uses_real else ''} samples, got {len(fake_t)} generated"
                              f"{f' and {len(real_t)} real' if uses_real else ''}; raise --n")
    ex = None
    if any(m.uses_features for m in specs.values()):
        ex = get_extractor(extractor or default_extractor(target), target, weights=inception_weights, quiet=quiet)
    req = None if requested is None else torch.as_tensor(np.asarray(requested)).long()
    if req is not None and req.shape != (len(fake_t),):
        raise GankitError(f"requested classes must be one per generated sample, got shape {tuple(req.shape)}")
    ctx = EvalContext(real_t, fake_t, target, dataset, ex, req, seed, device, quiet)
    out: Scores = {}
    for n, m in specs.items():
        if not quiet:
            print(f"gankit: computing {n}", file=sys.stderr, flush=True)
        common = {"n_generated": len(fake_t), "seed": seed, "step": step}
        if m.uses_features:
            common |= {"n_real": len(real_t), "reference_split": REFERENCE_SPLIT, "reference": dataset,
                       **ex.provenance()}
        else:
            common |= {"n_real": None, "reference_split": None, "extractor": None, "extractor_sha256": None}
        for score, body in m.compute(ctx).items():
            out[score] = {**common, **body, "metric": n}
    return out


def real_sample(data, n: int, seed: int) -> Tensor:  # (min(n, N), *shape) in the data's own space
    """The reference: ``n`` training items drawn without replacement with ``seed``."""
    pick = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[: min(n, len(data))]
    return data.decode(data.x[pick])


def evaluate_run(
    run: str | Path,
    *,
    metrics: str | list[str] | None = None,
    n: int | None = None,
    extractor: str | None = None,
    inception_weights: str | None = None,
    seed: int = 0,
    device: str = "cpu",
    quiet: bool = True,
    write: bool = True,
) -> dict:
    """Score the final generator of a run folder; returns the eval.json document (and writes it)."""
    from gankit import checkpoint
    from gankit.data import guess_name, load_data
    from gankit.run.folder import load_run_config
    from gankit.sampling import load

    run = Path(run)
    if not run.is_dir():
        raise GankitError(f"{run}: no such run folder")
    g = load(run, device=device)  # GankitError when the run has no final generator
    cfg = load_run_config(run)
    data = load_data(cfg.data, output=cfg.generator.output, seed=cfg.train.seed)
    if tuple(data.shape) != tuple(g.shape):
        raise GankitError(f"{run}: the generator makes items of shape {g.shape} but the run's data now has "
                          f"{tuple(data.shape)}; was data.path changed?")
    target = Target(data.kind, tuple(data.shape), cfg.data, data.labels is not None)
    n = DEFAULT_N[data.kind] if n is None else n
    if n < 1:
        raise GankitError(f"--n must be >= 1, got {n}")
    real = real_sample(data, n, seed)
    if not quiet:
        print(f"gankit: sampling {n} items from {run} (seed {seed})", file=sys.stderr, flush=True)
    fake = torch.from_numpy(g.sample(n, seed=seed))  # conditional runs: balanced classes, as labels_for(n)
    requested = g.labels_for(n) if g.num_classes > 0 else None
    step = g.meta.get("step")
    dataset = guess_name(cfg.data)
    scores = evaluate_samples(real, fake, target, dataset=dataset, metrics=metrics, extractor=extractor,
                              inception_weights=inception_weights, seed=seed, step=step, requested=requested,
                              device=device, quiet=quiet)
    doc = {
        "gankit_version": __version__,
        "created": datetime.now().isoformat(timespec="seconds"),
        "run": str(run),
        "checkpoint": {"file": "generator.json", "step": step,
                       "sha256": checkpoint.read_meta(run / "generator.json")["sha256"]},
        "data": {"dataset": dataset, "kind": data.kind, "shape": list(data.shape), "items": len(data),
                 "reference_split": REFERENCE_SPLIT},
        "settings": {"metrics": list(dict.fromkeys(s["metric"] for s in scores.values())), "n": n, "seed": seed,
                     "extractor": next((s["extractor"] for s in scores.values()
                                        if METRICS.get(s["metric"]).uses_features), None)},
        "scores": _finite(scores),
    }
    if write:
        checkpoint.atomic_write(run / EVAL_FILE, (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode())
    return doc


def _fmt(v) -> str:
    if v is None:
        return "inf"  # stored as null: only infinite scores are None
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def format_scores(doc: dict) -> str:
    """A table of the scores of an eval.json document, provenance beside each number."""
    head = ["metric", "value", "features", "n_real", "n_gen", "reference", "seed", "step"]
    rows = []
    for name, s in doc["scores"].items():
        feats = "-" if not s.get("extractor") else (
            s["extractor"] + (f" sha256:{s['extractor_sha256'][:12]}" if s.get("extractor_sha256") else ""))
        ref = f"{s['reference']}/{s['reference_split']}" if s.get("reference_split") else (
            f"{s['centres']} centres" if s.get("centres") else "-")
        rows.append([name, _fmt(s["value"]), feats, str(s["n_real"]) if s["n_real"] is not None else "-",
                     str(s["n_generated"]), ref, str(s["seed"]), str(s["step"])])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [f"{doc['run']}: {doc['data']['dataset']}, checkpoint step {doc['checkpoint']['step']}"]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head, *rows]]
    for name, s in doc["scores"].items():
        if "histogram" in s:
            labels = s.get("classes") or [str(i) for i in range(len(s["histogram"]))]
            lines.append(f"{name} histogram: " + " ".join(f"{c}:{h}" for c, h in zip(labels, s["histogram"])))
    return "\n".join(lines)
