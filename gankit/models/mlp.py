"""Fully connected generator and discriminator, as in the classic MNIST GAN write-ups.

G: z (N, latent) -> Linear/act blocks -> Linear -> output activation -> (N, *data_shape)
D: x (N, *data_shape) -> flatten -> Linear/act blocks -> Linear -> (N, 1) logit

D returns a *logit*; the loss applies the sigmoid (stably), so "D outputs a probability" is
``sigmoid(D(x))``.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from gankit.models.layers import Reshape, activation, norm1d, output_activation


def _blocks(sizes: list[int], act: str, slope: float, norm: str, dropout: float) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers.append(nn.Linear(fan_in, fan_out))
        n = norm1d(norm, fan_out)
        if n is not None:
            layers.append(n)
        layers.append(activation(act, slope))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return layers


class MLPGenerator(nn.Sequential):
    def __init__(
        self,
        latent_dim: int,
        out_shape: tuple[int, ...],
        hidden: list[int],
        activation: str = "relu",
        negative_slope: float = 0.2,
        norm: str = "none",
        dropout: float = 0.0,
        output: str = "tanh",
    ) -> None:
        out_features = math.prod(out_shape)
        layers = _blocks([latent_dim, *hidden], activation, negative_slope, norm, dropout)
        layers.append(nn.Linear(([latent_dim, *hidden])[-1], out_features))
        out = output_activation(output)
        if out is not None:
            layers.append(out)
        if len(out_shape) > 1:
            layers.append(Reshape(out_shape))
        super().__init__(*layers)
        self.latent_dim = latent_dim
        self.out_shape = tuple(out_shape)

    def forward(self, z: Tensor) -> Tensor:  # (N, latent) -> (N, *out_shape)
        return super().forward(z)


class MLPDiscriminator(nn.Sequential):
    def __init__(
        self,
        in_shape: tuple[int, ...],
        hidden: list[int],
        activation: str = "leaky_relu",
        negative_slope: float = 0.2,
        norm: str = "none",
        dropout: float = 0.0,
    ) -> None:
        in_features = math.prod(in_shape)
        layers: list[nn.Module] = [nn.Flatten()] if len(in_shape) > 1 else []
        layers += _blocks([in_features, *hidden], activation, negative_slope, norm, dropout)
        layers.append(nn.Linear(([in_features, *hidden])[-1], 1))
        super().__init__(*layers)
        self.in_shape = tuple(in_shape)

    def forward(self, x: Tensor) -> Tensor:  # (N, *in_shape) -> (N, 1) logits
        return super().forward(x)
