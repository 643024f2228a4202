"""Do two gankit revisions train bit-identically, and is the new one as fast? (refactor safety net)

    python -m benchmarks.identity HEAD                    # HEAD vs the working tree: identity, then speed
    python -m benchmarks.identity 10c6696 my-branch --no-speed
    python -m benchmarks.identity HEAD --cases digits,ring-eval --steps 100
    python -m benchmarks.identity HEAD --speed-only --rounds 6 --speed-presets digits,mnist-dcgan

What it proves. For every case below (all presets, plus a matrix of losses, penalties, precision,
accumulation, EMA, norms, conditioning, augmentation, evaluation during training, a labelled CSV table
and an image folder), the two revisions, given the same config, write the same final generator
weights, the same resumable checkpoint state and the same training log. A refactor that reorders a
random draw, an optimiser update, a gradient accumulation or a logged statistic shows up as a
difference; one that only moves code does not.

How. Each revision is exported with ``git archive`` (``benchmarks.compare_revisions.export``; "." is
the working tree) and every run is a fresh process with ``PYTHONPATH`` set to that tree, which calls
only the public API::

    gankit.train(preset, *overrides, "train.deterministic=true", "train.threads=1", out=DIR, quiet=True)

Cases run old then new, one after the other. The run folders are then fingerprinted here:

* generator: sha256 (of bytes, dtype and shape) of every tensor of ``generator.safetensors``, by name;
  equal means the same names with the same hashes;
* checkpoint: the multiset of the same hashes over the newest ``checkpoints/*.safetensors``. The new code
  may rename or add checkpoint entries, so it passes when every old hash is also in the new multiset
  (the old-only ones are reported by their old names);
* metrics: ``metrics.csv`` without its wall-clock ``seconds`` column (found by header name), as text;
* eval: ``eval_metrics.csv`` as text, when either run wrote one (the ``ring-eval`` case).

One row per case: ``identical``, or which parts differ. Exit status 1 when any case differs or fails.
Running a revision against itself (``HEAD .`` on a clean tree) checks the harness and that training
is deterministic with these settings.

Speed. ``--rounds`` alternating rounds (old, new, then new, old) per preset, each run a fresh process
calling ``gankit.train(preset, "train.steps=S", "train.threads=1", log.sample_every/checkpoint_every=S)``
(so file writes do not dominate); steps/s = ``steps_done / seconds`` from the run folder's
``run.json`` (the training loop's wall clock). Reported: per preset the median over rounds of the
new/old ratio, and the median of all rounds' ratios (target >= 0.97). Beside it, old/new of the
process CPU time (user + system, whole process): at one thread it is immune to other processes
taking the cores, but start-up and the report dilute it towards 1.

Output: a markdown table on stdout and JSON in ``--out`` (default benchmarks/out/identity.json).
"""

from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.compare_revisions import ROOT, export

DATA = ROOT.parent / "shared" / "data"
DEFAULT_STEPS = 200
DETERMINISTIC = ["train.deterministic=true", "train.threads=1"]

