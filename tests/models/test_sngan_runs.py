"""The cifar10 presets on a tiny archive the tests make: a class-conditional sngan run trains and resumes
bit for bit; its generator (class-conditional batch norm, shared embedding, hierarchical latent,
self-attention) exports to ONNX, torch.export and TorchScript with gankit's own output to 1e-5 for the
same z and class; sampling by class, walks and gankit eval's sampling path use it through G(z, y)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import gankit
from conftest import pictures_off
from gankit.run.export import run_file
from models.test_sngan import SMALL, tiny_archive

#: every conditioning part of the generator at once
FULL_G = ["generator.shared_dim=8", "generator.hierarchical=true", "generator.attention=8", "discriminator.attention=8"]
TOL = 1e-5


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    torch.set_num_threads(1)
    base = tmp_path_factory.mktemp("sngan")
    data = tiny_archive(base / "tiny.zip")
    with pictures_off():
        return gankit.train("cifar10-sngan", f"data.path={data}", *SMALL, *FULL_G, "train.steps=3", out=base / "run",
                            quiet=True)


def test_the_run_is_class_conditional_and_samples_by_class(run):
    info = json.loads((run / "run.json").read_text())
    assert info["data"]["shape"] == [3, 16, 16] and info["data"]["items"] == 24
    g = gankit.load(run)
    assert g.num_classes == 3 and g.class_list() == ["cat", "dog", "ship"]
    x = g.sample(6, seed=0, label="dog")
    assert x.shape == (6, 3, 16, 16) and 0 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(x, g.sample(6, seed=0, label="dog"))
    assert (x != g.sample(6, seed=0, label="cat")).any()  # the same codes, another class
    walk = g.interpolate(g.latent(1, seed=1)[0], g.latent(1, seed=2)[0], 4)
    assert walk.shape == (4, 3, 3, 16, 16)  # (steps, classes, *image)
    torch.testing.assert_close(torch.from_numpy(walk[0, 1]), torch.from_numpy(g.sample(1, seed=1, label=1)[0]))


@pytest.mark.parametrize("fmt", ["onnx", "pt2", "torchscript"])
def test_export_gives_gankits_output_for_the_same_z_and_class(run, fmt, tmp_path):
    if fmt == "onnx":
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnxscript")
    doc = gankit.export(run, fmt, tmp_path / f"g.{fmt}")
    assert doc["check"]["max_abs_diff"] < TOL and doc["input_names"] == ["z", "label"]
    g = gankit.load(run)
    gen = torch.Generator().manual_seed(5)
    for n in (1, 7):  # other batch sizes than the example's
        inputs = {"z": torch.randn(n, g.latent_dim, generator=gen), "label": torch.arange(n) % g.num_classes}
        got = run_file(fmt, tmp_path / f"g.{fmt}", inputs)
        with torch.no_grad():
            want = g.G(inputs["z"], inputs["label"])
        assert got.shape == want.shape == (n, 3, 16, 16)
        torch.testing.assert_close(got.float(), want, atol=TOL, rtol=0)


def test_resume_is_exact(tmp_path):
    """4 steps in one go, and 2 + a resume to 4, end with the same weights, bit for bit."""
    data = tiny_archive(tmp_path / "tiny.tar.gz")
    # constant rates: the preset's linear schedule runs over train.steps, so 2 steps of a 2-step schedule
    # are not the first half of a 4-step one (tests/training/test_loop.py)
    args = ["cifar10-sngan", f"data.path={data}", *SMALL, "generator.attention=8", "train.n_critic=2",
            "augment.policy=translation,cutout", "log.checkpoint_every=2", "train.deterministic=true",
            "generator.schedule=constant", "discriminator.schedule=constant"]
    with pictures_off():
        whole = gankit.train(*args, "train.steps=4", out=tmp_path / "whole", quiet=True)
        part = gankit.train(*args, "train.steps=2", out=tmp_path / "part", quiet=True)
        gankit.train(None, "train.steps=4", resume=part, quiet=True)
    a, b = load_file(whole / "generator.safetensors"), load_file(part / "generator.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    ca = sorted((whole / "checkpoints").glob("*.safetensors"))[-1]
    cb = sorted((part / "checkpoints").glob("*.safetensors"))[-1]
    sa, sb = load_file(ca), load_file(cb)  # D, both optimisers, the EMA, spectral norms' u and v, RNGs
    assert sa.keys() == sb.keys() and any("weight_u" in k for k in sa)
    assert [k for k in sa if not torch.equal(sa[k], sb[k])] == []


def test_the_dcgan_baseline_trains_on_the_same_archive(tmp_path):
    data = tiny_archive(tmp_path / "tiny.tar.gz")
    with pictures_off():
        run = gankit.train("cifar10-dcgan", f"data.path={data}", "data.image_size=16", "data.test_path=null",
                           "generator.channels=[8,4]", "discriminator.channels=[4,8]", "train.batch_size=8",
                           "train.steps=2", "train.threads=1", out=tmp_path / "dc", quiet=True)
    g = gankit.load(run)
    assert g.num_classes == 3 and g.sample(3, label="ship").shape == (3, 3, 16, 16)
