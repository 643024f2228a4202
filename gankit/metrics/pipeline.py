"""One evaluation pipeline, for ``gankit eval`` and for evaluation during training alike.

    plan = prepare_for_data(data, cfg.data, GANKIT_EVAL, metrics="fid,prdc", n=5000, seed=0)
    fake, requested = plan.generate(generator)      # n samples of a TrainedGenerator, seeded
    scores = plan.score(fake, requested, step)      # {score: {"value": ..., provenance...}}

1. **Choose the metrics** (:func:`choose_metrics`): the named ones, each checked against the
   registry and against the data it fits (:mod:`gankit.metrics.registry`), or the defaults of the
   :class:`Purpose` that fit the data.
2. **Check everything that can fail before anything expensive**: sample sizes against each
   metric's minimum, the feature extractor and the domain classifier built (a built-in set's
   classifier is trained here on first use), before a single generated sample is drawn.
3. **The real reference** (:func:`real_sample`): ``n`` items drawn without replacement with ``seed``
   from the held-out data when the run has some (:mod:`gankit.data.split`: reference split "test"),
   else from the training data ("train"); its features are extracted once (evaluation during
   training reuses them every time). Extractors that depend on the data (standardised table
   columns) learn it from the training data.
4. **Score with provenance** (:meth:`Plan.score`): every metric on an
   :class:`~gankit.metrics.registry.EvalContext`; each score carries how it was made (extractor and
   weights sha256, numbers of real and generated samples, reference split, seed, step) and which way
   is better.
5. **Real against real** (:meth:`Plan.real_vs_real`, ``gankit eval``): the same metrics with a second
   real set in place of the generated one (the training data against the held-out reference, or two
   disjoint halves of the training data), so that a number has a yardstick: what real data scores.

Both users call this: :func:`gankit.metrics.evaluate.evaluate_run` (``gankit eval RUN``) and the
in-training tracker :class:`gankit.metrics.tracker.Evaluator`, so the score at a run's last step
equals ``gankit eval RUN --n N --seed S``. Samples are in the data's own space: images
(N, C, H, W) in [0, 1], tables (N, D) in original units.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from gankit.errors import GankitError
from gankit.metrics.base import FeatureExtractor, Target
from gankit.metrics.features import default_choice, extract, get_extractor
from gankit.metrics.registry import HIGHER, LOWER, METRICS, EvalContext, Metric, Scores, direction

REFERENCE_SPLIT = "train"  # the real samples are the run's training data (when it has no held-out data)
TEST_SPLIT = "test"  # ... its held-out data (gankit.data.split)


@dataclass(frozen=True)
class Purpose:
    """What one use of the pipeline does when the user names nothing, and how the user names things."""

    use: int  # which of the modality's ``eval_items`` sizes it draws: 0 gankit eval, 1 during training
    metrics: tuple[str, ...]  # the defaults, in this order; those that fit the data are chosen
    # the option or config key the user sets, named in messages:
    metrics_key: str  # the metrics
    n_key: str  # the number of samples
    extractor_key: str | None  # the extractor; None: the extractors' own messages name --extractor


#: Every default of an evaluation, in one place; the sample sizes are the data's modality's
#: (``eval_items``): tables and toy sets 2,500 rows, the VEEGAN/PacGAN protocol, in both uses; images
#: differ on purpose:
#:
#: ``gankit eval RUN`` scores a finished run once: 10,000 images (the usual FID budget) and every
#: metric that fits the data but classifier_score (asked for by name: the class histogram and FID
#: already say what it says).
GANKIT_EVAL = Purpose(use=0, metrics=("modes", "classes", "fid", "kid", "prdc", "fidelity", "utility", "privacy"),
                      metrics_key="--metrics", n_key="--n", extractor_key=None)
#: ``eval.every=K`` scores the generator every K training steps, so an evaluation must cost seconds,
#: not minutes: 1,000 images, and only the cheap metrics (FID: one covariance per set; not KID: 100
#: subsets of n x n kernel matrices, nor PRDC: n x n distances). FID comes before the class histogram
#: because the first metric's primary score picks best/ when eval.best_metric is not set.
IN_TRAINING = Purpose(use=1, metrics=("modes", "fid", "classes", "fidelity"),
                      metrics_key="eval.metrics", n_key="eval.n", extractor_key="eval.extractor")


def target_of(data, data_cfg, column: str | None = None) -> Target:
    """The :class:`Target` of a loaded :class:`gankit.data.Data` made from ``data_cfg`` (a mixed table's
    samples are scored in its column space; ``column``: its utility target, eval.target)."""
    if data.values is not None:
        if column is not None:
            data.codec.schema.index(column)  # an unknown column is named with the valid ones
        return Target(data.kind, (data.values.shape[1],), data_cfg, False, mixed=True, column=column)
    shape = tuple(data.raw.shape[1:]) if data.raw is not None else tuple(data.shape)  # sound: clips, not spectrograms
    return Target(data.kind, shape, data_cfg, data.labels is not None and bool(data.classes))


def parse_names(spec: str | list[str]) -> list[str]:
    """``"fid, prdc,fid"`` or ``["fid", "prdc"]`` -> ``["fid", "prdc"]`` (blanks and repeats dropped)."""
    names = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    return list(dict.fromkeys(names))


def check_fits(name: str, target: Target, dataset: str, purpose: Purpose) -> Metric:
    """The registered metric ``name``, refused when it is unknown or does not fit this data."""
    try:
        m = METRICS.get(name)
    except GankitError as e:
        raise GankitError(f"{purpose.metrics_key}: {e}") from None
    if not m.fits(target, dataset):
        fitting = [k for k in METRICS if METRICS.get(k).fits(target, dataset)]
        raise GankitError(f"{purpose.metrics_key}: {m.unfit.format(name=name, dataset=dataset)}; "
                          f"choose from {', '.join(fitting)}")
    return m


def choose_metrics(spec: str | list[str] | None, target: Target, dataset: str, purpose: Purpose) -> list[str]:
    """The metrics to compute: those named in ``spec`` (checked), or, with None, the defaults that fit."""
    if spec is None:
        from gankit.modalities import get_modality

        extra = get_modality(target.kind).extra_metrics[purpose.use]  # sound: the classifier score, copies
        return [n for n in dict.fromkeys(purpose.metrics + extra) if METRICS.get(n).fits(target, dataset)]
    names = parse_names(spec)
    if not names:
        raise GankitError(f"{purpose.metrics_key} is empty; choose from: {', '.join(METRICS.names())}")
    for n in names:
        check_fits(n, target, dataset, purpose)
    return names


def check_sizes(metrics: dict[str, Metric], n: int, n_real: int, purpose: Purpose) -> None:
    """Refuse sample sizes below a metric's minimum (of generated, and of real when it uses features)."""
    for name, m in metrics.items():
        if (min(n, n_real) if m.uses_features else n) >= m.min_samples:
            continue
        both, real = (" and real", f" and {n_real} real") if m.uses_features else ("", "")
        short = m.uses_features and n_real < m.min_samples <= n  # the data set itself is too small
        raise GankitError(f"{purpose.metrics_key}: {name} needs at least {m.min_samples} generated{both} samples, "
                          f"but {purpose.n_key}={n} gives {n} generated{real}; raise {purpose.n_key}"
                          + (f" (and use data with at least {m.min_samples} items)" if short else ""))


