"""CTGAN's networks (Xu et al. 2019, appendix): a residual generator with per-column output heads, and
a PacGAN discriminator (Lin et al. 2018).

G: z (N, latent) -> residual blocks, each ``cat([relu(bn(linear(h))), h])`` -> Linear -> (N, D), then
   each output head activated on its own: tanh for a number's scalar, a Gumbel-softmax (temperature
   :data:`GUMBEL_TAU`) for a one-hot block (a mode or a category), so that G's output is
   differentiable and looks like the one-hot real rows.
D: x (N, D) -> groups of ``pac`` rows side by side (N / pac, pac * D) -> Linear / LeakyReLU(0.2) /
   Dropout blocks -> Linear -> (N / pac, 1) critic values. Judging ``pac`` rows at once lets D see
   a lack of variety (mode collapse) that one row cannot show.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.modalities.base import Head

GUMBEL_TAU = 0.2  # CTGAN's temperature


class Residual(nn.Module):
    def __init__(self, fan_in: int, fan_out: int) -> None:
        super().__init__()
        self.fc, self.bn = nn.Linear(fan_in, fan_out), nn.BatchNorm1d(fan_out)

    def forward(self, h: Tensor) -> Tensor:  # (N, fan_in) -> (N, fan_in + fan_out)
        return torch.cat([F.relu(self.bn(self.fc(h))), h], dim=1)


class TableGenerator(nn.Module):
    def __init__(self, latent_dim: int, heads: tuple[Head, ...], hidden: list[int]) -> None:
        super().__init__()
        blocks, width = [], latent_dim
        for h in hidden:
            blocks.append(Residual(width, h))
            width += h
        self.body = nn.Sequential(*blocks)
        self.out = nn.Linear(width, sum(h.size for h in heads))
        self.heads = tuple(heads)
        self.latent_dim = latent_dim

    def forward(self, z: Tensor) -> Tensor:  # (N, latent) -> (N, D)
        return self.activate(self.out(self.body(z)), gumbel=True)

    def probabilities(self, z: Tensor) -> Tensor:
        """The output without the Gumbel noise: tanh scalars as ``forward``, each one-hot block as the
        probabilities softmax(logits) its Gumbel-softmax draws from (the argmax of ``forward``'s block is a
        draw from them); deterministic, what ``gankit export`` writes."""
        return self.activate(self.out(self.body(z)), gumbel=False)

    def activate(self, raw: Tensor, gumbel: bool = True) -> Tensor:
        parts, at = [], 0
        for h in self.heads:
            block = raw[:, at : at + h.size]
            if h.kind == "continuous":
                parts.append(torch.tanh(block))
            else:
                parts.append(F.gumbel_softmax(block, tau=GUMBEL_TAU) if gumbel else torch.softmax(block, dim=1))
            at += h.size
        return torch.cat(parts, dim=1)


class PacDiscriminator(nn.Module):
    def __init__(self, in_features: int, hidden: list[int], pac: int, negative_slope: float = 0.2,
                 dropout: float = 0.5) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features * pac
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(negative_slope), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.body = nn.Sequential(*layers)
        self.pac, self.in_features = pac, in_features

    def forward(self, x: Tensor) -> Tensor:  # (N, D) -> (N / pac, 1); N must be a multiple of pac
        return self.body(x.reshape(-1, self.pac * self.in_features))
