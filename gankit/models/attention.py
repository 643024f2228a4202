"""Self-attention over the positions of a feature map (SAGAN, Zhang et al. 2019).

Convolutions see a neighbourhood; one attention layer lets every position look at every other, which
SAGAN found helps with structure that spans the image (BigGAN keeps one, at 64x64 for its 128-pixel
models). As in BigGAN's version, keys and values are max-pooled 2x2 (a quarter of the positions), the
query/key width is C/8 and the value width C/2; the output is scaled by a learnt ``gamma`` that
starts at 0, so a fresh layer is the identity and the network learns how much attention to use.

    x (N, C, H, W) -> x + gamma * o(softmax(θ(x)ᵀ φ(x)) g(x)ᵀ)          (N, C, H, W)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.models.layers import ortho_sn


def _conv1x1(cin: int, cout: int, sn: bool) -> nn.Module:
    return ortho_sn(nn.Conv2d(cin, cout, 1, bias=False), sn)


class SelfAttention2d(nn.Module):
    """(N, C, H, W) -> (N, C, H, W); H and W even (keys and values are pooled 2x2)."""

    #: gankit summary shows this module as one row (gankit.models.summary)
    summary_leaf = True

    def __init__(self, channels: int, spectral: bool = False) -> None:
        super().__init__()
        self.theta = _conv1x1(channels, max(1, channels // 8), spectral)
        self.phi = _conv1x1(channels, max(1, channels // 8), spectral)
        self.g = _conv1x1(channels, max(1, channels // 2), spectral)
        self.o = _conv1x1(max(1, channels // 2), channels, spectral)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        q = self.theta(x).flatten(2)  # (N, C/8, HW)
        k = F.max_pool2d(self.phi(x), 2).flatten(2)  # (N, C/8, HW/4)
        v = F.max_pool2d(self.g(x), 2).flatten(2)  # (N, C/2, HW/4)
        attn = torch.softmax(torch.bmm(q.transpose(1, 2), k), -1)  # (N, HW, HW/4)
        out = torch.bmm(v, attn.transpose(1, 2)).reshape(n, -1, h, w)  # (N, C/2, H, W)
        return x + self.gamma * self.o(out)
