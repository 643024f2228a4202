"""Datasets, chosen by name (``data.name``), each loaded into one in-memory tensor.

A loader returns :class:`Raw` data in the data's own space — images (N, C, H, W) in [0, 1],
tables (N, D) in original units. :func:`prepare` then maps it affinely into the space the
networks train in (the generator's output range for images, standardised columns for tables) and
keeps the inverse, so samples come back in the data's own space. Everything is vectorised over the
whole array once, before training: the training loop only indexes one tensor.

The registry of names (``data.name``) is read when a config is validated, so this package face
imports neither torch nor numpy at the top: each entry's loader imports its module when called,
and :func:`prepare` imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional

from gankit.config.schema import DataConfig
from gankit.errors import GankitError
from gankit.modalities import get_modality
from gankit.registry import Registry

if TYPE_CHECKING:
    import numpy as np
    from torch import Tensor

    from gankit.modalities.base import Codec

@dataclass
class Raw:
    x: np.ndarray  # images (N, C, H, W) uint8, or float32 in [0, 1]; tables (N, D) float
    kind: str  # the modality that reads it (gankit.modalities): image, table
    labels: Optional[np.ndarray] = None  # (N,) int64 class indices
    classes: Optional[list[str]] = None
    columns: Optional[list[str]] = None  # tables
    label_name: Optional[str] = None  # tables with data.label_column: that column's name
    decimals: Optional[list] = None  # tables: per column, the decimals the file wrote (None: unknown)
    label_position: Optional[int] = None  # tables: where the label column stood among the file's columns
    schema: Optional[object] = None  # mixed tables (gankit.tables): column kinds; x is then the column space
    notes: Optional[list[str]] = None  # what loading changed, for the start-up line and run.json (sound: clips cut)
    options: Optional[dict] = None  # settings the modality's codec is fitted with (sound: the spectrogram's)


@dataclass
class Data:
    """Training tensor plus the codec that maps samples back to the data's own space."""

    x: Tensor  # (N, *shape) float32 in training space; 8-bit images: uint8 pixels, made floats a batch at a time
    kind: str  # the modality's name (gankit.modalities): image, table
    name: str
    codec: Codec
    labels: Optional[Tensor] = None
    classes: Optional[list[str]] = None
    columns: Optional[list[str]] = None
    label_name: Optional[str] = None  # tables: the label column's name (gankit sample writes it to .csv)
    split: Optional[dict] = None  # data.holdout: what was held out (gankit.data.split), recorded in run.json
    heldout: Optional["Data"] = None  # data.holdout: the held-out items, in this data's training space
    values: Optional[np.ndarray] = None  # mixed tables: the rows in column space (gankit.tables), for evaluation
    label_position: Optional[int] = None  # numeric tables: the label column's place among the file's columns
    notes: Optional[list[str]] = None  # what loading changed (sound: clips padded or cut), said at start-up
    #: the items in the data's own space as read, kept when decoding the training tensor would not give them
    #: back (sound: the clips, which Griffin-Lim would change): evaluation's real reference and the classifier's
    raw: Optional[Tensor] = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    @property
    def modality(self):
        return get_modality(self.kind)

    @property
    def offset(self) -> Tensor:  # raw = x * scale + offset
        return self.codec.offset

    @property
    def scale(self) -> Tensor:
        return self.codec.scale

    def decode(self, x: Tensor) -> Tensor:
        """Training space (or stored pixels) -> the data's own space."""
        return self.codec.decode(x)

    def training(self, x: Tensor) -> Tensor:
        """Stored items (some of ``x``) -> training space: 8-bit images become floats here, a batch at a time
        (:class:`gankit.modalities.image.PixelCodec`); everything else is stored in training space already."""
        import torch

        return self.codec.to_training(x) if x.dtype == torch.uint8 else x

    def __len__(self) -> int:
        return self.x.shape[0]


Loader = Callable[[DataConfig, int], Raw]
DATASETS: Registry[Loader] = Registry("dataset")


@DATASETS.register("digits", "scikit-learn's 8x8 digits, 1,797 images, bundled (no download)")
def _digits(cfg: DataConfig, seed: int) -> Raw:
    from gankit.data.builtin import digits

    return digits(cfg, seed)


@DATASETS.register("mnist", "MNIST 28x28 digits (data.path=IDX folder, else downloaded once)")
def _mnist(cfg: DataConfig, seed: int) -> Raw:
    from gankit.data.idx import mnist

    return mnist(cfg, seed)


@DATASETS.register("fashion-mnist", "Fashion-MNIST 28x28 (data.path=IDX folder, else downloaded once)")
def _fashion_mnist(cfg: DataConfig, seed: int) -> Raw:
    from gankit.data.idx import fashion_mnist

    return fashion_mnist(cfg, seed)


@DATASETS.register("gaussian-1d", "1-D Gaussian N(data.mean, data.std), data.n_samples points")
def _gaussian_1d(cfg: DataConfig, seed: int) -> Raw:
    from gankit.data.toy import gaussian_1d

    return gaussian_1d(cfg, seed)


@DATASETS.register("ring", "8 Gaussians on the unit circle, std 0.01")
def _ring(cfg: DataConfig, seed: int) -> Raw:
    from gankit.data.toy import ring

    return ring(cfg, seed)


@DATASETS.register("grid", "25 Gaussians on {-4,-2,0,2,4}^2, std 0.05")
def _grid(cfg: DataConfig, seed: int) -> Raw:
    from gankit.data.toy import grid

    return grid(cfg, seed)


