"""Pictures of synthetic tables against real ones (matplotlib Agg, PNG), from column-space matrices.

* :func:`column_plots`: one small panel per used column: overlaid histograms on shared bins for
  numbers and datetimes, side-by-side bars of the category shares for categories and booleans (the
  12 most common real categories and "other"); missing cells are a bar of their own;
* :func:`correlation_plots`: the association matrices of real and synthetic side by side on one
  colour scale [0, 1]: |Pearson r| for two numbers, Cramér's V (Cramér 1946) for two categories, the
  correlation ratio eta (Pearson 1905) for a number and a category; missing cells left out pairwise.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from gankit.report.plots import _plt
from gankit.tables.schema import NUMERIC, Column, TableSchema

#: the association matrices of the latest sample plot, written beside it in the run's samples/ folder
CORRELATIONS = "correlations.png"
TOP_CATEGORIES = 12
BINS = 30


def _category_shares(x: np.ndarray, keep: list[int]) -> np.ndarray:
    """Shares of the ``keep`` categories, "other" and missing in one column."""
    n = max(len(x), 1)
    miss = np.isnan(x)
    kept = [np.sum(x == k) / n for k in keep]
    return np.array([*kept, (np.sum(~miss) - sum(np.sum(x == k) for k in keep)) / n, miss.sum() / n])


def _category_panel(ax, real: np.ndarray | None, fake: np.ndarray, col: Column) -> None:
    ref = fake if real is None else real  # samples on their own: their own most common categories
    codes, counts = np.unique(ref[~np.isnan(ref)], return_counts=True)
    keep = [int(c) for c in codes[np.argsort(-counts)][:TOP_CATEGORIES]]
    labels = [col.categories[k] if k < len(col.categories) else str(k) for k in keep] + ["other", "missing"]
    shares = _category_shares(ref, keep), _category_shares(fake, keep)
    show = [i for i in range(len(labels)) if shares[0][i] > 0 or shares[1][i] > 0]
    pos = np.arange(len(show))
    if real is not None:
        ax.bar(pos - 0.2, shares[0][show], width=0.4, label="real")
    ax.bar(pos + (0.2 if real is not None else 0.0), shares[1][show], width=0.4, label="synthetic")
    ax.set_xticks(pos, [labels[i][:12] for i in show], rotation=60, ha="right", fontsize=6)


def _number_panel(ax, real: np.ndarray | None, fake: np.ndarray) -> None:
    real = np.empty(0) if real is None else real
    r, f = real[~np.isnan(real)], fake[~np.isnan(fake)]
    both = np.concatenate([r, f])
    if len(both):
        bins = np.histogram_bin_edges(both, bins=BINS)
        if len(r):
            ax.hist(r, bins=bins, alpha=0.5, density=True, label="real")
        ax.hist(f, bins=bins, alpha=0.5, density=True, label="synthetic")
    miss = np.isnan(real).mean() if len(real) else 0.0, np.isnan(fake).mean() if len(fake) else 0.0
    if max(miss) > 0:
        ax.text(0.98, 0.95, f"missing: real {miss[0]:.1%}, synthetic {miss[1]:.1%}", transform=ax.transAxes,
                ha="right", va="top", fontsize=6)
    ax.tick_params(labelsize=6)


def column_plots(real: np.ndarray | None, fake: np.ndarray, schema: TableSchema, path: str | Path) -> Path:
    """A grid of one panel per used column, real against synthetic, written as a PNG to ``path``."""
    plt = _plt()
    cols = schema.used
    ncol = min(4, max(len(cols), 1))
    nrow = math.ceil(len(cols) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.6 * nrow), dpi=100, squeeze=False)
    for j, col in enumerate(cols):
        ax = axes.flat[j]
        r = None if real is None else real[:, j]  # None: the samples alone (gankit sample --out x.png)
        if col.kind in NUMERIC:
            _number_panel(ax, r, fake[:, j])
        else:
            _category_panel(ax, r, fake[:, j], col)
        ax.set_title(f"{col.name} ({col.kind})", fontsize=8)
    for ax in list(axes.flat)[len(cols):]:
        ax.axis("off")
    if cols:
        axes.flat[0].legend(fontsize=6)
    _save(fig, path)
    plt.close(fig)
    return Path(path)


def _save(fig, path) -> None:
    """Lay out and write; words in scripts the bundled font lacks (東京) show as boxes, without a warning
    per glyph."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.tight_layout()
        fig.savefig(path)


# ----------------------------------------------------------------------------- associations


def correlation_ratio(categories: np.ndarray, values: np.ndarray) -> float:
    """eta = sqrt(between-category variance / total variance) of a number given a category."""
    total = np.var(values) * len(values)
    if len(values) < 2 or total == 0:
        return float("nan")
    between = sum(np.sum(categories == c) * (values[categories == c].mean() - values.mean()) ** 2
                  for c in np.unique(categories))
    return float(np.sqrt(between / total))


def association(x: np.ndarray, y: np.ndarray, x_number: bool, y_number: bool) -> float:
    """|Pearson r|, Cramér's V or the correlation ratio of two columns, over the rows where both are present."""
    from gankit.metrics.tables import cramers_v

    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if len(x) < 2:
        return float("nan")
    if x_number and y_number:
        return float(abs(np.corrcoef(x, y)[0, 1])) if np.ptp(x) > 0 and np.ptp(y) > 0 else float("nan")
    if not x_number and not y_number:
        return cramers_v(np.stack([x, y], axis=1).astype(np.int64))
    return correlation_ratio(y, x) if x_number else correlation_ratio(x, y)


def association_matrix(x: np.ndarray, schema: TableSchema) -> np.ndarray:
    """(C, C) associations in [0, 1] of the column space (1 on the diagonal)."""
    number = [c.kind in NUMERIC for c in schema.used]
    c = len(number)
    m = np.eye(c)
    with np.errstate(all="ignore"):
        for i in range(c):
            for j in range(i + 1, c):
                m[i, j] = m[j, i] = association(x[:, i], x[:, j], number[i], number[j])
    return m


def correlation_plots(real: np.ndarray, fake: np.ndarray, schema: TableSchema, path: str | Path) -> Path:
    """Real and synthetic association matrices side by side, one colour scale, written as a PNG."""
    plt = _plt()
    names = [c.name for c in schema.used]
    size = max(4.0, 0.35 * len(names) + 2)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 1, size), dpi=100)
    for ax, x, title in zip(axes, (real, fake), ("real", "synthetic")):
        im = ax.imshow(association_matrix(x, schema), vmin=0.0, vmax=1.0, cmap="viridis")
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_title(f"{title}: |r|, Cramér's V, correlation ratio", fontsize=9)
    fig.colorbar(im, ax=list(axes), shrink=0.8)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return Path(path)
