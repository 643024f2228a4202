"""Model families, chosen by name (``generator.arch`` / ``discriminator.arch``).

``build_generator(section, data_shape)`` and ``build_discriminator(section, data_shape)`` take the
network's own config section and the data's per-item shape, e.g. (1, 28, 28) or (2,).

The registries are torch-free (the config is validated against them): each entry declares the
section keys it reads and checks them; its builder imports the network's module (and torch) when
called. A new family registers a builder ``(section, shape) -> nn.Module`` the same way.

A class-conditional generator is called ``G(z, y)`` (y: (N,) class indices). By default any family is
made conditional by :class:`gankit.models.conditional.ConditionalGenerator` (the one-hot class joins
z); a family that uses the class inside its layers (sngan's class-conditional batch norm) declares
``takes_class=True`` and its builder is called with ``num_classes`` and returns such a G itself.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable

from gankit.errors import GankitError, need
from gankit.registry import Registry

if TYPE_CHECKING:
    from torch import nn

    from gankit.config.schema import DiscriminatorConfig, GeneratorConfig

GENERATORS: Registry[Callable[[GeneratorConfig, tuple[int, ...]], nn.Module]] = Registry("generator arch")
DISCRIMINATORS: Registry[Callable[[DiscriminatorConfig, tuple[int, ...]], nn.Module]] = Registry(
    "discriminator arch"
)

# ----------------------------------------------------------------------------- settings of the entries

#: range check of each section key an entry may read: (key's value, dotted key) -> raises GankitError
_RULES: dict[str, Callable[[Any, str], None]] = {
    "hidden": lambda v, k: need(all(h > 0 for h in v), k, f"sizes must be > 0, got {v}"),
    "negative_slope": lambda v, k: need(v >= 0, k, "must be >= 0"),
    "dropout": lambda v, k: need(0 <= v < 1, k, f"must be in [0, 1), got {v}"),
    "channels": lambda v, k: need(len(v) >= 1 and all(c > 0 for c in v), k,
                                  f"must be a non-empty list of sizes > 0, got {v}"),
    "kernel_size": lambda v, k: need(2 <= v <= 9, k, f"must be in 2..9, got {v}"),
    "attention": lambda v, k: need(v is None or (v >= 2 and v % 2 == 0), k,
                                   f"must be an even feature-map side (e.g. 16) or null, got {v}"),
    "shared_dim": lambda v, k: need(v >= 0, k, f"must be >= 0 (0 = a gain and bias per class), got {v}"),
}

MLP_NORMS = ("none", "batch", "layer")
CONV_NORMS = ("none", "batch", "layer", "spectral")  # spectral: Miyato et al. 2018


def settings_check(keys: tuple[str, ...], norms: tuple[str, ...] = MLP_NORMS,
                   rules: dict[str, Callable[[Any, str], None]] | None = None,
                   extra: Callable[[Any, str], None] | None = None) -> Callable[[Any, str], None]:
    """An entry's check: the range rule of each key it reads (``rules``: the entry's own, where they differ
    from the shared ones), the norms it implements, and its own ``extra(section, who)`` check of keys
    together."""
    rules = {**_RULES, **(rules or {})}

    def check(section: Any, who: str) -> None:
        for key in keys:
            if key in rules:
                rules[key](getattr(section, key), f"{who}.{key}")
        if "norm" in keys and section.norm not in norms:
            other = " (spectral is for arch=dcgan)" if section.norm == "spectral" else ""
            raise GankitError(f"{who}.norm must be one of {', '.join(norms)} for {who}.arch={section.arch}, "
                              f"got {section.norm!r}{other}")
        if extra is not None:
            extra(section, who)

    return check


def _net(registry: Registry, name: str, help: str, keys: tuple[str, ...], norms: tuple[str, ...] = MLP_NORMS, *,
         multiple: Callable[[Any], int] = lambda section: 1, heads: tuple[str, ...] = ("continuous",),
         rules: dict[str, Callable[[Any, str], None]] | None = None, channels_first: bool = False,
         takes_class: bool = False, extra: Callable[[Any, str], None] | None = None):
    """Register a network family with what it declares about itself: the keys it reads and checks (with its
    own ``rules`` where the shared ranges do not fit, and ``extra``, its own check of keys together), what
    image sides must divide by for it (``multiple(section)``), the output-head kinds a generator makes
    (gankit.modalities.base.Head), whether its input is (C, ...) maps (``channels_first``: a class given by
    concatenation joins as constant channels, not as flat features), and whether a generator takes the
    class itself (``takes_class``: built with ``num_classes``, called ``G(z, y)``). A family registered by a
    user declares the same."""

    def deco(builder):
        builder.multiple, builder.heads, builder.channels_first = multiple, heads, channels_first
        builder.takes_class = takes_class
        check = settings_check(keys, norms, rules, extra)
        return registry.register(name, help, keys=keys, check=check)(builder)

    return deco


def _stages(section: Any) -> int:
    return 2 ** len(section.channels)  # each stage halves (D) or doubles (G) the image side


MLP_G_KEYS = ("hidden", "activation", "negative_slope", "norm", "dropout")
MLP_D_KEYS = ("hidden", "activation", "negative_slope", "norm", "dropout")
DCGAN_G_KEYS = ("channels", "kernel_size", "norm", "activation", "negative_slope")
DCGAN_D_KEYS = ("channels", "kernel_size", "norm", "activation", "negative_slope", "dropout")

# ----------------------------------------------------------------------------- the built-in families


@_net(GENERATORS, "mlp", "fully connected generator", MLP_G_KEYS)
def _mlp_g(c: GeneratorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.mlp import MLPGenerator

    return MLPGenerator(c.latent_dim, shape, c.hidden, c.activation, c.negative_slope, c.norm,
                        c.dropout, c.output)


@_net(DISCRIMINATORS, "mlp", "fully connected discriminator", MLP_D_KEYS)
def _mlp_d(c: DiscriminatorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.mlp import MLPDiscriminator

    return MLPDiscriminator(shape, c.hidden, c.activation, c.negative_slope, c.norm, c.dropout)


@_net(GENERATORS, "dcgan", "DCGAN transposed-conv generator (Radford et al. 2016)", DCGAN_G_KEYS, CONV_NORMS,
      multiple=_stages)
def _dcgan_g(c: GeneratorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.dcgan import DCGANGenerator

    return DCGANGenerator(c.latent_dim, shape, c.channels, c.kernel_size, c.norm, c.output, c.activation,
                          c.negative_slope)


@_net(DISCRIMINATORS, "dcgan", "DCGAN strided-conv discriminator (Radford et al. 2016)", DCGAN_D_KEYS, CONV_NORMS,
      multiple=_stages, channels_first=True)
def _dcgan_d(c: DiscriminatorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.dcgan import DCGANDiscriminator

    return DCGANDiscriminator(shape, c.channels, c.kernel_size, c.norm, c.activation, c.negative_slope,
                              c.dropout)


SNGAN_G_KEYS = ("channels", "norm", "attention", "shared_dim", "hierarchical")
SNGAN_D_KEYS = ("channels", "blocks", "norm", "attention", "projection")
#: sngan D's blocks come after its down-sampling ones: none is a valid choice
SNGAN_D_RULES = {"blocks": lambda v, k: need(v >= 0, k, f"must be >= 0 (residual blocks after the down-sampling "
                                                        f"ones), got {v}")}


def _sngan_g_check(c: Any, who: str) -> None:
    slots = len(c.channels) + 1
    need(not c.hierarchical or c.latent_dim % slots == 0, f"{who}.latent_dim",
         f"must divide by {slots} with {who}.hierarchical=true (one chunk per block of {who}.channels and one "
         f"for the input), got {c.latent_dim}; e.g. {who}.latent_dim={slots * max(1, round(c.latent_dim / slots))}")


@_net(GENERATORS, "sngan", "SNGAN's ResNet generator: up-sampling residual blocks, class-conditional batch norm, "
      "optional shared class embedding + hierarchical latent (BigGAN) and self-attention (Miyato et al. 2018)",
      SNGAN_G_KEYS, ("batch",), multiple=_stages, takes_class=True, extra=_sngan_g_check)
def _sngan_g(c: GeneratorConfig, shape: tuple[int, ...], num_classes: int = 0) -> nn.Module:
    from gankit.models.sngan import SNGANGenerator

    return SNGANGenerator(c.latent_dim, shape, list(c.channels), num_classes=num_classes, shared_dim=c.shared_dim,
                          hierarchical=c.hierarchical, attention=c.attention, output=c.output)


@_net(DISCRIMINATORS, "sngan", "SNGAN's ResNet discriminator: down-sampling residual blocks, spectral norm, global "
      "sum pooling; projection conditioning (Miyato et al. 2018, Miyato & Koyama 2018)", SNGAN_D_KEYS,
      ("spectral", "none"), multiple=_stages, rules=SNGAN_D_RULES, channels_first=True)
def _sngan_d(c: DiscriminatorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.sngan import SNGANDiscriminator

    return SNGANDiscriminator(shape, list(c.channels), c.blocks, c.norm, c.attention, c.projection)


TABLE_G_KEYS = ("hidden",)
TABLE_D_KEYS = ("hidden", "negative_slope", "dropout", "pac")
_RULES["pac"] = lambda v, k: need(v >= 1, k, f"must be >= 1, got {v}")


@_net(GENERATORS, "ctgan", "CTGAN's residual generator with per-column tanh / Gumbel-softmax heads (Xu et al. "
      "2019)", TABLE_G_KEYS, heads=("continuous", "categorical"))
def _ctgan_g(c: GeneratorConfig, shape: tuple[int, ...], heads=None) -> nn.Module:
    from gankit.modalities.base import Head
    from gankit.models.tabular import TableGenerator

    return TableGenerator(c.latent_dim, heads or (Head("values", math.prod(shape)),), c.hidden)


@_net(DISCRIMINATORS, "ctgan", "CTGAN's PacGAN discriminator: pac rows judged together (Lin et al. 2018)",
      TABLE_D_KEYS)
def _ctgan_d(c: DiscriminatorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.tabular import PacDiscriminator

    return PacDiscriminator(math.prod(shape), c.hidden, c.pac, c.negative_slope, c.dropout)


SR_G_KEYS = ("channels", "blocks", "scale", "output")
SR_D_KEYS = ("channels", "negative_slope")
_RULES["blocks"] = lambda v, k: need(v >= 1, k, f"must be >= 1, got {v}")
_RULES["scale"] = lambda v, k: need(v in (2, 3, 4, 8), k, f"must be 2, 3, 4 or 8, got {v}")


def _sr_width(c: Any, who: str) -> int:
    need(len(c.channels) == 1, f"{who}.channels", f"srresnet has one width: give one number, e.g. [64], got {c.channels}")
    return c.channels[0]


@_net(GENERATORS, "srresnet", "SRResNet: residual blocks + pixel-shuffle upsampling, x2/x3/x4/x8 (Ledig et al. "
      "2017); input: a low-resolution image", SR_G_KEYS)
def _srresnet_g(c: GeneratorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.srresnet import SRResNet, image_channels

    return SRResNet(image_channels(shape, "generator"), _sr_width(c, "generator"), c.blocks, c.scale, c.output)


@_net(DISCRIMINATORS, "srgan", "SRGAN's strided-conv discriminator with global pooling: any patch size (Ledig et "
      "al. 2017)", SR_D_KEYS)
def _srgan_d(c: DiscriminatorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.srresnet import SRGANDiscriminator, image_channels

    return SRGANDiscriminator(image_channels(shape, "discriminator"), list(c.channels), c.negative_slope)


I2I_NORMS = ("batch", "instance", "none")
UNET_G_KEYS = ("channels", "blocks", "norm", "dropout")
RESNET_G_KEYS = ("channels", "blocks", "norm", "dropout")
PATCH_D_KEYS = ("channels", "norm", "negative_slope")


def _unet_levels(c: Any) -> int:
    return 2 ** c.blocks


@_net(GENERATORS, "unet", "pix2pix's U-Net: generator.blocks levels with skips, dropout as noise (Isola et al. "
      "2017); input: an image", UNET_G_KEYS, I2I_NORMS, multiple=_unet_levels)
def _unet_g(c: GeneratorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.translation import UNetGenerator, image_channels

    return UNetGenerator(image_channels(shape, "generator"), _sr_width(c, "generator"), c.blocks, c.norm, c.dropout)


@_net(GENERATORS, "resnet", "CycleGAN's ResNet generator: 2 downsamplings, generator.blocks residual blocks (Zhu et "
      "al. 2017); input: an image", RESNET_G_KEYS, I2I_NORMS, multiple=lambda c: 4)
def _resnet_g(c: GeneratorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.translation import ResnetGenerator, image_channels

    return ResnetGenerator(image_channels(shape, "generator"), _sr_width(c, "generator"), c.blocks, c.norm, c.dropout)


@_net(DISCRIMINATORS, "patchgan", "PatchGAN: one logit per overlapping patch; [64, 128, 256, 512] is the 70x70 "
      "one (Isola et al. 2017)", PATCH_D_KEYS, I2I_NORMS)
def _patchgan_d(c: DiscriminatorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.translation import PatchGAN, image_channels

    return PatchGAN(image_channels(shape, "discriminator"), list(c.channels), c.norm, c.negative_slope)


WAVEGAN_G_KEYS = ("channels", "kernel_size", "norm", "activation", "negative_slope")
WAVEGAN_D_KEYS = ("channels", "kernel_size", "norm", "activation", "negative_slope", "phase_shuffle")
#: WaveGAN's filters are long (25 in the paper) and at least the stride (4); phase shuffle n >= 0
WAVEGAN_RULES = {"kernel_size": lambda v, k: need(4 <= v <= 64, k, f"must be in 4..64 for wavegan (the paper: 25), got {v}"),
                 "phase_shuffle": lambda v, k: need(0 <= v <= 8, k, f"must be in 0..8 (0 = off; the paper: 2), got {v}")}


def _wave_stages(section: Any) -> int:
    return 4 ** len(section.channels)  # each stage divides (D) or multiplies (G) the length by the stride 4


@_net(GENERATORS, "wavegan", "WaveGAN's 1-D transposed-conv generator, stride 4, kernel 25 (Donahue et al. 2019); "
      "input: waveforms (data.representation=waveform)", WAVEGAN_G_KEYS, CONV_NORMS, rules=WAVEGAN_RULES,
      multiple=_wave_stages)
def _wavegan_g(c: GeneratorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.wavegan import WaveGANGenerator

    return WaveGANGenerator(c.latent_dim, shape, c.channels, c.kernel_size, c.norm, c.output, c.activation,
                            c.negative_slope)


@_net(DISCRIMINATORS, "wavegan", "WaveGAN's 1-D strided-conv discriminator with phase shuffle (Donahue et al. 2019)",
      WAVEGAN_D_KEYS, CONV_NORMS, rules=WAVEGAN_RULES, channels_first=True, multiple=_wave_stages)
def _wavegan_d(c: DiscriminatorConfig, shape: tuple[int, ...]) -> nn.Module:
    from gankit.models.wavegan import WaveGANDiscriminator

    return WaveGANDiscriminator(shape, c.channels, c.kernel_size, c.norm, c.activation, c.negative_slope,
                                c.phase_shuffle)


# ----------------------------------------------------------------------------- building


def image_multiple(gen: GeneratorConfig, disc: DiscriminatorConfig) -> int:
    """What image sides (a waveform's length) must divide by for these networks (each family says: 2^stages for a
    DCGAN, 4^stages for a WaveGAN)."""
    m = 1
    for registry, section in ((GENERATORS, gen), (DISCRIMINATORS, disc)):
        m = math.lcm(m, getattr(registry.get(section.arch), "multiple", lambda s: 1)(section))
    return m


def check_heads(arch: str, heads, data_shape: tuple[int, ...]) -> None:
    """Refuse data whose output heads the generator family cannot make (one line naming them)."""
    kinds = getattr(GENERATORS.get(arch), "heads", ("continuous",))
    bad = [h for h in heads if h.kind not in kinds]
    if bad:
        from gankit.errors import GankitError

        raise GankitError(f"generator.arch={arch} cannot make {bad[0].kind} outputs ({', '.join(h.name for h in bad)}); "
                          f"choose a generator.arch that makes {bad[0].kind} outputs")
    assert sum(h.size for h in heads) == math.prod(data_shape), (heads, data_shape)


def build_generator(c: GeneratorConfig, data_shape: tuple[int, ...], num_classes: int = 0,
                    heads=None) -> nn.Module:
    """G for items of ``data_shape``; class-conditional when ``num_classes`` > 0. ``heads`` (the data
    modality's output heads) are checked against what the family makes."""
    if heads is not None:
        check_heads(c.arch, heads, tuple(data_shape))
    builder = GENERATORS.get(c.arch)
    if num_classes <= 0:  # a family making more than continuous outputs builds its heads itself
        extra = {"heads": heads} if set(getattr(builder, "heads", ())) - {"continuous"} else {}
        return builder(c, tuple(data_shape), **extra)
    if getattr(builder, "takes_class", False):  # G(z, y) with the class inside its layers
        return builder(c, tuple(data_shape), num_classes=num_classes)
    from dataclasses import replace

    from gankit.models.conditional import ConditionalGenerator

    base = builder(replace(c, latent_dim=c.latent_dim + num_classes), tuple(data_shape))
    return ConditionalGenerator(base, c.latent_dim, num_classes)


def build_discriminator(c: DiscriminatorConfig, data_shape: tuple[int, ...], num_classes: int = 0,
                        mode: str = "none", acgan: bool = False) -> nn.Module:
    """D for items of ``data_shape``; class-conditional (``mode`` projection/concat) when ``num_classes`` > 0."""
    shape = tuple(data_shape)
    if num_classes <= 0 or (mode == "none" and not acgan):
        return DISCRIMINATORS.get(c.arch)(c, shape)
    from gankit.models.conditional import ConditionalDiscriminator

    channels = bool(getattr(DISCRIMINATORS.get(c.arch), "channels_first", False))
    if mode == "concat":  # the class enters D's input: extra channels (conv nets) or features (flat)
        shape = (shape[0] + num_classes, *shape[1:]) if channels else (math.prod(shape) + num_classes,)
    base = DISCRIMINATORS.get(c.arch)(c, shape)
    return ConditionalDiscriminator(base, num_classes, mode, acgan, concat_channels=channels)
