"""Model shapes, parameter counts and the Keras-style summary."""

from __future__ import annotations

import pytest
import torch

from gankit import config as C
from gankit.data import data_shape
from gankit.models import build_discriminator, build_generator
from gankit.models.summary import count, gan_summary


def nets(preset, *overrides):
    cfg = C.load(preset, list(overrides))
    shape = data_shape(cfg.data)
    return cfg, build_generator(cfg.generator, shape), build_discriminator(cfg.discriminator, shape)


def test_mnist_mlp_parameter_counts():
    _, G, D = nets("mnist-mlp")
    assert count(G) == (559_632, 0)
    assert count(D) == (533_505, 0)


def test_keras_preset_shapes_and_output():
    cfg, G, D = nets("mnist-mlp-keras")
    x = G(torch.randn(5, 100))
    assert x.shape == (5, 1, 28, 28)
    assert 0 <= x.min() and x.max() <= 1  # sigmoid output
    assert D(x).shape == (5, 1)
    assert count(G)[0] == 100 * 128 + 128 + 128 * 784 + 784
    assert count(D)[0] == 784 * 128 + 128 + 128 + 1


@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
@pytest.mark.parametrize("preset", ["digits", "ring", "gaussian-1d-mse"])
def test_shapes_for_every_norm(preset, norm):
    cfg, G, D = nets(preset, f"generator.norm={norm}", f"discriminator.norm={norm}",
                     "generator.dropout=0.1", "discriminator.dropout=0.2")
    shape = data_shape(cfg.data)
    x = G(torch.randn(4, cfg.generator.latent_dim))
    assert x.shape == (4, *shape)
    assert D(x).shape == (4, 1)


def test_custom_depth_and_width():
    _, G, D = nets("digits", "generator.hidden=[7,11,13]", "discriminator.hidden=[5]",
                   "generator.activation=gelu")
    linears = [m for m in G if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [7, 11, 13, 64]
    assert any(isinstance(m, torch.nn.GELU) for m in G)
    assert [m.out_features for m in D if isinstance(m, torch.nn.Linear)] == [5, 1]


def test_summary_table():
    _, G, D = nets("mnist-mlp")
    text = gan_summary(G, D, 100)
    assert 'Model: "generator"' in text and 'Model: "discriminator"' in text and 'Model: "gan' in text
    assert "Total params: 559,632" in text and "Total params: 533,505" in text
    assert "(None, 1, 28, 28)" in text
    assert "linear (Linear)" in text and "linear_1 (Linear)" in text
    # combined model: D frozen while G trains, as in the Keras GAN examples
    combined = text.split('Model: "gan')[1]
    assert "Trainable params: 559,632" in combined and "Non-trainable params: 533,505" in combined
