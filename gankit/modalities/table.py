"""Tables: numeric (N, D) arrays in their original units, trained on standardised columns (the
noise task's tables); and mixed-type tables (gankit.tables: numbers, categories, dates, missing
cells) for the table task, whose codec is :class:`gankit.tables.transform.MixedCodec`.

Each column is standardised to mean 0, std 1 (constant columns keep scale 1). A bounded generator
output (tanh, sigmoid) cannot reach the tails of standardised data (a tanh G would be stuck inside
±1 std), so each standardised column is then shrunk around its mean to fill :data:`TABLE_FILL` of
the output range. ``data.standardize=false`` trains on the raw values. Statistics are computed in
float64 so that decoding restores the original units to float32 precision. Previews are scatter
plots (2-D) or histograms (1-D) of samples over real data; samples save as .csv, .npy or a plot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from gankit.errors import GankitError
from gankit.modalities import MODALITIES
from gankit.modalities.base import Codec, Modality, is_folder, save_csv, save_npy
from gankit.modalities.image import output_range

#: share of a bounded generator output range that standardised columns fill (tanh never reaches
#: ±1 exactly, so the extremes of the data must lie strictly inside)
TABLE_FILL = 0.95


@dataclass
class TableCodec(Codec):
    """The affine codec, then each column clipped to [low, high] and rounded to its decimals (None: as is)."""

    low: Tensor | None = None  # (D,) the smallest value of each column in the file
    high: Tensor | None = None  # (D,) the largest
    decimals: list[int | None] | None = None  # 0: whole numbers

    def decode(self, x: Tensor) -> Tensor:
        out = super().decode(x)
        out = torch.maximum(torch.minimum(out, self.high.to(out)), self.low.to(out))
        d = self.decimals or []
        if not any(k is not None for k in d):
            return out
        factor = torch.tensor([10.0 ** (k or 0) for k in d], dtype=out.dtype, device=out.device)
        rounded = torch.round(out * factor) / factor
        return torch.where(torch.tensor([k is not None for k in d], device=out.device), rounded, out)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "min": self.low.tolist(), "max": self.high.tolist(), "decimals": self.decimals}


def column_shape(x64: np.ndarray, decimals: list[int | None]) -> tuple[Tensor, Tensor, list[int | None]]:
    """Per column: min, max, and the decimals to round to (0 when every value is a whole number)."""
    whole = (x64 == np.round(x64)).all(0)
    out = [0 if w else d for w, d in zip(whole.tolist(), decimals)]
    return torch.from_numpy(x64.min(0).astype(np.float32)), torch.from_numpy(x64.max(0).astype(np.float32)), out


@MODALITIES.register("table", "numeric tables (N, D) in original units")
class TableModality(Modality):
    name = "table"
    formats = ".csv, .npy, .png (plot)"
    unusable_keys = ("augment.policy",)
    feature_space = "standardized"  # the columns in the units gankit trains in: proline's 1,000s swamp nothing

    def fit(self, raw, *, output: str, standardize: bool, seed: int = 0):
        if raw.schema is not None:  # a mixed table: mode-specific normalisation and one-hot categories
            from gankit.tables.transform import MixedCodec

            codec = MixedCodec.fit(raw.x, raw.schema, seed)
            return codec.encode(raw.x, seed), codec
        x64 = np.asarray(raw.x, dtype=np.float64)  # (N, D)
        offset64, scale64 = np.zeros(x64.shape[1]), np.ones(x64.shape[1])
        if standardize:
            offset64 = x64.mean(0)
            std = x64.std(0)
            scale64 = np.where(std > 0, std, 1.0)
            if output in ("tanh", "sigmoid"):
                lo, hi = output_range(output)
                # z = (raw - mean) / std; t = centre + z * half / m fills TABLE_FILL of [lo, hi]
                m = np.abs((x64 - offset64) / scale64).max(0) / TABLE_FILL
                m = np.where(m > 0, m, 1.0)
                half, centre = (hi - lo) / 2, (hi + lo) / 2
                scale64 = scale64 * m / half
                offset64 = offset64 - centre * scale64
        x = torch.from_numpy(((x64 - offset64) / scale64).astype(np.float32))
        offset, scale = torch.from_numpy(offset64.astype(np.float32)), torch.from_numpy(scale64.astype(np.float32))
        if getattr(raw, "decimals", None) is None:  # made in memory (toy sets): no file's shape to keep
            return x, Codec(offset, scale)
        return x, TableCodec(offset, scale, None, *column_shape(x64, raw.decimals))

    def codec_from(self, meta: dict) -> Codec:
        """A generator.json without ``min``/``max`` (gankit 0.1.0, toy sets) decodes as it always did."""
        if "table" in meta:
            from gankit.tables.transform import MixedCodec

            return MixedCodec.from_dict(meta["table"])
        codec = super().codec_from(meta)
        if "min" not in meta:
            return codec
        f32 = lambda v: torch.tensor(v, dtype=torch.float32)  # noqa: E731
        return TableCodec(codec.offset, codec.scale, None, f32(meta["min"]), f32(meta["max"]), meta.get("decimals"))

    def check_config(self, cfg) -> None:
        if cfg.augment.policy:
            raise GankitError("augment.policy (DiffAugment) is for images; this data is a table: set augment.policy=''")

    def heads(self, data):
        """A mixed table's blocks (tanh scalars, one-hot modes and categories); else one block."""
        mixed = getattr(data.codec, "heads", None)
        return mixed() if mixed is not None else super().heads(data)

    def real_preview(self, data) -> np.ndarray:
        if data.values is not None:  # a mixed table, in column space
            return data.values[:2000]
        return data.x[:2000].mul(data.codec.scale).add(data.codec.offset).numpy()

    def preview(self, x, path, *, real=None, nrow=None, columns=None, title="", labels=None, codec=None):
        schema = getattr(codec, "schema", None)
        if schema is not None:  # each column real vs generated; the association matrices side by side
            from gankit.report.tables import CORRELATIONS, column_plots, correlation_plots

            column_plots(real, x, schema, path)
            if real is not None:
                correlation_plots(real, x, schema, Path(path).with_name(CORRELATIONS))
            return
        from gankit.report.plots import table_plot

        table_plot(x, path, real=real, title=title or Path(path).stem, columns=columns)

    def save(self, x, out: Path, *, columns=None, labels=None, label_name="label", nrow=None,
             label_position: int | None = None, codec=None) -> Path:
        if is_folder(out):
            raise GankitError("a folder of files is for images; write tables to .csv or .npy")
        out.parent.mkdir(parents=True, exist_ok=True)
        suffix = out.suffix.lower()
        if suffix == ".npy":
            save_npy(x, out, labels)
        elif suffix == ".png":
            self.preview(x, out, columns=columns, title=f"{len(x)} samples")
        elif suffix == ".csv":
            flat = x.reshape(len(x), -1)
            save_csv(flat, out, columns or [f"p{i}" for i in range(flat.shape[1])], labels, label_name, label_position)
        else:
            raise GankitError(f"--out {out}: unknown format {suffix!r}; use {self.formats}")
        return out
