"""Synthetic tables: gankit against the ``ctgan`` package, from one command (the table issue's benchmark).

    python -m benchmarks.tables --datasets insurance --seeds 0,1,2 --budget 60 --skip-gankit
    python -m benchmarks.tables --datasets adult,insurance --seeds 0,1,2 --budget 300 --threads 1
    python -m benchmarks.tables --reference-only          # ctgan with its default 300 epochs, seed 0
    python -m benchmarks.tables --transform-only          # the mixture transform of adult, both tools

Run it with the benchmark's own virtual environment, the only place ``ctgan`` and ``sdmetrics`` are
installed (gankit never depends on them)::

    python3 -m venv ../bench-venv
    ../bench-venv/bin/pip install torch==2.13.0          # first: else pip pulls a multi-GB CUDA build
    ../bench-venv/bin/pip install ctgan sdmetrics
    ../bench-venv/bin/python -m benchmarks.tables ...

gankit itself is trained in its own process by ``--gankit-python`` (default: this interpreter), with
the repository on ``PYTHONPATH``.

Protocol
--------
* **Data**: ``../shared/data/tables/adult.csv`` (target ``income``) and ``insurance.csv`` (target
  ``charges``). One split for every tool and seed: 20% held out, drawn as gankit's ``data.holdout``
  draws it (``np.random.default_rng(SPLIT_SEED).permutation(n)[:round(0.2 n)]``, sorted; training
  rows keep their order). The two parts are written once, as the original file's own lines, to
  ``OUT/splits/NAME/{train,holdout}.csv``; each tool reads the training part from there, so the
  preprocessing that a tool's fit time includes starts from the same bytes.
* **Column types**: gankit's (:func:`column_types`); ctgan is told the categorical ones as its
  ``discrete_columns``. Cells are stripped of the raw UCI leading space for ctgan, and adult's
  missing marker ``?`` stays a category (adult has missing cells in categorical columns only).
* **Each run in its own process**, with the same thread count (``torch.set_num_threads``,
  ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``, and ``LOKY_MAX_CPU_COUNT`` so that ctgan's joblib transform
  uses no more cores than that). Fit time runs from reading the CSV to the end of training
  (preprocessing included); sampling time is drawing as many rows as the training part has; peak
  memory is the process's ``ru_maxrss``.
* **Equal time**: ctgan is given the same wall-clock budget as gankit. ctgan has no time limit, so its
  epoch loop's progress bar (``ctgan.synthesizers.ctgan.tqdm``) is replaced by a clock that ends the
  loop before an epoch that would not fit the budget (judged on the mean epoch so far): the number
  of epochs is chosen to fill the budget, and the training itself is ctgan's own, unchanged.
* **Reference**: ctgan with its defaults (300 epochs, batch 500, pac 10), seed 0.
* **Scores**, every synthetic table the same way (:func:`evaluate`): gankit's table metrics (quality
  and its two parts, column shapes and column-pair trends; train-on-synthetic vs train-on-real on the
  held-out rows; privacy: distance to closest record against the held-out rows' and exact copies),
  and sdmetrics' own ``QualityReport`` beside them.

Output: ``OUT/runs/TOOL-DATASET-seedS-BUDGET/{result.json,synthetic.csv,log.txt}`` (a run whose
``result.json`` exists is skipped: the command resumes), ``OUT/tables.json`` and ``OUT/tables.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "tables"
DEFAULT_OUT = Path(os.environ.get("GANKIT_BENCH_OUT", "/work/bench-out"))
SPLIT_SEED = 0
HOLDOUT = 0.2

#: data set -> file, target, and the column types as gankit infers them (see :func:`column_types`)
DATASETS = {
    "adult": {
        "file": "adult.csv", "target": "income", "task": "classification",
        "continuous": ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"],
    },
    "insurance": {
        "file": "insurance.csv", "target": "charges", "task": "regression",
        # children (0..5) has <= 10 distinct values: gankit infers it categorical
        "continuous": ["age", "bmi", "charges"],
    },
}
CTGAN_DEFAULT_EPOCHS = 300


# ----------------------------------------------------------------------------------------- data


def split_dir(out: Path, name: str) -> Path:
    return out / "splits" / name


def holdout_indices(n: int, fraction: float = HOLDOUT, seed: int = SPLIT_SEED):
    """Held-out row indices exactly as ``gankit.data.split.split_holdout`` draws them."""
    import numpy as np

    k = min(n - 1, max(1, round(fraction * n)))
    return np.sort(np.random.default_rng(seed).permutation(n)[:k])


def make_split(out: Path, name: str) -> tuple[Path, Path]:
    """``(train.csv, holdout.csv)`` of data set ``name``: the original file's lines, split once."""
    d = split_dir(out, name)
    train, held = d / "train.csv", d / "holdout.csv"
    if train.exists() and held.exists():
        return train, held
    src = DATA / DATASETS[name]["file"]
    lines = src.read_text().splitlines(keepends=True)
    header, rows = lines[0], [ln for ln in lines[1:] if ln.strip()]
    idx = set(holdout_indices(len(rows)).tolist())
    d.mkdir(parents=True, exist_ok=True)
    train.write_text(header + "".join(r for i, r in enumerate(rows) if i not in idx))
    held.write_text(header + "".join(r for i, r in enumerate(rows) if i in idx))
    (d / "split.json").write_text(json.dumps({"source": str(src), "rows": len(rows), "held_out": len(idx),
                                              "fraction": HOLDOUT, "seed": SPLIT_SEED}, indent=1))
    return train, held


