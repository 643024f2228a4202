"""Mode coverage: how many of the data's modes the generator reaches, and how evenly.

* Toy mixtures (ring, grid), the protocol of VEEGAN (Srivastava et al. 2017, Sec. 5.1) and PacGAN
  (Lin et al. 2018, Table 1): draw 2,500 samples; a sample is *high quality* when it lies within 3
  standard deviations of its nearest centre; a mode is *captured* when at least one high-quality
  sample has it as nearest centre; the *reverse KL* KL(p_gen || uniform) compares the histogram of
  high-quality samples over modes with the true uniform mixture weights (as PacGAN's own
  evaluation code counts only high-quality samples per mode).
* Labelled images: the histogram of the classes a domain classifier assigns to generated samples,
  its KL to uniform (0 = every class equally often; log K = one class only), and the mean top-class
  probability (low = the classifier cannot tell what the samples are). For conditional generators,
  :func:`conditional_accuracy` is the share of samples classified as the class that was asked for.
  :func:`classifier_score` is the Inception-score formula (Salimans et al. 2016) on the domain
  classifier's probabilities: exp(E_x KL(p(y|x) || p(y))), from 1 (every sample gets the same class
  distribution) to K (each sample one confident class, all K classes equally often).

KL values are in nats. Shapes: samples (N, D); centres (K, D); probs (N, K).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from gankit.errors import GankitError

#: VEEGAN / PacGAN protocol
TOY_SAMPLES = 2500
HQ_STDS = 3.0


def toy_modes(name: str) -> tuple[np.ndarray, float] | None:
    """(centres (K, 2), std) of a built-in toy mixture, or None for other data."""
    from gankit.data.toy import GRID_STD, RING_STD, grid_centres, ring_centres

    return {"ring": (ring_centres(), RING_STD), "grid": (grid_centres(), GRID_STD)}.get(name)


def kl_to_uniform(counts: Tensor | np.ndarray | list) -> float:
    """KL(p || uniform) in nats of the histogram ``counts`` (K,); inf for an empty histogram."""
    c = torch.as_tensor(np.asarray(counts), dtype=torch.float64)
    if c.ndim != 1 or len(c) == 0 or (c < 0).any():
        raise GankitError(f"a histogram must be a 1-D list of non-negative counts, got shape {tuple(c.shape)}")
    total = float(c.sum())
    if total == 0:
        return math.inf
    p = c / total
    nz = p > 0
    return float((p[nz] * torch.log(p[nz] * len(c))).sum())


def mode_coverage(
    samples: Tensor | np.ndarray, centres: Tensor | np.ndarray, std: float, *, threshold: float = HQ_STDS
) -> dict:
    """Modes captured, high-quality share and reverse KL of ``samples`` (N, D) against ``centres`` (K, D).

    Returns {"modes_captured", "n_modes", "hq_fraction", "reverse_kl", "histogram"} where
    ``histogram`` counts high-quality samples per mode and ``reverse_kl`` is inf when there are none.
    """
    x = torch.as_tensor(np.asarray(samples), dtype=torch.float64)
    c = torch.as_tensor(np.asarray(centres), dtype=torch.float64)
    if x.ndim != 2 or c.ndim != 2 or x.shape[1] != c.shape[1]:
        raise GankitError(f"mode coverage needs samples (N, D) and centres (K, D) of one D, got "
                          f"{tuple(x.shape)} and {tuple(c.shape)}")
    if len(x) == 0:
        raise GankitError("mode coverage needs at least one sample; raise --n")
    if std <= 0:
        raise GankitError(f"mode std must be > 0, got {std}")
    dist, nearest = torch.cdist(x, c).min(1)  # (N,), (N,)
    hq = dist <= threshold * std
    hist = torch.bincount(nearest[hq], minlength=len(c))
    return {
        "modes_captured": int((hist > 0).sum()),
        "n_modes": len(c),
        "hq_fraction": float(hq.double().mean()),
        "reverse_kl": kl_to_uniform(hist),
        "histogram": hist.tolist(),
    }


def class_histogram(probs: Tensor | np.ndarray) -> dict:
    """Class histogram, KL to uniform and mean confidence of classifier ``probs`` (N, K)."""
    p = torch.as_tensor(np.asarray(probs), dtype=torch.float64)
    if p.ndim != 2 or len(p) == 0:
        raise GankitError(f"class probabilities must be (N, K) with N >= 1, got shape {tuple(p.shape)}")
    top, label = p.max(1)
    hist = torch.bincount(label, minlength=p.shape[1])
    return {
        "histogram": hist.tolist(),
        "kl_to_uniform": kl_to_uniform(hist),
        "mean_confidence": float(top.mean()),
    }


def conditional_accuracy(probs: Tensor | np.ndarray, requested: Tensor | np.ndarray) -> float:
    """Share of samples whose predicted class (argmax of ``probs`` (N, K)) is the ``requested`` one (N,)."""
    p = torch.as_tensor(np.asarray(probs))
    y = torch.as_tensor(np.asarray(requested)).long()
    if p.ndim != 2 or y.shape != (p.shape[0],) or len(y) == 0:
        raise GankitError(f"need probs (N, K) and requested classes (N,), got {tuple(p.shape)} and {tuple(y.shape)}")
    return float((p.argmax(1) == y).double().mean())


def classifier_score(probs: Tensor | np.ndarray) -> float:
    """exp(E_x KL(p(y|x) || p(y))) of class probabilities ``probs`` (N, K), with p(y) their mean over x.

    Salimans et al. 2016's Inception score, computed in float64 on all N samples at once (one split);
    0 log 0 counts as 0. Rows need not be renormalised: each is divided by its sum.
    """
    p = torch.as_tensor(np.asarray(probs) if not isinstance(probs, Tensor) else probs, dtype=torch.float64)
    if p.ndim != 2 or len(p) == 0 or p.shape[1] == 0:
        raise GankitError(f"class probabilities must be (N, K) with N, K >= 1, got shape {tuple(p.shape)}")
    if not bool(torch.isfinite(p).all()) or bool((p < 0).any()) or bool((p.sum(1) <= 0).any()):
        raise GankitError("class probabilities must be finite, non-negative and not all zero in a row")
    p = p / p.sum(1, keepdim=True)
    marginal = p.mean(0, keepdim=True)  # (1, K) p(y)
    terms = torch.where(p > 0, p * (torch.log(p) - torch.log(marginal)), torch.zeros_like(p))  # (N, K)
    return float(torch.exp(terms.sum(1).mean()))
