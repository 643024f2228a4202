"""What each column of a table is, and how it is written back.

:class:`TableSchema` is made once from the training data (:func:`gankit.tables.read.infer_schema`),
saved in the run folder as JSON (``to_dict``/``from_dict``) and used to turn column-space matrices
(see :mod:`gankit.tables`) back into the user's table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

ColumnKind = Literal["continuous", "integer", "categorical", "boolean", "datetime", "ignore"]
KINDS: tuple[str, ...] = ("continuous", "integer", "categorical", "boolean", "datetime", "ignore")
#: kinds held as category indices in the column space (one-hot in the generator's space)
DISCRETE = ("categorical", "boolean")
#: kinds held as numbers in the column space (mixture-normalised in the generator's space)
NUMERIC = ("continuous", "integer", "datetime")


@dataclass
class Column:
    name: str
    kind: ColumnKind
    reason: str  # why this kind, for the dry-run table ("words", "7 distinct numbers", "data.columns", ...)
    position: int  # 0-based index in the source's column order
    missing: float = 0.0  # share of missing cells in the training data
    missing_text: str = ""  # how the source wrote a missing cell (its most common spelling): written back so
    # categorical / boolean: each category as spelled in training (first spelling seen); matching strips spaces
    categories: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)  # training rows per category (log-frequency sampling)
    # data.max_categories: the rare categories pooled into the last category, with their training counts;
    # a sampled pooled category becomes one of them, drawn by count
    pooled: dict[str, int] = field(default_factory=dict)
    decimals: int | None = None  # continuous: digits after the point as written (None: keep full precision)
    low: float | None = None  # numbers and datetimes: observed range (samples are clipped to it)
    high: float | None = None
    fmt: str | None = None  # datetime: strftime format the source used (None: ISO 8601)
    dtype: str | None = None  # a DataFrame source's dtype (to give the same back), else None

    @property
    def used(self) -> bool:
        return self.kind != "ignore"

    @property
    def discrete(self) -> bool:
        return self.kind in DISCRETE

    def index_of(self, value: str) -> int:
        """The category ``value`` names (spaces around it ignored; "1" and "1.0" are one number; a pooled
        rare category is its pool's); the error lists the valid values."""
        from gankit.errors import GankitError

        def key(text: str):
            t = str(text).strip()
            try:
                return float(t)
            except ValueError:
                return t

        keys = [key(c) for c in self.categories]
        if key(value) in keys:
            return keys.index(key(value))
        if key(value) in {key(p) for p in self.pooled}:
            return len(self.categories) - 1
        shown = [c.strip() for c in self.categories if c != "(other)" or not self.pooled]
        more = f" (and {len(self.pooled)} rare ones pooled)" if self.pooled else ""
        raise GankitError(f"{self.name}={value!r} never occurs in the training data; its values are: "
                          f"{', '.join(shown[:30])}{', ...' if len(shown) > 30 else ''}{more}")


@dataclass
class TableSchema:
    columns: list[Column]  # every source column, in source order (ignored ones too)
    source: str = ""  # file name or "DataFrame", for messages
    label: str | None = None  # data.label_column's name (a categorical column), when given

    @property
    def used(self) -> list[Column]:
        """The columns of the column space, in order."""
        return [c for c in self.columns if c.used]

    def index(self, name: str) -> int:
        """Position of ``name`` in the column space; the error lists the valid names."""
        from gankit.errors import GankitError

        names = [c.name for c in self.used]
        if name not in names:
            ignored = [c.name for c in self.columns if not c.used]
            also = f" ({name} was ignored: {self.column(name).reason})" if name in ignored else ""
            raise GankitError(f"unknown column {name!r}{also}; the columns are: {', '.join(names)}")
        return names.index(name)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def to_dict(self) -> dict:
        return {"source": self.source, "label": self.label, "columns": [asdict(c) for c in self.columns]}

    @classmethod
    def from_dict(cls, d: dict) -> "TableSchema":
        return cls([Column(**c) for c in d["columns"]], d.get("source", ""), d.get("label"))
