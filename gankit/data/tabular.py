"""Numeric tables: CSV (optional header row), NPY (2-D array) or NPZ (one 2-D array or key ``x``).

Columns are standardised for training (``data.standardize``) and samples come back in the
original units. Every cell must be a finite number; the error names the row and column otherwise.
One column may hold class labels instead (``data.label_column=NAME`` or a 0-based index; its values
may be words): it is taken out of the data and makes the table labelled, for class-conditional
training (``conditional.mode=projection``) and ``gankit sample RUN --label CLASS``.
"""

from __future__ import annotations

import csv
import math
import zipfile
from pathlib import Path

import numpy as np

from gankit.config.schema import DataConfig
from gankit.data import Raw
from gankit.data.archives import IMAGES, one_image
from gankit.errors import GankitError


def parse_number(cell: str) -> float | None:
    """A CSV cell as a number; None for a word (or an empty cell)."""
    try:
        return float(cell)
    except ValueError:
        return None


def read_csv(path: Path, label_column: str | None = None
             ) -> tuple[np.ndarray, list[str], tuple[str, list[str], int] | None, list[int | None]]:
    """(N, D) float64 values, D column names, the label column's (name, N cells, index) — None without
    ``label_column`` — and each column's written decimals (:func:`text_decimals`) of a numeric CSV
    (delimiter sniffed: , ; tab space).

    The first row is a header when none of its cells is a number; otherwise it is data, so a stray
    word in the first row is reported as a bad cell rather than silently eaten as column names.
    """
    rows = _read_rows(path)
    if not rows:
        raise GankitError(f"{path}: the CSV file is empty")
    header = None
    # a header is a row without numbers; with a label column, that column's cells are words anyway
    if all(parse_number(c) is None for c in rows[0]):
        header = rows[0]
        rows = rows[1:]
    if not rows:
        raise GankitError(f"{path}: the CSV file has a header but no data rows")
    width = len(header) if header else len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            line = i + (2 if header else 1)
            raise GankitError(f"{path}: line {line} has {len(row)} cells, expected {width} (ragged rows)")
    names = header or [str(j + 1) for j in range(width)]  # how errors name a column (1-based without header)
    labels = None
    if label_column is not None:
        j = label_index(label_column, header, width, path)
        labels = (header[j] if header else "label", [row[j] for row in rows], j)
        rows = [row[:j] + row[j + 1:] for row in rows]
        names = names[:j] + names[j + 1:]
        width -= 1
    columns = names if header else [f"x{j}" for j in range(width)]
    try:  # fast path: numpy parses the whole table at once
        out = np.array(rows, dtype=np.float64)
        if out.shape == (len(rows), width) and np.isfinite(out).all():
            return out, columns, labels, text_decimals(rows, width)
    except ValueError:
        pass
    _first_bad_cell(path, rows, names, header is not None, label_column is not None)
    out = np.array([[float(c) for c in row] for row in rows], np.float64)  # e.g. "1_000"
    return out, columns, labels, text_decimals(rows, width)


#: more decimals than float32 (what samples are) holds for typical values: no rounding then
MAX_DECIMALS = 6


def text_decimals(rows: list[list[str]], width: int) -> list[int | None]:
    """Per column, the most digits any cell writes after the decimal point ("2.50" -> 2, "7" -> 0);
    None when a cell uses an exponent ("1e-3") or writes more than :data:`MAX_DECIMALS`."""
    out: list[int | None] = [0] * width
    for row in rows:
        for j, cell in enumerate(row):
            d = out[j]
            if d is None:
                continue
            if "e" in cell or "E" in cell:
                out[j] = None
            elif "." in cell:
                n = len(cell) - cell.index(".") - 1
                out[j] = None if n > MAX_DECIMALS else max(d, n)
    return out


def value_decimals(x: np.ndarray, dtype=np.float64) -> list[int | None]:
    """Per column of an (N, D) array, the fewest decimals (0..:data:`MAX_DECIMALS`) that write every
    value to the precision of ``dtype`` (the array's dtype in its file); None when none does."""
    if not np.issubdtype(dtype, np.floating):  # integers, booleans
        return [0] * x.shape[1]
    tol = np.abs(x) * (4 * np.finfo(dtype).eps) + 1e-12
    out: list[int | None] = []
    for j in range(x.shape[1]):
        col, t = x[:, j], tol[:, j]
        out.append(next((d for d in range(MAX_DECIMALS + 1) if (np.abs(np.round(col, d) - col) <= t).all()), None))
    return out


