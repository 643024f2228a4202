"""A table <-> its column-space matrix (see :mod:`gankit.tables`), and samples written as the source was.

:func:`to_values` reads the training table and held-out tables alike, matching cells to the
schema made from training; :func:`to_frame` and :func:`write_csv` give samples back in the user's
own spelling: categories as written, numbers with the source's decimals, dates in its format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pandas.api import types as pdt

from gankit.errors import GankitError
from gankit.tables.cells import DAY, has_time, is_text, keys, numbers, parse_dates, seconds, text_cells, where
from gankit.tables.schema import NUMERIC, Column, TableSchema

Unseen = Literal["error", "missing"]


def to_values(frame: pd.DataFrame, schema: TableSchema, *, unseen: Unseen = "error") -> np.ndarray:
    """The (N, C) float64 column-space matrix of ``schema.used`` columns: numbers as they are,
    datetimes as seconds since 1970, categories as their index; NaN for a missing cell.

    A category never seen in training is an error naming it (``unseen="missing"``: NaN instead),
    as is a word in a number column: the generator has no place for either.
    """
    where_is = {str(c): j for j, c in enumerate(frame.columns)}
    used = schema.used
    lacking = [c.name for c in used if c.name not in where_is]
    if lacking:
        raise GankitError(f"{frame.attrs.get('gankit_source', 'the table')}: lacks the column(s) "
                          f"{', '.join(lacking)} that the training table ({schema.source}) had")
    is_file = "gankit_source" in frame.attrs
    out = np.empty((len(frame), len(used)), np.float64)
    for j, col in enumerate(used):
        s = frame.iloc[:, where_is[col.name]]
        if col.discrete:
            out[:, j] = _codes(s, col, unseen, is_file)
        elif col.kind == "datetime":
            out[:, j] = _dates(s, col, unseen, is_file)
        else:
            out[:, j] = _numbers(s, col, unseen, is_file)
    return out


def category_index(col: Column) -> dict:
    """Matching key (see :func:`gankit.tables.cells.keys`) -> index in ``col.categories``; pooled
    members map to the ``"(other)"`` index."""
    lut = {k: i for i, k in enumerate(keys(pd.Series(col.categories).str.strip()))}
    if col.pooled:
        other = len(col.categories) - 1
        lut.update({k: other for k in keys(pd.Series(list(col.pooled)).str.strip())})
    return lut


def _codes(s: pd.Series, col: Column, unseen: Unseen, is_file: bool) -> np.ndarray:
    """Category indices: each distinct cell is looked up once, then spread to its rows."""
    if is_text(s):
        cells, missing = text_cells(s)
    else:
        cells = pd.Series(s.to_numpy(dtype=np.float64, na_value=np.nan, copy=True))
        missing = cells.isna().to_numpy()
    codes, uniques = pd.factorize(cells)
    lut = category_index(col)
    index = np.array([lut.get(k, -1) for k in keys(np.asarray(uniques, dtype=object))] + [-1], np.float64)
    out = index[codes]  # factorize's -1 (NaN) picks the trailing -1
    out[missing] = np.nan
    bad = out == -1
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        if unseen == "error":
            raise GankitError(f"column {col.name}: {where(is_file, i)} holds {str(s.iloc[i]).strip()!r}, a category "
                              f"the training data never had ({_some(col.categories)}); fix or drop such rows")
        out[bad] = np.nan
    return out


def _some(categories: list[str], n: int = 5) -> str:
    names = [c.strip() for c in categories[:n]]
    return ", ".join(names) + (", ..." if len(categories) > n else "")


def _bad_cells(x: np.ndarray, missing: np.ndarray, s: pd.Series, col: Column, what: str, unseen: Unseen,
               is_file: bool) -> np.ndarray:
    bad = np.isnan(x) & ~missing
    if bad.any() and unseen == "error":
        i = int(np.flatnonzero(bad)[0])
        raise GankitError(f"column {col.name}: {where(is_file, i)} holds {str(s.iloc[i]).strip()!r}, not {what}; "
                          f"fix that cell or leave it empty")
    return x


def _numbers(s: pd.Series, col: Column, unseen: Unseen, is_file: bool) -> np.ndarray:
    if not is_text(s):
        x = s.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        x[~np.isfinite(x)] = np.nan
        return x
    cells, missing = text_cells(s)
    return _bad_cells(numbers(cells.where(~missing, None)), missing, s, col, "a number", unseen, is_file)


def _dates(s: pd.Series, col: Column, unseen: Unseen, is_file: bool) -> np.ndarray:
    if pdt.is_datetime64_any_dtype(s.dtype):
        return seconds(s)
    cells, missing = text_cells(s)
    x = seconds(parse_dates(cells.where(~missing, None), col.fmt))
    return _bad_cells(x, missing, s, col, f"a date written {col.fmt or 'ISO 8601'}", unseen, is_file)


def to_frame(values: np.ndarray, schema: TableSchema, *, rng: np.random.Generator | None = None) -> pd.DataFrame:
    """Column-space rows (samples) as a DataFrame of the source's columns (ignored ones left out):
    numbers rounded and clipped to the training range, categories as spelled in training, dates
    as datetime64; a DataFrame source's dtypes where they fit. ``rng`` draws a pooled category's
    member (default: a fixed seed, so the same values give the same table)."""
    values = np.asarray(values, dtype=np.float64)
    used = schema.used
    if values.ndim != 2 or values.shape[1] != len(used):
        raise GankitError(f"expected (rows, {len(used)}) values for the columns {', '.join(c.name for c in used)}; "
                          f"got shape {values.shape}")
    rng = rng if rng is not None else np.random.default_rng(0)
    return pd.DataFrame({col.name: _column(values[:, j], col, rng) for j, col in enumerate(used)})


def _column(x: np.ndarray, col: Column, rng: np.random.Generator) -> pd.Series:
    missing = np.isnan(x)
    if col.kind in NUMERIC:
        x = np.clip(x, col.low if col.low is not None else -np.inf, col.high if col.high is not None else np.inf)
    if col.kind == "integer":
        s = pd.Series(np.round(x)).astype("Int64" if missing.any() else "int64")
    elif col.kind == "continuous":
        s = pd.Series(x if col.decimals is None else np.round(x, col.decimals))
    elif col.kind == "datetime":
        step = 1.0 if has_time(col.fmt) else DAY
        s = pd.to_datetime(pd.Series(np.round(x / step) * step), unit="s")
    else:
        s = _categories(x, missing, col, rng)
    return _restore(s, col, missing.any())


def _categories(x: np.ndarray, missing: np.ndarray, col: Column, rng: np.random.Generator) -> pd.Series:
    """Indices -> the categories as spelled; a pooled ``"(other)"`` becomes one of its members, by count."""
    k = len(col.categories)
    idx = np.clip(np.round(np.where(missing, 0, x)), 0, k - 1).astype(np.int64)
    out = np.array(col.categories, dtype=object)[idx]
    if col.pooled:
        other = (idx == k - 1) & ~missing
        members, counts = list(col.pooled), np.array(list(col.pooled.values()), np.float64)
        out[other] = np.array(members, dtype=object)[rng.choice(len(members), int(other.sum()), p=counts / counts.sum())]
    out[missing] = None
    return pd.Series(out, dtype=object)


def _restore(s: pd.Series, col: Column, has_missing: bool) -> pd.Series:
    """The DataFrame source's dtype where the values fit it (an int column with gaps becomes Int64)."""
    if not col.dtype:
        return s
    try:
        if col.discrete:
            s = _typed_categories(s, col.dtype, has_missing)
        elif col.kind == "datetime" and "," in col.dtype:  # "datetime64[ns, Europe/Paris]": seconds are UTC
            s = s.dt.tz_localize("UTC")
        return s.astype(col.dtype)
    except (TypeError, ValueError):
        return s


