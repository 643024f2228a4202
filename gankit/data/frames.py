"""A mixed-type table as training data: a file or DataFrame -> column kinds (gankit.tables) -> the column space.

The table task reads its data here (``Task.reads_tables``) instead of through the numeric table
loader, which stays as it was for the noise task's tables.
"""

from __future__ import annotations

from pathlib import Path

from gankit.config.schema import DataConfig
from gankit.data import Raw
from gankit.errors import GankitError


def source_of(cfg: DataConfig, frame=None):
    """The DataFrame given from Python, else ``data.path`` (checked)."""
    if frame is not None:
        return frame
    if cfg.path is None:
        raise GankitError("the table task needs a table: data.path=FILE.csv (or .parquet), or from Python "
                          "gankit.train('table', data=dataframe)")
    return Path(cfg.path)


def load_table(cfg: DataConfig, frame=None) -> Raw:
    """The table of ``data.path`` (or ``frame``), its column types inferred and overridden by ``data.columns``."""
    from gankit.tables.read import infer_schema, read_frame, to_values

    source = source_of(cfg, frame)
    df = read_frame(source)
    name = "DataFrame" if frame is not None else str(source)
    schema = infer_schema(df, overrides=cfg.columns or None, max_categories=cfg.max_categories,
                          label_column=cfg.label_column, source=name)
    values = to_values(df, schema)
    return Raw(values, "table", columns=[c.name for c in schema.used], schema=schema)


def load_like(path: str | Path, schema) -> Raw:
    """Held-out rows (``data.test_path``) in the training table's column space: same columns, and only
    categories seen in training (others are named in the error)."""
    from gankit.tables.read import read_frame, to_values

    df = read_frame(Path(path))
    missing = [c.name for c in schema.used if c.name not in df.columns]
    if missing:
        raise GankitError(f"data.test_path {path}: lacks the training columns {', '.join(missing)}")
    return Raw(to_values(df, schema), "table", columns=[c.name for c in schema.used], schema=schema)
