"""Plots with matplotlib's Agg backend (no display): samples of tables, loss and metric curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def table_plot(fake: np.ndarray, path: str | Path, real: np.ndarray | None = None, title: str = "",
               columns: list[str] | None = None) -> Path:
    """1-D: overlaid histograms; 2-D or more: scatter of the first two columns."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 5) if fake.shape[1] > 1 else (6, 4), dpi=100)
    if fake.shape[1] == 1:
        lo = min(fake.min(), real.min()) if real is not None else fake.min()
        hi = max(fake.max(), real.max()) if real is not None else fake.max()
        bins = np.linspace(lo, hi, 60)
        if real is not None:
            ax.hist(real[:, 0], bins=bins, alpha=0.5, density=True, label="real")
        ax.hist(fake[:, 0], bins=bins, alpha=0.5, density=True, label="generated")
        ax.legend()
        ax.set_xlabel(columns[0] if columns else "x")
    else:
        if real is not None:
            ax.scatter(real[:, 0], real[:, 1], s=2, alpha=0.3, label="real")
        ax.scatter(fake[:, 0], fake[:, 1], s=2, alpha=0.5, label="generated")
        ax.legend(markerscale=4)
        ax.set_aspect("equal", adjustable="datalim")
        if columns:
            ax.set_xlabel(columns[0])
            ax.set_ylabel(columns[1])
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def loss_curves(csv_path: str | Path, path: str | Path) -> Path:
    """The statistics of metrics.csv over steps: losses (``*_loss``) in one panel, the rest (D's
    outputs, for the noise task) in another."""
    import csv

    plt = _plt()
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    names = [k for k in (rows[0] if rows else {}) if k not in ("step", "epoch", "seconds")]
    losses, others = [k for k in names if k.endswith("loss")], [k for k in names if not k.endswith("loss")]
    step = [int(r["step"]) for r in rows]
    fig, axes = plt.subplots(1, 2 if others else 1, figsize=(10 if others else 5, 3.5), dpi=100, squeeze=False)
    labels = {"d_real": "D(x)", "d_fake": "D(G(z))"}
    for ax, keys, title in ((axes[0][0], losses, "losses"), (axes[0][-1], others, "discriminator outputs"
                                                               if {"d_real", "d_fake"} & set(others) else "statistics")):
        if not keys:
            continue
        for key in keys:
            ax.plot(step, [float(r[key]) if r[key] else float("nan") for r in rows], label=labels.get(key, key))
        ax.set_xlabel("step")
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def metric_curves(csv_path: str | Path, path: str | Path, best: tuple[str, int] | None = None,
                  direction=lambda score: 0) -> Path | None:
    """One panel per score of eval_metrics.csv (step, metric, value) over training steps.

    ``best`` = (score, step) marks the step kept in best/ on every panel (a dashed line) and the point
    on its own score's panel; ``direction(score)`` (+1 higher / -1 lower is better, the metric
    registry's) titles each panel. Returns None, drawing nothing, when the file holds no scores yet.
    """
    import math

    from gankit.metrics.evalcsv import read_eval_csv

    curves = read_eval_csv(csv_path)
    if not curves:
        return None
    plt = _plt()
    cols = min(3, len(curves))
    rows = math.ceil(len(curves) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), dpi=100, squeeze=False)
    for ax, (name, (steps, values)) in zip(axes.flat, curves.items()):
        values = [v if math.isfinite(v) else math.nan for v in values]  # inf (no samples near a mode): a gap
        ax.plot(steps, values, marker="o", markersize=3)
        if all(math.isnan(v) for v in values):
            ax.text(0.5, 0.5, "no finite values yet", ha="center", va="center", transform=ax.transAxes)
        way = {1: "higher is better", -1: "lower is better"}.get(direction(name), "")
        ax.set_title(f"{name} ({way})" if way else name)
        ax.set_xlabel("step")
        if best is not None and best[1] in steps:
            ax.axvline(best[1], color="grey", linestyle="--", linewidth=1)
            if name == best[0]:
                ax.plot([best[1]], [values[steps.index(best[1])]], marker="*", markersize=14, color="C3",
                        linestyle="none", label=f"best (step {best[1]})")
                ax.legend()
    for ax in list(axes.flat)[len(curves):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
