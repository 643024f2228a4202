"""Model families, chosen by name (``generator.arch`` / ``discriminator.arch``).

``build_generator(section, data_shape)`` and ``build_discriminator(section, data_shape)`` take the
network's own config section and the data's per-item shape, e.g. (1, 28, 28) or (2,).
"""

from __future__ import annotations

from typing import Callable

from torch import nn

from gankit.config import DiscriminatorConfig, GeneratorConfig
from gankit.registry import Registry

GENERATORS: Registry[Callable[[GeneratorConfig, tuple[int, ...]], nn.Module]] = Registry("generator arch")
DISCRIMINATORS: Registry[Callable[[DiscriminatorConfig, tuple[int, ...]], nn.Module]] = Registry(
    "discriminator arch"
)


@GENERATORS.register("mlp", "fully connected generator")
def _mlp_g(c: GeneratorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.mlp import MLPGenerator

    return MLPGenerator(c.latent_dim, shape, c.hidden, c.activation, c.negative_slope, c.norm,
                        c.dropout, c.output)


@DISCRIMINATORS.register("mlp", "fully connected discriminator")
def _mlp_d(c: DiscriminatorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.mlp import MLPDiscriminator

    return MLPDiscriminator(shape, c.hidden, c.activation, c.negative_slope, c.norm, c.dropout)


def build_generator(c: GeneratorConfig, data_shape: tuple[int, ...]) -> nn.Module:
    return GENERATORS.get(c.arch)(c, tuple(data_shape))


def build_discriminator(c: DiscriminatorConfig, data_shape: tuple[int, ...]) -> nn.Module:
    return DISCRIMINATORS.get(c.arch)(c, tuple(data_shape))
