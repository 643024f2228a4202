"""``gankit eval RUN``: score a run's final generator and write ``RUN/eval.json``; print the scores.

:func:`evaluate_run` loads the run's final generator and its training data (rebuilt from the run's
``config.yaml``), then goes through the one evaluation pipeline (:mod:`gankit.metrics.pipeline`,
shared with evaluation during training) with the ``gankit eval`` defaults: choose and check the
metrics, draw the real reference, build the extractor, draw N samples with a fixed seed, score.
Every score is stored with its provenance — extractor name and weights sha256, number of real and
generated samples, reference split, seed, checkpoint step — because an FID without them cannot be
compared with anything; and with two yardsticks printed beside it: which way is better, and what
real data scores against the same reference (``real_vs_real``: held-out against training data, or
two halves of the training data). Everything that can fail is checked before the generator samples.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from gankit import __version__
from gankit.errors import GankitError
from gankit.metrics.pipeline import GANKIT_EVAL, json_safe, prepare_for_data, refuse_unscored
from gankit.run.folder import EVAL_JSON as EVAL_FILE
from gankit.run.folder import MODEL

__all__ = ["EVAL_FILE", "evaluate_run", "format_scores"]


def evaluate_run(
    run: str | Path,
    *,
    metrics: str | list[str] | None = None,
    n: int | None = None,
    extractor: str | None = None,
    inception_weights: str | None = None,
    seed: int = 0,
    device: str = "cpu",
    quiet: bool = True,
    write: bool = True,
    target: str | None = None,
    data=None,
    truncation: list[float] | None = None,
) -> dict:
    """Score the final generator of a run folder; returns the eval.json document (and writes it).

    Table runs: ``target`` is the column the utility metric predicts (default: the run's eval.target);
    ``data``: the DataFrame a run trained from Python on (its rows are not kept in the run folder).
    ``truncation``: the same scores again for samples drawn with each truncation threshold (BigGAN's
    trade of diversity for fidelity: precision should rise and recall fall as it shrinks), in
    ``doc["truncation"]``; the main scores stay those of untruncated codes."""
    from gankit.run.folder import load_run_config
    from gankit.sampling import load

    run = Path(run)
    if not run.is_dir():
        raise GankitError(f"{run}: no such run folder")
    g = load(run, device=device)  # GankitError when the run has no final generator
    refuse_unscored(g.kind)
    if write:
        _check_writable(run)
    cfg = load_run_config(run)
    _check_truncation(run, g, truncation)
    if hasattr(_task(cfg), "evaluate_run"):  # a task scored its own way (super-resolution: pairs)
        return _write(run, _task(cfg).evaluate_run(run, g, cfg, seed), g, seed, write)
    data = _run_data(run, cfg, data)
    if tuple(data.shape) != tuple(g.shape):
        raise GankitError(f"{run}: the generator makes items of shape {g.shape} but the run's data now has "
                          f"{tuple(data.shape)}; was data.path changed?")
    plan = prepare_for_data(data, cfg.data, GANKIT_EVAL, metrics=metrics, n=n, extractor=extractor,
                            inception_weights=inception_weights, seed=seed, device=device, quiet=quiet,
                            real_vs_real=True, table_target=target if target is not None else cfg.eval.target)
    if not quiet:
        print(f"gankit: sampling {plan.n} items from {run} (seed {seed})", file=sys.stderr, flush=True)
    fake, requested = plan.generate(g)
    step = g.meta.get("step")
    scores = plan.real_vs_real(plan.score(fake, requested, step, progress=not quiet))
    part = {"data": {"dataset": plan.dataset, "kind": data.kind, "shape": list(data.shape), "items": len(data),
                     "reference_split": plan.reference_split, **({"split": data.split} if data.split else {})},
            "settings": {"metrics": list(plan.metrics), "n": plan.n, "seed": seed,
                         "extractor": plan.extractor.name if plan.extractor is not None else None},
            "scores": json_safe(scores)}
    if truncation:
        part["truncation"] = [{"truncation": t, "scores": json_safe(plan.score(plan.generate(g, t)[0], requested, step))}
                              for t in truncation]
    return _write(run, part, g, seed, write)


def _check_truncation(run: Path, g, truncation: list[float] | None) -> None:
    if truncation and not getattr(g, "latent_dim", 0):
        raise GankitError(f"{run}: --truncation needs a generator with a latent input; this run's has none")
    if truncation and any(not t > 0 for t in truncation):
        raise GankitError(f"--truncation thresholds must be > 0 (e.g. 0.5,0.7,1.0), got {truncation}")


def _task(cfg):
    from gankit.tasks import get_task

    return get_task(cfg.task)


def _write(run: Path, part: dict, g, seed: int, write: bool) -> dict:
    """eval.json of a task's own evaluation (``part``: its scores and data) with the common provenance."""
    from gankit import checkpoint

    step = g.meta.get("step")
    doc = {"gankit_version": __version__, "created": datetime.now().isoformat(timespec="seconds"), "run": str(run),
           "checkpoint": {"file": f"{MODEL}.json", "step": step,
                          "sha256": checkpoint.read_meta(run / f"{MODEL}.json")["sha256"]},
           "data": part["data"], "settings": part.get("settings", {"metrics": list(part["scores"]), "seed": seed}),
           "scores": part["scores"], **({"truncation": part["truncation"]} if "truncation" in part else {})}
    if write:
        checkpoint.atomic_write(run / EVAL_FILE, (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode())
    return doc


def _run_data(run: Path, cfg, frame):
    """The run's training data again, as its task reads it (a table task's DataFrame must be given)."""
    from gankit.data import load_data
    from gankit.tasks import get_task

    typed = bool(getattr(get_task(cfg.task), "reads_tables", False))
    if typed and frame is None and cfg.data.path is None:
        raise GankitError(f"{run} was trained on a DataFrame, which the run folder does not keep; evaluate it from "
                          f"Python: gankit.evaluate({str(run)!r}, data=df)")
    return load_data(cfg.data, output=cfg.generator.output, seed=cfg.train.seed, typed=typed, frame=frame)


def _check_writable(run: Path) -> None:
    """Refuse a run folder eval.json cannot be written to before minutes of sampling, not after."""
    from gankit.run.folder import probe_writable

    try:
        if (run / EVAL_FILE).is_dir():
            raise IsADirectoryError(21, "it is a folder")
        probe_writable(run / f".{EVAL_FILE}.write-test")
    except OSError as e:
        raise GankitError(f"cannot write {run / EVAL_FILE} ({e.strerror}); make the run folder writable, or "
                          f"copy it somewhere writable and evaluate the copy") from None


def _fmt(v) -> str:
    if v is None:
        return "inf"  # stored as null: only infinite scores are None
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def format_scores(doc: dict) -> str:
    """A table of the scores of an eval.json document, provenance beside each number."""
    head = ["metric", "value", "better", "real-vs-real", "features", "n_real", "n_gen", "reference", "seed", "step"]
    rows = []
    for name, s in doc["scores"].items():
        feats = "-" if not s.get("extractor") else (
            s["extractor"] + (f" sha256:{s['extractor_sha256'][:12]}" if s.get("extractor_sha256") else ""))
        ref = f"{s['reference']}/{s['reference_split']}" if s.get("reference_split") else (
            f"{s['centres']} centres" if s.get("centres") else "-")
        rvr = s.get("real_vs_real")
        rows.append([name, _fmt(s["value"]), s.get("better") or "-", _fmt(rvr["value"]) if rvr else "-", feats,
                     str(s["n_real"]) if s["n_real"] is not None else "-", str(s["n_generated"]), ref,
                     str(s["seed"]), str(s["step"])])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [f"{doc['run']}: {doc['data']['dataset']}, checkpoint step {doc['checkpoint']['step']}"]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head, *rows]]
    pair = next((s["real_vs_real"] for s in doc["scores"].values() if s.get("real_vs_real")), None)
    if pair:
        a, b = pair["splits"]
        lines.append(f"real-vs-real: the same metric on {pair['n'][1]} real {b} items in place of the generated "
                     f"ones, against {pair['n'][0]} {a} items" + (" (two halves of the training data)" if a == b else ""))
    if doc.get("truncation"):
        names = [k for k, v in doc["truncation"][0]["scores"].items() if isinstance(v.get("value"), (int, float))]
        lines.append("truncation (fidelity vs diversity; 'none' = the scores above): " + "  ".join(["t", *names]))
        lines.append("  none  " + "  ".join(_fmt(doc["scores"][k]["value"]) for k in names))
        for row in doc["truncation"]:
            lines.append(f"  {row['truncation']:g}  " + "  ".join(_fmt(row["scores"][k]["value"]) for k in names))
    for name, s in doc["scores"].items():
        if "histogram" in s:
            labels = s.get("classes") or [str(i) for i in range(len(s["histogram"]))]
            lines.append(f"{name} histogram: " + " ".join(f"{c}:{h}" for c, h in zip(labels, s["histogram"])))
    return "\n".join(lines)