def _read_rows(path: Path) -> list[list[str]]:
    """The non-empty rows of a CSV file, cells stripped (delimiter sniffed: , ; tab space)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            sample = f.read(4096)
            f.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t ") if sample else csv.excel
            except csv.Error:
                dialect = csv.excel
            rows = [[c.strip() for c in r] for r in csv.reader(f, dialect) if any(c.strip() for c in r)]
    except UnicodeDecodeError:
        raise GankitError(f"{path}: not a text CSV file (binary content?)") from None
    except OSError as e:
        raise GankitError(f"{path}: cannot read ({e.strerror})") from None
    except csv.Error as e:
        raise GankitError(f"{path}: malformed CSV ({e})") from None
    return rows


def _first_bad_cell(path: Path, rows: list[list[str]], names: list[str], header: bool, labelled: bool) -> None:
    """Name the first cell that is not a finite number (the slow path after numpy refused the table)."""
    for i, row in enumerate(rows):
        line = i + (2 if header else 1)
        for j, cell in enumerate(row):
            v = parse_number(cell)
            if v is None:
                what = "an empty cell" if not cell else f"{cell!r}, not a number"
                hint = "" if labelled else "; if it holds classes, set data.label_column=" + (
                    names[j] if header else str(j)) + ", or train the table task (gankit train table ...)"
                raise GankitError(f"{path}: line {line}, column {names[j]}: {what}; tables must be all numeric"
                                  + hint)
            if not math.isfinite(v):
                raise GankitError(f"{path}: line {line}, column {names[j]}: {cell} is not finite; "
                                  f"remove or fill such rows")


def label_index(label_column: str, header: list[str] | None, width: int, path: Path) -> int:
    """The 0-based index of ``data.label_column``: a header name, else an index (negative from the end)."""
    if width == 1:
        raise GankitError(f"{path}: the label column is the only column; a table needs data columns too")
    if header and label_column in header:
        return header.index(label_column)
    try:
        j = int(label_column)
    except ValueError:
        known = f"the columns are: {', '.join(header)}" if header else "the file has no header row, so give a 0-based index"
        raise GankitError(f"{path}: data.label_column={label_column!r} is not a column; {known}") from None
    if not -width <= j < width:
        raise GankitError(f"{path}: data.label_column={j} is out of range; the table has {width} columns "
                          f"(0..{width - 1}, or negative from the end)")
    return j % width


#: files that are pictures, not tables (gankit.data.images reads them from a folder)

#: more distinct values than this is a measurement, not a class label
MAX_CLASSES = 1000


def encode_labels(cells: list[str], path: Path, label_column: str) -> tuple[np.ndarray, list[str]]:
    """(N,) int64 class indices and the class names: numbers in numeric order, then words sorted.

    A number is one class however it is written ("1", "1.0" and "1e0" are class "1").
    """
    values = [parse_number(c) for c in cells]
    for i, (c, v) in enumerate(zip(cells, values)):
        if c == "" or (v is not None and not math.isfinite(v)):
            what = "an empty label" if c == "" else f"the label {c!r}, which is not a class"
            raise GankitError(f"{path}: data row {i + 1} has {what} (data.label_column={label_column})")
    cells = [c if v is None else _cell(v) for c, v in zip(cells, values)]
    classes = sorted(set(cells), key=lambda c: (1, 0.0, c) if (v := parse_number(c)) is None else (0, v, c))
    if len(classes) > MAX_CLASSES:
        raise GankitError(f"{path}: data.label_column={label_column} has {len(classes)} different values; a label "
                          f"column holds a few classes (at most {MAX_CLASSES}). Is it a measurement?")
    index = {c: k for k, c in enumerate(classes)}
    return np.array([index[c] for c in cells], np.int64), classes


def _cell(v: float) -> str:
    """A numeric label as text: 3.0 -> "3", 0.5 -> "0.5", float32's 0.1 -> "0.1" (not 0.10000000149011612)."""
    v = float(v)
    if v.is_integer():
        return str(int(v))
    f32 = np.float32(v)
    return str(f32) if float(f32) == v else repr(v)


