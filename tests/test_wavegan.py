"""WaveGAN's networks (Donahue et al. 2019): lengths through the stride-4 stages, phase shuffle, conditioning."""

from __future__ import annotations

import pytest
import torch

from gankit.config.schema import DiscriminatorConfig, GeneratorConfig
from gankit.errors import GankitError
from gankit.models import DISCRIMINATORS, GENERATORS, build_discriminator, build_generator
from gankit.models.wavegan import PhaseShuffle, WaveGANDiscriminator, WaveGANGenerator, padding

PAPER_G, PAPER_D = [1024, 512, 256, 128, 64], [64, 128, 256, 512, 1024]  # d = 64


def test_the_papers_lengths_through_five_stride_4_stages():
    G = WaveGANGenerator(100, (1, 16384), PAPER_G, kernel_size=25)
    lengths, x = [], torch.randn(2, 100)
    for layer in G:
        with torch.no_grad():
            x = layer(x)
        if isinstance(layer, torch.nn.ConvTranspose1d):
            lengths.append(x.shape[-1])
    assert lengths == [64, 256, 1024, 4096, 16384] and x.shape == (2, 1, 16384)  # from 16 samples
    assert float(x.abs().max()) <= 1.0  # tanh
    D = WaveGANDiscriminator((1, 16384), PAPER_D, kernel_size=25)
    with torch.no_grad():
        assert D(x).shape == (2, 1) and D.feature_dim == 1024 * 16
    convs = [m for m in D.features if isinstance(m, torch.nn.Conv1d)]
    assert [(m.kernel_size[0], m.stride[0], m.padding[0]) for m in convs] == [(25, 4, 11)] * 5
    shuffles = [m for m in D.features if isinstance(m, PhaseShuffle)]
    assert len(shuffles) == 4 and all(m.n == 2 for m in shuffles)  # after every layer but the last


@pytest.mark.parametrize("kernel", [4, 5, 8, 24, 25])
def test_any_kernel_multiplies_the_length_by_the_stride(kernel):
    pad, out_pad = padding(kernel)
    up = torch.nn.ConvTranspose1d(1, 1, kernel, 4, pad, out_pad)
    down = torch.nn.Conv1d(1, 1, kernel, 4, pad)
    assert up(torch.zeros(1, 1, 8)).shape[-1] == 32 and down(torch.zeros(1, 1, 32)).shape[-1] == 8


def test_phase_shuffle_shifts_each_example_by_at_most_n_with_reflection():
    torch.manual_seed(0)
    shuffle = PhaseShuffle(2)
    x = torch.randn(64, 3, 20)
    y = shuffle(x)
    assert y.shape == x.shape
    seen = set()
    for i in range(64):  # each example is its input shifted by one k in -2..2, the same for all channels
        matches = [k for k in range(-2, 3) if torch.equal(y[i], shift(x[i], k))]
        assert len(matches) == 1
        seen.add(matches[0])
    assert seen == {-2, -1, 0, 1, 2}
    assert torch.equal(shuffle.eval()(x), x) and torch.equal(PhaseShuffle(0)(x), x)  # off outside training
    x.requires_grad_(True)
    PhaseShuffle(2).train()(x).sum().backward()
    assert x.grad is not None


def shift(x: torch.Tensor, k: int) -> torch.Tensor:
    """out[t] = x[t - k], reflected at the edges (x[-1] = x[1], x[T] = x[T - 2]), by hand."""
    t = x.shape[-1]
    index = [abs(j - k) if j - k < 0 else (2 * (t - 1) - (j - k) if j - k > t - 1 else j - k) for j in range(t)]
    return x[:, index]


def test_registered_with_its_settings_and_class_conditioning():
    assert "wavegan" in GENERATORS and "wavegan" in DISCRIMINATORS
    g = GeneratorConfig(arch="wavegan", channels=[32, 16, 8], kernel_size=25, latent_dim=16)
    d = DiscriminatorConfig(arch="wavegan", channels=[8, 16, 32], kernel_size=25)
    GENERATORS.check("wavegan", g, "generator")
    with pytest.raises(GankitError, match="discriminator.kernel_size must be in 4..64 for wavegan"):
        DISCRIMINATORS.check("wavegan", DiscriminatorConfig(arch="wavegan", kernel_size=2), "discriminator")
    with pytest.raises(GankitError, match="discriminator.phase_shuffle must be in 0..8"):
        DISCRIMINATORS.check("wavegan", DiscriminatorConfig(arch="wavegan", phase_shuffle=-1), "discriminator")
    shape, y = (1, 1024), torch.tensor([0, 2, 1])
    G = build_generator(g, shape, num_classes=3)
    x = G(torch.randn(3, 16), y)
    assert x.shape == (3, 1, 1024)
    for mode in ("projection", "concat"):
        D = build_discriminator(d, shape, 3, mode, acgan=True)
        logit, aux = D(x, y, aux=True)
        assert logit.shape == (3, 1) and aux.shape == (3, 3)
    with pytest.raises(GankitError, match="must divide by 4\\^3 = 64, but it is 1000 samples; set data.length=1024"):
        build_generator(g, (1, 1000))
    with pytest.raises(GankitError, match="needs waveforms"):
        build_discriminator(d, (1, 64, 64))


@pytest.mark.parametrize("channels, length", [([16, 8, 8, 8, 8], 8192), ([8, 8, 8], 2432)])
def test_conditional_shapes_at_two_lengths_and_shuffle_only_in_training(channels, length):
    """fsdd-wavegan's 8,192 samples (5 stages from 8) and a tiny test's 2,432 (3 stages from 38)."""
    torch.manual_seed(0)
    g = GeneratorConfig(arch="wavegan", channels=channels, kernel_size=25, latent_dim=8, norm="batch")
    d = DiscriminatorConfig(arch="wavegan", channels=channels[::-1], kernel_size=25, norm="batch", phase_shuffle=2)
    G, D = build_generator(g, (1, length), 10), build_discriminator(d, (1, length), 10, "projection", acgan=True)
    y = torch.tensor([7, 7, 0, 3])
    x = G(torch.randn(4, 8), y)
    assert x.shape == (4, 1, length)
    logit, aux = D(x, y, aux=True)
    assert logit.shape == (4, 1) and aux.shape == (4, 10)
    D.eval()
    with torch.no_grad():
        assert torch.equal(D(x, y), D(x, y))  # no shuffle (and batch statistics frozen) outside training
        D.train()
        assert not torch.equal(D(x, y), D(x, y))  # each call shifts each example anew
