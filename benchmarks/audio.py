"""Sound quality on FSDD: conditional SpecGAN and WaveGAN against real clips and two baselines, in the feature
space of gankit's spoken-digit classifier (issue 16, point 4).

For each preset: train at one thread for at most ``--minutes`` of CPU time (``train.time_limit`` with
``train.time_clock=cpu``, so that other jobs on the machine do not shorten the run; an interrupted
run is resumed from its checkpoint, a finished one reused), write ``--n`` WAV files with ``gankit
sample RUN --n N --out DIR/`` (the CLI, as a user would), read them back from disk and score them:
the classifier score (Salimans et al. 2016's formula on the digit classifier, as Donahue et al. 2019),
FID in its features (Heusel et al. 2017), the share of clips recognised as the digit asked for, the
class histogram, and the nearest-neighbour near-copy check. Beside them: the real test clips (the
ceiling; their FID is the training clips' against them), Gaussian noise, and each digit's mean
spectrogram through the same Griffin–Lim (a generator that learnt templates only). Both presets are scored
the same way on the WAV files (WaveGAN's are its waveforms, SpecGAN's come through Griffin–Lim). Last, when
librosa is installed, gankit's mel filters, STFT and Griffin–Lim against librosa's (benchmarks.audio_librosa).

    python -m benchmarks.audio                  # ~20 min per preset at 1 thread; benchmarks/out/audio.{json,md}
    python -m benchmarks.audio --quick          # smoke test: 600 clips, 20 s of training, 200 clips scored
    python -m benchmarks.audio --presets fsdd-wavegan   # that row only, beside the real clips and the baselines

Numbers are NOT comparable with the SC09 figures of Donahue et al. 2019 (real 9.18, WaveGAN 4.7, SpecGAN
6.0): other data (FSDD: 6 speakers, 8 kHz), another classifier, other sample counts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FSDD = ROOT.parent / "shared" / "data" / "fsdd" / "recordings"
OUT = ROOT / "benchmarks" / "out"
PRESETS = ("fsdd-specgan", "fsdd-wavegan")
COLUMNS = ("classifier_score", "fid", "conditional_accuracy", "class_kl", "nn_distance", "near_copies")
TARGETS = "conditional SpecGAN: requested-digit accuracy >= 0.80 and classifier score >= half the real test clips'"
SECONDS = "seconds"  # metrics.csv's column of training time


def quick_folder(src: Path, dst: Path) -> Path:
    """A 600-clip FSDD subset (recordings 0-9 of every speaker and digit: 300 test, 300 training), as links."""
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.glob("*_[0-9].wav"):
        if not (dst / f.name).exists():
            (dst / f.name).symlink_to(f.resolve())
    return dst


def gankit_cli(*args: str) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "gankit", *args], check=True, env=env, cwd=ROOT)


def train(preset: str, data: Path, run: Path, limit: str, extra: list[str]) -> float:
    """Train (or resume, or reuse) ``run``; the seconds this call spent."""
    t = time.perf_counter()
    if (run / "generator.json").exists() and json.loads((run / "run.json").read_text()).get("status") != "running":
        return 0.0
    if (run / "run.json").exists():
        gankit_cli("train", "--resume", str(run), "--quiet")
    else:
        # the limit in CPU seconds: other jobs on a shared machine do not eat into the run's budget
        gankit_cli("train", preset, f"data.path={data}", "train.threads=1", f"train.time_limit={limit}",
                   "train.time_clock=cpu", *extra, "--out", str(run), "--quiet")
    return time.perf_counter() - t


def row(scores: dict, real: bool = False) -> dict:
    """The table's numbers of one set of scores (the real clips' FID: training clips against them)."""
    out = {k: (scores[k]["value"] if k in scores else None) for k in COLUMNS}
    if real:
        out["fid"] = (scores["fid"].get("real_vs_real") or {}).get("value")
    if "nn_distance" in scores:
        out["nn_ratio"] = scores["nn_distance"].get("ratio")
    if "class_kl" in scores:
        out["histogram"] = scores["class_kl"]["histogram"]
    return out


def run_benchmark(args) -> dict:
    import torch

    from gankit.api import list_presets, load_config
    from gankit.data import load_data
    from gankit.metrics.sound_eval import (class_mean_clips, noise_clips, read_clip_folder, score_clips,
                                           sound_plan)

    torch.set_num_threads(1)
    out = Path(args.out)
    data_dir = quick_folder(Path(args.data), out / "fsdd-quick") if args.quick else Path(args.data)
    cfg = load_config("fsdd-specgan", f"data.path={data_dir}").data
    data = load_data(cfg)
    t = time.perf_counter()
    plan = sound_plan(data, cfg, args.n, quiet=False)  # trains the classifier on first use (cached)
    setup = time.perf_counter() - t
    clf = plan.classifier.meta
    from gankit.data.split import heldout_data

    held, _ = heldout_data(cfg, data)
    rows = {"real test clips": row(score_clips(plan, data, held.raw.numpy(), [data.classes[i] for i in held.labels]),
                                   real=True)}
    runs = {}
    for preset in [p for p in args.presets if p in list_presets()]:
        run = out / "runs" / preset
        seconds = train(preset, data_dir, run, args.limit, args.extra)
        clips_dir = out / "clips" / preset
        shutil.rmtree(clips_dir, ignore_errors=True)  # a rerun after more training: no stale clips
        gankit_cli("sample", str(run), "--n", str(args.n), "--out", f"{clips_dir}/", "--seed", "0")
        clips, names = read_clip_folder(clips_dir, data.raw.shape[1])
        rows[preset] = {**row(score_clips(plan, data, clips, names)), "clips": len(clips)}
        runs[preset] = {"run": str(run), "train_seconds_this_call": round(seconds, 1), **training_of(run)}
    rows["class-mean templates"] = row(score_clips(plan, data, *class_mean_clips(data, args.n)))
    rows["noise"] = row(score_clips(plan, data, *noise_clips(data, args.n)))
    from benchmarks.audio_librosa import compare

    return {"quick": args.quick, "data": str(data_dir), "n": args.n, "time_limit": args.limit, "rows": rows,
            "runs": runs, "setup_seconds": round(setup, 1), "targets": targets(rows), "librosa": compare(),
            "classifier": {k: clf.get(k) for k in ("n_holdout", "test_accuracy", "n_test", "train_seconds",
                                                   "epochs", "n_items", "data_sha256")}
                          | {"weights_sha256": plan.classifier.sha256, "accuracy": holdout_accuracy(clf)}}


def holdout_accuracy(meta: dict) -> float | None:
    """The classifier's held-out accuracy: ``holdout_accuracy`` in sidecars that name the test split's
    accuracy *the* accuracy, ``accuracy`` in those cached before (gankit.metrics.classifier)."""
    return meta.get("holdout_accuracy", meta.get("accuracy") if meta.get("accuracy_on") != "test split" else None)


def training_of(run: Path) -> dict:
    """A run's status, steps and training seconds (the last line of metrics.csv), for the table's notes."""
    import csv

    info = json.loads((run / "run.json").read_text())
    with open(run / "metrics.csv", newline="") as f:
        last = list(csv.DictReader(f))[-1:]
    seconds = float(last[0][SECONDS]) if last and last[0].get(SECONDS) else None
    return {"status": info.get("status"), "steps": info.get("steps_done"), "train_seconds": seconds}


def targets(rows: dict) -> dict:
    spec, real = rows.get("fsdd-specgan"), rows["real test clips"]
    if spec is None:
        return {"met": None, "rule": TARGETS}
    acc_ok = (spec["conditional_accuracy"] or 0) >= 0.80
    score_ok = spec["classifier_score"] >= 0.5 * real["classifier_score"]
    return {"met": acc_ok and score_ok, "accuracy": acc_ok, "classifier_score": score_ok, "rule": TARGETS}


def fmt(v) -> str:
    return "-" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(v))


def markdown(doc: dict) -> str:
    c = doc["classifier"]
    quick = " (quick smoke run: not a result)" if doc["quick"] else ""
    lines = [f"### Sound: FSDD, conditional SpecGAN and WaveGAN{quick}", "",
             f"`python -m benchmarks.audio`: at most {doc['time_limit']} of training per preset at 1 thread, "
             f"{doc['n']} clips each written by `gankit sample` and read back from disk. Spoken-digit classifier: "
             f"held-out accuracy {fmt(c['accuracy'])} ({c['n_holdout']} training-split clips), "
             f"{fmt(c.get('test_accuracy'))} on the {c.get('n_test')} test clips; trained in {c['train_seconds']} s; "
             f"weights sha256 {str(c['weights_sha256'])[:12]}.", "",
             "| clips | classifier score | FID (classifier) | requested digit | class KL | NN distance (ratio to real) | "
             "near copies |", "|---|---|---|---|---|---|---|"]
    for name, r in doc["rows"].items():
        lines.append(f"| {name} | {fmt(r['classifier_score'])} | {fmt(r['fid'])} | {fmt(r['conditional_accuracy'])} | "
                     f"{fmt(r['class_kl'])} | {fmt(r['nn_distance'])} ({fmt(r.get('nn_ratio'))}) | "
                     f"{fmt(r['near_copies'])} |")
    trained = [f"`{p}`: {r.get('steps')} steps in {fmt_minutes(r.get('train_seconds'))} ({r.get('status')})"
               for p, r in doc["runs"].items()]
    lines += ["", "; ".join(trained) + "."] if trained else []
    t = doc["targets"]
    lines += ["", f"Target ({t['rule']}): {'met' if t['met'] else 'not met' if t['met'] is False else 'not measured'}.",
              "", "Not comparable with Donahue et al. 2019's SC09 numbers (real 9.18, WaveGAN 4.7, SpecGAN 6.0): "
              "other data (FSDD, 6 speakers, 8 kHz), another classifier, other sample counts. The real clips' FID "
              "is the training clips' against the test clips; their requested digit is their own label."]
    from benchmarks.audio_librosa import markdown as librosa_markdown

    lines += ["", librosa_markdown(doc["librosa"]).rstrip()] if "librosa" in doc else []
    return "\n".join(lines) + "\n"


def fmt_minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(FSDD), help="FSDD's recordings/ folder")
    p.add_argument("--out", default=str(OUT / "audio"), help="runs, clips and the classifier cache go here")
    p.add_argument("--quick", action="store_true", help="smoke test: 600 clips, 20 s of training, 200 clips")
    p.add_argument("--minutes", type=float, default=20.0, help="training time limit per preset")
    p.add_argument("--n", type=int, default=None, help="clips per model and baseline (2,000; quick: 200)")
    p.add_argument("--presets", default=",".join(PRESETS), help=f"comma-separated presets to train and score "
                   f"(default {','.join(PRESETS)})")
    args = p.parse_args(argv)
    args.n = args.n or (200 if args.quick else 2000)
    args.presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    args.limit = "20s" if args.quick else f"{args.minutes:g}m"
    args.extra = ["log.sample_every=1000000", "log.checkpoint_every=100"] if args.quick else []
    os.environ.setdefault("GANKIT_CACHE", str(Path(args.out) / "cache"))
    doc = run_benchmark(args)
    name = "audio_quick" if args.quick else "audio"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n")
    (OUT / f"{name}.md").write_text(markdown(doc))
    print(markdown(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
