"""Latent walks written to a file: ``gankit sample RUN --interpolate STEPS --out walk.png|walk.gif|walk.npy|walk.csv``.

Codes (:meth:`TrainedGenerator.latent`): ``--seed A --to-seed B`` walks from the code of ``A`` to the code
of ``B`` (the code of a seed is the one ``gankit sample --n 1 --seed A`` draws); otherwise ``--n`` walks
between random codes (reproducible with ``--seed``). ``--truncation t`` draws the codes truncated.

Layout: a ``.png`` grid has one row per walk and one column per step; a class-conditional run renders
every point in every class, the same code across a row: one row per point of each walk, one column per
class (``--label`` keeps one class: rows are walks again). A ``.gif`` plays the steps, each frame the
grid of every walk (and class) at that step. ``.npy`` keeps the array (steps, walks, [classes,] *item);
``.csv`` (numeric tables) one row per point with its walk, step and class.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gankit.errors import GankitError

GIF_MS = 150  # per frame


def walk_codes(g, n: int, seed: int | None, to_seed: int | None, truncation: float | None):
    """(z0, z1), each (walks, latent_dim)."""
    if to_seed is not None and seed is None:
        raise GankitError("--to-seed B walks from the code of --seed A; give --seed too")
    if to_seed is not None:
        return g.latent(1, seed=seed, truncation=truncation), g.latent(1, seed=to_seed, truncation=truncation)
    if n < 1:
        raise GankitError(f"--n (the number of walks) must be >= 1, got {n}")
    z = g.latent(2 * n, seed=seed, truncation=truncation)
    return z[:n], z[n:]


def write_walk(g, steps: int, out, *, n: int = 4, seed: int | None = None, to_seed: int | None = None,
               truncation: float | None = None, label=None) -> tuple[Path, tuple[int, ...]]:
    """Walk ``steps`` points between codes and write them (module docstring); (path, array shape)."""
    if not hasattr(g, "latent"):
        g.interpolate(None, None, steps)  # the model's own one-line refusal: no latent input
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".png", ".jpg", ".jpeg", ".gif", ".npy", ".csv"):
        raise GankitError(f"--out {out}: a walk is written as .png (grid), .gif, .npy or .csv")
    if g.kind != "image" and suffix in (".png", ".jpg", ".jpeg", ".gif"):
        forms = ".csv or .npy" if g.kind == "table" else ".npy"
        raise GankitError(f"--out {out}: a walk over {g.kind} data is written as {forms}")
    if g.kind == "sound" and suffix == ".csv":
        raise GankitError(f"--out {out}: a walk over sound is written as .npy (steps, walks, [classes,] samples)")
    z0, z1 = walk_codes(g, n, seed, to_seed, truncation)
    x = g.interpolate(z0, z1, steps, label=label)  # (steps, walks, [classes,] *item)
    per_class = g.num_classes > 0 and label is None
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        if suffix == ".npy":
            np.save(out, x)
        elif suffix == ".csv":
            _csv(g, x, out, per_class, label)
        elif suffix == ".gif":
            _gif(x, out, per_class)
        else:
            _grid(x, out, per_class)
    except OSError as e:
        raise GankitError(f"cannot write {out} ({e.strerror})") from None
    return out, x.shape


def _grid(x: np.ndarray, out: Path, per_class: bool) -> None:
    from PIL import Image

    from gankit.report.grids import grid_array

    if per_class:  # (steps, walks, classes, ...): rows = each walk's points, columns = classes
        rows = x.transpose(1, 0, *range(2, x.ndim))
        img = grid_array(rows.reshape(-1, *x.shape[3:]), nrow=x.shape[2])
    else:  # (steps, walks, ...): rows = walks, columns = steps
        img = grid_array(x.transpose(1, 0, *range(2, x.ndim)).reshape(-1, *x.shape[2:]), nrow=x.shape[0])
    Image.fromarray(img).save(out)


def _gif(x: np.ndarray, out: Path, per_class: bool) -> None:
    from PIL import Image

    from gankit.report.grids import grid_array, upscale_of

    item = x.shape[3:] if per_class else x.shape[2:]
    up = max(upscale_of(*item[-2:]), 1)
    frames = [Image.fromarray(grid_array(step.reshape(-1, *item), nrow=step.shape[1] if per_class else None,
                                         upscale=up)) for step in x]
    frames[0].save(out, save_all=True, append_images=frames[1:], duration=GIF_MS, loop=0)


def _csv(g, x: np.ndarray, out: Path, per_class: bool, label) -> None:
    import pandas as pd

    steps, walks = x.shape[:2]
    classes = g.class_list() if per_class else None
    flat = x.reshape(-1, x.shape[-1])
    idx = np.indices(x.shape[:-1]).reshape(x.ndim - 1, -1)
    df = pd.DataFrame(flat, columns=g.columns or [f"x{j}" for j in range(x.shape[-1])])
    df.insert(0, "step", idx[0])
    df.insert(0, "walk", idx[1])
    if classes is not None:
        df.insert(2, g.label_name, [classes[k] for k in idx[2]])
    elif label is not None:
        df.insert(2, g.label_name, str(label))
    df.sort_values(["walk", "step"], kind="stable").to_csv(out, index=False)
