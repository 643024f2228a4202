"""Training-health monitor: catch the usual GAN failures from numbers, without looking at images.

* **D overpowers G** — mean D(x) → 1 and mean D(G(z)) → 0 for a sustained window: the
  discriminator separates perfectly, G's gradient vanishes (Goodfellow et al. 2014; Arjovsky &
  Bottou 2017).
* **Mode collapse** — the spread of generated samples (mean pairwise distance, in data or feature
  space) falls far below the spread of real data; for labelled data, the class histogram of the
  samples under a classifier concentrates on few classes.
* **Non-finite losses** — NaN/Inf in D or G loss.

Each warning says what was seen and what to try; a remedy the run already uses is left out (the
monitor is given the current values of the keys its advice names, so it never imports the config).
Samples are judged only after a warm-up long enough for G — and its moving average, which the
pictures show — to have moved away from its near-constant start (:func:`sample_warmup`); a run too
short for that is not judged at all. The monitor is pure bookkeeping over numbers the trainer
already logs (one row per ``log.every`` steps) and over the fixed-noise samples it already draws for
the sample grids, so it costs nothing in the hot loop.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Callable, Literal, Mapping

import numpy as np

Kind = Literal["d_overpowers_g", "mode_collapse", "non_finite"]

#: an untrained G makes near-constant output: no sample is judged before this step, whatever the run
MIN_WARMUP = 200


def sample_warmup(total: int, ema_decay: float = 0.0) -> int | None:
    """The first step at which samples are judged, or None when a run of ``total`` steps is too short.

    At least :data:`MIN_WARMUP` steps and a tenth of the run; with a moving average of G (what the
    samples come from) also ~3/(1 - decay) steps, after which the average keeps e^-3 = 5% of its
    initial weights, capped at half the run.
    """
    ema = math.ceil(3 / (1 - ema_decay)) if ema_decay > 0 else 0
    warm = max(MIN_WARMUP, total // 10, min(ema, total // 2))
    return warm if warm < total else None


@dataclass(frozen=True)
class Advice:
    """One remedy: ``text`` alone, or ``key=value`` choices, each left out when the run already has it."""

    text: str = ""
    key: str | None = None
    choices: tuple[Any, ...] = ()
    done: Callable[[Any, Any], bool] = lambda current, choice: current == choice

    def render(self, settings: Mapping[str, Any], cannot: frozenset[str]) -> str | None:
        if self.key is None:
            return self.text
        if self.key in cannot:
            return None
        if self.key not in settings:
            left = list(self.choices)
        else:
            left = [c for c in self.choices if not self.done(settings[self.key], c)]
        return f"{self.key}={' or '.join(map(str, left))}" if left else None


def _at_least(current: Any, choice: Any) -> bool:
    return isinstance(current, (int, float)) and current >= choice


def _has_all(current: Any, choice: str) -> bool:
    return set(choice.split(",")) <= {p.strip() for p in str(current or "").split(",")}


NON_FINITE = (Advice("lower generator.lr/discriminator.lr"), Advice(key="loss", choices=("hinge", "wgan-gp")),
              Advice(key="penalty.r1_gamma", choices=(1,), done=_at_least))
OVERPOWERED = (Advice("a lower discriminator.lr (or higher generator.lr)"),
               Advice(key="discriminator.dropout", choices=(0.3,), done=_at_least),
               Advice(key="augment.policy", choices=("translation,cutout",), done=_has_all),
               Advice(key="penalty.r1_gamma", choices=(1,), done=_at_least), Advice(key="loss", choices=("hinge",)))
COLLAPSE = (Advice("a lower generator.lr"), Advice(key="discriminator.dropout", choices=(0.3,), done=_at_least),
            Advice(key="loss", choices=("wgan-gp", "hinge")), Advice("a larger train.batch_size"),
            Advice(key="generator.norm", choices=("batch",)))
#: the config keys the advice names: the caller passes their current values
ADVICE_KEYS = tuple(dict.fromkeys(a.key for a in (*NON_FINITE, *OVERPOWERED, *COLLAPSE) if a.key))


def advise(advice: tuple[Advice, ...], settings: Mapping[str, Any], cannot: frozenset[str] = frozenset()) -> str:
    """"Try a, b, or c" with the remedies the run does not already use (and can use)."""
    items = [t for t in (a.render(settings, cannot) for a in advice) if t]
    if not items:
        return "The usual remedies are already set; try another seed or a smaller model"
    return "Try " + (items[0] if len(items) == 1 else f"{', '.join(items[:-1])}, or {items[-1]}")


@dataclass
class HealthWarning:
    step: int
    kind: Kind
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


def mean_pairwise_distance(x: np.ndarray, max_items: int = 512) -> float:
    """Mean Euclidean distance between distinct rows of x (N, ...), on at most ``max_items`` rows."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)[:max_items]
    if len(x) < 2:
        return 0.0
    sq = (x * x).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)
    n = len(x)
    return float(np.sqrt(d2).sum() / (n * (n - 1)))


