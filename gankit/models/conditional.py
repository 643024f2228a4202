"""Class-conditional wrappers around any generator / discriminator family.

* Generator: the class enters as a one-hot vector concatenated to the noise (Mirza & Osindero 2014):
  G(z, y) = base(cat(z, onehot(y))).
* Discriminator, ``mode``:
  - ``projection`` (Miyato & Koyama 2018): D(x, y) = ψ(φ(x)) + ⟨embed(y), φ(x)⟩ (the embedding
    spectrally normalised when the base D says ``spectral_embedding``, as sngan's does);
  - ``concat`` (Mirza & Osindero 2014): the one-hot class is concatenated to D's *input* (as extra
    features for MLPs, as constant extra channels for images).
* ``acgan=True`` adds an auxiliary classifier head on φ(x) (Odena et al. 2017): D then returns
  (logit, class logits) when called with ``aux=True``.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.models.layers import ortho_sn


def split(D: nn.Module) -> tuple[Callable[[Tensor], Tensor], nn.Module]:
    """(features φ, head ψ) of a base discriminator: ``D.features``/``D.head``, or a Sequential's
    layers before the last one and the last one (no module is copied)."""
    if hasattr(D, "features") and hasattr(D, "head"):
        return D.features, D.head
    if isinstance(D, nn.Sequential):
        layers = tuple(D)

        def features(x: Tensor) -> Tensor:
            for m in layers[:-1]:
                x = m(x)
            return x

        return features, layers[-1]
    raise TypeError(f"cannot split {type(D).__name__} into features and head")


class ConditionalGenerator(nn.Module):
    def __init__(self, base: nn.Module, latent_dim: int, num_classes: int) -> None:
        super().__init__()
        self.base, self.latent_dim, self.num_classes = base, latent_dim, num_classes

    def forward(self, z: Tensor, y: Tensor) -> Tensor:  # (N, latent), (N,) -> (N, *data_shape)
        return self.base(torch.cat([z, F.one_hot(y, self.num_classes).to(z.dtype)], 1))


class ConditionalDiscriminator(nn.Module):
    def __init__(self, base: nn.Module, num_classes: int, mode: str = "projection", acgan: bool = False,
                 concat_channels: bool = False) -> None:
        super().__init__()
        self.base, self.num_classes, self.mode = base, num_classes, mode
        self.concat_channels = concat_channels  # concat mode: class as image channels (conv D) or features
        self._features, head = split(base)
        f = getattr(base, "feature_dim", None) or head.in_features  # φ(x)'s width: what the base D declares
        self.embed = nn.Embedding(num_classes, f) if mode == "projection" else None
        if self.embed is not None and getattr(base, "spectral_embedding", False):
            # a spectrally normalised D (sngan) normalises the class embedding too, as the projection
            # paper's code does (SNEmbedID), from orthogonal initial weights
            self.embed = ortho_sn(self.embed, True)
        elif self.embed is not None:
            nn.init.normal_(self.embed.weight, 0.0, 0.02)
        self.aux = nn.Linear(f, num_classes) if acgan else None

    def forward(self, x: Tensor, y: Tensor, aux: bool = False):  # (N, ...), (N,) -> (N, 1) [, (N, K)]
        if self.mode == "concat":
            onehot = F.one_hot(y, self.num_classes).to(x.dtype)
            if self.concat_channels:  # conv D: K constant channels over the maps (2-D images, 1-D waveforms)
                onehot = onehot.reshape(*onehot.shape, *([1] * (x.dim() - 2))).expand(-1, -1, *x.shape[2:])
                x = torch.cat([x, onehot], 1)
            else:
                x = torch.cat([x.reshape(x.shape[0], -1), onehot], 1)
        _, head = split(self.base)
        h = self._features(x)  # (N, F)
        out = head(h)
        if self.embed is not None:
            out = out + (self.embed(y) * h).sum(1, keepdim=True)
        if aux:
            return out, (self.aux(h) if self.aux is not None else None)
        return out
