"""Small building blocks shared by the model families."""

from __future__ import annotations

from torch import nn
from torch.nn.utils import spectral_norm

from gankit.errors import GankitError


def activation(name: str, negative_slope: float = 0.2) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    table = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "silu": nn.SiLU, "elu": nn.ELU}
    if name not in table:
        raise GankitError(f"unknown activation {name!r}; choose one of relu, leaky_relu, {', '.join(table)}")
    return table[name]()


def norm1d(name: str, features: int) -> nn.Module | None:
    """Normalisation after a linear layer: none, batch (BatchNorm1d) or layer (LayerNorm)."""
    if name == "none":
        return None
    if name == "batch":
        return nn.BatchNorm1d(features)
    if name == "layer":
        return nn.LayerNorm(features)
    raise GankitError(f"unknown norm {name!r}; choose one of none, batch, layer")


def output_activation(name: str) -> nn.Module | None:
    if name == "none":
        return None
    return activation(name)


class Reshape(nn.Module):
    """(N, prod(shape)) -> (N, *shape)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


def orthogonal_init(m: nn.Module) -> None:
    """Orthogonal weights (Saxe et al. 2014; BigGAN's ``G_init='ortho'``) for convolutions, linear layers
    and embeddings, zero biases. ``model.apply(orthogonal_init)`` before any spectral norm wraps a layer
    (the norm's ``weight`` is recomputed from ``weight_orig``): :func:`ortho_sn` does both in order."""
    if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
        nn.init.orthogonal_(m.weight)
        if getattr(m, "bias", None) is not None:
            nn.init.zeros_(m.bias)


def ortho_sn(m: nn.Module, spectral: bool) -> nn.Module:
    """``m`` with orthogonal initial weights, then spectrally normalised (Miyato et al. 2018) when asked."""
    orthogonal_init(m)
    return spectral_norm(m) if spectral else m
