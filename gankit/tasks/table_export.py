"""What ``gankit export`` writes for the table task's generator: a deterministic network and its decoding.

The network takes the noise ``z`` (n, latent) and the conditional vector ``cond`` (n, cond_dim) and
returns rows in the generator's space (n, D): each number's scalar (tanh) as in sampling, and each
one-hot block (a number's mode, a category) as the probabilities ``softmax(logits)`` instead of a
Gumbel-softmax draw, so that the file is deterministic. The argmax of gankit's Gumbel-softmax output
is a draw from exactly these probabilities: a decoder that draws each block's slot from them samples
as gankit does; one that takes the argmax gives each row's most likely slot. The blocks of the
columns set in ``cond`` are replaced by their condition (gankit's own sampling does the same: the
rows of ``--where A=a`` have A=a), the mask of given blocks computed from ``cond`` itself.

The JSON beside the file (``describe``) holds the codec (:meth:`MixedCodec.to_dict`) plus, for each
block, where it starts in the output and its category names, and the layout of ``cond``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class TableNetwork(nn.Module):
    """(z, cond) -> the generator's deterministic output with the given blocks set to their condition."""

    def __init__(self, G: nn.Module, width: int, spans: list[tuple[int, int]]) -> None:
        super().__init__()
        self.G, self.width = G, width
        dim = sum(k for _, k in spans)
        blocks = torch.zeros(dim, max(1, len(spans)))  # slot of cond -> its column
        place = torch.zeros(dim, width)  # slot of cond -> its position in the output
        at = 0
        for j, (start, size) in enumerate(spans):
            blocks[at : at + size, j] = 1
            place[torch.arange(at, at + size), torch.arange(start, start + size)] = 1
            at += size
        self.register_buffer("blocks", blocks)
        self.register_buffer("place", place)
        self.conditional = dim > 0

    def forward(self, z: Tensor, cond: Tensor | None = None) -> Tensor:  # cond: None for a table of numbers only
        if cond is None:
            return self.G.probabilities(z)
        out = self.G.probabilities(torch.cat([z, cond], 1))
        given = (cond @ self.blocks) @ self.blocks.T  # (n, dim): > 0 where the slot's column is given
        given_out = given @ self.place  # the same, at the output's positions
        return torch.where(given_out > 0, cond @ self.place, out)


def describe(codec, conditions, latent_dim: int) -> dict:
    """The JSON beside an exported table generator: its inputs and how to decode its output into columns."""
    used = codec.schema.used
    blocks = []
    for b, start in zip(codec.blocks, codec.starts):
        col = used[b.column]
        entry = {**_block(b), "start": int(start), "column_kind": col.kind}
        if b.kind == "category":
            entry["categories"] = list(col.categories) + ([None] if b.missing else [])
        blocks.append(entry)
    cond = [{"column": used[c].name, "offset": int(o), "size": int(k),
             "categories": list(used[c].categories) + ([None] if codec.blocks[c].missing else []),
             "frequency": [float(f) for f in (conditions.freq[j] / conditions.freq[j].sum()).tolist()]}
            for j, (c, o, k) in enumerate(zip(conditions.columns, conditions.offsets, conditions.sizes))]
    out = {
        "inputs": {"z": {"shape": ["batch", latent_dim], "dtype": "float32", "draw": "standard normal"},
                   "cond": {"shape": ["batch", conditions.dim], "dtype": "float32", "blocks": cond,
                            "rule": "one one-hot block per discrete column, all zero where that column is free; "
                                    "gankit's unconditional sampling sets one block per row: a column drawn "
                                    "uniformly, its category by 'frequency'"}},
        "output": {"name": "rows", "shape": ["batch", codec.width], "space": "the generator's space: per block, "
                   "numbers: [scalar, mode probabilities...], categories: [probabilities...]"},
        "decode": {"blocks": blocks, "codec": codec.to_dict(),
                   "rule": "number: slot = argmax (or a draw) of its mode probabilities; value = clip(scalar, -1, 1) "
                           "* 4 * stds[slot] + means[slot], then * spread + centre (integers round, datetimes are "
                           "seconds since 1970); category: categories[argmax (or a draw)]; the last slot of a "
                           "block with missing=true means a missing cell"},
        "stochastic": "the one-hot blocks are softmax(logits), not gankit's Gumbel-softmax draws (temperature 0.2); "
                      "the argmax of a Gumbel-softmax draw is distributed as a draw from these probabilities",
    }
    if not conditions.columns:  # numbers only: no conditional vector
        del out["inputs"]["cond"]
    return out


def _block(b) -> dict:
    from dataclasses import asdict

    return asdict(b)
