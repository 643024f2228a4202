"""Shared test helpers."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import pytest


@contextmanager
def pictures_off() -> Iterator[None]:
    """Stub sample grids, plots and report.html: most of a tiny run's time, and never fed back into
    training. For tests that check training, checkpoints or errors, not pictures."""
    import gankit.report.grids
    import gankit.report.html
    import gankit.report.plots

    mp = pytest.MonkeyPatch()
    for mod, name in ((gankit.report.grids, "save_grid"), (gankit.report.plots, "table_plot"),
                      (gankit.report.plots, "loss_curves"), (gankit.report.plots, "metric_curves"),
                      (gankit.report.html, "build_report")):
        mp.setattr(mod, name, lambda *args, **kwargs: args[1] if len(args) > 1 else None)
    try:
        yield
    finally:
        mp.undo()


@pytest.fixture
def no_pictures() -> Iterator[None]:
    """``pictures_off`` for one test; a module opts in for all its tests with
    ``pytestmark = pytest.mark.usefixtures("no_pictures")``."""
    with pictures_off():
        yield