#: case name -> (preset, overrides). ``{mnist}``, ``{fashion}``, ``{table}``, ``{images}`` are filled in
#: at run time (data folders, and the inputs this script writes into its temporary folder);
#: every case also gets ``train.steps=N log.every=10``.
CASES: dict[str, tuple[str, list[str]]] = {
    # every preset of `gankit presets` but images-dcgan (it needs a folder of your own images: image-folder below)
    "digits": ("digits", []),
    "mnist-mlp": ("mnist-mlp", ["data.path={mnist}"]),
    "mnist-mlp-keras": ("mnist-mlp-keras", ["data.path={mnist}"]),
    "gaussian-1d-mse": ("gaussian-1d-mse", []),
    "ring": ("ring", []),
    "grid": ("grid", []),
    "digits-dcgan": ("digits-dcgan", []),
    "mnist-dcgan": ("mnist-dcgan", ["data.path={mnist}"]),
    "fashion-dcgan": ("fashion-dcgan", ["data.path={fashion}"]),
    "mnist-cgan": ("mnist-cgan", ["data.path={mnist}"]),
    # paths the presets do not reach: the MLP on digits
    "digits-wgan-gp": ("digits", ["loss=wgan-gp"]),
    "digits-hinge": ("digits", ["loss=hinge"]),
    "digits-lsgan": ("digits", ["loss=lsgan"]),
    "digits-minimax": ("digits", ["loss=minimax"]),
    "digits-mse": ("digits", ["loss=mse"]),
    "digits-n-critic": ("digits", ["train.n_critic=3"]),
    "digits-accumulate": ("digits", ["train.accumulate=2"]),
    "digits-ema": ("digits", ["ema.decay=0.99"]),
    "digits-bf16": ("digits", ["train.precision=bf16"]),
    "digits-r1": ("digits", ["penalty.r1_gamma=1", "penalty.r1_interval=4"]),
    "digits-bn-dropout": ("digits", ["generator.norm=batch", "discriminator.dropout=0.2"]),
    "digits-concat": ("digits", ["conditional.mode=concat"]),
    "digits-projection-acgan": ("digits", ["conditional.mode=projection", "conditional.acgan=true"]),
    # ... and the DCGAN on digits (batch 64: accumulate=2 divides it)
    "dcgan-augment": ("digits-dcgan", ["augment.policy=color,translation,cutout"]),
    "dcgan-wgan-gp": ("digits-dcgan", ["loss=wgan-gp", "penalty.r1_gamma=0"]),  # the preset's R1 excludes WGAN-GP
    "dcgan-spectral": ("digits-dcgan", ["discriminator.norm=spectral"]),
    "dcgan-accumulate": ("digits-dcgan", ["train.accumulate=2", "train.batch_size=64"]),
    # evaluation during training must not change training
    "ring-eval": ("ring", ["eval.every=50"]),
    # a labelled CSV table (words as labels), conditional
    "table-cgan": ("digits", ["data.name=auto", "data.path={table}", "data.label_column=label",
                              "conditional.mode=projection"]),
    # an image folder, one sub-folder per class
    "image-folder": ("digits-dcgan", ["data.name=images", "data.path={images}", "data.channels=1"]),
}

#: the data folder each placeholder needs (a case whose folder is absent is skipped with a note)
FOLDERS = {"{mnist}": DATA / "mnist", "{fashion}": DATA / "fashion-mnist"}

SPEED_PRESETS = "digits,mnist-mlp,digits-dcgan,mnist-dcgan"
SPEED_DATA = {"mnist-mlp": "{mnist}", "mnist-mlp-keras": "{mnist}", "mnist-dcgan": "{mnist}",
              "mnist-cgan": "{mnist}", "fashion-dcgan": "{fashion}"}

#: runs in the measured process: the public API only
SNIPPET = r"""
import json, sys
import gankit
spec = json.loads(sys.argv[1])
gankit.train(spec["preset"], *spec["overrides"], out=spec["out"], quiet=True)
"""


# ----------------------------------------------------------------------------- inputs


def write_table(path: Path) -> Path:
    """400 rows: two numeric columns and a word label, three classes with their own centres."""
    import numpy as np

    rng = np.random.default_rng(1234)
    words = np.array(["alpha", "beta", "gamma"])
    k = rng.integers(0, 3, size=400)
    centres = np.array([[0.0, 5.0], [3.0, -1.0], [-2.0, 1.5]])
    xy = centres[k] + rng.normal(0.0, [0.5, 1.5], size=(400, 2))
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["width", "height", "label"])
        for (a, b), lab in zip(xy, words[k]):
            w.writerow([f"{a:.6f}", f"{b:.6f}", lab])
    return path


def write_images(folder: Path) -> Path:
    """64 grayscale 8x8 PNGs, 32 in each of two class folders (a bright bar, vertical or horizontal)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(4321)
    for c, name in enumerate(["bars", "stripes"]):
        (folder / name).mkdir(parents=True)
        for i in range(32):
            img = rng.integers(0, 80, size=(8, 8), dtype=np.uint8)
            j = int(rng.integers(1, 7))
            if c == 0:
                img[:, j] = 255
            else:
                img[j, :] = 255
            Image.fromarray(img, mode="L").save(folder / name / f"{i:02d}.png")
    return folder


def fill(overrides: list[str], paths: dict[str, Path]) -> list[str]:
    out = []
    for o in overrides:
        for key, p in paths.items():
            o = o.replace(key, str(p))
        out.append(o)
    return out


def missing_folder(overrides: list[str]) -> Path | None:
    for key, folder in FOLDERS.items():
        if any(key in o for o in overrides) and not folder.is_dir():
            return folder
    return None


# ----------------------------------------------------------------------------- runs


def run_train(tree: Path, preset: str, overrides: list[str], out: Path, env_extra: dict) -> tuple[float, float, str | None]:
    """Train in a fresh process importing gankit from ``tree``: (wall s, CPU s of the process, error or None)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", **env_extra}
    spec = json.dumps({"preset": preset, "overrides": overrides, "out": str(out)})
    t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run([sys.executable, "-c", SNIPPET, spec], cwd=tree, env=env, capture_output=True, text=True)
    wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if p.returncode != 0:
        tail = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
        return wall, cpu, f"exit {p.returncode}: {tail[-1] if tail else '(no message)'}"
    return wall, cpu, None


