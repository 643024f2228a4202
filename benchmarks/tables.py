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
GANKIT_PATH: list[str] = []  # --gankit-path: a gankit checkout to use instead of this one (put first on sys.path)


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
        df[c] = s.astype("string").str.strip().astype(object).where(s.notna(), None)  # missing stays missing
    for c in cont:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


# --------------------------------------------------------------------------------- ctgan worker


def _threads_env(threads: int) -> dict:
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "LOKY_MAX_CPU_COUNT"):
        env[k] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join([*GANKIT_PATH, str(ROOT), env.get("PYTHONPATH", "")])
    return env


class _EpochClock:
    """Stands in for ctgan's epoch progress bar: logs each epoch and, given a budget, ends the loop
    before an epoch that would not fit (judged on the mean epoch so far)."""

    def __init__(self, t0: float, budget: float | None, log, clock=time.perf_counter):
        self.t0, self.budget, self.log, self.clock = t0, budget, log, clock
        self.epoch_s: list[float] = []
        self.loop_start: float | None = None

    def __call__(self, iterable, disable=True, **_):
        self.iterable = iterable
        return self

    def set_description(self, *_):
        pass

    def __iter__(self):
        self.loop_start = time.perf_counter()
        last = self.clock()
        for i in self.iterable:
            if self.budget is not None and self.epoch_s:
                mean = sum(self.epoch_s) / len(self.epoch_s)
                if last - self.t0 + mean > self.budget:
                    self.log(f"budget: stop before epoch {i} ({last - self.t0:.1f} s used, epoch ~{mean:.2f} s)")
                    return
            yield i
            now = self.clock()
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
    c0 = time.process_time()
    t0 = time.perf_counter()
    df, cont, cat = read_for_ctgan(Path(a.train), a.dataset)
    t_read = time.perf_counter() - t0
    # --clock cpu: the budget is this process's CPU time (fairer than wall time on a shared machine)
    clock = _EpochClock(c0, a.budget, log, time.process_time) if a.clock == "cpu" else _EpochClock(t0, a.budget, log)
    ctgan_mod.tqdm = clock
    epochs = a.epochs if a.epochs else 1_000_000
    model = ctgan.CTGAN(epochs=epochs, batch_size=500, pac=10, verbose=False, enable_gpu=False)
    model.set_random_state(a.seed)
    log(f"fit {a.dataset}: {len(df)} rows, discrete {cat}, epochs {a.epochs or 'by budget'}, budget {a.budget}, "
        f"threads {torch.get_num_threads()}")
    model.fit(df, discrete_columns=cat)
    fit_s = time.perf_counter() - t0
    fit_cpu_s = time.process_time() - c0
    prep_s = (clock.loop_start or time.perf_counter()) - t0
    n = a.sample_n or len(df)
    t1 = time.perf_counter()
    syn = model.sample(n)
    sample_s = time.perf_counter() - t1
    syn.to_csv(run / "synthetic.csv", index=False)
    result = {
        "tool": "ctgan", "dataset": a.dataset, "seed": a.seed, "threads": a.threads, "budget_s": a.budget,
        "epochs_asked": a.epochs, "epochs": len(clock.epoch_s), "fit_s": fit_s, "fit_cpu_s": fit_cpu_s, "clock": a.clock, "read_s": t_read,
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


# -------------------------------------------------------------------------------- gankit worker

GANKIT_PRESET = "table"
#: seconds of a budget gankit spends before training (reading the CSV, the mixture transform, building the
#: networks: about 2 s on adult): ``train.time_limit`` counts training alone, so it gets the budget less this
GANKIT_PREP_S = 3.0


def gankit_fit_sample(train: Path, run: Path, seed: int, threads: int, budget: float | None, n: int):
    """Train gankit's table preset on ``train`` (the split's training rows: no second holdout) and sample
    ``n`` rows. With a budget, it trains until ``train.time_limit`` (wall clock) instead of for the
    preset's steps.

    Returns ``(frame, fit_s, sample_s, info)``; fit time includes reading and preprocessing the CSV
    (``gankit.train`` does both)."""
    import gankit

    overrides = [f"data.path={train}", "data.holdout=0", f"train.seed={seed}", f"train.threads={threads}"]
    if budget is not None:
        overrides += [f"train.time_limit={max(1.0, budget - GANKIT_PREP_S):g}s", "train.steps=1000000"]
    c0 = time.process_time()
    t0 = time.perf_counter()
    result = gankit.train(GANKIT_PRESET, *overrides, out=str(run / "gankit-run"), quiet=True)
    fit_s = time.perf_counter() - t0
    fit_cpu_s = time.process_time() - c0
    model = gankit.load(result)
    t1 = time.perf_counter()
    frame = model.sample(n)
    sample_s = time.perf_counter() - t1
    steps = json.loads((Path(result) / "run.json").read_text()).get("steps_done")
    return frame, fit_s, sample_s, {"overrides": overrides, "run": str(getattr(result, "path", result)),
                                    "fit_cpu_s": fit_cpu_s, "steps": steps}


def gankit_worker(a) -> int:
    import torch

    torch.set_num_threads(a.threads)
    run = Path(a.run)
    run.mkdir(parents=True, exist_ok=True)
    n = a.sample_n or sum(1 for _ in open(a.train)) - 1
    frame, fit_s, sample_s, info = gankit_fit_sample(Path(a.train), run, a.seed, a.threads, a.budget, n)
    frame.to_csv(run / "synthetic.csv", index=False)
    import gankit

    result = {"tool": "gankit", "dataset": a.dataset, "seed": a.seed, "threads": a.threads, "budget_s": a.budget,
              "fit_s": fit_s, "sample_s": sample_s, "sample_rows": n,
              "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
              "versions": {"gankit": gankit.__version__, "torch": torch.__version__}, **info,
              "finished": datetime.now().isoformat(timespec="seconds"), "loadavg_end": list(os.getloadavg())}
    (run / "fit.json").write_text(json.dumps(result, indent=1))
    print(f"done: fit {fit_s:.1f} s, sample {sample_s:.2f} s, peak {result['peak_rss_mib']:.0f} MiB", flush=True)
    return 0


# ------------------------------------------------------------------------- the mixture transform


def gankit_transform(path: Path) -> dict:
    """gankit's read + mixture transform of one CSV, timed in parts (imports before the clock starts, as for
    ctgan's: gankit imports scikit-learn's mixture only when it fits one)."""
    import sklearn.mixture  # noqa: F401

    from gankit.tables.read import infer_schema, read_frame, to_values
    from gankit.tables.transform import MixedCodec

    t0 = time.perf_counter()
    frame = read_frame(path)
    schema = infer_schema(frame)
    values = to_values(frame, schema)
    t1, c1 = time.perf_counter(), time.process_time()
    out = MixedCodec.fit(values, schema, seed=0).encode(values, seed=0)
    t2, c2 = time.perf_counter(), time.process_time()
    shape = getattr(out, "shape", None) or getattr(getattr(out, "data", None), "shape", None)
    return {"read_s": t1 - t0, "transform_s": t2 - t1, "transform_cpu_s": c2 - c1, "total_s": t2 - t0,
            "shape": list(shape or [])}


def ctgan_transform(path: Path, name: str) -> dict:
    """ctgan's ``DataTransformer().fit`` + ``.transform`` (its mixture transform) of one CSV, timed."""
    from ctgan.data_transformer import DataTransformer

    t0 = time.perf_counter()
    df, cont, cat = read_for_ctgan(path, name)
    t1, c1 = time.perf_counter(), time.process_time()
    tr = DataTransformer()
    tr.fit(df, cat)
    t2 = time.perf_counter()
    x = tr.transform(df)
    t3, c3 = time.perf_counter(), time.process_time()
    return {"read_s": t1 - t0, "fit_s": t2 - t1, "apply_s": t3 - t2, "transform_s": t3 - t1, "transform_cpu_s": c3 - c1,
            "total_s": t3 - t0, "shape": list(x.shape)}


def transform_worker(a) -> int:
    import torch

    torch.set_num_threads(a.threads)
    path = Path(a.train)
    out = {"tool": a.tool, "dataset": a.dataset, "threads": a.threads}
    try:
        out.update(ctgan_transform(path, a.dataset) if a.tool == "ctgan" else gankit_transform(path))
    except ImportError as e:
        out["error"] = f"{type(e).__name__}: {e}"
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_s"] = ru.ru_utime + ru.ru_stime  # the whole process, imports included
    out["peak_rss_mib"] = ru.ru_maxrss / 1024
    print(json.dumps(out), flush=True)
    return 0


# ----------------------------------------------------------------------------------- evaluation


def gankit_scores(train: Path, holdout: Path, synthetic: Path, target: str, seed: int = 0) -> dict:
    """ADAPTER (provisional names): gankit's table metrics of one synthetic table.

    Every table is read by gankit's reader and put in the column space of the schema gankit infers
    from the real training rows; a synthetic or held-out category never seen in training counts as
    missing."""
    from gankit.metrics.table_privacy import privacy
    from gankit.metrics.table_utility import utility
    from gankit.metrics.tables import fidelity
    from gankit.tables.convert import to_values
    from gankit.tables.infer import infer_schema
    from gankit.tables.read import read_frame

    real = read_frame(train)
    schema = infer_schema(real)
    tr = to_values(real, schema)
    ho = to_values(read_frame(holdout), schema, unseen="missing")
    fk = to_values(read_frame(synthetic), schema, unseen="missing")
    fid = fidelity(tr, fk, schema)
    return {"quality": fid["quality"], "column_shapes": fid["column_shapes"],
            "column_pair_trends": fid["column_pair_trends"],
            "utility": utility(fk, tr, ho, schema, target, seed=seed),
            "privacy": privacy(fk, tr, ho, schema),
            "kinds": {c.name: c.kind for c in schema.used}}


def sdmetrics_scores(train: Path, synthetic: Path, name: str) -> dict:
    """sdmetrics' own ``QualityReport`` (score and its two properties), column types as gankit's."""
    import warnings

    import pandas as pd

    with warnings.catch_warnings():  # 0.32 calls the single-table report deprecated; its scores are the same
        warnings.simplefilter("ignore", FutureWarning)
        from sdmetrics.reports.single_table import QualityReport

    # adult's "?" is a missing cell, as gankit reads it (not a category): NaN for sdmetrics too
    real = normalise(pd.read_csv(train, skipinitialspace=True, na_values=["?"]), name)
    fake = normalise(pd.read_csv(synthetic, skipinitialspace=True, na_values=["?"]), name)[list(real.columns)]
    cont, cat = column_types(name, real)
    meta = {"columns": {c: {"sdtype": "numerical" if c in cont else "categorical"} for c in real.columns}}
    rep = QualityReport()
    rep.generate(real, fake, meta, verbose=False)
    props = rep.get_properties().set_index("Property")["Score"].to_dict()
    return {"quality": float(rep.get_score()), "column_shapes": float(props.get("Column Shapes", float("nan"))),
            "column_pair_trends": float(props.get("Column Pair Trends", float("nan"))),
            "version": __import__("sdmetrics").__version__}


def evaluate(run: Path, name: str, out: Path) -> dict:
    """Scores of ``run/synthetic.csv``, merged with ``run/fit.json`` into ``run/result.json``."""
    train, held = make_split(out, name)
    syn = run / "synthetic.csv"
    res = json.loads((run / "fit.json").read_text())
    t0 = time.perf_counter()
    try:
        res["gankit_metrics"] = gankit_scores(train, held, syn, DATASETS[name]["target"])
    except Exception as e:  # the metrics are being written: keep the run, say why they are missing
        res["gankit_metrics"] = {"error": f"{type(e).__name__}: {e}"}
    try:
        res["sdmetrics"] = sdmetrics_scores(train, syn, name)
    except Exception as e:
        res["sdmetrics"] = {"error": f"{type(e).__name__}: {e}"}
    res["eval_s"] = time.perf_counter() - t0
    (run / "result.json").write_text(json.dumps(res, indent=1))
    return res


# --------------------------------------------------------------------------------- orchestration


def _run_worker(kind: str, args: list[str], run: Path, threads: int, python: str) -> int:
    run.mkdir(parents=True, exist_ok=True)
    cmd = [python, "-m", "benchmarks.tables", kind, *args]
    with open(run / "log.txt", "a") as log:
        log.write(f"$ {' '.join(cmd)}\n")
        log.flush()
        proc = subprocess.run(cmd, cwd=ROOT, env=_threads_env(threads), stdout=log, stderr=subprocess.STDOUT)
    return proc.returncode


def run_dir(out: Path, tool: str, name: str, seed: int, budget: float | None, clock: str = "wall") -> Path:
    if budget is None:
        return out / tool / f"{name}-{'300' if tool == 'ctgan' else 'default'}"  # the reference runs
    return out / "runs" / f"{tool}-{name}-seed{seed}-{budget:g}s{'-cpu' if clock == 'cpu' else ''}"


def one_run(tool: str, name: str, seed: int, budget: float | None, a) -> dict | None:
    out = Path(a.out)
    run = run_dir(out, tool, name, seed, budget, a.clock)
    if (run / "result.json").exists():
        done = json.loads((run / "result.json").read_text())
        if not a.rescore:
            print(f"  {run.name}: done before (result.json)", flush=True)
            return done
    train, _ = make_split(out, name)
    if not (run / "fit.json").exists():
        if a.rescore:
            return None
        args = ["--dataset", name, "--train", str(train), "--run", str(run), "--seed", str(seed),
                "--threads", str(a.threads)]
        args += ["--clock", a.clock]
        if tool == "ctgan":
            args += ["--budget", str(budget)] if budget is not None else ["--epochs", str(CTGAN_DEFAULT_EPOCHS)]
            python = sys.executable
        else:
            args += ["--budget", str(budget)] if budget is not None else []
            python = a.gankit_python
        print(f"  {run.name}: training ({tool}, {a.threads} thread(s)) ...", flush=True)
        rc = _run_worker(f"_{tool}", args, run, a.threads, python)
        if rc != 0 or not (run / "fit.json").exists():
            print(f"  {run.name}: FAILED (exit {rc}); see {run / 'log.txt'}", flush=True)
            return None
    print(f"  {run.name}: scoring ...", flush=True)
    return evaluate(run, name, out)


def transform_timing(a) -> dict:
    out = Path(a.out)
    train, _ = make_split(out, "adult")
    res = {}
    for tool, python in (("ctgan", sys.executable), ("gankit", a.gankit_python)):
        cmd = [python, "-m", "benchmarks.tables", "_transform", "--tool", tool, "--dataset", "adult",
               "--train", str(train), "--threads", str(a.threads)]
        tries = []
        for _ in range(a.repeat):  # each in a fresh process; the median try is the figure
            p = subprocess.run(cmd, cwd=ROOT, env=_threads_env(a.threads), capture_output=True, text=True)
            lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
            tries.append(json.loads(lines[-1]) if lines else {"error": (p.stderr or p.stdout)[-2000:]})
            print(f"  transform {tool}: {tries[-1]}", flush=True)
            if "error" in tries[-1]:
                break
        ok = sorted((t for t in tries if "transform_s" in t), key=lambda t: t["transform_s"])
        res[tool] = dict(ok[len(ok) // 2], tries_s=[t["transform_s"] for t in ok]) if ok else tries[-1]
    if "transform_s" in res.get("gankit", {}) and "transform_s" in res.get("ctgan", {}):
        res["speedup"] = res["ctgan"]["transform_s"] / res["gankit"]["transform_s"]
        res["speedup_cpu"] = res["ctgan"]["transform_cpu_s"] / max(res["gankit"]["transform_cpu_s"], 1e-9)
    (out / "transform.json").write_text(json.dumps(res, indent=1))
    return res


# --------------------------------------------------------------------------------------- report


def _get(d: dict, path: str):
    for k in path.split("."):
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _stats(vals):
    v = [x for x in vals if isinstance(x, (int, float))]
    if not v:
        return None, None
    return statistics.fmean(v), (statistics.stdev(v) if len(v) > 1 else 0.0)


def _fmt(mean, sd, digits=3):
    if mean is None:
        return "-"
    return f"{mean:.{digits}f}" + (f" ± {sd:.{digits}f}" if sd else "")


COLUMNS = [  # (header, result path, digits)
    ("quality", "gankit_metrics.quality", 3), ("shapes", "gankit_metrics.column_shapes", 3),
    ("pair trends", "gankit_metrics.column_pair_trends", 3), ("sdmetrics quality", "sdmetrics.quality", 3),
]
UTILITY = {"classification": [("F1 syn", "gankit_metrics.utility.synthetic.f1"), ("F1 real", "gankit_metrics.utility.real.f1"),
                              ("AUC syn", "gankit_metrics.utility.synthetic.auc"),
                              ("AUC real", "gankit_metrics.utility.real.auc")],
           "regression": [("R² syn", "gankit_metrics.utility.synthetic.r2"), ("R² real", "gankit_metrics.utility.real.r2")]}
TAIL = [("DCR syn→train", "gankit_metrics.privacy.dcr_synthetic", 4), ("DCR holdout→train", "gankit_metrics.privacy.dcr_holdout", 4),
        ("closer to train", "gankit_metrics.privacy.closer_to_training", 3),
        ("exact copies", "gankit_metrics.privacy.exact_copies", 1), ("epochs", "epochs", 0), ("fit s", "fit_s", 1), ("fit CPU s", "fit_cpu_s", 1),
        ("sample s", "sample_s", 2), ("peak MiB", "peak_rss_mib", 0)]


def _targets(name: str, groups: dict) -> list[str]:
    """The issue's targets, where both tools' runs are at hand."""
    out = []
    keys = [("quality", "gankit_metrics.quality")] + [(h.replace(" syn", ""), p) for h, p in UTILITY[DATASETS[name]["task"]]
                                                       if h.endswith("syn")]
    for label, rs in groups.items():
        if not label.startswith("gankit ") or label == "gankit default":
            continue
        other = groups.get("ctgan " + label[len("gankit "):])
        if not other:
            continue
        for k, path in keys:
            g = [_get(r, path) for r in rs]
            c = [_get(r, path) for r in other]
            if None in g or None in c:
                continue
            gm, cm = statistics.fmean(g), statistics.fmean(c)
            ok = gm >= cm and min(g) >= cm - 0.005
            out.append(f"* {label[len('gankit '):]}, {k}: gankit mean {gm:.3f} (worst seed {min(g):.3f}) vs ctgan mean "
                       f"{cm:.3f}: {'met' if ok else 'NOT met'} (mean >= ctgan's, no seed below ctgan's mean - 0.005)")
    ref, dft = groups.get("ctgan 300 epochs"), groups.get("gankit default")
    if ref and dft and _get(ref[0], "gankit_metrics.quality") is not None and _get(dft[0], "gankit_metrics.quality") is not None:
        q, qr = _get(dft[0], "gankit_metrics.quality"), _get(ref[0], "gankit_metrics.quality")
        out.append(f"* default `gankit train table`: quality {q:.3f} in {dft[0]['fit_s']:.0f} s vs ctgan 300 epochs "
                   f"{qr:.3f} in {ref[0]['fit_s']:.0f} s: {'met' if q >= qr else 'NOT met'}"
                   + (f"; within 5 minutes: {'yes' if dft[0]['fit_s'] <= 300 else 'NO'}" if name == "adult" else ""))
    return ["", "Targets:", ""] + out if out else []


def render(results: list[dict], transform: dict | None) -> str:
    lines = []
    by = {}
    for r in results:
        label = f"{r['tool']} " + (f"{r['budget_s']:g} s" + (" CPU" if r.get("clock") == "cpu" else "") if r.get("budget_s") else
                                   ("300 epochs" if r["tool"] == "ctgan" else "default"))
        by.setdefault(r["dataset"], {}).setdefault(label, []).append(r)
    for name, groups in by.items():
        util = UTILITY[DATASETS[name]["task"]]
        cols = [(h, p, 3) for h, p, *_ in COLUMNS] + [(h, p, 3) for h, p in util] + TAIL
        lines += [f"### {name} (target `{DATASETS[name]['target']}`)", "",
                  "| run | seeds | " + " | ".join(h for h, _, _ in cols) + " |",
                  "|---|---|" + "---|" * len(cols)]
        for label, rs in groups.items():
            cells = [_fmt(*_stats([_get(r, p) for r in rs]), d) for _, p, d in cols]
            lines.append(f"| {label} | {','.join(str(r['seed']) for r in rs)} | " + " | ".join(cells) + " |")
        diffs = [abs(_get(r, "gankit_metrics.quality") - _get(r, "sdmetrics.quality")) for rs in groups.values()
                 for r in rs if isinstance(_get(r, "gankit_metrics.quality"), float)
                 and isinstance(_get(r, "sdmetrics.quality"), float)]
        if diffs:
            lines += ["", f"gankit's quality vs sdmetrics' QualityReport on the same tables: largest |difference| "
                          f"{max(diffs):.2g} over {len(diffs)} tables (target <= 0.01: {'met' if max(diffs) <= 0.01 else 'NOT met'})."]
        lines += _targets(name, groups)
        errs = {r.get("gankit_metrics", {}).get("error") for rs in groups.values() for r in rs} - {None}
        if errs:
            lines.append("")
            lines += [f"gankit metrics not available: {e}" for e in errs]
        lines.append("")
    if transform:
        lines.append("### Mixture transform of adult's training rows (fit + transform, "
                     f"{transform.get('ctgan', {}).get('threads', '?')} thread(s))")
        lines.append("")
        for tool in ("ctgan", "gankit"):
            t = transform.get(tool, {})
            lines.append(f"* {tool}: " + (f"{t['transform_s']:.2f} s wall, {t.get('transform_cpu_s', float('nan')):.2f} s CPU "
                                         f"(median of tries {[round(x, 2) for x in t.get('tries_s', [])]}; read "
                                         f"{t['read_s']:.2f} s apart), output {t.get('shape')}"
                                         if "transform_s" in t else f"not measured ({str(t.get('error', ''))[-200:]})"))
        if "speedup" in transform:
            lines.append(f"* gankit is {transform['speedup']:.1f}x faster in wall time, {transform['speedup_cpu']:.1f}x in CPU "
                         f"time (target >= 10x: {'met' if transform['speedup'] >= 10 else 'NOT met'})")
    return "\n".join(lines) + "\n"


def collect(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(list((out / "runs").glob("*/result.json")) +
                                                       list((out / "ctgan").glob("*/result.json")) +
                                                       list((out / "gankit").glob("*/result.json")))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.tables", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd")
    for kind in ("_ctgan", "_gankit"):
        w = sub.add_parser(kind, help=f"(internal) one {kind[1:]} run in this process")
        w.add_argument("--dataset", required=True)
        w.add_argument("--train", required=True)
        w.add_argument("--run", required=True)
        w.add_argument("--seed", type=int, default=0)
        w.add_argument("--threads", type=int, default=1)
        w.add_argument("--epochs", type=int, default=0)
        w.add_argument("--budget", type=float, default=None)
        w.add_argument("--sample-n", type=int, default=0)
        w.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    t = sub.add_parser("_transform", help="(internal) time one tool's mixture transform")
    t.add_argument("--tool", choices=("ctgan", "gankit"), required=True)
    t.add_argument("--dataset", default="adult")
    t.add_argument("--train", required=True)
    t.add_argument("--threads", type=int, default=1)
    p.add_argument("--datasets", default="adult,insurance")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--budget", type=float, default=300.0, help="wall-clock seconds per fit, both tools")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="what the budget counts: wall-clock seconds (the issue's), or the process's CPU seconds")
    p.add_argument("--out", default=str(DEFAULT_OUT))
    p.add_argument("--skip-gankit", action="store_true")
    p.add_argument("--skip-ctgan", action="store_true")
    p.add_argument("--reference-only", action="store_true",
                   help="only the references: ctgan's default 300 epochs and gankit's default preset, seed 0")
    p.add_argument("--reference", action="store_true", help="the references too")
    p.add_argument("--transform-only", action="store_true", help="only time the mixture transform of adult")
    p.add_argument("--repeat", type=int, default=3, help="tries of each transform timing (median kept)")
    p.add_argument("--gankit-python", default=sys.executable, help="the interpreter that trains gankit")
    p.add_argument("--gankit-path", default="", help="a gankit source folder to import instead of this checkout's")
    p.add_argument("--rescore", action="store_true", help="score every finished run again (after a metric changed); trains nothing")
    p.add_argument("--report-only", action="store_true", help="re-table what OUT holds")
    a = p.parse_args(argv)
    if a.cmd == "_ctgan":
        return ctgan_worker(a)
    if a.cmd == "_gankit":
        return gankit_worker(a)
    if a.cmd == "_transform":
        return transform_worker(a)

    if a.gankit_path:
        GANKIT_PATH.append(str(Path(a.gankit_path).resolve()))
        sys.path.insert(0, GANKIT_PATH[0])
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    names = [n for n in a.datasets.split(",") if n]
    seeds = [int(s) for s in a.seeds.split(",") if s]
    tools = [t for t in ("gankit", "ctgan") if not getattr(a, f"skip_{t}")]
    transform = None
    if not a.report_only:
        if a.transform_only:
            transform = transform_timing(a)
        else:
            for name in names:
                print(f"{name}:", flush=True)
                if not a.reference_only:
                    for seed in seeds:
                        for tool in tools:
                            one_run(tool, name, seed, a.budget, a)
                if a.reference_only or a.reference:
                    for tool in tools:
                        one_run(tool, name, 0, None, a)
    if transform is None and (out / "transform.json").exists():
        transform = json.loads((out / "transform.json").read_text())
    results = [r for r in collect(out) if r["dataset"] in names]
    md = (f"Measured {datetime.now().isoformat(timespec='minutes')} with `python -m benchmarks.tables "
          f"{' '.join(argv if argv is not None else sys.argv[1:])}`. Machine: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average {[round(x, 2) for x in os.getloadavg()]} at the end.\n\n"
          + render(results, transform))
    (out / "tables.md").write_text(md)
    (out / "tables.json").write_text(json.dumps({"results": results, "transform": transform,
                                                 "elapsed_s": time.time() - started}, indent=1))
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
