"""Column kinds inferred from the training table (and overridden by ``data.columns``).

The rules (see :func:`infer_schema`) look at each column's non-missing cells with white space
stripped, and mostly at its *distinct* values: that keeps a 32,561-row table well under a second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as pdt

from gankit.errors import GankitError
from gankit.tables.cells import (BOOLEAN_WORDS, DATE_FORMATS, DATE_SHAPE, DAY, date_format, is_text, keys, numbers,
                                 seconds, spell, text_cells, text_decimals, value_decimals, where)
from gankit.tables.schema import DISCRETE, KINDS, Column, TableSchema

#: up to this many distinct numbers, a number column is a set of categories (ratings, codes, counts)
MAX_NUMBER_CATEGORIES = 10
#: words: this share of distinct values (among at least MIN_ID_CELLS cells) makes an ID or free text
WORDS_DISTINCT = 0.90
#: whole numbers: this share of distinct values over a short range is an ID / row number
IDS_DISTINCT = 0.95
MIN_ID_CELLS = 20
OTHER = "(other)"
OVERRIDE = "data.columns={%s: %s}"


def infer_schema(frame: pd.DataFrame, *, overrides: dict[str, str] | None = None, max_categories: int | None = None,
                 label_column: str | None = None, source: str = "") -> TableSchema:
    """Each column's kind, categories, range, missing share and spelling, from the training table.

    ``overrides`` ({name: kind}) wins over inference; ``label_column`` (a name or a 0-based index)
    becomes categorical (boolean stays) and is the schema's label; ``max_categories`` pools the
    rarest categories of a column into ``"(other)"`` so a long tail does not swamp the one-hot space.
    """
    source = source or frame.attrs.get("gankit_source", "") or "DataFrame"
    is_file = "gankit_source" in frame.attrs
    names = [str(c) for c in frame.columns]
    _check_table(frame, names, source)
    forced = _check_overrides(overrides or {}, names, source)
    label = _label_name(label_column, names, source)
    columns = []
    for j, name in enumerate(names):
        col = _column(frame.iloc[:, j], name, j, forced.get(name), name == label, source, is_file)
        if max_categories is not None and col.kind == "categorical" and name != label:
            col = pool(col, max_categories)
        columns.append(col)
    _check_used(columns, source)
    return TableSchema(columns, source, label)


def _check_table(frame: pd.DataFrame, names: list[str], source: str) -> None:
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise GankitError(f"{source}: the column name {dup[0]!r} appears more than once; give every column "
                          f"its own name")
    if len(frame) < 2:
        raise GankitError(f"{source}: a table needs at least 2 rows to learn from; it has {len(frame)}")
    if len(names) < 2:
        raise GankitError(f"{source}: a table needs at least 2 columns (a generator learns how columns go "
                          f"together); it has {len(names)} ({', '.join(names)})")


def _check_overrides(overrides: dict[str, str], names: list[str], source: str) -> dict[str, str]:
    out = {}
    for name, kind in overrides.items():
        if str(name) not in names:
            raise GankitError(f"{source}: data.columns names {name!r}, which is not a column; the columns are: "
                              f"{', '.join(names)}")
        if kind not in KINDS:
            raise GankitError(f"{source}: data.columns={{{name}: {kind}}}: unknown kind {kind!r}; use one of: "
                              f"{', '.join(KINDS)}")
        out[str(name)] = kind
    return out


def _label_name(label: str | None, names: list[str], source: str) -> str | None:
    """``data.label_column`` as a column name: a name, else a 0-based index (negative from the end)."""
    if label is None or str(label) in names:
        return None if label is None else str(label)
    try:
        j = int(label)
    except ValueError:
        j = None
    if j is None or not -len(names) <= j < len(names):
        raise GankitError(f"{source}: data.label_column={label!r} is not a column; the columns are: "
                          f"{', '.join(names)} (or a 0-based index)")
    return names[j]


def _check_used(columns: list[Column], source: str) -> None:
    used = [c for c in columns if c.used]
    if len(used) < 2:
        ignored = "; ".join(f"{c.name} ({c.reason})" for c in columns if not c.used)
        raise GankitError(f"{source}: a table needs at least 2 columns to learn from; {len(used)} left after "
                          f"ignoring {ignored}")


def _column(series: pd.Series, name: str, pos: int, forced: str | None, is_label: bool, source: str,
            is_file: bool) -> Column:
    """One column's schema: guessed (or forced) kind, then that kind's fields."""
    if is_label and forced is not None and forced not in DISCRETE:
        raise GankitError(f"{source}: column {name} is data.label_column, so it is categorical; drop "
                          f"data.columns={{{name}: {forced}}}")
    if forced == "ignore":
        return Column(name, "ignore", "data.columns", pos, dtype=_dtype(series))
    if pdt.is_datetime64_any_dtype(series.dtype):
        col = _datetime_column(series, name, pos, forced, source)
    elif is_text(series):
        col = _text_column(series, name, pos, forced, is_label, source, is_file)
    else:
        col = _number_column(series, name, pos, forced, is_label, source)
    col.dtype = _dtype(series)
    return col


def _settled(kind: str, reason: str, forced: str | None, is_label: bool) -> tuple[str, str]:
    """The inferred kind, unless data.columns forces one; a label column is categorical either way."""
    if forced:
        kind, reason = forced, "data.columns"
    if is_label and kind not in DISCRETE:
        kind, reason = "categorical", "data.label_column"
    return kind, reason


def _dtype(series: pd.Series) -> str | None:
    """A DataFrame column's dtype to give back; None for text (a CSV's columns, words)."""
    if pdt.is_string_dtype(series.dtype) or pdt.is_object_dtype(series.dtype):
        return None
    return str(series.dtype)


def _missing(series: pd.Series, mask: np.ndarray, name: str, source: str) -> tuple[float, str]:
    """(share of missing cells, their most common spelling); refuses a column with no value at all."""
    if mask.all():
        raise GankitError(f"{source}: column {name} is empty in every row; remove it or set "
                          + OVERRIDE % (name, "ignore"))
    if not mask.any():
        return 0.0, ""
    raw = series[mask].astype(object)
    raw = raw.where(raw.notna(), "").astype(str)
    return float(mask.mean()), str(raw.value_counts().index[0])


def _text_column(series: pd.Series, name: str, pos: int, forced: str | None, is_label: bool, source: str,
                 is_file: bool) -> Column:
    text, missing = text_cells(series)
    share, missing_text = _missing(series, missing, name, source)
    d = _distinct(series, text, missing)
    kind, reason, fmt = _guess_text(d, int((~missing).sum()), len(series), name, source)
    kind, reason = _settled(kind, reason, forced, is_label)
    col = Column(name, kind, reason, pos, missing=share, missing_text=missing_text)
    if kind in DISCRETE:
        _set_categories(col, d, source)
    elif kind in ("integer", "continuous"):
        _check_numbers(d, name, kind, source, is_file)
        col.low, col.high = float(d["num"].min()), float(d["num"].max())
        col.decimals = 0 if kind == "integer" else text_decimals(d["text"])
    elif kind == "datetime":
        _set_dates(col, d, fmt, source, is_file)
    return col


def _distinct(series: pd.Series, text: pd.Series, missing: np.ndarray) -> pd.DataFrame:
    """The distinct stripped texts in order of first appearance: the first raw spelling, the row it
    is first seen in, how many cells hold it, and its number (NaN for a word)."""
    rows = np.flatnonzero(~missing)
    codes, uniques = pd.factorize(text.iloc[rows])  # in order of first appearance
    counts = np.bincount(codes, minlength=len(uniques))
    first = rows[np.unique(codes, return_index=True)[1]]
    raw = series.iloc[first].astype(object).astype(str).to_numpy()
    d = pd.DataFrame({"text": np.asarray(uniques, dtype=object), "raw": raw, "pos": first, "count": counts})
    d["num"] = numbers(d["text"])
    return d


def _guess_text(d: pd.DataFrame, n: int, rows: int, name: str, source: str) -> tuple[str, str, str | None]:
    """(kind, reason, date format) of a text column from its distinct values."""
    num = d["num"].to_numpy()
    if not np.isnan(num).any():
        whole = not d["text"].str.contains("[.eE]", regex=True).any()
        return (*_guess_numbers(np.unique(num), whole, d["count"].sum(), rows, name), None)
    if len(d) == 2 and frozenset(d["text"].str.lower()) in BOOLEAN_WORDS:
        return "boolean", "yes/no words", None
    fmt, all_dates = date_format(d["text"])
    if fmt:
        return "datetime", f"dates ({fmt})", fmt
    if all_dates:
        raise _mixed_dates(d, name, source)
    if n >= MIN_ID_CELLS and len(d) >= WORDS_DISTINCT * n:
        return "ignore", "nearly all distinct: an ID or free text; " + OVERRIDE % (name, "categorical") \
            + " keeps it", None
    return "categorical", "words" if np.isnan(num).all() else "numbers and words", None


def _guess_numbers(values: np.ndarray, whole: bool, n: int, rows: int, name: str) -> tuple[str, str]:
    """(kind, reason) of a column of numbers from its distinct values (sorted)."""
    if len(values) == 2 and set(values.tolist()) <= {0.0, 1.0}:
        return "boolean", "0/1"
    if len(values) <= MAX_NUMBER_CATEGORIES:
        return "categorical", f"{len(values)} distinct numbers"
    if whole and (values == np.round(values)).all():
        if n >= MIN_ID_CELLS and len(values) >= IDS_DISTINCT * n and values[-1] - values[0] <= 2 * rows:
            return "ignore", ("whole numbers, nearly all distinct, over a short range: an ID or row number; "
                              + OVERRIDE % (name, "integer") + " keeps it")
        return "integer", "whole numbers"
    return "continuous", "numbers"


def _mixed_dates(d: pd.DataFrame, name: str, source: str) -> GankitError:
    """The error for a column of dates not all written one way, with an example of two ways."""
    texts = d["text"]
    first = next(f for f in DATE_FORMATS if pd.to_datetime(texts[:1], format=f, errors="coerce").notna().all())
    other = texts[pd.to_datetime(texts, format=first, errors="coerce").isna()].iloc[0]
    return GankitError(f"{source}: column {name}: dates in mixed formats (e.g. {texts.iloc[0]!r} and {other!r}); "
                       f"write them in one format, or set " + OVERRIDE % (name, "categorical"))


def _check_numbers(d: pd.DataFrame, name: str, kind: str, source: str, is_file: bool) -> None:
    bad = d[d["num"].isna()]
    if len(bad):
        row = bad.iloc[0]
        raise GankitError(f"{source}: column {name} is set to {kind} but {where(is_file, int(row['pos']))} holds "
                          f"{row['raw']!r}, not a number; fix that cell or set " + OVERRIDE % (name, "categorical"))


def _set_dates(col: Column, d: pd.DataFrame, fmt: str | None, source: str, is_file: bool) -> None:
    """A datetime column's format and range; forced on cells that are not dates in one format, refused."""
    if fmt is None:
        fmt, all_dates = date_format(d["text"])
        if fmt is None and all_dates:
            raise _mixed_dates(d, col.name, source)
        if fmt is None:
            shaped = d["text"].str.match(DATE_SHAPE)
            bad = d[~shaped].iloc[0] if (~shaped).any() else d.iloc[0]
            raise GankitError(f"{source}: column {col.name} is set to datetime but {where(is_file, int(bad['pos']))} "
                              f"holds {bad['raw']!r}, not a date in one of the formats "
                              f"{', '.join(DATE_FORMATS[:4])}, ...")
    s = seconds(pd.to_datetime(d["text"], format=fmt))
    col.fmt, col.low, col.high = fmt, float(s.min()), float(s.max())