def read_array(path: Path) -> tuple[np.ndarray, np.dtype]:
    """(N, D) float64 from an .npy (1-D or 2-D) or .npz (key ``x`` or its only array), and the dtype
    the file stored (its precision: :func:`value_decimals`).

    ``allow_pickle`` stays False: a pickled object array can run code when loaded, so it is refused.
    """
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as z:
                keys = list(z.keys())
                if not keys:
                    raise GankitError(f"{path}: the .npz file holds no arrays")
                key = "x" if "x" in keys else keys[0]
                if len(keys) > 1 and "x" not in keys:
                    raise GankitError(f"{path}: holds several arrays ({', '.join(keys)}); name the data 'x'")
                arr = z[key]
        else:
            arr = np.load(path, allow_pickle=False)
    except GankitError:
        raise
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise GankitError(f"{path}: holds Python objects (pickled), which gankit never loads; "
                              f"save a plain numeric array") from None
        raise GankitError(f"{path}: not a valid {path.suffix} file ({e})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise GankitError(f"{path}: not a valid {path.suffix} file ({e})") from None
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise GankitError(f"{path}: array dtype {arr.dtype} is not real numeric")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise GankitError(f"{path}: expected a 2-D (rows, columns) array, got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise GankitError(f"{path}: the array is empty (shape {arr.shape})")
    bad = ~np.isfinite(arr)
    if bad.any():
        r, c = map(int, np.argwhere(bad)[0])
        raise GankitError(f"{path}: row {r}, column {c} is {arr[r, c]}; remove or fill non-finite values")
    return arr.astype(np.float64), arr.dtype


def table(cfg: DataConfig, seed: int) -> Raw:
    """A numeric table file; the decimals of each column travel along (samples are rounded to them)."""
    if cfg.path is None:
        raise GankitError("data.name=table needs data.path=FILE (.csv, .npy, .npz or .parquet)")
    p = Path(cfg.path)
    if not p.exists():
        raise GankitError(f"data.path {cfg.path!r}: no such file")
    if p.is_dir():
        raise GankitError(f"data.path {cfg.path!r} is a folder; data.name=table needs a .csv/.npy/.npz/.parquet file")
    suffix = p.suffix.lower()
    label = None  # (column name, N cells)
    if suffix in (".npy", ".npz"):
        x, dtype = read_array(p)
        if cfg.label_column is not None:
            j = label_index(cfg.label_column, None, x.shape[1], p)
            label = ("label", [_cell(v) for v in x[:, j]], j)
            x = np.delete(x, j, axis=1)
        columns = [f"x{j}" for j in range(x.shape[1])]
        decimals = value_decimals(x, dtype)
    elif suffix in (".csv", ".tsv", ".txt"):
        x, columns, label, decimals = read_csv(p, cfg.label_column)
    elif suffix in IMAGES:  # one picture given where its folder was meant
        raise one_image(p)
    elif suffix == ".parquet":
        from gankit.data.parquet import read_parquet

        pick = None if cfg.label_column is None else (lambda head: label_index(cfg.label_column, head, len(head), p))
        x, columns, label, dtypes = read_parquet(p, pick)
        decimals = [value_decimals(x[:, [j]], dt)[0] for j, dt in enumerate(dtypes)]
    else:
        raise GankitError(f"{p}: unknown table format {suffix!r}; use .csv, .npy, .npz or .parquet")
    big = np.abs(x) > np.finfo(np.float32).max  # training is float32: these would become inf
    if big.any():
        r, c = map(int, np.argwhere(big)[0])
        raise GankitError(f"{p}: data row {r + 1}, column {columns[c]} is {x[r, c]:.3g}, beyond float32's "
                          f"range (3.4e38); rescale that column")
    if label is None:  # float64: prepare() standardises in full precision
        return Raw(x, "table", columns=columns, decimals=decimals)
    labels, classes = encode_labels(label[1], p, cfg.label_column)
    return Raw(x, "table", labels=labels, classes=classes, columns=columns, label_name=label[0], decimals=decimals,
               label_position=label[2])