Extractors = tuple[FeatureExtractor | None, FeatureExtractor | None]  # (feature extractor, domain classifier)


def build_extractors(metrics: dict[str, Metric], target: Target, purpose: Purpose, *, extractor: str | None,
                     weights: str | None, quiet: bool, device, fit: Callable[[], Tensor]) -> Extractors:
    """(feature extractor, domain classifier), each None when no chosen metric reads it; ``fit()`` gives
    the training data (data space) to an extractor that learns from it."""
    ex = clf = None
    if any(m.uses_features for m in metrics.values()):
        name, why = (extractor, "") if extractor else default_choice(target)
        if why and not quiet:  # a feature space the user may not expect: say which, and why
            print(f"gankit: {why}", file=sys.stderr, flush=True)
        try:
            ex = get_extractor(name, target, weights=weights, quiet=quiet).to(device)
        except GankitError as e:  # its hints name `gankit eval`'s --extractor: say which key chose it
            if purpose.extractor_key is None:
                raise
            raise GankitError(f"{purpose.extractor_key}={name}: {e}") from None
        if ex.learns_from_data:
            ex.fit(fit())
    if any(m.uses_classifier for m in metrics.values()):
        from gankit.metrics.classifier import ClassifierFeatures

        clf = ex if isinstance(ex, ClassifierFeatures) else get_extractor("classifier", target, quiet=quiet).to(device)
    return ex, clf