def _set_categories(col: Column, d: pd.DataFrame, source: str) -> None:
    """Categories sorted (numbers by value, then words), each as first spelled; "1" and "1.0" are one."""
    d = d.assign(key=keys(d["text"]))
    g = d.groupby("key", sort=False).agg(raw=("raw", "first"), count=("count", "sum"), num=("num", "first"))
    g = g.assign(word=g["num"].isna(), order=g.index.map(lambda k: str(k).lower())).sort_values(["word", "num", "order"])
    if col.kind == "boolean" and len(g) > 2:
        raise GankitError(f"{source}: column {col.name} is set to boolean but holds {len(g)} values "
                          f"({', '.join(g['raw'].str.strip()[:4])}, ...); set " + OVERRIDE % (col.name, "categorical"))
    col.categories = g["raw"].tolist()
    col.counts = [int(c) for c in g["count"]]


def _number_column(series: pd.Series, name: str, pos: int, forced: str | None, is_label: bool,
                   source: str) -> Column:
    """A DataFrame's numeric column: its dtype says these are numbers; NaN is missing."""
    x = series.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    mask = ~np.isfinite(x)
    share, missing_text = _missing(series, mask, name, source)
    present = x[~mask]
    values = np.unique(present)
    kind, reason = _guess_numbers(values, True, len(present), len(x), name)
    kind, reason = _settled(kind, reason, forced, is_label)
    col = Column(name, kind, reason, pos, missing=share, missing_text=missing_text)
    if kind in DISCRETE:
        d = pd.DataFrame({"text": [spell(v) for v in values], "num": values,
                          "count": np.unique(present, return_counts=True)[1]})
        _set_categories(col, d.assign(raw=d["text"]), source)
    elif kind == "datetime":
        raise GankitError(f"{source}: column {name} holds numbers, not dates; give a datetime64 column or "
                          f"texts such as 2020-01-31")
    else:
        col.low, col.high = float(values[0]), float(values[-1])
        col.decimals = 0 if kind == "integer" else value_decimals(present, series.dtype)
    return col


