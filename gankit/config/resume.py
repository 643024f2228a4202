"""What a resumed run may change: the locked keys, their fingerprint, the changes to them.

A key is locked unless its schema field says ``resume="free"`` (schema.py): the locked keys shape
the networks and the data a checkpoint belongs to, so a new key is safe by default.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from gankit.config.schema import FREE, Config, all_keys, lookup, resume_policy, to_dict

_ABSENT = object()


#: sections whose changes are named first: a checkpoint for other networks is the first thing to say
_FIRST = ("generator.", "discriminator.")


@functools.lru_cache(maxsize=None)
def _locked() -> tuple[str, ...]:
    """The locked keys, the networks' first, then the rest in schema order."""
    def rank(key: str) -> int:
        return next((i for i, s in enumerate(_FIRST) if key.startswith(s)), len(_FIRST))

    return tuple(sorted((k for k in all_keys() if resume_policy(k) != FREE), key=rank))


def locked_keys() -> list[str]:
    """The keys a resume must keep (everything but the fields marked ``resume="free"``)."""
    return list(_locked())


def free_keys() -> list[str]:
    """The keys a resume may change: training dynamics (lr, steps, ...) and bookkeeping (log.*, ...)."""
    return [k for k in all_keys() if k not in _locked()]


def fingerprint(cfg: Config | dict) -> str:
    """sha256 of the locked keys' values as canonical JSON, for a Config or its ``to_dict`` form.

    A key absent from the dict (a config from an older gankit) counts with its default.
    """
    from gankit.config.validate import settle_auto

    flat = to_dict(cfg) if isinstance(cfg, Config) else cfg
    defaults = to_dict(settle_auto(Config()))  # what an older gankit wrote for an absent key (mode: none)
    values = {}
    for key in _locked():
        value = lookup(flat, key, _ABSENT)
        values[key] = lookup(defaults, key) if value is _ABSENT else value
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def locked_changes(saved: dict, now: Config) -> list[tuple[str, Any, Any]]:
    """(key, saved value, value now) for each locked key ``now`` changes, the networks' keys first.

    ``saved`` is the ``to_dict`` form a run stored (checkpoint meta, config.yaml); a key absent
    from it (written by an older gankit) is not a change.
    """
    flat = to_dict(now)
    out = []
    for key in _locked():
        old = lookup(saved, key, _ABSENT)
        new = lookup(flat, key)
        if old is not _ABSENT and old != new:
            out.append((key, old, new))
    return out