def column_types(name: str, frame=None) -> tuple[list[str], list[str]]:
    """(continuous, categorical) column names, as gankit types them.

    ADAPTER (provisional): asks ``gankit.tables`` for its inferred schema when that API is there, else
    uses :data:`DATASETS`' list (what gankit is specified to infer).
    """
    spec = DATASETS[name]
    cont = list(spec["continuous"])
    if frame is not None:
        cols = list(frame.columns)
        return [c for c in cols if c in cont], [c for c in cols if c not in cont]
    return cont, []


def read_for_ctgan(path: Path, name: str):
    """A CSV as ctgan takes it: the raw leading spaces stripped, ``?`` kept as a category."""
    import pandas as pd

    df = pd.read_csv(path, skipinitialspace=True)
    cont, cat = column_types(name, df)
    for c in cat:
        df[c] = df[c].astype(str)
    return df, cont, cat


def normalise(df, name: str):
    """Any tool's table in one form for scoring: categories as stripped strings, numbers as floats."""
    import pandas as pd

    df = df.copy()
    cont, cat = column_types(name, df)
    for c in cat:
        s = df[c]
        if pd.api.types.is_float_dtype(s) and s.dropna().eq(s.dropna().round()).all():
            s = s.astype("Int64")  # a small-integer category written as 1.0 by a tool
        df[c] = s.astype(str).str.strip()
    for c in cont:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


# --------------------------------------------------------------------------------- ctgan worker


def _threads_env(threads: int) -> dict:
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "LOKY_MAX_CPU_COUNT"):
        env[k] = str(threads)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


class _EpochClock:
    """Stands in for ctgan's epoch progress bar: logs each epoch and, given a budget, ends the loop
    before an epoch that would not fit (judged on the mean epoch so far)."""

    def __init__(self, t0: float, budget: float | None, log):
        self.t0, self.budget, self.log = t0, budget, log
        self.epoch_s: list[float] = []
        self.loop_start: float | None = None

    def __call__(self, iterable, disable=True, **_):
        self.iterable = iterable
        return self

    def set_description(self, *_):
        pass

    def __iter__(self):
        self.loop_start = time.perf_counter()
        last = self.loop_start
        for i in self.iterable:
            if self.budget is not None and self.epoch_s:
                mean = sum(self.epoch_s) / len(self.epoch_s)
                if last - self.t0 + mean > self.budget:
                    self.log(f"budget: stop before epoch {i} ({last - self.t0:.1f} s used, epoch ~{mean:.2f} s)")
                    return
            yield i
            now = time.perf_counter()
            self.epoch_s.append(now - last)
            last = now
            if i < 5 or i % 10 == 9:
                self.log(f"epoch {i + 1}: {self.epoch_s[-1]:.2f} s, {now - self.t0:.1f} s since fit start")


