"""Batch norm whose gain and bias come from a condition vector (class-conditional batch norm).

De Vries et al. 2017 and Dumoulin et al. 2017 introduced it; the projection-discriminator paper
(Miyato & Koyama 2018) conditions its ResNet generator with one gain and bias per class ("categorical
conditional batch norm"), and BigGAN (Brock et al. 2019) computes them from a *shared* class embedding
concatenated with a chunk of the latent (hierarchical latent), through a linear map per layer.

One module does both: the condition ``c`` (N, cond_dim) is a one-hot class vector (then the linear map
is a per-class table), a shared embedding, and/or a latent chunk:

    y = BN(x) * (1 + W_gain c) + W_bias c           # BN without its own affine parameters

With ``cond_dim == 0`` it is a plain batch norm with learnt affine parameters (an unconditional
generator), called the same way.
"""

from __future__ import annotations

from torch import Tensor, nn


class ClassBatchNorm2d(nn.Module):
    """(N, C, H, W), (N, cond_dim) -> (N, C, H, W)."""

    def __init__(self, channels: int, cond_dim: int = 0) -> None:
        super().__init__()
        self.cond_dim = cond_dim
        self.bn = nn.BatchNorm2d(channels, affine=cond_dim == 0)
        if cond_dim:
            self.gain = nn.Linear(cond_dim, channels, bias=False)  # 1 + W c: the identity at W = 0
            self.bias = nn.Linear(cond_dim, channels, bias=False)

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        h = self.bn(x)
        if not self.cond_dim:
            return h
        gain = 1.0 + self.gain(cond)  # (N, C)
        return h * gain[:, :, None, None] + self.bias(cond)[:, :, None, None]

    def extra_repr(self) -> str:
        return f"cond_dim={self.cond_dim}"
