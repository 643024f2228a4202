"""Model families, chosen by name (``generator.arch`` / ``discriminator.arch``).

``build_generator(section, data_shape)`` and ``build_discriminator(section, data_shape)`` take the
network's own config section and the data's per-item shape, e.g. (1, 28, 28) or (2,).
"""

from __future__ import annotations

import math
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


@GENERATORS.register("dcgan", "DCGAN transposed-conv generator (Radford et al. 2016)")
def _dcgan_g(c: GeneratorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.dcgan import DCGANGenerator

    return DCGANGenerator(c.latent_dim, shape, c.channels, c.kernel_size, c.norm, c.output, c.activation,
                          c.negative_slope)


@DISCRIMINATORS.register("dcgan", "DCGAN strided-conv discriminator (Radford et al. 2016)")
def _dcgan_d(c: DiscriminatorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.dcgan import DCGANDiscriminator

    return DCGANDiscriminator(shape, c.channels, c.kernel_size, c.norm, c.activation, c.negative_slope,
                              c.dropout)


def build_generator(c: GeneratorConfig, data_shape: tuple[int, ...], num_classes: int = 0) -> nn.Module:
    """G for items of ``data_shape``; class-conditional when ``num_classes`` > 0."""
    if num_classes <= 0:
        return GENERATORS.get(c.arch)(c, tuple(data_shape))
    from dataclasses import replace

    from gankit.models.conditional import ConditionalGenerator

    base = GENERATORS.get(c.arch)(replace(c, latent_dim=c.latent_dim + num_classes), tuple(data_shape))
    return ConditionalGenerator(base, c.latent_dim, num_classes)


def build_discriminator(c: DiscriminatorConfig, data_shape: tuple[int, ...], num_classes: int = 0,
                        mode: str = "none", acgan: bool = False) -> nn.Module:
    """D for items of ``data_shape``; class-conditional (``mode`` projection/concat) when ``num_classes`` > 0."""
    shape = tuple(data_shape)
    if num_classes <= 0 or (mode == "none" and not acgan):
        return DISCRIMINATORS.get(c.arch)(c, shape)
    from gankit.models.conditional import ConditionalDiscriminator

    if mode == "concat":  # the class enters D's input: extra channels (images) or features (flat)
        shape = (shape[0] + num_classes, *shape[1:]) if c.arch == "dcgan" else (math.prod(shape) + num_classes,)
    base = DISCRIMINATORS.get(c.arch)(c, shape)
    return ConditionalDiscriminator(base, num_classes, mode, acgan, concat_channels=c.arch == "dcgan")
