"""A mixed-type table in: a CSV (delimiter sniffed), Parquet file or pandas DataFrame -> column kinds
inferred -> the column-space matrix; and back to a DataFrame / CSV written as the source was.

The public face of :mod:`gankit.tables` reading::

    frame = read_frame("adult.csv")             # every CSV cell as text: missing cells are ours to find
    schema = infer_schema(frame, overrides={"zip": "categorical"}, max_categories=50)
    print(describe(schema, len(frame)))         # the dry-run column table
    x = to_values(frame, schema)                # (N, C) float64, NaN for missing
    write_csv(to_frame(samples, schema), schema, "samples.csv")

A CSV is read as strings (``dtype=str, keep_default_na=False``) so that "NA" in a column of words
or " ?" in adult.csv is judged by :data:`MISSING` and the column's kind, not by pandas' guesses.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pandas as pd

from gankit.errors import GankitError
from gankit.tables.cells import MISSING, MAX_DECIMALS
from gankit.tables.convert import to_frame, to_values, write_csv
from gankit.tables.infer import infer_schema
from gankit.tables.schema import KINDS, Column, TableSchema

__all__ = ["MISSING", "MAX_DECIMALS", "read_frame", "infer_schema", "to_values", "to_frame", "write_csv",
           "describe"]

#: how much of a CSV the delimiter is sniffed from
SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
NOT_TABLES = (".npy", ".npz", ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".zip", ".gz", ".tar", ".pt",
              ".pth", ".pkl", ".xlsx", ".xls")
PARQUET_NEEDS = "reading .parquet needs pyarrow: pip install 'gankit[parquet]'"


def read_frame(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """The table as a DataFrame: a CSV's cells as text (white space kept: it is how categories are
    spelled), a Parquet file with its types, a DataFrame as given (a shallow copy, names as text).

    The file's name rides along in ``frame.attrs["gankit_source"]`` so later errors can name the
    file and the line of a bad cell.
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy(deep=False)
        frame.columns = [str(c) for c in frame.columns]
        return frame
    path = Path(source)
    if not path.exists():
        raise GankitError(f"{path}: no such file")
    if path.is_dir():
        raise GankitError(f"{path} is a folder; give a table file (.csv, .tsv, .txt or .parquet)")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame = read_parquet_frame(path)
    elif suffix in NOT_TABLES:
        raise GankitError(f"{path}: a {suffix} file is not a table this reader takes; use a CSV or Parquet file")
    else:
        frame = _read_csv(path)
    frame.attrs["gankit_source"] = str(path)
    return frame


def read_parquet_frame(path: Path) -> pd.DataFrame:
    """A .parquet file as a DataFrame (its columns keep their stored types), or one line saying why not."""
    try:
        frame = pd.read_parquet(path)
    except ImportError:
        raise GankitError(f"{path}: {PARQUET_NEEDS}") from None
    except Exception as e:  # noqa: BLE001 - pyarrow's errors for a damaged or foreign file are many
        why = (str(e).splitlines() or [type(e).__name__])[0][:160]
        raise GankitError(f"{path}: not a readable .parquet file ({why})") from None
    if frame.shape[0] == 0:
        raise GankitError(f"{path}: the table has a header but no rows")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _read_csv(path: Path) -> pd.DataFrame:
    """A text table with every cell a string; the delimiter sniffed from the first 64 KB."""
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError as e:
        raise GankitError(f"{path}: cannot read ({e.strerror})") from None
    if b"\x00" in head:
        raise GankitError(f"{path}: not a text table (binary content); use a CSV or Parquet file")
    try:  # incremental: a multi-byte character cut at 64 KB is no error
        sample = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError:
        raise GankitError(f"{path}: not UTF-8 text; save the table as a UTF-8 CSV (or use Parquet)") from None
    if not sample.strip():
        raise GankitError(f"{path}: the file is empty")
    sep, header = sniff(sample, truncated=len(head) == SNIFF_BYTES)
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise GankitError(f"{path}: the column name {dup[0]!r} appears more than once in the header; give every "
                          f"column its own name")
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.ParserError as e:
        raise GankitError(f"{path}: {_ragged(str(e), len(header))}") from None
    except UnicodeDecodeError:
        raise GankitError(f"{path}: not UTF-8 text; save the table as a UTF-8 CSV (or use Parquet)") from None
    except pd.errors.EmptyDataError:
        raise GankitError(f"{path}: the file is empty") from None
    if len(frame) == 0:
        raise GankitError(f"{path}: the table has a header but no rows")
    return frame


