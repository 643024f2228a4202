"""GAN tasks, chosen by name (``task=``): each owns its networks, phases, losses and use.

A task class is registered with ``TASKS.register(name, help)(TaskClass)`` and builds from a config
with ``TaskClass.from_config(cfg, data, device)``; :mod:`gankit.tasks.base` has the contract.
"""

from __future__ import annotations

from gankit.registry import Registry

TASKS: Registry = Registry("task")
#: tasks whose own loader reads data.path as two image domains (side-by-side A|B images or folders A/ B/):
#: the config's data guessing and image resizing leave such a path alone (gankit.config.resolve)
TRANSLATION_TASKS = ("pix2pix", "cyclegan")


def _noise():
    from gankit.tasks.noise import NoiseGAN

    return NoiseGAN


def _table():
    from gankit.tasks.table import TableGAN

    return TableGAN


def _superres():
    from gankit.tasks.superres import SuperResolution

    return SuperResolution


def _pix2pix():
    from gankit.tasks.pix2pix import Pix2Pix

    return Pix2Pix


def _cyclegan():
    from gankit.tasks.cyclegan import CycleGAN

    return CycleGAN


# built-in entries import their module (and torch) only when used: the config checks names without it
TASKS.register("noise", "noise -> G -> D: unconditional or class-conditional GAN (Goodfellow et al. 2014)")(_noise)
TASKS.register("table", "mixed-type tables (numbers, categories, dates, missing cells): CTGAN (Xu et al. 2019)")(
    _table)
TASKS.register("superres", "super-resolution: SRResNet's pixel stage, then SRGAN's adversarial stage (Ledig et al. "
               "2017)")(_superres)
TASKS.register("pix2pix", "paired image-to-image translation: U-Net G, PatchGAN D on (input, output) pairs, L1 "
               "(Isola et al. 2017)")(_pix2pix)
TASKS.register("cyclegan", "unpaired translation / style transfer: two ResNet Gs, two PatchGANs, cycle and identity "
               "terms (Zhu et al. 2017)")(_cyclegan)


def get_task(name: str):
    """The task class registered as ``name`` (an entry is the class, or a function returning it)."""
    obj = TASKS.get(name)
    return obj if isinstance(obj, type) else obj()
