"""What a new run's config means once its data path is looked at, settled before anything runs.

``data.path`` means the user's own data whatever the preset: the data set is guessed from what the
path holds, and an image folder gets the size the networks support (a DCGAN's image sides must
divide by 2^stages) when ``data.image_size`` is unset. Written into the config here, once, so that
``--dry-run`` prints the data.name and data.image_size the run will use and config.yaml keeps them.
A resumed run keeps its saved config as it is (these keys are locked).
"""

from __future__ import annotations

from gankit.config.schema import Config


def resolve(cfg: Config) -> Config:
    """``cfg`` with data.name and data.image_size settled from what data.path holds (reads the path;
    key-only ``auto`` values are settled by :func:`gankit.config.validate.settle_auto`)."""
    from gankit.data.guess import resolve as resolve_data
    from gankit.models import image_multiple
    from gankit.tasks import TRANSLATION_TASKS

    if cfg.task in TRANSLATION_TASKS:  # two image domains, read and resized by the task (gankit.data.pairs)
        if cfg.data.name == "auto" and cfg.data.path is not None:
            cfg.data.name = "images"
        return cfg
    resolve_data(cfg.data, image_multiple(cfg.generator, cfg.discriminator))
    return cfg