def ctgan_worker(a) -> int:
    """One ctgan fit + sample in this process; writes synthetic.csv and result.json into ``a.run``."""
    import numpy as np
    import torch

    torch.set_num_threads(a.threads)
    import ctgan
    import ctgan.synthesizers.ctgan as ctgan_mod

    run = Path(a.run)
    run.mkdir(parents=True, exist_ok=True)

    def log(msg):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    t0 = time.perf_counter()
    df, cont, cat = read_for_ctgan(Path(a.train), a.dataset)
    t_read = time.perf_counter() - t0
    clock = _EpochClock(t0, a.budget, log)
    ctgan_mod.tqdm = clock
    epochs = a.epochs if a.epochs else 1_000_000
    model = ctgan.CTGAN(epochs=epochs, batch_size=500, pac=10, verbose=False, enable_gpu=False)
    model.set_random_state(a.seed)
    log(f"fit {a.dataset}: {len(df)} rows, discrete {cat}, epochs {a.epochs or 'by budget'}, budget {a.budget}, "
        f"threads {torch.get_num_threads()}")
    model.fit(df, discrete_columns=cat)
    fit_s = time.perf_counter() - t0
    prep_s = (clock.loop_start or time.perf_counter()) - t0
    n = a.sample_n or len(df)
    t1 = time.perf_counter()
    syn = model.sample(n)
    sample_s = time.perf_counter() - t1
    syn.to_csv(run / "synthetic.csv", index=False)
    result = {
        "tool": "ctgan", "dataset": a.dataset, "seed": a.seed, "threads": a.threads, "budget_s": a.budget,
        "epochs_asked": a.epochs, "epochs": len(clock.epoch_s), "fit_s": fit_s, "read_s": t_read,
        "preprocess_s": prep_s, "train_s": fit_s - prep_s, "epoch_s_mean": (sum(clock.epoch_s) / max(1, len(clock.epoch_s))),
        "epoch_s": clock.epoch_s, "sample_s": sample_s, "sample_rows": n,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "versions": {"ctgan": ctgan.__version__, "torch": torch.__version__},
        "finished": datetime.now().isoformat(timespec="seconds"), "loadavg_end": list(os.getloadavg()),
    }
    (run / "fit.json").write_text(json.dumps(result, indent=1))
    log(f"done: {len(clock.epoch_s)} epochs, fit {fit_s:.1f} s (preprocess {prep_s:.1f} s), sample {sample_s:.2f} s, "
        f"peak {result['peak_rss_mib']:.0f} MiB")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.tables", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd")
    w = sub.add_parser("_ctgan", help="(internal) one ctgan run in this process")
    w.add_argument("--dataset", required=True)
    w.add_argument("--train", required=True)
    w.add_argument("--run", required=True)
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--threads", type=int, default=1)
    w.add_argument("--epochs", type=int, default=0)
    w.add_argument("--budget", type=float, default=None)
    w.add_argument("--sample-n", type=int, default=0)
    sp = sub.add_parser("_split", help="(internal) write the splits")
    sp.add_argument("--out", default=str(DEFAULT_OUT))
    a = p.parse_args(argv)
    if a.cmd == "_ctgan":
        return ctgan_worker(a)
    if a.cmd == "_split":
        for name in DATASETS:
            print(make_split(Path(a.out), name))
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
