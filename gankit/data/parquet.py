"""Parquet tables, read with pandas and pyarrow (the optional extra ``pip install 'gankit[parquet]'``).

Parquet is where many people's tables live; its columns carry their types, so a column of words
is named as such (or taken as the class labels with ``data.label_column``) and integer columns are
known to be whole numbers. pandas is imported only when a .parquet file is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from gankit.errors import GankitError


def read_parquet(path: Path, label_of: Callable[[list[str]], int] | None
                 ) -> tuple[np.ndarray, list[str], tuple[str, list[str]] | None, list[np.dtype]]:
    """(N, D) float64 values, column names, the label column's (name, N cells) or None, and each
    column's stored dtype (its precision). ``label_of(header)`` is the label column's index."""
    import pandas as pd

    from gankit.tables.read import read_parquet_frame

    df = read_parquet_frame(path)
    header = [str(c) for c in df.columns]
    if df.shape[0] == 0 or df.shape[1] == 0:
        raise GankitError(f"{path}: the table is empty ({df.shape[0]} rows, {df.shape[1]} columns)")
    label = None
    if label_of is not None:
        j = label_of(header)
        cells = ["" if pd.isna(v) else str(v) for v in df.iloc[:, j].tolist()]
        label = (header[j], cells, j)
        df = df.drop(columns=df.columns[j])
        header = header[:j] + header[j + 1:]
    for name, col in zip(header, df.columns):
        dt = df[col].dtype
        if not pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_complex_dtype(dt):
            hint = "" if label_of is not None else f"; if it holds classes, set data.label_column={name}"
            raise GankitError(f"{path}: column {name} holds {dt} values, not numbers; tables must be all "
                              f"numeric{hint}")
    x = df.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(x)
    if bad.any():
        r, c = map(int, np.argwhere(bad)[0])
        raise GankitError(f"{path}: row {r + 1}, column {header[c]} is {x[r, c]} (missing or not finite); "
                          f"remove or fill such rows")
    dtypes = [np.dtype(getattr(df[c].dtype, "numpy_dtype", df[c].dtype)) for c in df.columns]
    return x, header, label, dtypes
