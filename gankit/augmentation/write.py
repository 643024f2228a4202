"""The augmented data set on disk, in forms gankit and other tools read back, every synthetic item marked.

Images (``OUT/data/``): one sub-folder per class (the layout of ``gankit train images-dcgan
data.path=OUT/data``, torchvision's ImageFolder and Keras' ``image_dataset_from_directory``), real
items as ``real_<index>.png`` (their position in the loaded data) and synthetic ones as
``synthetic_<n>.png``, and beside the folders ``manifest.csv``: file, class, synthetic (0/1),
source_index (empty for synthetic items).

Tables (``OUT/data.csv``): the real training rows as the source wrote them, then the synthetic rows
in the same columns and spelling (:func:`gankit.tables.read.write_csv`), and a last column
``synthetic`` (0/1; ``synthetic_item`` when the table already has a ``synthetic`` column).

A holdout that augment drew from the data (``data.holdout``) is written too (``OUT/holdout/`` or
``OUT/holdout.csv``), so the user can test on exactly the items the generator never saw.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from gankit.augmentation.sets import Items, Split
from gankit.errors import GankitError

MANIFEST = "manifest.csv"
DATA_DIR, DATA_CSV = "data", "data.csv"
HOLDOUT_DIR, HOLDOUT_CSV = "holdout", "holdout.csv"


def write_set(out: Path, split: Split, x: np.ndarray, y: np.ndarray) -> dict:
    """Write the real training items and the synthetic (x, y) under ``out``; returns what was written."""
    try:
        if split.kind == "image":
            written = {"data": _write_images(out / DATA_DIR, split, split.train, x, y, manifest=True)}
            if split.record is not None and split.holdout is not None:
                written["holdout"] = _write_images(out / HOLDOUT_DIR, split, split.holdout, x[:0], y[:0],
                                                   manifest=False)
            return written
        written = {"data": _write_table(out / DATA_CSV, split, split.train, x, y)}
        if split.record is not None and split.holdout is not None:
            written["holdout"] = _write_table(out / HOLDOUT_CSV, split, split.holdout, x[:0], y[:0], mark=False)
        return written
    except OSError as e:
        raise GankitError(f"cannot write the augmented set under {out} ({e.strerror})") from None


def _write_images(folder: Path, split: Split, real: Items, x: np.ndarray, y: np.ndarray, *, manifest: bool) -> str:
    from gankit.modalities.image import class_folder
    from gankit.report.grids import save_image

    folder.mkdir(parents=True, exist_ok=True)
    subs = [class_folder(c) for c in split.classes]
    for s in set(subs):
        (folder / s).mkdir(exist_ok=True)
    rows = [("file", "class", "synthetic", "source_index")]
    width = max(6, len(str(max(split.n_items, len(y)))))
    for img, k, i in zip(real.x, real.y, real.index):
        name = f"{subs[k]}/{'real_' if manifest else ''}{i:0{width}d}.png"
        save_image(img, folder / name)
        rows.append((name, split.classes[k], 0, int(i)))
    for n, (img, k) in enumerate(zip(x, y)):
        name = f"{subs[k]}/synthetic_{n:0{width}d}.png"
        save_image(img, folder / name)
        rows.append((name, split.classes[k], 1, ""))
    if manifest:
        with open(folder / MANIFEST, "w", newline="") as f:
            csv.writer(f).writerows(rows)
    return str(folder)


def _write_table(path: Path, split: Split, real: Items, x: np.ndarray, y: np.ndarray, *, mark: bool = True) -> str:
    import pandas as pd

    frames = _mixed_frames(split, real, x, y) if split.kind == "mixed" else _numeric_frames(split, real, x, y)
    table = pd.concat(frames, ignore_index=True)
    if mark:
        flag = "synthetic" if "synthetic" not in table.columns else "synthetic_item"
        table[flag] = [0] * len(frames[0]) + [1] * len(frames[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return str(path)


def _numeric_frames(split: Split, real: Items, x: np.ndarray, y: np.ndarray) -> list:
    """A numeric table's rows as text (numbers as short as float32 writes them), the label in its place."""
    import pandas as pd

    from gankit.modalities.base import number_text

    info = split.table

    def frame(values: np.ndarray, labels: np.ndarray):
        df = pd.DataFrame([[number_text(v) for v in row] for row in values], columns=info.features, dtype=object)
        df.insert(min(info.label_at, len(df.columns)), info.label, [split.classes[k] for k in labels])
        return df

    return [frame(real.x, real.y), frame(x, y)]


def _mixed_frames(split: Split, real: Items, x: np.ndarray, y: np.ndarray) -> list:
    """A mixed table's real rows as the source has them, and the synthetic rows spelled the same way."""
    import pandas as pd

    from gankit.tables.read import read_frame, to_frame, write_csv

    info, schema = split.table, split.table.schema
    source = read_frame(split.source)
    rows = source.iloc[real.index].reset_index(drop=True)
    full = np.insert(np.asarray(x, np.float64), info.label_at, y.astype(np.float64), axis=1)
    fake = to_frame(full, schema, rng=np.random.default_rng(0))
    if isinstance(split.source, pd.DataFrame) or Path(str(split.source)).suffix.lower() == ".parquet":
        return [rows, fake.reindex(columns=rows.columns)]
    buffer = io.StringIO()
    write_csv(fake, schema, buffer)  # the source's spelling: categories, decimals, dates, missing cells
    text = pd.read_csv(io.StringIO(buffer.getvalue()), dtype=str, keep_default_na=False)
    return [rows, text.reindex(columns=rows.columns, fill_value="")]