def _order(data, seed: int) -> Tensor:
    return torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))


def real_sample(data, n: int, seed: int) -> Tensor:  # (min(n, N), *shape) in the data's own space
    """The reference: ``n`` items of ``data`` drawn without replacement with ``seed``."""
    return _rows(data, _order(data, seed)[: min(n, len(data))])


def _rows(data, index: Tensor) -> Tensor:
    """Items of ``data`` in its own space (a mixed table's rows as read, not through the codec)."""
    if data.values is not None:
        return torch.from_numpy(data.values[index.numpy()])
    if data.raw is not None:  # sound: the clips as read (decoding would send them through Griffin-Lim)
        return data.raw[index]
    return data.decode(data.x[index])


@dataclass
class RealPair:
    """Two real sets to score against each other (a is the reference side), and where they come from."""

    a: Tensor  # (Na, *shape) data space
    b: Tensor  # (Nb, *shape) data space
    splits: tuple[str, str]
    a_is_reference: bool  # a is the plan's real reference itself (its features are reused)


def real_pair(train, heldout, n: int, seed: int) -> RealPair:
    """The training data against the held-out reference; without held-out data, ``n`` training items
    against ``n`` others (two disjoint halves when the data has fewer than 2n items)."""
    if heldout is not None:
        return RealPair(real_sample(heldout, n, seed), real_sample(train, n, seed), (TEST_SPLIT, REFERENCE_SPLIT), True)
    order, m = _order(train, seed), min(n, len(train))
    if len(train) >= 2 * m:  # the reference itself against as many other items
        return RealPair(_rows(train, order[:m]), _rows(train, order[m:2 * m]), (REFERENCE_SPLIT, REFERENCE_SPLIT), True)
    h = len(train) // 2
    return RealPair(_rows(train, order[:h]), _rows(train, order[h:2 * h]), (REFERENCE_SPLIT, REFERENCE_SPLIT), False)


def better(score: str) -> str | None:
    """"lower" or "higher" (is better), or None (density: best near 1)."""
    return {LOWER: "lower", HIGHER: "higher"}.get(direction(score))


