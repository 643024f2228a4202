"""Latent codes: drawing them (with BigGAN's truncation trick) and walking between them.

* :func:`draw`: ``n`` standard normal codes from a seeded ``torch.Generator``; with ``truncation=t``
  every component beyond ``±t`` is drawn again (from the same generator) until it lies inside
  (Brock et al. 2019, section 3.1: a truncated normal; smaller ``t``, more typical and less varied
  samples). Without truncation the codes are exactly ``torch.randn(n, dim, generator=gen)``, so the
  first code of ``seed`` is the first sample of ``g.sample(n, seed=seed)``.
* :func:`slerp`: spherical linear interpolation (Shoemake 1985; White 2016, "Sampling Generative
  Networks"), which keeps the walk at the norm a Gaussian code typically has, where a straight line
  passes through the low-norm middle that the generator rarely saw. ``slerp(z0, z1, 0) == z0`` and
  ``slerp(z0, z1, 1) == z1``; nearly parallel codes fall back to the straight line.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.errors import GankitError, arg


def draw(n: int, dim: int, gen: torch.Generator | None = None, truncation: float | None = None) -> Tensor:
    """(n, dim) standard normal codes; ``truncation``: each component redrawn until within ``±truncation``."""
    z = torch.randn(n, dim, generator=gen)
    if truncation is None:
        return z
    if not truncation > 0:
        raise GankitError(f"{arg('truncation')} must be > 0 (e.g. 0.7), got {truncation}")
    outside = z.abs() > truncation
    while outside.any():  # P(|z| <= t) >= 0.08 for t >= 0.1: a few rounds
        z[outside] = torch.randn(int(outside.sum()), generator=gen)
        outside = z.abs() > truncation
    return z


def slerp(z0: Tensor, z1: Tensor, t: Tensor | float) -> Tensor:
    """Codes on the great-circle path from ``z0`` to ``z1`` (each (..., dim)) at fractions ``t`` ((T,) or a
    number): (T, ..., dim), or (..., dim) for a number:
    ``sin((1 - t) w) / sin(w) z0 + sin(t w) / sin(w) z1``, ``w`` the angle between them."""
    scalar = not torch.is_tensor(t) or t.dim() == 0
    t = torch.as_tensor(t, dtype=z0.dtype, device=z0.device).reshape(-1, *([1] * z0.dim()))
    u0 = z0 / z0.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    u1 = z1 / z1.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    omega = torch.acos((u0 * u1).sum(-1, keepdim=True).clamp(-1, 1))
    so = torch.sin(omega)
    flat = so < 1e-6
    a = torch.where(flat, 1 - t, torch.sin((1 - t) * omega) / torch.where(flat, 1, so))
    b = torch.where(flat, t, torch.sin(t * omega) / torch.where(flat, 1, so))
    out = a * z0 + b * z1
    out[t.reshape(-1) == 0] = z0  # the endpoints exactly
    out[t.reshape(-1) == 1] = z1
    return out[0] if scalar else out


def walk(z0: Tensor, z1: Tensor, steps: int) -> Tensor:
    """``steps`` codes from ``z0`` to ``z1`` inclusive, evenly spaced in angle: (steps, ..., dim)."""
    if steps < 2:
        raise GankitError(f"--interpolate takes the number of steps of a walk, at least 2; got {steps}")
    return slerp(z0, z1, torch.linspace(0, 1, steps))
