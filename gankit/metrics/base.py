"""The contract every feature space meets, and the data it is made for (no other gankit.metrics import).

:class:`FeatureExtractor` is here, not in :mod:`gankit.metrics.features`, so that the extractor
registry there can build the domain classifier (:mod:`gankit.metrics.classifier`) while the
classifier subclasses the contract: both import this module, neither imports the other back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from torch import nn

from gankit.config import DataConfig



class FeatureExtractor(nn.Module):
    """(N, *input_shape) data-space batch -> (N, num_features) features."""

    name: str = "?"
    sha256: Optional[str] = None
    num_features: int = 0
    learns_from_data: bool = False  # True: :meth:`fit` must see the training data before features are made

    def check(self, kind: str, shape: tuple[int, ...]) -> None:
        """Raise GankitError when data of this kind and per-item shape cannot be read."""

    def fit(self, x) -> None:
        """Learn what the features depend on from the training data (N, *shape) in the data's own space;
        most extractors depend on nothing (the standardised one keeps the columns' mean and std)."""

    def provenance(self) -> dict:
        """What a score computed on these features must record."""
        return {"extractor": self.name, "extractor_sha256": self.sha256, "feature_dim": self.num_features}


@dataclass(frozen=True)
class Target:
    """The data an extractor is made for."""

    kind: str  # "image" | "table"
    shape: tuple[int, ...]  # per item
    data: DataConfig  # where the data comes from (the classifier is trained on it)
    labelled: bool  # the dataset has class labels
    mixed: bool = False  # a mixed-type table (gankit.tables) in column space: the table metrics read it
    column: str | None = None  # mixed tables: the prediction target of the utility metric (eval.target)


def has_classifier(kind: str) -> bool:
    """Whether gankit's domain classifier reads this kind of data (its modality says so)."""
    from gankit.modalities import get_modality

    return get_modality(kind).has_domain_classifier


def classifiable(target: Target) -> bool:
    """Whether the domain classifier can be trained on (and judge samples of) this data: labelled images."""
    return has_classifier(target.kind) and target.labelled
