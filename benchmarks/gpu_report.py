"""benchmarks/gpu.py's report: the JSON, the markdown section meant for BENCHMARKS.md, and writing that
section between its markers there (``--record``).

    python -m benchmarks.gpu_report gpu.json      # a JSON a GPU machine sent back -> the section in BENCHMARKS.md
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "BENCHMARKS.md"
START, END = "<!-- gpu-benchmark:start -->", "<!-- gpu-benchmark:end -->"


def markdown(res: dict) -> str:
    """The section for BENCHMARKS.md: the steps/s table (gankit against the plain loop in the same variant,
    and against the plain loop in fp32), sampling, the short training with its scores' caveat, DDP."""
    m = res["meta"]
    lines = [f"Measured {m['date']} with `{m['command']}` ({m.get('seconds', 0):.0f} s) on {m['device_name']}, "
             f"torch {m['torch']}, CUDA {m['cuda']}; batch {m['batch']}; data: random pixels of MNIST's and "
             f"CIFAR-10's shapes for the speeds.", "",
             "| preset | variant | gankit steps/s | plain loop steps/s | ratio | vs plain fp32 "
             "| peak MiB (gankit / plain) |",
             "|---|---|---|---|---|---|---|"]
    fp32 = {r["preset"]: r["reference"]["steps_per_s"] for r in res.get("steps", []) if r["variant"] == "fp32"}
    for r in res.get("steps", []):
        g, ref = r["gankit"], r["reference"]
        ratio = f"{g['steps_per_s'] / ref['steps_per_s']:.2f}x" if ref else "-"
        base = fp32.get(r["preset"])
        vs = f"{g['steps_per_s'] / base:.2f}x" if base else "-"
        mem = f"{_f(g['peak_mib'])} / {_f(ref['peak_mib']) if ref else '-'}"
        plain = f"{ref['steps_per_s']:.2f}" if ref else "-"
        lines.append(f"| {r['preset']} | {r['variant']} | {g['steps_per_s']:.2f} | {plain} | {ratio} | {vs} | {mem} |")
    if res.get("sampling"):
        lines += ["", "| sampling | batch | precision | images/s | peak MiB |", "|---|---|---|---|---|"]
        lines += [f"| {r['preset']} | {r['batch']} | {r['precision']} | {r['images_per_s']:,.0f} | "
                  f"{_f(r['peak_mib'])} |" for r in res["sampling"]]
    t = res.get("train")
    if t:
        scores = ", ".join(f"{k} {v:.4g}" for k, v in (t.get("scores") or {}).items() if isinstance(v, (int, float)))
        lines += ["", f"Short `cifar10-sngan-gpu` training on {t['data']}: {t['steps_done']} G steps in "
                      f"{t['train_seconds']} s ({t['steps_per_s']:.2f} steps/s, peak {_f(t['peak_mib'])} MiB); "
                      f"`gankit eval` ({t.get('eval_seconds', '-')} s): {scores or 'not scored'}. Note: {t['note']}."]
    d = res.get("ddp")
    if d:
        lines += ["", f"DDP: {d.get('skipped') or json.dumps({k: v for k, v in d.items() if k != 'gpus'})}"]
    if res.get("skipped"):
        lines += ["", "Skipped for time: " + ", ".join(res["skipped"])]
    for name, err in (res.get("errors") or {}).items():
        lines += ["", f"Section {name} failed: `{' '.join(err).strip()[-300:]}`"]
    return "\n".join(lines) + "\n"


def _f(v) -> str:
    return "-" if v is None else f"{v:,.0f}"


def write(res: dict, out: Path) -> None:
    """``out``/gpu.json and ``out``/gpu.md (called after every section: a run stopped early still reports)."""
    out.mkdir(parents=True, exist_ok=True)
    clean = json.loads(json.dumps(res, default=str))
    (out / "gpu.json").write_text(json.dumps(clean, indent=1))
    (out / "gpu.md").write_text(markdown(clean))


def record(md: str) -> None:
    """Put ``md`` between the markers in BENCHMARKS.md (or append a section with them)."""
    from benchmarks.markers import put_between

    put_between(DOC, START, END, md, heading="## GPU (python -m benchmarks.gpu)\n\n")

if __name__ == "__main__":
    import sys

    record(markdown(json.loads(Path(sys.argv[1]).read_text())))
    print(f"wrote the GPU section of {DOC}")
