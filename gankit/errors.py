"""The one exception type the CLI turns into a clean message and exit code 2, and the words it uses.

Anything the *user* can fix (a bad path, an unknown key, a wrong value) is raised as
:class:`GankitError` with a message that says what is wrong and what to do. Anything else is a bug
and keeps its traceback.

A message names what the caller typed: ``--out runs/x`` to someone at the command line,
``out='runs/x'`` to someone calling :func:`gankit.train`. The CLI marks its commands with
:func:`cli_wording`; :func:`arg` and :func:`wording` then pick the command line's words, and the
Python API's otherwise. The library never imports the CLI for this.
"""

from __future__ import annotations

import contextvars
import difflib
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

_CLI = contextvars.ContextVar("gankit_cli_wording", default=False)
_UNSET: Any = object()


class GankitError(Exception):
    """A user-facing error: one line that names the problem and the fix."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean "x"?)' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


@contextmanager
def cli_wording() -> Iterator[None]:
    """Within it, messages speak the command line's language (``--out X``, ``gankit train --resume``)."""
    token = _CLI.set(True)
    try:
        yield
    finally:
        _CLI.reset(token)


def wording(cli: str, python: str) -> str:
    """``cli`` when a command of the CLI is running, else ``python``."""
    return cli if _CLI.get() else python


def arg(name: str, value: Any = _UNSET) -> str:
    """An option as the caller wrote it: ``--out runs/x`` (CLI) or ``out='runs/x'`` (Python)."""
    if _CLI.get():
        flag = "--" + name.replace("_", "-")
        return flag if value is _UNSET else f"{flag} {value}"
    return name if value is _UNSET else f"{name}={str(value)!r}"


def resume_hint(run_dir: Any) -> str:
    """How to continue a run: ``gankit train --resume RUN`` or ``gankit.train(resume='RUN')``."""
    return wording(f"gankit train --resume {run_dir}", f"gankit.train(resume={str(run_dir)!r})")


class Interrupted(Exception):
    """Training stopped on SIGINT/SIGTERM after writing a checkpoint (CLI exit code 130)."""

    def __init__(self, run_dir, step: int) -> None:
        super().__init__(f"stopped at step {step}; resume with: {resume_hint(run_dir)}")
        self.run_dir, self.step = run_dir, step


def need(ok: bool, key: str, msg: str) -> None:
    """Refuse a setting unless ``ok``: GankitError("{key} {msg}"), e.g. "train.steps must be >= 1, got 0"."""
    if not ok:
        raise GankitError(f"{key} {msg}")
