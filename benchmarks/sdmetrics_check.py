"""gankit's table fidelity against sdmetrics' QualityReport, on real tables and perturbed copies.

    /work/sdm-venv/bin/python -m benchmarks.sdmetrics_check               # insurance + 5,000 adult rows
    /work/sdm-venv/bin/python -m benchmarks.sdmetrics_check --rows 2000 --json out.json

Needs a Python with ``sdmetrics`` (and gankit's requirements: numpy, scipy, pandas, torch, which
``gankit.metrics`` imports); sdmetrics is not a gankit dependency, so this is no test. It reads
``../shared/data/tables/{insurance,adult}.csv`` (relative to the repository; ``--data`` to change),
turns each into gankit's column space and a :class:`~gankit.tables.schema.TableSchema` itself, makes
perturbed copies (:func:`perturb`: every column shuffled on its own, which keeps the column shapes and
breaks the pairs; a noisy copy: numbers jittered, 10% of categories redrawn, 5% of cells blanked),
and compares :func:`gankit.metrics.tables.fidelity` with
``sdmetrics.reports.single_table.QualityReport`` per property. They must agree within
:data:`TOLERANCE`; the exit status is 1 when they do not. It also checks gankit's distance to closest
record and DCROverfittingProtection against sdmetrics' on a small sample (:func:`compare_dcr`).

The table benchmark reuses :func:`to_frame`, :func:`sdmetrics_metadata` and :func:`sdmetrics_quality`
to score column-space samples with sdmetrics.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from gankit.tables.schema import DISCRETE, Column, TableSchema

TOLERANCE = 0.01
DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tables"
#: dataset -> (file, categorical columns)
TABLES = {
    "insurance": ("insurance.csv", ["sex", "smoker", "region"]),
    "adult": ("adult.csv", ["workclass", "education", "marital-status", "occupation", "relationship", "race",
                            "sex", "native-country", "income"]),
}
PROPERTIES = {"column_shapes": "Column Shapes", "column_pair_trends": "Column Pair Trends"}


def load_table(path: Path, categorical: list[str], rows: int | None = None, seed: int = 0
               ) -> tuple[np.ndarray, TableSchema]:
    """A CSV (cells stripped of spaces, "?" = missing) -> (column space, schema); ``rows``: a random sample."""
    df = pd.read_csv(path, skipinitialspace=True, na_values=["?"])
    if rows is not None and rows < len(df):
        df = df.sample(n=rows, random_state=seed).reset_index(drop=True)
    cols, mats = [], []
    for i, name in enumerate(df.columns):
        if name in categorical:
            cats = sorted(str(v) for v in df[name].dropna().unique())
            cols.append(Column(name, "categorical", "sdmetrics_check", i, categories=cats))
            mats.append(df[name].map({c: k for k, c in enumerate(cats)}).to_numpy(dtype=float, na_value=np.nan))
        else:
            kind = "integer" if pd.api.types.is_integer_dtype(df[name]) else "continuous"
            cols.append(Column(name, kind, "sdmetrics_check", i))
            mats.append(df[name].to_numpy(dtype=float, na_value=np.nan))
    return np.stack(mats, axis=1), TableSchema(cols, source=path.name)


def to_frame(x: np.ndarray, schema: TableSchema) -> pd.DataFrame:
    """Column space -> a DataFrame sdmetrics reads: categories as their names, datetimes as datetime64."""
    out = {}
    for j, c in enumerate(schema.used):
        v = x[:, j]
        if c.kind in DISCRETE:
            names = np.array(c.categories, dtype=object)
            out[c.name] = pd.Series([names[int(k)] if not np.isnan(k) else np.nan for k in v], dtype=object)
        elif c.kind == "datetime":
            out[c.name] = pd.to_datetime(v, unit="s")
        else:
            out[c.name] = v
    return pd.DataFrame(out)


def sdmetrics_metadata(schema: TableSchema) -> dict:
    """sdmetrics' single-table metadata for the used columns."""
    sdtype = {"continuous": "numerical", "integer": "numerical", "categorical": "categorical",
              "boolean": "boolean", "datetime": "datetime"}
    return {"columns": {c.name: {"sdtype": sdtype[c.kind]} for c in schema.used}}


