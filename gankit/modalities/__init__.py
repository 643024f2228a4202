"""Data modalities, chosen by the kind of data a source loads (``image``, ``table``, ``sound``).

A modality fits a :class:`Codec` to the data (encode for training, decode to the user's own space),
draws previews, saves samples in its formats and refuses settings that do not apply to it. The
training loop and the tasks never branch on the kind of data: they ask the modality.
"""

from __future__ import annotations

from gankit.registry import Registry

MODALITIES: Registry = Registry("data modality")


def get_modality(name: str):
    """An instance of the modality registered as ``name`` (image, table and sound are built in; they hold no state)."""
    from gankit.modalities import image, sound, table  # noqa: F401  (register themselves)

    return MODALITIES.get(name)()
