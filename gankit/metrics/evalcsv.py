"""``eval_metrics.csv``: the scores of evaluation during training, one row per score (step, metric, value).

Long format, because ``metrics.csv`` has fixed columns and the scores depend on ``eval.metrics``.
The tracker (:mod:`gankit.metrics.tracker`) writes it; the report (:mod:`gankit.report.plots`)
reads it. This module imports nothing that samples or plots, so both can import it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from gankit import checkpoint

EVAL_CSV = "eval_metrics.csv"
EVAL_COLUMNS = ["step", "metric", "value"]


def truncate_eval_csv(path: Path, step: int) -> None:
    """Keep the header and the complete rows of steps <= ``step`` of an eval_metrics.csv."""
    if not path.exists():
        return
    keep = [EVAL_COLUMNS]
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)[1:]:
        row = next(csv.reader([line]), [])
        if line.endswith("\n") and len(row) == len(EVAL_COLUMNS) and row[0].isdigit() and int(row[0]) <= step:
            keep.append(row)
    buf = io.StringIO()
    csv.writer(buf).writerows(keep)
    checkpoint.atomic_write(path, buf.getvalue().encode())


def read_eval_csv(path: str | Path) -> dict[str, tuple[list[int], list[float]]]:
    """score -> (steps, values) from an eval_metrics.csv."""
    out: dict[str, tuple[list[int], list[float]]] = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            steps, values = out.setdefault(r["metric"], ([], []))
            steps.append(int(r["step"]))
            values.append(float(r["value"]))
    return out
