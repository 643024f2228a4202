"""The parts every config key is made of: a default, one line of help, and whether a resume may change it
(:data:`LOCKED` / :data:`FREE`); and the one value format of a key that is not a plain type (durations)."""

from __future__ import annotations

import copy
from dataclasses import field
from typing import Any

#: resume policies (a field's ``metadata["resume"]``)
LOCKED = "locked"  # shapes the networks or the data: a resume must keep it
FREE = "free"  # training dynamics or bookkeeping: a resume may change it


def parse_duration(text: str) -> float:
    """``"90s"``, ``"5m"``, ``"1.5h"`` or a number of seconds -> seconds."""
    import re

    from gankit.errors import GankitError

    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([smh]?)\s*", str(text))
    if not m or float(m.group(1)) <= 0:
        raise GankitError(f"train.time_limit must be a duration such as 90s, 5m or 2h, got {text!r}")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def setting(default: Any, help: str, *, resume: str = LOCKED) -> Any:
    """A config key: its default, one line of help, and whether a resume may change it."""
    assert resume in (LOCKED, FREE), resume
    meta = {"help": help, "resume": resume}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


def free(default: Any, help: str) -> Any:
    """A key a resumed run may change (learning rates, lengths, logging, devices, ...)."""
    return setting(default, help, resume=FREE)


def section(cls: type, help: str) -> Any:
    return field(default_factory=cls, metadata={"help": help})
