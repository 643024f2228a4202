"""``eval_metrics.csv``: the scores of evaluation during training, one row per score (step, metric, value).

Long format, because ``metrics.csv`` has fixed columns and the scores depend on ``eval.metrics``.
The tracker (:mod:`gankit.metrics.tracker`) writes it; the report (:mod:`gankit.report.plots`)
reads it. This module imports nothing that samples or plots, so both can import it.
"""

from __future__ import annotations

import csv
from pathlib import Path

EVAL_COLUMNS = ["step", "metric", "value"]


def read_eval_csv(path: str | Path) -> dict[str, tuple[list[int], list[float]]]:
    """score -> (steps, values) from an eval_metrics.csv."""
    out: dict[str, tuple[list[int], list[float]]] = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            steps, values = out.setdefault(r["metric"], ([], []))
            steps.append(int(r["step"]))
            values.append(float(r["value"]))
    return out