def json_safe(v):
    """JSON has no inf/nan: store them as null (the printed table says 'inf')."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [json_safe(x) for x in v]
    return v


def samples_of(x: Tensor | np.ndarray, target: Target, what: str) -> Tensor:  # (N, *shape) float32
    """``x`` as a float tensor, refused unless its items have the target's shape (a mixed table's column
    space stays float64: dates are seconds since 1970)."""
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x)
    t = t.double() if target.mixed else t.float()
    if tuple(t.shape[1:]) != tuple(target.shape):
        raise GankitError(f"{what} samples have items of shape {tuple(t.shape[1:])}, expected {tuple(target.shape)}")
    return t


@dataclass
class Plan:
    """A checked evaluation: the metrics, the real reference and its features, the extractor, the seed."""

    real: Tensor  # (N, *shape) data space
    target: Target
    dataset: str
    metrics: dict[str, Metric]
    n: int  # generated samples per scoring
    extractor: FeatureExtractor | None
    classifier: FeatureExtractor | None
    seed: int = 0
    device: str = "cpu"
    shared: dict = field(default_factory=dict)  # EvalContext cache entries every scoring reuses
    reference_split: str = REFERENCE_SPLIT  # "test" when the real reference is held-out data
    pair: RealPair | None = None  # two real sets for :meth:`real_vs_real`
    table: object | None = None  # mixed tables: gankit.metrics.tables.TableEval (schema, training rows, holdout)

    def provenance(self) -> dict:
        return self.extractor.provenance() if self.extractor is not None else {"extractor": None}

    def generate(self, g, truncation: float | None = None) -> tuple[Tensor, Tensor | None]:
        """``n`` samples of a :class:`~gankit.tasks.trained.TrainedGenerator` with ``seed`` (data space), and for a
        conditional one the class each was asked for (balanced classes, as ``labels_for(n)``); ``truncation``:
        BigGAN's truncation trick on the latent codes."""
        from gankit.modalities import get_modality

        extra = {"truncation": truncation} if truncation is not None else {}
        # as `gankit sample` writes them (sound: 16-bit PCM), so the score is that of the files a user gets
        fake = torch.from_numpy(get_modality(self.target.kind).as_written(g.samples(self.n, seed=self.seed, **extra)))
        return fake, (g.labels_for(self.n) if g.num_classes > 0 else None)

    def score(self, fake: Tensor | np.ndarray, requested: Tensor | np.ndarray | None = None, step: int | None = None,
              *, progress: bool = False) -> Scores:
        """Scores with provenance of generated ``fake`` (M, *shape) against the real reference."""
        fake_t = samples_of(fake, self.target, "generated")
        req = None if requested is None else torch.as_tensor(np.asarray(requested)).long()
        if req is not None and req.shape != (len(fake_t),):
            raise GankitError(f"requested classes must be one per generated sample, got shape {tuple(req.shape)}")
        ctx = EvalContext(self.real, fake_t, self.target, self.dataset, self.extractor, req, self.seed,
                          str(self.device), self.classifier, table=self.table, _cache=dict(self.shared))
        out: Scores = {}
        for name, m in self.metrics.items():
            if progress:
                print(f"gankit: computing {name}", file=sys.stderr, flush=True)
            common = {"n_generated": len(fake_t), "seed": self.seed, "step": step}
            if m.uses_features:
                common |= {"n_real": len(self.real), "reference_split": self.reference_split,
                           "reference": self.dataset, **self.extractor.provenance()}
            else:
                common |= {"n_real": None, "reference_split": None, "extractor": None, "extractor_sha256": None}
            for score, body in m.compute(ctx).items():
                out[score] = {**common, **body, "metric": name, "better": better(score)}
        return out

    def real_vs_real(self, scores: Scores) -> Scores:
        """``scores`` with each one's real-against-real value beside it (``"real_vs_real"``: value, the
        two sets' sizes and splits); None where the real sets are too small for the metric."""
        pair = self.pair
        if pair is None:
            return scores
        cache = {"real": self.shared["real"]} if pair.a_is_reference and "real" in self.shared else {}
        ctx = EvalContext(pair.a, pair.b, self.target, self.dataset, self.extractor, None, self.seed,
                          str(self.device), self.classifier, table=self.table, _cache=cache)
        ref: Scores = {}
        for m in self.metrics.values():
            if m.against_real and min(len(pair.a), len(pair.b)) >= m.min_samples:
                ref |= m.compute(ctx)
        how = {"n": [len(pair.a), len(pair.b)], "splits": list(pair.splits)}
        return {k: {**s, "real_vs_real": {"value": ref[k]["value"], **how} if k in ref else None}
                for k, s in scores.items()}


