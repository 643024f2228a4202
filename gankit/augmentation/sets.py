"""A run's real data as labelled arrays, split exactly as the run split it.

The measurement is only honest if the held-out items are ones the generator never trained on, so
the split here is not a second draw: it is :func:`gankit.data.split.holdout_indices` with the run's
own ``data.holdout`` and ``train.seed`` (the draw :func:`gankit.data.load_data` made for training),
and its sha256 is compared with the one the run recorded in run.json (:mod:`gankit.augmentation.build`).
Without ``data.holdout`` the held-out data is the run's ``data.test_path`` or the set's own test
split (MNIST's t10k files), which training never reads either.

Arrays are in the data's own space: images (N, C, H, W) float32 in [0, 1]; tables as features
(N, F) in gankit's column space (numbers as they are, categories as indices, NaN when missing;
:mod:`gankit.tables`) with the label column taken out as ``y``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

import numpy as np

from gankit.errors import GankitError


@dataclass
class Items:
    """Labelled items: ``x`` (images or table features), ``y`` class indices, and where each came from."""

    x: np.ndarray
    y: np.ndarray  # (N,) int64 indices into Split.classes
    index: np.ndarray  # (N,) position in the run's loaded data; -1 for items of another file (test split, pool)

    def __len__(self) -> int:
        return len(self.y)

    def counts(self, k: int) -> np.ndarray:
        return np.bincount(self.y, minlength=k)

    def take(self, which: np.ndarray) -> "Items":
        return Items(self.x[which], self.y[which], self.index[which])


@dataclass
class TableInfo:
    """What a table's features are, for the classifiers and SMOTE."""

    features: list[str]  # feature column names, in column-space order
    numeric: list[bool]  # per feature: a number (True) or a category index (False)
    integer: list[bool]  # per feature: whole numbers (SMOTE rounds its interpolations)
    sizes: list[int]  # per feature: number of categories (0 for numbers)
    label: str  # the label column's name
    label_at: int  # mixed tables: the label's position in the column space; numeric: among the file's columns
    schema: object = None  # mixed tables: the gankit.tables TableSchema
    decimals: Optional[list] = None  # numeric tables: decimals per feature column as the file wrote them


@dataclass
class Split:
    """The run's labelled data: training part, held-out part (or None), classes, provenance."""

    kind: str  # "image", "table" (numeric, noise task) or "mixed" (table task)
    classes: list[str]
    train: Items
    holdout: Optional[Items]
    holdout_source: str  # "data.holdout=0.2 (seed 0)", "data.test_path", "mnist test split", ""
    record: Optional[dict]  # data.holdout's record (fraction, seed, items, sha256 of the held-out indices)
    n_items: int  # items of the loaded data before the holdout
    n_train_rows: int  # rows the generator trained on (a mixed table's rows without a label included)
    table: Optional[TableInfo] = None
    source: object = None  # mixed tables: data.path or the DataFrame (real rows are written as they were)
    unlabelled: int = 0  # rows without a label (mixed tables), left out of the measurement

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.train.x.shape[1:])


def load_split(cfg, frame=None) -> Split:
    """The labelled data of a (resolved) config, split as its run splits it; refuses unlabelled data."""
    from gankit.tasks import get_task

    typed = bool(getattr(get_task(cfg.task), "reads_tables", False))
    if not typed and cfg.task != "noise":
        raise GankitError(f"augment makes labelled items with a class-conditional generator; task={cfg.task} has "
                          f"no classes to choose (use an image or table preset, e.g. images-dcgan or table)")
    raw, name = _load_raw(cfg, frame, typed)
    if raw.kind not in ("image", "table"):
        raise GankitError(f"augment works on labelled images and tables; {raw.kind} data is not supported yet")
    if cfg.data.limit is not None:
        raw = replace(raw, x=raw.x[: cfg.data.limit],
                      labels=raw.labels[: cfg.data.limit] if raw.labels is not None else None)
    x, y, classes, info, kind = _labelled(raw, name, cfg)
    n = len(x)
    if cfg.data.holdout > 0:
        from gankit.data.split import holdout_indices

        keep, held, record = holdout_indices(n, cfg.data.holdout, cfg.train.seed)
        holdout = _items(x, y, held)
        source = f"data.holdout={cfg.data.holdout:g}, seed {cfg.train.seed}"
    else:
        keep, record = np.arange(n), None
        holdout, source = _separate_holdout(cfg, name, classes, info)
    split = Split(kind, classes, _items(x, y, keep), holdout, source, record, n, len(keep), info,
                  source=frame if frame is not None else cfg.data.path)
    split.unlabelled = int((y < 0).sum())
    return split


