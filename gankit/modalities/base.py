"""What every modality provides, and the affine codec that images and numeric tables share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from gankit.errors import GankitError


@dataclass
class Codec:
    """Training space <-> the data's own space: ``raw = x * scale + offset``, optionally clamped.

    ``offset``/``scale`` broadcast over the item shape (one value for images, one per column for
    tables); ``clamp`` keeps decoded values in the data's range (images: [0, 1]).
    """

    offset: Tensor
    scale: Tensor
    clamp: tuple[float, float] | None = None
    #: how an exported generator's output becomes data (``gankit export`` writes it into its JSON)
    rule = ("x * scale + offset, then clamp to [min, max] (images: [0, 1]) and round to decimals where given "
            "(numeric tables)")

    def encode(self, raw: np.ndarray) -> Tensor:  # (N, *shape) -> (N, *shape) float32
        x = torch.from_numpy(np.ascontiguousarray(raw, dtype=np.float32))
        return (x - self.offset).div_(self.scale).contiguous()  # in place after the subtraction: one new copy

    def decode(self, x: Tensor) -> Tensor:
        out = x * self.scale.to(x.device) + self.offset.to(x.device)
        return out.clamp(*self.clamp) if self.clamp is not None else out

    def to_dict(self) -> dict:
        """What generator.json keeps (the names predate the modality seam: old runs read the same)."""
        return {"offset": self.offset.tolist(), "scale": self.scale.tolist()}


@dataclass(frozen=True)
class Head:
    """A block of the generator's output that needs its own output layer: ``continuous`` values (the
    generator's output activation) today; a table's categories will need ``categorical`` heads."""

    name: str
    size: int  # output features of this block (flattened)
    kind: str = "continuous"


class Modality:
    """The contract; :mod:`gankit.modalities.image` and ``table`` implement it."""

    name = ""
    #: output forms of ``gankit sample --out``, named when an unknown one is asked for
    formats = ".npy, .png, .csv"

    def fit(self, raw, *, output: str, standardize: bool, seed: int = 0) -> tuple[Tensor, Codec]:
        """(training tensor, codec) of loaded data (a :class:`gankit.data.Raw`); ``seed`` for codecs that
        draw (a mixed table's mixture modes)."""
        raise NotImplementedError

    def codec_from(self, meta: dict) -> Codec:
        """The codec a generator.json's ``data`` section describes."""
        return Codec(torch.tensor(meta["offset"], dtype=torch.float32), torch.tensor(meta["scale"], dtype=torch.float32),
                     self.clamp)

    clamp: tuple[float, float] | None = None
    #: config keys that mean nothing for this kind of data (check_config refuses them; advice leaves them out)
    unusable_keys: tuple[str, ...] = ()
    #: the evaluation's feature space when no domain classifier applies (gankit.metrics.features)
    feature_space = "raw"
    #: whether gankit's domain classifier (gankit.metrics.classifier) reads this kind of data, when labelled
    has_domain_classifier = False
    #: items an evaluation draws by default: (``gankit eval``, ``eval.every`` during training)
    eval_items = (2_500, 2_500)
    #: real items the health monitor decodes for the spread it compares the samples' with
    spread_items = 512
    #: why this kind of data cannot be scored yet (one line for the user), or None when it can
    not_scored: str | None = None
    #: keep the items as read beside the training tensor (``Data.raw``), when decoding would not give them back
    keeps_raw = False
    #: metrics this kind of data adds to the defaults of (``gankit eval``, ``eval.every``), when they fit
    extra_metrics: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())

    def as_written(self, x: np.ndarray) -> np.ndarray:
        """Samples as ``gankit sample`` writes them to disk and reads back (sound: 16-bit PCM), so that
        an evaluation judges what a user gets; most data is written as it is."""
        return x

    def heads(self, data) -> tuple[Head, ...]:
        """The output heads a generator needs for ``data`` (one continuous block for images and
        numeric tables); the model families say which kinds they can make."""
        import math

        return (Head("values", math.prod(data.shape)),)

    def check_config(self, cfg) -> None:
        """Refuse settings that mean nothing for this kind of data (one line naming the key)."""

    def real_preview(self, data) -> np.ndarray | None:
        """Real items in the data's own space drawn beside the samples (None: the picture shows samples only)."""
        return None

    def save_real(self, data, path: Path) -> bool:
        """Draw real items once per run, for the report to show beside the samples (False: nothing drawn,
        e.g. when the previews already show real data)."""
        return False

    def preview(self, x: np.ndarray, path: Path, *, real: np.ndarray | None = None, nrow: int | None = None,
                columns: list[str] | None = None, title: str = "", labels: list[str] | None = None,
                codec=None) -> None:
        """Draw preview samples (``labels``: each sample's class name, for labelled grid rows; ``codec``:
        the data's codec, for data whose pictures need more than the numbers)."""
        raise NotImplementedError

    def save(self, x: np.ndarray, out: Path, *, columns=None, labels=None, label_name: str = "label",
             nrow: int | None = None, codec=None) -> Path:
        """Write samples in the form the file name asks for; refuse forms this data has none of.

        ``labels`` (class names, one per sample, from a conditional run) go with them in every form:
        ``x.labels.npy`` beside ``x.npy``, a last .csv column, labelled grid rows, class sub-folders.
        ``codec``: the run's codec, for data that needs more than the numbers to be written (sound: its
        sample rate).
        """
        raise NotImplementedError

    def example_out(self, stem: str) -> str:
        """An ``--out`` for the hint that closes a run (``samples.png``; sound: a folder of clips)."""
        return f"{stem}.png"


def is_folder(out: Path) -> bool:
    """``--out`` names a folder: it ends with a slash, exists as one, or has no suffix."""
    folder = str(out).endswith(("/", "\\")) or (out.exists() and out.is_dir()) or out.suffix == ""
    if out.exists() and not out.is_dir() and folder:
        raise GankitError(f"--out {out} is a file; give a folder path ending in /")
    return folder


def labels_path(out: Path) -> Path:
    """``x.npy`` -> ``x.labels.npy``: where the class names of the samples in ``x.npy`` go."""
    return out.with_name(out.name[: -len(out.suffix)] + ".labels.npy")


def save_npy(x: np.ndarray, out: Path, labels: list[str] | None = None) -> None:
    """The samples as float32; with labels also ``x.labels.npy``, a NumPy string array of the class names
    (``np.load`` reads it without pickle; ``.astype(int)`` for numbered classes such as digits)."""
    np.save(out, x.astype(np.float32))
    if labels is not None:
        np.save(labels_path(out), np.array([str(c) for c in labels]))


def number_text(v) -> str:
    """The shortest text that reads back as the same float32 ("12.35", not "12.35000038"; "3", not "3.0")."""
    s = str(np.float32(v) + np.float32(0.0))  # + 0: no "-0"
    return s[:-2] if s.endswith(".0") else s


def save_csv(rows: np.ndarray, out: Path, head: list[str], labels=None, label_name: str = "label",
             label_position: int | None = None) -> None:
    """One sample per row, each number as short as float32 allows, so a column rounded to the file's
    decimals is written with them (and never with 7 significant digits); the labels as a column at
    ``label_position`` (None: last)."""
    import csv

    text = [[number_text(v) for v in row] for row in np.asarray(rows, np.float32)]
    head = list(head)
    if labels is not None:
        at = len(head) if label_position is None else label_position
        head.insert(at, label_name)
        for r, c in zip(text, labels):
            r.insert(at, c)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        w.writerows(text)