@DATASETS.register("images", "a folder or archive (.zip, .tar.gz) of PNG/JPG images (sub-folders = classes), "
                   "data.path=FOLDER")
def _images(cfg: DataConfig, seed: int) -> Raw:
    from gankit.data.images import image_folder

    return image_folder(cfg, seed)


@DATASETS.register("table", "a numeric table, data.path=FILE.csv|.npy|.npz|.parquet (standardised)")
def _table(cfg: DataConfig, seed: int) -> Raw:
    from gankit.data.tabular import table

    return table(cfg, seed)


@DATASETS.register("sound", "a folder of audio files (.wav; .flac/.ogg/.mp3 with gankit[audio]), sub-folders or "
                   "data.label_pattern = classes, data.path=FOLDER")
def _sound(cfg: DataConfig, seed: int) -> Raw:
    from gankit.data.sounds import sound_folder

    return sound_folder(cfg)


def guess_name(cfg: DataConfig) -> str:
    """The data set a config reads: ``data.name``, or what ``data.path`` holds when the name is auto or a
    preset's built-in set (a path means the user's own data; :mod:`gankit.data.guess`)."""
    from gankit.data.guess import resolve_name

    return resolve_name(cfg.name, cfg.path)[0]


def prepare(raw: Raw, name: str, *, output: str, standardize: bool, seed: int = 0) -> Data:
    """Map raw data into training space with its modality's codec (gankit.modalities), keeping the inverse."""
    import numpy as np
    import torch

    x, codec = get_modality(raw.kind).fit(raw, output=output, standardize=standardize, seed=seed)
    labels = torch.from_numpy(raw.labels.astype(np.int64)) if raw.labels is not None else None
    return Data(x, raw.kind, name, codec, labels, raw.classes, raw.columns, raw.label_name,
                values=raw.x if raw.schema is not None else None, label_position=raw.label_position, notes=raw.notes,
                raw=kept_raw(raw))


def kept_raw(raw: Raw):
    """``raw.x`` as a tensor when its modality keeps the items as read (:attr:`Modality.keeps_raw`), else None."""
    import numpy as np
    import torch

    if not get_modality(raw.kind).keeps_raw:
        return None
    return torch.from_numpy(np.ascontiguousarray(raw.x, np.float32))


def load_data(cfg: DataConfig, *, output: str = "tanh", seed: int = 0, typed: bool = False, frame=None) -> Data:
    """Load the dataset named by ``cfg`` into memory, in training space.

    With ``data.holdout`` the training part is returned; the held-out part (split with ``seed``, the
    run's train.seed) rides along as ``.heldout`` for evaluation (gankit.data.split). ``typed``: a
    mixed-type table with inferred column kinds (gankit.tables; ``frame``: a pandas DataFrame given
    from Python instead of ``data.path``), for the table task.
    """
    name = "DataFrame" if frame is not None else guess_name(cfg)
    if cfg.label_column is not None and name not in ("table", "DataFrame"):
        raise GankitError(f"data.label_column is for tables (.csv/.npy/.npz); {name} brings its own labels "
                          f"(or none), so leave it unset")
    for key in ("label_pattern", "test_pattern"):
        if getattr(cfg, key) is not None and name != "sound":
            raise GankitError(f"data.{key} reads sound folders' file names; {name} is not a sound folder, so leave "
                              f"it unset")
    if typed:
        from gankit.data.frames import load_table

        if name not in ("table", "DataFrame"):
            raise GankitError(f"the table task trains on tables (.csv, .parquet or a DataFrame); {name} is not one")
        raw = load_table(cfg, frame)
    elif frame is not None:
        raise GankitError("data=DataFrame is for the table task: gankit.train('table', data=df)")
    else:
        raw = DATASETS.get(name)(cfg, seed)
    if cfg.limit is not None:
        raw.x = raw.x[: cfg.limit]
        if raw.labels is not None:
            raw.labels = raw.labels[: cfg.limit]
    if len(raw.x) == 0:
        raise GankitError(f"dataset {name!r} is empty; check data.path")
    held = None
    if cfg.holdout > 0:
        from gankit.data.split import split_holdout

        raw, held, split = split_holdout(raw, cfg.holdout, seed)
    data = prepare(raw, name, output=output, standardize=cfg.standardize, seed=seed)
    if held is not None:
        from gankit.data.split import like_training

        data.split, data.heldout = split, like_training(held, data, "data.holdout")
    return data


#: (per-item shape, number of classes) of the built-in sets, so `gankit summary` needs no data on disk
KNOWN_SHAPES: dict[str, tuple[tuple[int, ...], int]] = {
    "digits": ((1, 8, 8), 10), "mnist": ((1, 28, 28), 10), "fashion-mnist": ((1, 28, 28), 10),
    "gaussian-1d": ((1,), 0), "ring": ((2,), 8), "grid": ((2,), 25),
}


def data_info(cfg: DataConfig) -> tuple[tuple[int, ...], int]:
    """(per-item shape, number of classes) without loading a built-in set (user files are read)."""
    name = guess_name(cfg)
    if name in KNOWN_SHAPES:
        return KNOWN_SHAPES[name]
    data = load_data(cfg)
    return data.shape, len(data.classes or [])


def data_shape(cfg: DataConfig) -> tuple[int, ...]:
    """Per-item shape without loading a built-in set."""
    return data_info(cfg)[0]