# ----------------------------------------------------------------------------- fingerprints


def tensor_hash(t) -> str:
    """sha256 of a tensor's bytes, dtype and shape."""
    import torch

    h = hashlib.sha256(f"{t.dtype}|{tuple(t.shape)}|".encode())
    h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def tensor_hashes(path: Path) -> dict[str, str]:
    from safetensors.torch import load_file

    return {name: tensor_hash(t) for name, t in sorted(load_file(str(path)).items())}


def newest_checkpoint(run: Path) -> Path | None:
    files = list((run / "checkpoints").glob("*.safetensors"))
    return max(files, key=lambda p: (p.stat().st_mtime_ns, p.name)) if files else None


def metrics_text(path: Path, drop: str = "seconds") -> str | None:
    """The CSV without the ``drop`` column (by header name), as text."""
    if not path.exists():
        return None
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    if not rows:
        return ""
    keep = [i for i, h in enumerate(rows[0]) if h != drop]
    return "\n".join(",".join(r[i] for i in keep if i < len(r)) for r in rows) + "\n"


def fingerprint(run: Path) -> dict:
    ckpt = newest_checkpoint(run)
    gen = run / "generator.safetensors"
    return {
        "generator": tensor_hashes(gen) if gen.exists() else None,
        "checkpoint": tensor_hashes(ckpt) if ckpt is not None else None,
        "checkpoint_file": ckpt.name if ckpt is not None else None,
        "metrics": metrics_text(run / "metrics.csv"),
        "eval": metrics_text(run / "eval_metrics.csv", drop=""),
    }


def first_diff_line(a: str | None, b: str | None) -> str:
    if a is None or b is None:
        return f"{'old' if a is None else 'new'} has none"
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1}: {x!r} vs {y!r}"
    return f"{len(la)} vs {len(lb)} lines"


def compare(old: dict, new: dict) -> dict[str, str]:
    """Part -> what differs (empty dict: identical)."""
    diffs: dict[str, str] = {}
    go, gn = old["generator"], new["generator"]
    if go is None or gn is None:
        diffs["generator"] = f"{'old' if go is None else 'new'} wrote no generator.safetensors"
    elif go != gn:
        changed = sorted(k for k in go.keys() & gn.keys() if go[k] != gn[k])
        gone, added = sorted(go.keys() - gn.keys()), sorted(gn.keys() - go.keys())
        parts = [f"{len(changed)} tensors differ ({', '.join(changed[:3])}{', ...' if len(changed) > 3 else ''})"
                 if changed else "", f"old only: {', '.join(gone[:3])}" if gone else "",
                 f"new only: {', '.join(added[:3])}" if added else ""]
        diffs["generator"] = "; ".join(p for p in parts if p)
    co, cn = old["checkpoint"], new["checkpoint"]
    if co is None or cn is None:
        if co is not None or cn is not None:
            diffs["checkpoint"] = f"{'old' if co is None else 'new'} wrote no checkpoint"
    else:
        missing = collections.Counter(co.values()) - collections.Counter(cn.values())
        if missing:
            names = sorted(k for k, h in co.items() if h in missing)
            diffs["checkpoint"] = (f"{sum(missing.values())} of {len(co)} old tensors not in the new one "
                                   f"({', '.join(names[:4])}{', ...' if len(names) > 4 else ''}; "
                                   f"{old['checkpoint_file']} vs {new['checkpoint_file']})")
    if old["metrics"] != new["metrics"]:
        diffs["metrics"] = first_diff_line(old["metrics"], new["metrics"])
    if old["eval"] != new["eval"]:
        diffs["eval"] = first_diff_line(old["eval"], new["eval"])
    return diffs


# ----------------------------------------------------------------------------- identity


