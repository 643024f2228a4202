"""The small CNN behind gankit's domain classifiers (images, and sound through a log-mel front-end):
three 3x3 convolution stages, pooled to 4x4, a feature layer and a linear head. Its own module so that
each kind of data's classifier builds on it without importing the classifier machinery."""

from __future__ import annotations

from torch import Tensor, nn


class DomainClassifier(nn.Module):
    def __init__(self, in_shape: tuple[int, ...], n_classes: int, width: int = 16, feature_dim: int = 128,
                 dropout: float = 0.3) -> None:
        super().__init__()
        c, h, w = in_shape
        layers: list[nn.Module] = [nn.Conv2d(c, width, 3, padding=1), nn.ReLU()]
        side = min(h, w)
        while side > 16:  # cheap early downsampling keeps 28x28 (and larger) fast on a CPU
            layers.append(nn.MaxPool2d(2))
            side //= 2
        layers += [nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
                   nn.Conv2d(2 * width, 4 * width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
                   nn.Flatten(), nn.Linear(64 * width, feature_dim), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(feature_dim, n_classes))
        self.in_shape = tuple(in_shape)

    def features(self, x: Tensor) -> Tensor:  # (N, C, H, W) in [0, 1] -> (N, feature_dim)
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:  # (N, C, H, W) -> (N, n_classes) logits
        return self.head(self.body(x))
