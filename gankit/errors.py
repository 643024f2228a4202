"""The one exception type the CLI turns into a clean message and exit code 2.

Anything the *user* can fix (a bad path, an unknown key, a wrong value) is raised as
:class:`GankitError` with a message that says what is wrong and what to do. Anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import difflib
from typing import Iterable


class GankitError(Exception):
    """A user-facing error: one line that names the problem and the fix."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean "x"?)' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


class Interrupted(Exception):
    """Training stopped on SIGINT/SIGTERM after writing a checkpoint (CLI exit code 130)."""

    def __init__(self, run_dir, step: int) -> None:
        super().__init__(f"stopped at step {step}; resume with: gankit train --resume {run_dir}")
        self.run_dir, self.step = run_dir, step


def need(ok: bool, key: str, msg: str) -> None:
    """Refuse a setting unless ``ok``: GankitError("{key} {msg}"), e.g. "train.steps must be >= 1, got 0"."""
    if not ok:
        raise GankitError(f"{key} {msg}")
