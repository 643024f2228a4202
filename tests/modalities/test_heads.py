"""The data's modality tells the generator which output heads it needs; families refuse what they cannot make."""

from __future__ import annotations

import pytest
import torch

from gankit.config import load
from gankit.data import load_data
from gankit.errors import GankitError
from gankit.modalities.base import Head
from gankit.models import build_generator


def test_images_and_numeric_tables_need_one_continuous_head():
    for preset, size in (("digits", 64), ("ring", 2)):
        data = load_data(load(preset).data, seed=0)
        assert data.modality.heads(data) == (Head("values", size),)


def test_a_family_refuses_heads_it_cannot_make():
    cfg = load("digits-dcgan")
    heads = (Head("values", 60), Head("colour", 4, "categorical"))
    with pytest.raises(GankitError, match="generator.arch=dcgan cannot make categorical outputs \\(colour\\)"):
        build_generator(cfg.generator, (1, 8, 8), heads=heads)
    G = build_generator(cfg.generator, (1, 8, 8), heads=(Head("values", 64),))
    assert G(torch.randn(2, cfg.generator.latent_dim)).shape == (2, 1, 8, 8)
