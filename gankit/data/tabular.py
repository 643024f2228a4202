"""Numeric tables: CSV (optional header row), NPY (2-D array) or NPZ (one 2-D array or key ``x``).

Columns are standardised for training (``data.standardize``) and samples come back in the
original units. Every cell must be a finite number; the error names the row and column otherwise.
"""

from __future__ import annotations

import csv
import math
import zipfile
from pathlib import Path

import numpy as np

from gankit.config import DataConfig
from gankit.data import DATASETS, Raw
from gankit.errors import GankitError


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def read_csv(path: Path) -> tuple[np.ndarray, list[str]]:
    """(N, D) float64 values and D column names of a numeric CSV (delimiter sniffed: , ; tab space).

    The first row is a header when none of its cells is a number; otherwise it is data, so a stray
    word in the first row is reported as a bad cell rather than silently eaten as column names.
    """
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
    if not rows:
        raise GankitError(f"{path}: the CSV file is empty")
    header = None
    if all(_number(c) is None for c in rows[0]):
        header = rows[0]
        rows = rows[1:]
    if not rows:
        raise GankitError(f"{path}: the CSV file has a header but no data rows")
    width = len(header) if header else len(rows[0])
    columns = header or [f"x{j}" for j in range(width)]
    try:  # fast path: numpy parses the whole table at once
        out = np.array(rows, dtype=np.float64)
        if out.shape == (len(rows), width) and np.isfinite(out).all():
            return out, columns
    except ValueError:
        pass
    # slow path, only to name the first bad cell
    for i, row in enumerate(rows):
        line = i + (2 if header else 1)
        if len(row) != width:
            raise GankitError(f"{path}: line {line} has {len(row)} cells, expected {width} (ragged rows)")
        for j, cell in enumerate(row):
            v = _number(cell)
            col = header[j] if header else str(j + 1)
            if v is None:
                what = "an empty cell" if not cell else f"{cell!r}, not a number"
                raise GankitError(f"{path}: line {line}, column {col}: {what}; tables must be all numeric")
            if not math.isfinite(v):
                raise GankitError(f"{path}: line {line}, column {col}: {cell} is not finite; "
                                  f"remove or fill such rows")
    return np.array([[float(c) for c in row] for row in rows], np.float64), columns  # e.g. "1_000"


def read_array(path: Path) -> np.ndarray:
    """(N, D) float64 from an .npy (1-D or 2-D) or .npz (key ``x`` or its only array).

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
    return arr.astype(np.float64)


@DATASETS.register("table", "a numeric table, data.path=FILE.csv|.npy|.npz (standardised)")
def table(cfg: DataConfig, seed: int) -> Raw:
    if cfg.path is None:
        raise GankitError("data.name=table needs data.path=FILE (.csv, .npy or .npz)")
    p = Path(cfg.path)
    if not p.exists():
        raise GankitError(f"data.path {cfg.path!r}: no such file")
    if p.is_dir():
        raise GankitError(f"data.path {cfg.path!r} is a folder; data.name=table needs a .csv/.npy/.npz file")
    suffix = p.suffix.lower()
    if suffix in (".npy", ".npz"):
        x = read_array(p)
        columns = [f"x{j}" for j in range(x.shape[1])]
    elif suffix in (".csv", ".tsv", ".txt"):
        x, columns = read_csv(p)
    else:
        raise GankitError(f"{p}: unknown table format {suffix!r}; use .csv, .npy or .npz")
    big = np.abs(x) > np.finfo(np.float32).max  # training is float32: these would become inf
    if big.any():
        r, c = map(int, np.argwhere(big)[0])
        raise GankitError(f"{p}: data row {r + 1}, column {columns[c]} is {x[r, c]:.3g}, beyond float32's "
                          f"range (3.4e38); rescale that column")
    return Raw(x, "table", columns=columns)  # float64: prepare() standardises in full precision
