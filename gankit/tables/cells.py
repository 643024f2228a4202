"""Cells as the user wrote them: what counts as missing, what is a number, a date, and how many
decimals a number was written with. Shared by inference (:mod:`gankit.tables.infer`) and conversion
(:mod:`gankit.tables.convert`), so a cell means the same thing when the schema is made and when a
held-out table is matched against it.

Everything works on whole columns (pandas / numpy), or on a column's distinct values: real tables
repeat their values, so the distinct values are few and Python-level work on them stays cheap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as pdt

#: cell texts (after stripping white space) that mean "no value": a missing cell in every kind
MISSING: frozenset[str] = frozenset(
    {"", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "?", "#N/A", "-"})

#: more decimals than float32 (what samples are) holds for typical values: keep full precision then
MAX_DECIMALS = 6

#: date/time formats tried in order; a column takes the first one that reads every cell, so an
#: ambiguous 01/02/2020 is read day-first (the order below), never half one way and half the other
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%SZ",
    "%d/%m/%Y", "%m/%d/%Y", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S",
    "%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d-%m-%Y", "%m-%d-%Y",
)
#: what a date cell looks like at all (a cheap filter before trying every format on a column of words)
DATE_SHAPE = r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z?)?$"

#: the pairs of words a yes/no column is written with (compared in lower case)
BOOLEAN_WORDS: tuple[frozenset[str], ...] = (
    frozenset({"yes", "no"}), frozenset({"true", "false"}), frozenset({"y", "n"}), frozenset({"t", "f"}))

EPOCH = pd.Timestamp("1970-01-01")
DAY = 86400.0


def is_text(series: pd.Series) -> bool:
    """Whether a column holds cells to be read as text (a CSV's columns, object/str/category dtypes)."""
    return not (pdt.is_numeric_dtype(series.dtype) or pdt.is_datetime64_any_dtype(series.dtype)) \
        or pdt.is_bool_dtype(series.dtype)


def text_cells(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(each cell's text, white space stripped, "" where missing; the missing mask) of a column.

    A bool column's cells read "True"/"False", so a DataFrame's bool column is a yes/no column.
    """
    if pdt.is_bool_dtype(series.dtype):
        series = series.astype(object).map({True: "True", False: "False"})
    na = series.isna().to_numpy()
    if not pdt.is_string_dtype(series.dtype) or pdt.is_object_dtype(series.dtype):
        series = series.astype(object).where(~na, "").astype(str)
    text = series.fillna("").str.strip()
    missing = na | text.isin(MISSING).to_numpy()
    return text.where(~missing, ""), missing


def numbers(texts: pd.Series | np.ndarray) -> np.ndarray:
    """Each text as a finite float64, NaN for a word (or "inf", which is no value to learn)."""
    x = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan,
                                                                               copy=True)
    x[~np.isfinite(x)] = np.nan
    return x


def keys(texts: pd.Series | np.ndarray) -> list:
    """Matching keys of category texts: a number by its value ("1" and "1.0" are one category),
    a word by its stripped text."""
    texts = pd.Series(texts, dtype=object)
    x = numbers(texts)
    return [t if np.isnan(v) else float(v) for t, v in zip(texts.tolist(), x)]


def text_decimals(texts: pd.Series) -> int | None:
    """The most digits any text writes after the point ("2.50" -> 2, "7" -> 0); None when one uses
    an exponent ("1e-3") or writes more than :data:`MAX_DECIMALS`."""
    texts = texts.astype(str)
    if texts.str.contains("[eE]", regex=True).any():
        return None
    after = texts.str.partition(".")[2].str.len()
    d = int(after.max()) if len(after) else 0
    return None if d > MAX_DECIMALS else d


def value_decimals(x: np.ndarray, dtype: np.dtype) -> int | None:
    """The fewest decimals (0..:data:`MAX_DECIMALS`) that write every value to the precision of
    ``dtype`` (a DataFrame column's); None when none does."""
    eps = np.finfo(dtype).eps if pdt.is_float_dtype(dtype) else np.finfo(np.float64).eps
    tol = np.abs(x) * (4 * eps) + 1e-12
    return next((d for d in range(MAX_DECIMALS + 1) if (np.abs(np.round(x, d) - x) <= tol).all()), None)


def date_format(texts: pd.Series) -> tuple[str | None, bool]:
    """(the first of :data:`DATE_FORMATS` that reads every text, or None; whether every text is
    read by *some* format, i.e. the texts are dates in mixed formats)."""
    if not len(texts) or not texts.str.match(DATE_SHAPE).all():
        return None, False
    read = np.zeros(len(texts), bool)
    for fmt in DATE_FORMATS:
        ok = pd.to_datetime(texts, format=fmt, errors="coerce").notna().to_numpy()
        if ok.all():
            return fmt, True
        read |= ok
    return None, bool(read.all())


def seconds(dates: pd.Series) -> np.ndarray:
    """Datetimes as float seconds since 1970-01-01 (a time zone's are converted to UTC), NaN for NaT."""
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert(None)
    return ((dates - EPOCH) / pd.Timedelta(seconds=1)).to_numpy(dtype=np.float64, na_value=np.nan, copy=True)


def parse_dates(texts: pd.Series, fmt: str | None) -> pd.Series:
    """Texts as datetimes with one format (None: ISO 8601); NaT where a text is not such a date."""
    return pd.to_datetime(texts, format=fmt or "ISO8601", errors="coerce")


def has_time(fmt: str | None) -> bool:
    """Whether a date format writes a time of day (else samples are whole days)."""
    return fmt is None or any(k in fmt for k in ("%H", "%M", "%S"))


def spell(v: float) -> str:
    """A number as a category's text: 3.0 -> "3", 0.5 -> "0.5"."""
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def where(source_is_file: bool, pos: int) -> str:
    """Where a cell is, as the user counts: a file's line (the header is line 1), a DataFrame's row."""
    return f"line {pos + 2}" if source_is_file else f"row {pos}"