def _load_raw(cfg, frame, typed: bool) -> tuple[object, str]:
    """(the loaded data as gankit's loaders give it, the data set's name)."""
    from gankit.data import DATASETS, guess_name

    if typed:
        from gankit.data.frames import load_table

        return load_table(cfg.data, frame), "DataFrame" if frame is not None else guess_name(cfg.data)
    name = guess_name(cfg.data)
    return DATASETS.get(name)(cfg.data, cfg.train.seed), name


def _items(x: np.ndarray, y: np.ndarray, which: np.ndarray) -> Items:
    """The items at ``which`` that have a label (a mixed table's row may lack one: y = -1)."""
    which = np.asarray(which, np.int64)
    which = which[y[which] >= 0]
    return Items(x[which], y[which], which)


Labelled = tuple[np.ndarray, np.ndarray, list, Optional[TableInfo], str]


def _labelled(raw, name: str, cfg) -> Labelled:
    """(x, y, classes, table info, kind) of loaded data; one line naming the fix when it has no labels."""
    if raw.schema is not None:
        return _mixed(raw, name)
    if raw.labels is None or not raw.classes:
        if raw.kind == "table":
            raise GankitError(f"{cfg.data.path}: augment needs a label column to make items of each class; give "
                              f"data.label_column=COLUMN")
        where = f" ({cfg.data.path})" if cfg.data.path else ""
        raise GankitError(f"{name}{where} has no class labels, so augment cannot make items of each class; put the "
                          f"images in one sub-folder per class (folder/cat/*.png, folder/dog/*.png)")
    y = raw.labels.astype(np.int64)
    if raw.kind == "image":
        from gankit.data.images import unit

        return unit(raw.x).astype(np.float32, copy=False), y, [str(c) for c in raw.classes], None, "image"
    feats = list(raw.columns or [f"x{j}" for j in range(raw.x.shape[1])])
    decimals = list(raw.decimals) if raw.decimals is not None else [None] * len(feats)
    at = raw.label_position if raw.label_position is not None else len(feats)
    info = TableInfo(feats, [True] * len(feats), [d == 0 for d in decimals], [0] * len(feats),
                     raw.label_name or "label", at, decimals=decimals)
    return raw.x.astype(np.float64), y, [str(c) for c in raw.classes], info, "table"


def _mixed(raw, name: str) -> Labelled:
    """A typed table (the table task): the label column out of the column space as y."""
    from gankit.metrics.tables import numeric_columns

    schema = raw.schema
    if schema.label is None:
        raise GankitError(f"{name}: augment needs a label column to make rows of each class; give "
                          f"data.label_column=COLUMN (e.g. data.label_column=income)")
    t = schema.index(schema.label)
    used = schema.used
    keep = [j for j in range(len(used)) if j != t]
    numeric = numeric_columns(schema)
    info = TableInfo([used[j].name for j in keep], [numeric[j] for j in keep],
                     [used[j].kind == "integer" for j in keep], [len(used[j].categories) for j in keep],
                     schema.label, t, schema=schema)
    label = raw.x[:, t]
    y = np.nan_to_num(label, nan=-1).astype(np.int64)  # -1: no label in this row
    classes = [c.strip() for c in used[t].categories]
    return raw.x[:, keep], y, classes, info, "mixed"


def _separate_holdout(cfg, name: str, classes: list[str],
                      info: Optional[TableInfo]) -> tuple[Optional[Items], str]:
    """(held-out items, where they come from) of data.test_path or the set's own test split; (None, "")."""
    from gankit.data.split import TEST_SPLITS

    if cfg.data.test_path is not None:
        return read_like(cfg, cfg.data.test_path, classes, info, "data.test_path"), "data.test_path"
    if name in TEST_SPLITS:
        raw = TEST_SPLITS.get(name)(cfg.data)
        if raw is not None:
            x, y = _match_classes(raw, classes, f"{name}'s test split")
            return Items(x, y, np.full(len(y), -1)), f"{name} test split"
    return None, ""