def _datetime_column(series: pd.Series, name: str, pos: int, forced: str | None, source: str) -> Column:
    """A DataFrame's datetime64 column; written back as ISO dates, with a time when it has one."""
    s = seconds(series)
    mask = np.isnan(s)
    share, missing_text = _missing(series, mask, name, source)
    kind = forced or "datetime"
    if kind != "datetime":
        raise GankitError(f"{source}: column {name} holds dates; data.columns may set it to datetime or ignore, "
                          f"not {kind}")
    present = s[~mask]
    fmt = "%Y-%m-%d" if (present % DAY == 0).all() else "%Y-%m-%d %H:%M:%S"
    return Column(name, "datetime", "dates", pos, missing=share, missing_text=missing_text, fmt=fmt,
                  low=float(present.min()), high=float(present.max()))


def pool(col: Column, k: int) -> Column:
    """Keep the ``k - 1`` most frequent categories (in their order) and pool the rest into ``"(other)"``."""
    if k < 2:
        raise GankitError(f"data.max_categories must be >= 2, got {k}")
    if len(col.categories) <= k:
        return col
    order = sorted(range(len(col.counts)), key=lambda i: (-col.counts[i], i))
    keep = sorted(order[: k - 1])
    rest = [i for i in range(len(col.categories)) if i not in set(keep)]
    col.pooled = {col.categories[i]: col.counts[i] for i in rest}
    col.categories = [col.categories[i] for i in keep] + [OTHER]
    col.counts = [col.counts[i] for i in keep] + [sum(col.pooled.values())]
    col.reason += f", the rarest {len(rest)} pooled"
    return col