def identity(trees: dict[str, Path], names: list[str], steps: int, tmp: Path) -> list[dict]:
    paths = {"{mnist}": FOLDERS["{mnist}"], "{fashion}": FOLDERS["{fashion}"],
             "{table}": write_table(tmp / "table.csv"), "{images}": write_images(tmp / "images")}
    env_extra = {"GANKIT_CACHE": str(tmp / "cache")}  # nothing from the user's cache; both sides alike
    results = []
    for name in names:
        preset, overrides = CASES[name]
        absent = missing_folder(overrides)
        row = {"case": name, "preset": preset, "overrides": overrides}
        if absent is not None:
            row.update(result="skipped", note=f"{absent} is absent")
            print(f"{name:26s} skipped: {absent} is absent", flush=True)
            results.append(row)
            continue
        args = [*fill(overrides, paths), f"train.steps={steps}", "log.every=10", *DETERMINISTIC]
        row["args"] = args
        prints, errors, seconds = {}, {}, {}
        for side in ("old", "new"):
            out = tmp / "runs" / f"{name}-{side}"
            seconds[side], _, err = run_train(trees[side], preset, args, out, env_extra)
            if err is None:
                prints[side] = fingerprint(out)
            else:
                errors[side] = err
            shutil.rmtree(out, ignore_errors=True)
        row["seconds"] = {k: round(v, 2) for k, v in seconds.items()}
        if errors:
            row.update(result="failed", differs={f"error ({k})": v for k, v in errors.items()})
        else:
            diffs = compare(prints["old"], prints["new"])
            row.update(result="differs" if diffs else "identical", differs=diffs,
                       checkpoint_file=prints["new"]["checkpoint_file"])
        detail = "; ".join(f"{k}: {v}" for k, v in row.get("differs", {}).items())
        print(f"{name:26s} {row['result']:9s} old {seconds['old']:5.1f} s, new {seconds['new']:5.1f} s"
              f"{'  ' + detail if detail else ''}", flush=True)
        results.append(row)
    return results


# ----------------------------------------------------------------------------- speed


def speed_once(tree: Path, preset: str, steps: int, tmp: Path, tag: str) -> tuple[float, float]:
    """(steps/s of the training loop from run.json, CPU seconds of the whole process)."""
    out = tmp / "speed" / tag
    data = SPEED_DATA.get(preset)
    args = [f"train.steps={steps}", "train.threads=1", f"log.sample_every={steps}", f"log.checkpoint_every={steps}"]
    if data is not None:
        args.append(f"data.path={FOLDERS[data]}")
    _, cpu, err = run_train(tree, preset, args, out, {"GANKIT_CACHE": str(tmp / "cache")})
    if err is not None:
        raise SystemExit(f"speed run of {preset} in {tree} failed: {err}")
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    shutil.rmtree(out, ignore_errors=True)
    return float(info.get("steps_done", steps)) / float(info["seconds"]), cpu


def speed(trees: dict[str, Path], presets: list[str], rounds: int, steps: int, tmp: Path) -> dict:
    rows, all_ratios = [], []
    for preset in presets:
        data = SPEED_DATA.get(preset)
        if data is not None and not FOLDERS[data].is_dir():
            print(f"speed {preset}: skipped ({FOLDERS[data]} is absent)", flush=True)
            rows.append({"preset": preset, "skipped": f"{FOLDERS[data]} is absent"})
            continue
        sp, ratios, cpu_ratios = {"old": [], "new": []}, [], []
        for r in range(rounds):
            order = ("old", "new") if r % 2 == 0 else ("new", "old")
            got = {k: speed_once(trees[k], preset, steps, tmp, f"{preset}-{r}-{k}") for k in order}
            for k in got:
                sp[k].append(got[k][0])
            ratios.append(got["new"][0] / got["old"][0])
            cpu_ratios.append(got["old"][1] / got["new"][1])
            print(f"speed {preset} round {r}: old {got['old'][0]:.1f} steps/s, new {got['new'][0]:.1f} steps/s, "
                  f"ratio {ratios[-1]:.3f} (process CPU time old/new {cpu_ratios[-1]:.3f})", flush=True)
        all_ratios += ratios
        rows.append({"preset": preset, "old_steps_per_s": statistics.median(sp["old"]),
                     "new_steps_per_s": statistics.median(sp["new"]), "ratio": statistics.median(ratios),
                     "ratios": ratios, "old": sp["old"], "new": sp["new"],
                     "cpu_ratio": statistics.median(cpu_ratios), "cpu_ratios": cpu_ratios})
    overall = statistics.median(all_ratios) if all_ratios else None
    return {"steps": steps, "rounds": rounds, "threads": 1, "presets": rows, "overall_ratio": overall,
            "target": 0.97, "meets_target": overall is not None and overall >= 0.97}


# ----------------------------------------------------------------------------- main