def prepare(real: Tensor | np.ndarray, target: Target, dataset: str, purpose: Purpose, *,
            metrics: str | list[str] | None = None, n: int, extractor: str | None = None,
            inception_weights: str | None = None, seed: int = 0, device="cpu", quiet: bool = True,
            fit: Callable[[], Tensor] | None = None, reference_split: str = REFERENCE_SPLIT) -> Plan:
    """Choose and check the metrics for ``n`` generated samples against ``real`` (N, *shape), build the
    extractor and the classifier, extract the real features: everything before the generator runs.
    ``fit()`` gives the training data an extractor may learn from (default: ``real``)."""
    real_t = samples_of(real, target, "real")
    specs = {name: METRICS.get(name) for name in choose_metrics(metrics, target, dataset, purpose)}
    check_sizes(specs, n, len(real_t), purpose)
    ex, clf = build_extractors(specs, target, purpose, extractor=extractor, weights=inception_weights, quiet=quiet,
                               device=device, fit=fit or (lambda: real_t))
    plan = Plan(real_t, target, dataset, specs, n, ex, clf, seed, str(device), reference_split=reference_split)
    if ex is not None:
        plan.shared["real"] = extract(ex, real_t, device=plan.device)  # (N, D), once
    return plan


def refuse_unscored(kind: str) -> None:
    """One line for data whose scores are not there yet (sound), before anything is loaded or sampled."""
    from gankit.modalities import get_modality

    why = get_modality(kind).not_scored
    if why:
        raise GankitError(why)


def prepare_for_data(data, data_cfg, purpose: Purpose, *, n: int | None = None, seed: int = 0,
                     real_vs_real: bool = False, table_target: str | None = None, **kw) -> Plan:
    """:func:`prepare` for loaded training ``data`` (made from ``data_cfg``): the real reference is drawn
    from its held-out data when there is some, else from it; ``n`` None: the purpose's default for the
    data's kind; ``real_vs_real``: also the second real set of :meth:`Plan.real_vs_real`."""
    from gankit.data.split import heldout_data

    refuse_unscored(data.kind)
    n = data.modality.eval_items[purpose.use] if n is None else n
    if n < 1:
        raise GankitError(f"{purpose.n_key} must be >= 1, got {n}")
    heldout, _ = heldout_data(data_cfg, data)
    reference = data if heldout is None else heldout
    plan = prepare(real_sample(reference, n, seed), target_of(data, data_cfg, table_target), data.name, purpose,
                   n=n, seed=seed, fit=lambda: data.raw if data.raw is not None else data.decode(data.x), reference_split=REFERENCE_SPLIT if heldout is None
                   else TEST_SPLIT, **kw)
    copies = [k for k, m in plan.metrics.items() if m.uses_training]
    if copies and heldout is None:  # the real side would be the training items themselves: always 0 copies
        if kw.get("metrics") is not None:
            raise GankitError(f"{purpose.metrics_key}: {', '.join(copies)} needs held-out items to compare with "
                              "(data.test_pattern, data.holdout or data.test_path)")
        plan.metrics = {k: m for k, m in plan.metrics.items() if not m.uses_training}
    if any(m.uses_training for m in plan.metrics.values()):  # nearest neighbours among the training items
        train = data.raw if data.raw is not None else data.decode(data.x)
        plan.shared["train"] = extract(plan.extractor, train, device=plan.device)  # (N_train, D), once
    if data.values is not None:  # a mixed table: the table metrics read the rows as read, and the schema
        from gankit.metrics.tables import TableEval

        plan.table = TableEval(data.codec.schema, data.values, None if heldout is None else heldout.values,
                               table_target)
    if real_vs_real:
        plan.pair = real_pair(data, heldout, n, seed)
    return plan


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
    """Scores with provenance of generated ``fake`` (M, *shape) against ``real`` (N, *shape), as ``gankit eval``.

    ``requested`` (M,) gives, for a conditional generator, the class index each sample was asked for.
    """
    fake_t = samples_of(fake, target, "generated")
    plan = prepare(real, target, dataset, GANKIT_EVAL, metrics=metrics, n=len(fake_t), extractor=extractor,
                   inception_weights=inception_weights, seed=seed, device=device, quiet=quiet)
    return plan.score(fake_t, requested, step, progress=not quiet)
