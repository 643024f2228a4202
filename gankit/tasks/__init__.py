"""GAN tasks, chosen by name (``task=``): each owns its networks, phases, losses and use.

A task class registers itself with ``@TASKS.register(name, help)`` and builds from a config with
``Task.from_config(cfg, data, device)``; :mod:`gankit.tasks.base` has the contract.
"""

from __future__ import annotations

from gankit.registry import Registry

TASKS: Registry = Registry("task")


def get_task(name: str):
    """The task class registered as ``name`` (the built-in ones are imported on first use)."""
    from gankit.tasks import noise  # noqa: F401  (registers "noise")

    return TASKS.get(name)