def describe(rev: str) -> str:
    if rev == ".":
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
        return f"working tree ({head.stdout.strip()}{', modified' if dirty.stdout.strip() else ''})"
    p = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"unknown revision {rev!r}")
    return p.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.identity", description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="cases: " + ", ".join(CASES))
    p.add_argument("old", help="a git revision (commit, tag, branch)")
    p.add_argument("new", nargs="?", default=".", help="another revision; default: the working tree (.)")
    p.add_argument("--cases", help="comma-separated case names (default: all)")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="training steps per identity case")
    p.add_argument("--rounds", type=int, default=6, help="alternating (old, new) rounds per speed preset")
    p.add_argument("--speed-presets", default=SPEED_PRESETS)
    p.add_argument("--speed-steps", type=int, default=300, help="training steps per speed run")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--speed-only", action="store_true", help="skip the identity cases")
    g.add_argument("--no-speed", action="store_true", help="skip the speed rounds")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "identity.json")
    a = p.parse_args(argv)
    names = list(CASES) if not a.cases else [c.strip() for c in a.cases.split(",") if c.strip()]
    unknown = [c for c in names if c not in CASES]
    if unknown:
        p.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    revs = {"old": describe(a.old), "new": describe(a.new)}
    load0, t0 = os.getloadavg(), time.perf_counter()
    report: dict = {"command": f"python -m benchmarks.identity {' '.join(argv if argv is not None else sys.argv[1:])}",
                    "old": {"rev": a.old, "is": revs["old"]}, "new": {"rev": a.new, "is": revs["new"]},
                    "python": sys.version.split()[0], "load_average_start": load0[0]}
    with tempfile.TemporaryDirectory(prefix="gankit-identity-") as tmp:
        tmp = Path(tmp)
        trees = {"old": export(a.old, tmp / "old"), "new": export(a.new, tmp / "new")}
        if not a.speed_only:
            t1 = time.perf_counter()
            report["identity"] = {"steps": a.steps, "cases": identity(trees, names, a.steps, tmp)}
            report["identity"]["seconds"] = round(time.perf_counter() - t1, 1)
        if not a.no_speed:
            presets = [s.strip() for s in a.speed_presets.split(",") if s.strip()]
            report["speed"] = speed(trees, presets, a.rounds, a.speed_steps, tmp)
    report["load_average_end"] = os.getloadavg()[0]
    report["seconds"] = round(time.perf_counter() - t0, 1)

    print(f"\n`{report['command']}` — old {a.old} = {revs['old']}, new {a.new} = {revs['new']}; 1 thread; "
          f"load average {load0[0]:.2f} at the start, {report['load_average_end']:.2f} at the end; "
          f"{report['seconds']:.0f} s\n")
    failed = False
    if "identity" in report:
        cases = report["identity"]["cases"]
        print(f"Identity ({a.steps} steps per case, train.deterministic=true, {report['identity']['seconds']:.0f} s):\n")
        print("| case | result | what differs |")
        print("|---|---|---|")
        for c in cases:
            what = c.get("note") or "; ".join(f"{k}: {v}" for k, v in c.get("differs", {}).items())
            print(f"| {c['case']} | {c['result']} | {what.replace('|', '/')} |")
        bad = [c["case"] for c in cases if c["result"] in ("differs", "failed")]
        n_ok = sum(c["result"] == "identical" for c in cases)
        n_skip = sum(c["result"] == "skipped" for c in cases)
        listed = f" ({', '.join(bad)})" if bad else ""
        print(f"\n{n_ok} identical, {len(bad)} differ or failed{listed}, {n_skip} skipped\n")
        report["identity"]["all_identical"] = not bad
        failed = bool(bad)
    if "speed" in report:
        s = report["speed"]
        print(f"Speed ({s['steps']} steps per run, 1 thread, {s['rounds']} alternating rounds; "
              f"steps/s = steps_done / seconds of run.json):\n")
        print(f"| preset | {a.old} steps/s | {a.new if a.new != '.' else 'working tree'} steps/s | "
              f"new/old (median, range) | process CPU time old/new |")
        print("|---|---:|---:|---|---:|")
        for r in s["presets"]:
            if "skipped" in r:
                print(f"| {r['preset']} | — | — | skipped: {r['skipped']} | |")
            else:
                print(f"| {r['preset']} | {r['old_steps_per_s']:.1f} | {r['new_steps_per_s']:.1f} | "
                      f"{r['ratio']:.3f} ({min(r['ratios']):.3f}–{max(r['ratios']):.3f}) | {r['cpu_ratio']:.3f} |")
        if s["overall_ratio"] is not None:
            print(f"| **all** (median of all rounds) | | | **{s['overall_ratio']:.3f}** "
                  f"({'meets' if s['meets_target'] else 'below'} the ≥ 0.97 target) | |")
        print("\n(The CPU-time column is the whole process, start-up and report included: a load-proof "
              "cross-check at one thread, diluted by the fixed costs.)")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"\nJSON: {a.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