def sdmetrics_quality(real: np.ndarray, fake: np.ndarray, schema: TableSchema) -> dict:
    """sdmetrics' QualityReport of column-space ``real`` vs ``fake``: the scores and the details frames."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sdmetrics calls the single-table report deprecated
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        report.generate(to_frame(real, schema), to_frame(fake, schema), sdmetrics_metadata(schema), verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    return {"quality": float(report.get_score()),
            **{k: float(props[v]) for k, v in PROPERTIES.items()},
            "details": {k: report.get_details(v) for k, v in PROPERTIES.items()}}


def perturb(x: np.ndarray, schema: TableSchema, how: str, seed: int = 0) -> np.ndarray:
    """``shuffled``: each column permuted on its own; ``noisy``: numbers + 0.2 std noise, 10% of
    categories redrawn uniformly, 5% of all cells missing."""
    rng = np.random.default_rng(seed)
    if how == "shuffled":
        return np.stack([rng.permutation(col) for col in x.T], axis=1)
    y = x.copy()
    for j, c in enumerate(schema.used):
        if c.kind in DISCRETE:
            redraw = rng.random(len(y)) < 0.1
            y[redraw, j] = rng.integers(0, len(c.categories), redraw.sum())
        else:
            y[:, j] += rng.normal(0, 0.2 * np.nanstd(x[:, j]), len(y))
    y[rng.random(y.shape) < 0.05] = np.nan
    return y


def compare(real: np.ndarray, fake: np.ndarray, schema: TableSchema) -> dict:
    """gankit's and sdmetrics' scores side by side, with the largest per-column / per-pair difference."""
    from gankit.metrics.tables import fidelity

    ours, theirs = fidelity(real, fake, schema), sdmetrics_quality(real, fake, schema)
    shapes = theirs["details"]["column_shapes"].set_index("Column")["Score"]
    shape_gap = max(abs(d["score"] - shapes[d["column"]]) for d in ours["shape_details"]
                    if not np.isnan(d["score"]))
    row = {k: {"gankit": ours[k], "sdmetrics": theirs[k], "diff": abs(ours[k] - theirs[k])}
           for k in ("column_shapes", "column_pair_trends", "quality")}
    pairs = theirs["details"]["column_pair_trends"].dropna(subset=["Score"])
    their_pair = {(a, b): v for a, b, v in zip(pairs["Column 1"], pairs["Column 2"], pairs["Score"])}
    pair_gap = max((abs(d["score"] - their_pair[tuple(d["columns"])]) for d in ours["pair_details"]
                    if tuple(d["columns"]) in their_pair), default=0.0)
    row["max_column_diff"] = float(shape_gap)
    row["max_pair_diff"] = float(pair_gap)
    row["pairs_counted"] = sum(d["counts"] for d in ours["pair_details"])
    return row


def compare_dcr(x: np.ndarray, schema: TableSchema, seed: int = 0) -> dict:
    """gankit's DCR and DCROverfittingProtection against sdmetrics' on 500 training, 300 holdout and 100
    noisy synthetic rows (sdmetrics' pandas cross joins are slow)."""
    from sdmetrics.single_table import DCROverfittingProtection
    from sdmetrics.single_table.privacy.dcr_utils import calculate_dcr

    from gankit.metrics.table_privacy import dcr, privacy

    x = x[np.random.default_rng(seed).permutation(len(x))[:900]]
    train, holdout, fake = x[:500], x[500:800], perturb(x[800:], schema, "noisy", seed)
    md, frame = sdmetrics_metadata(schema), (lambda a: to_frame(a, schema))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = calculate_dcr(frame(fake), frame(train), md).to_numpy()
        their_of = DCROverfittingProtection.compute_breakdown(frame(train), frame(fake), frame(holdout), md, None)
    ours = privacy(fake, train, holdout, schema)
    return {"max_dcr_diff": float(np.abs(theirs - dcr(fake, train, schema)).max()),
            "overfitting_protection": {"gankit": ours["overfitting_protection"], "sdmetrics": their_of["score"]}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--rows", type=int, default=5000, help="rows sampled from adult (insurance: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    results, ok = {}, True
    for name, (file, categorical) in TABLES.items():
        x, schema = load_table(args.data / file, categorical, args.rows if name == "adult" else None, args.seed)
        for how in ("shuffled", "noisy"):
            row = compare(x, perturb(x, schema, how, args.seed), schema)
            results[f"{name}/{how}"] = row
            worst = max(row[k]["diff"] for k in ("column_shapes", "column_pair_trends", "quality"))
            ok &= worst <= TOLERANCE
            print(f"{name:9s} {how:8s} " + "  ".join(
                f"{k}: {row[k]['gankit']:.4f} vs {row[k]['sdmetrics']:.4f}"
                for k in ("column_shapes", "column_pair_trends", "quality"))
                + f"  (max diff {worst:.1e}; per column {row['max_column_diff']:.1e}, per pair "
                f"{row['max_pair_diff']:.1e}; pairs counted {row['pairs_counted']})")
        d = compare_dcr(x, schema, args.seed)
        results[f"{name}/dcr"] = d
        of = d["overfitting_protection"]
        ok &= d["max_dcr_diff"] <= 1e-9 and abs(of["gankit"] - of["sdmetrics"]) <= 1e-9
        print(f"{name:9s} DCR      max per-row difference {d['max_dcr_diff']:.1e}; DCROverfittingProtection "
              f"{of['gankit']:.4f} vs {of['sdmetrics']:.4f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print("agree within", TOLERANCE if ok else f"NO: some property differs by more than {TOLERANCE}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