def read_like(cfg, path: str, classes: list[str], info: Optional[TableInfo], what: str,
              shape: Optional[tuple] = None) -> Items:
    """Labelled items of another file or folder of the run's kind (held-out data, a pool of extra real
    items), read as the training data was and with its classes (a class it lacks is refused)."""
    if not Path(path).exists():
        raise GankitError(f"{what} {path!r} does not exist; give a folder or file of the same kind as data.path")
    if info is not None and info.schema is not None:
        from gankit.tables.read import read_frame, to_values

        values = to_values(read_frame(Path(path)), info.schema, unseen="missing")  # a category training never had:
        label = values[:, info.label_at]                                            # missing, as classifiers read it
        ok = ~np.isnan(label)
        x = np.delete(values[ok], info.label_at, axis=1)
        return Items(x, label[ok].astype(np.int64), np.full(int(ok.sum()), -1))
    from gankit.data import DATASETS, guess_name

    other = replace(cfg.data, path=str(path), test_path=None, holdout=0.0, limit=None)
    raw = DATASETS.get(guess_name(other))(other, cfg.train.seed)  # digits' pool is a folder of images
    x, y = _match_classes(raw, classes, what)
    if shape is not None and tuple(x.shape[1:]) != tuple(shape):
        raise GankitError(f"{what} holds items of shape {tuple(x.shape[1:])}, but the training data's are "
                          f"{tuple(shape)}; give items of the same kind and size")
    if raw.kind == "image":
        from gankit.data.images import unit

        return Items(unit(x).astype(np.float32, copy=False), y, np.full(len(y), -1))
    return Items(x.astype(np.float64, copy=False), y, np.full(len(y), -1))


def _match_classes(raw, classes: list[str], what: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y in the training classes' indices) of labelled data from another file."""
    if raw.labels is None or not raw.classes:
        raise GankitError(f"{what} has no class labels; give labelled items (class sub-folders, or the label column)")
    names = [str(c) for c in raw.classes]
    unknown = sorted(set(names) - set(classes))
    if unknown:
        raise GankitError(f"{what} has classes the training data lacks ({', '.join(unknown[:5])}); use the training "
                          f"classes ({', '.join(classes[:10])})")
    lut = np.array([classes.index(c) for c in names], np.int64)
    return raw.x, lut[raw.labels.astype(np.int64)]


def check_classes(split: Split, *, measure: bool) -> None:
    """Every class needs a real training item (the generator learns it from them) and, to be measured,
    a held-out item (its recall is one of the scores): else one line naming the class and the fixes."""
    k = len(split.classes)
    train = split.train.counts(k)
    held = split.holdout.counts(k) if split.holdout is not None else None
    for c, name in enumerate(split.classes):
        total = int(train[c] + (held[c] if held is not None and split.record is not None else 0))
        if train[c] == 0:
            raise GankitError(f"class {name!r} has {total} item(s), none left for training after the holdout "
                              f"({split.holdout_source}); give that class more items or leave it out")
        if measure and held is not None and held[c] == 0:
            fix = ("raise data.holdout or give held-out data with data.test_path" if split.record is not None
                   else f"add items of that class to the held-out data ({split.holdout_source})")
            raise GankitError(f"class {name!r} has too few items to hold out ({total}; {split.holdout_source} left "
                              f"none of them held out, and its recall needs at least 1); give it more items, {fix}")


def _digests(items: Items) -> list[bytes]:
    """One fingerprint per item (its values' bytes, images at 8 bits, numbers to 6 decimals; NaN written alike),
    to find items two sets share."""
    import hashlib

    flat = np.nan_to_num(np.ascontiguousarray(items.x, np.float64).reshape(len(items), -1), nan=-1e300)
    flat = np.round(flat * 255) if items.x.dtype == np.float32 else np.round(flat, 6)  # images as 8-bit files hold them
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in flat]


def apart_pool(pool: Items, split: Split, what: str) -> tuple[Items, int]:
    """The pool for the positive control without the items it shares with the training or held-out data
    (an exact copy would make the control measure memory, not the worth of more data), and how many
    were dropped. A pool that is mostly such copies is the wrong folder: refused."""
    seen: set[bytes] = set()
    for part in (split.train, split.holdout):
        if part is not None:
            seen.update(_digests(part))
    fresh = np.array([d not in seen for d in _digests(pool)], bool)
    if len(pool) and fresh.mean() < 0.5:
        raise GankitError(f"{what}: {int((~fresh).sum())} of its {len(pool)} items are also in the training or "
                          f"held-out data; the pool must hold real items that are neither trained nor tested on")
    return pool.take(np.flatnonzero(fresh)), int((~fresh).sum())
