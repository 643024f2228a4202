"""Training-step speed of two gankit revisions, side by side (did a change slow the hot loop?).

    python -m benchmarks.compare_revisions 2db9154                    # that commit vs the working tree
    python -m benchmarks.compare_revisions 2db9154 --presets mnist-mlp,mnist-dcgan --rounds 6

Each revision is exported with ``git archive`` into a temporary folder; every measurement is a fresh
process that imports gankit from one of the two trees, builds the preset's trainer on random stand-in
data of the preset's shape (so no data set is read), runs warm-up steps, then times ``--steps`` calls
of ``train_step`` (``Stepper.train_step``; ``Trainer.train_step`` before the task seam). Rounds alternate the order (old, new / new, old) so both see the same
background load; the ratio reported is the median of the per-round ratios (new / old steps per
second: above 1 = the working tree is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: runs inside the measured process; works with the revisions before the task seam (runner.build,
#: trainer.Batches) and after it (run.session.build, training.batches.Batches)
SNIPPET = r"""
import json, sys, time, torch
from gankit.config import load
from gankit.data import Data
try:
    from gankit.run.session import build
    from gankit.training.batches import Batches
    from gankit.modalities.base import Codec
    def standin(x, name):
        return Data(x, "image", name, Codec(offset=torch.tensor([0.5]), scale=torch.tensor([0.5]), clamp=(0.0, 1.0)))
    def batches(data, n):
        return Batches({"x": data.x}, n, seed=0)
except ImportError:  # before the task seam
    from gankit.runner import build
    from gankit.trainer import Batches
    def standin(x, name):
        return Data(x, "image", name, offset=torch.tensor([0.5]), scale=torch.tensor([0.5]))
    def batches(data, n):
        return Batches(data.x, n, seed=0)
preset, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
cfg = load(preset, ["train.device=cpu"])
shape = {"mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28)}.get(cfg.data.name)
if shape is not None:  # image data sets: random stand-in of the shape (nothing to read)
    data, t = build(cfg, torch.device("cpu"), standin(torch.rand(4096, *shape) * 2 - 1, cfg.data.name))
else:  # toy tables and digits are made or bundled: the real thing
    data, t = build(cfg, torch.device("cpu"))
b = batches(data, cfg.train.batch_size)
for _ in range(20):
    t.train_step(b)
start = time.perf_counter()
for _ in range(steps):
    st = t.train_step(b)
float(st["d_loss"] if isinstance(st, dict) else st.d_loss)
print(json.dumps({"steps_per_s": steps / (time.perf_counter() - start)}))
"""


def export(rev: str, dest: Path) -> Path:
    """The tree of ``rev`` (``git archive``), or the working tree for ``rev == "."``."""
    if rev == ".":
        return ROOT
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def measure(tree: Path, preset: str, steps: int, threads: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": str(threads)}
    out = subprocess.run([sys.executable, "-c", SNIPPET, preset, str(steps), str(threads)], cwd=tree, env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"measuring {preset} in {tree} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["steps_per_s"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.compare_revisions", description=__doc__.splitlines()[0])
    p.add_argument("old", help="a git revision (commit, tag, branch)")
    p.add_argument("new", nargs="?", default=".", help="another revision; default: the working tree")
    p.add_argument("--presets", default="mnist-mlp,mnist-dcgan")
    p.add_argument("--steps", type=int, default=100, help="timed steps per measurement")
    p.add_argument("--rounds", type=int, default=4, help="alternating (old, new) pairs per preset")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    load0 = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(prefix="gankit-revs-") as tmp:
        old, new = export(a.old, Path(tmp) / "old"), export(a.new, Path(tmp) / "new")
        for preset in a.presets.split(","):
            ratios, speeds = [], {"old": [], "new": []}
            for r in range(a.rounds):
                order = ("old", "new") if r % 2 == 0 else ("new", "old")
                got = {k: measure(old if k == "old" else new, preset, a.steps, a.threads) for k in order}
                for k in got:
                    speeds[k].append(got[k])
                ratios.append(got["new"] / got["old"])
                print(f"{preset} round {r}: old {got['old']:.2f} steps/s, new {got['new']:.2f} steps/s, "
                      f"ratio {ratios[-1]:.3f}", flush=True)
            rows.append((preset, statistics.median(speeds["old"]), statistics.median(speeds["new"]),
                         statistics.median(ratios), min(ratios), max(ratios)))
    print(f"\n`python -m benchmarks.compare_revisions {' '.join(argv if argv is not None else sys.argv[1:])}` — "
          f"{a.threads} thread(s), {a.steps} steps x {a.rounds} rounds; load average {load0[0]:.2f} at the start, "
          f"{os.getloadavg()[0]:.2f} at the end\n")
    print(f"| preset | {a.old} steps/s | {a.new if a.new != '.' else 'working tree'} steps/s | ratio (median, range) |")
    print("|---|---:|---:|---|")
    for preset, so, sn, med, lo, hi in rows:
        print(f"| {preset} | {so:.2f} | {sn:.2f} | {med:.3f} ({lo:.3f}–{hi:.3f}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