def sniff(sample: str, truncated: bool = False) -> tuple[str, list[str]]:
    """(delimiter, header cells) of a CSV's first bytes: of , ; tab |, the one that splits the
    header into the most cells while every following row has as many (quotes respected)."""
    best, best_score = ",", (-1, -1)
    for sep in DELIMITERS:
        rows = [r for r in csv.reader(io.StringIO(sample), delimiter=sep) if r]
        if truncated and len(rows) > 1:
            rows = rows[:-1]  # the last row may be cut off
        if not rows:
            continue
        width = len(rows[0])
        consistent = sum(len(r) == width for r in rows[1:21])
        score = (int(width > 1 and consistent == len(rows[1:21])), width)
        if score > best_score:
            best, best_score = sep, score
    header = next(csv.reader(io.StringIO(sample), delimiter=best), [])
    return best, header


def _ragged(message: str, width: int) -> str:
    """pandas' tokenizer error as a line the user can act on."""
    import re

    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if m:
        return (f"line {m.group(2)} has {m.group(3)} cells, expected {m.group(1)} (ragged rows); quote cells that "
                f"hold the delimiter, or fix that line")
    return f"not a readable table ({message.splitlines()[0][:160]}); expected {width} cells per line"


def describe(schema: TableSchema, rows: int) -> str:
    """The dry-run column table: each source column's kind, why, missing share and a detail; ignored
    columns marked with why; a footer on changing a kind and on the label column."""
    used = len(schema.used)
    head = f"{schema.source}: {rows:,} rows, {len(schema.columns)} columns ({used} used)"
    width = max([len("column")] + [len(c.name) for c in schema.columns])
    why = max([len("why")] + [len(c.reason) for c in schema.columns if c.used])
    lines = [head, f"  {'column':<{width}}  {'kind':<11}  {'why':<{why}}  {'missing':>7}  detail"]
    for c in schema.columns:
        if not c.used:
            lines.append(f"  {c.name:<{width}}  {'IGNORED':<11}  {c.reason}")
            continue
        label = "  (label)" if c.name == schema.label else ""
        lines.append(f"  {c.name:<{width}}  {c.kind:<11}  {c.reason:<{why}}  {c.missing:>7.1%}  {_detail(c)}{label}")
    lines.append(f"change a column's kind with data.columns={{name: kind}} (kinds: {', '.join(KINDS)})")
    if schema.label:
        lines.append(f"label column: {schema.label} (data.label_column)")
    return "\n".join(lines)


def _detail(c: Column) -> str:
    if c.discrete:
        order = sorted(range(len(c.categories)), key=lambda i: -c.counts[i])
        names = [c.categories[i].strip() for i in order]
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        pooled = f" ({len(c.pooled)} rare ones pooled)" if c.pooled else ""
        return f"{len(names)} categories: {shown}{pooled}"
    if c.kind == "datetime":
        ts = [pd.Timestamp(v, unit="s").strftime(c.fmt or "%Y-%m-%d %H:%M:%S") for v in (c.low, c.high)]
        return f"{c.fmt or 'ISO 8601'}, {ts[0]} .. {ts[1]}"
    d = 0 if c.kind == "integer" else c.decimals
    if d is None:
        return f"{c.low:.6g} .. {c.high:.6g}"
    return f"{c.low:.{d}f} .. {c.high:.{d}f}" + (f", {d} decimals" if c.kind == "continuous" else "")