class HealthMonitor:
    """Feed it logged rows (:meth:`observe`) and sample batches (:meth:`observe_samples`)."""

    def __init__(self, *, probability: bool, window: int = 5, d_high: float = 0.95, d_low: float = 0.05,
                 diversity_ratio: float = 0.2, real_spread: float | None = None, warmup: int | None = 0,
                 settings: Mapping[str, Any] | None = None, cannot: tuple[str, ...] = ()) -> None:
        self.probability = probability  # D's outputs are probabilities (bce, minimax, mse)
        self.window = window  # consecutive logged rows a condition must hold
        self.d_high, self.d_low = d_high, d_low
        self.diversity_ratio = diversity_ratio
        self.real_spread = real_spread  # mean pairwise distance of real data
        self.warmup = warmup  # steps before samples are judged (sample_warmup); None: never in this run
        self.settings = dict(settings or {})  # current values of ADVICE_KEYS: remedies already used go unsaid
        self.cannot = frozenset(cannot)  # keys this data cannot use (augment.policy on a table)
        self._overpowered = 0
        self._collapsed = 0
        self._active: set[str] = set()  # warn once per episode; re-arm when it recovers
        self.warnings: list[HealthWarning] = []

    def state_dict(self) -> dict:
        """The counters a resumed run needs to warn when the uninterrupted one would (JSON-able)."""
        return {"overpowered": self._overpowered, "collapsed": self._collapsed, "active": sorted(self._active)}

    def load_state_dict(self, state: dict) -> None:
        self._overpowered = int(state["overpowered"])
        self._collapsed = int(state["collapsed"])
        self._active = {str(k) for k in state["active"]}

    def _warn(self, step: int, kind: Kind, message: str) -> list[HealthWarning]:
        if kind in self._active:
            return []
        self._active.add(kind)
        w = HealthWarning(step, kind, message)
        self.warnings.append(w)
        return [w]

    def observe(self, step: int, stats: dict[str, float] | None = None, **named: float) -> list[HealthWarning]:
        """One logged row: the means of the task's statistics by name over the logging interval.

        D overpowering G is read from ``d_real``/``d_fake`` when the task reports them.
        """
        stats = {**(stats or {}), **named}
        out: list[HealthWarning] = []
        bad = {k: v for k, v in stats.items() if not math.isfinite(v)}
        if bad:
            what = ", ".join(f"{k} {v:.3g}" for k, v in stats.items() if k.endswith("loss")) or ", ".join(bad)
            out += self._warn(step, "non_finite", (
                f"step {step}: losses are not finite ({what}); training has diverged. "
                f"{advise(NON_FINITE, self.settings, self.cannot)}"))
            return out
        self._active.discard("non_finite")
        d_real, d_fake = stats.get("d_real"), stats.get("d_fake")
        both = d_real is not None and d_fake is not None  # a task's phase may be off this row
        if self.probability and both and d_real >= self.d_high and d_fake <= self.d_low:
            self._overpowered += 1
        else:
            self._overpowered = 0
            self._active.discard("d_overpowers_g")
        if self._overpowered >= self.window:
            out += self._warn(step, "d_overpowers_g", (
                f"step {step}: D overpowers G: mean D(x)={d_real:.3f}, D(G(z))={d_fake:.3f} for "
                f"{self._overpowered} logged rows, so G's gradient vanishes. "
                f"{advise(OVERPOWERED, self.settings, self.cannot)}"))
        return out

    def observe_samples(self, step: int, samples: np.ndarray, *, class_counts: np.ndarray | None = None
                        ) -> list[HealthWarning]:
        """Generated samples (N, ...) in data space; optional class histogram from a classifier."""
        out: list[HealthWarning] = []
        seen = []
        if self.warmup is None or step < self.warmup:
            return out
        if self.real_spread:
            ratio = mean_pairwise_distance(samples) / self.real_spread
            if ratio < self.diversity_ratio:
                seen.append(f"sample spread is {ratio:.0%} of the real data's")
        if class_counts is not None and class_counts.sum() > 0:
            p = class_counts / class_counts.sum()
            k = len(p)
            covered = int((p > 0.5 / k).sum())
            if covered <= max(1, k // 4):
                seen.append(f"samples fall in {covered} of {k} classes")
        if seen:
            self._collapsed += 1
            out += self._warn(step, "mode_collapse", (
                f"step {step}: mode collapse: {'; '.join(seen)}. {advise(COLLAPSE, self.settings, self.cannot)}"))
        else:
            self._collapsed = 0
            self._active.discard("mode_collapse")
        return out