def _typed_categories(s: pd.Series, dtype: str, has_missing: bool) -> pd.Series:
    """Category texts back to the source dtype's values: "True" -> True, "3" -> 3."""
    if dtype in ("bool", "boolean"):
        s = s.map({"True": True, "False": False})
        return s.astype("boolean") if has_missing else s
    if dtype == "category":
        return s
    x = pd.Series(numbers(s), index=s.index)
    if has_missing and pdt.is_integer_dtype(dtype):
        return x.astype("Int64")
    return x


def write_csv(frame: pd.DataFrame, schema: TableSchema, path: str | Path) -> None:
    """A sample table written as the source wrote its cells (UTF-8, delimiter ","): categories as
    spelled, numbers with at most the source's decimals (whole numbers without ".0"), dates in the
    source's format, missing cells as its most common missing spelling."""
    known = {c.name: c for c in schema.columns}
    out = pd.DataFrame({name: _texts(frame[name], known.get(str(name))) for name in frame.columns})
    try:
        out.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    except OSError as e:
        raise GankitError(f"cannot write {path} ({e.strerror})") from None


def _texts(s: pd.Series, col: Column | None) -> pd.Series:
    missing = s.isna().to_numpy()
    if pdt.is_datetime64_any_dtype(s.dtype):
        fmt = col.fmt if col is not None else None
        text = s.dt.strftime(fmt) if fmt else s.astype(str)
    elif pdt.is_numeric_dtype(s.dtype) and not pdt.is_bool_dtype(s.dtype):
        x = s.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        d = col.decimals if col is not None and col.kind in ("integer", "continuous") else None
        text = pd.Series((x if d is None else np.round(x, d)).astype(str), index=s.index)
        text = text.str.replace(r"\.0$", "", regex=True)
    else:
        text = s.astype(object).where(~missing, "").astype(str)
    text = pd.Series(text.to_numpy(dtype=object), index=s.index)
    text[missing] = col.missing_text if col is not None else ""
    return text
