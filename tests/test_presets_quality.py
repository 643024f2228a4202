"""The presets do what they promise (the cheap ones; image quality lives in benchmarks/)."""

from __future__ import annotations

import numpy as np

import gankit


def test_gaussian_1d_mse_matches_mean_and_std(tmp_path):
    """Issue 2: after training, the generated mean and std are within 5% of the data's."""
    run = gankit.train("gaussian-1d-mse", "log.sample_every=100000", "log.checkpoint_every=100000", "train.threads=1",
                       out=tmp_path / "run", quiet=True)
    x = gankit.load(run).samples(20000, seed=0)
    cfg = gankit.load_config("gaussian-1d-mse")
    from gankit.data import load_data

    data = load_data(cfg.data, output=cfg.generator.output, seed=cfg.train.seed)
    real = (data.x * data.scale + data.offset).numpy()
    assert abs(x.mean() - real.mean()) / abs(real.mean()) < 0.05
    assert abs(x.std() - real.std()) / real.std() < 0.05
    assert np.isfinite(x).all()


def test_image_presets_keep_the_benchmarked_recipe():
    """BENCHMARKS.md "Image GAN quality" measured these settings; changing them needs a new run of
    ``python -m benchmarks.quality_images``."""
    for name, steps in (("digits-dcgan", 9000), ("mnist-dcgan", 4000), ("fashion-dcgan", 4000)):
        cfg = gankit.load_config(name)
        assert cfg.generator.arch == cfg.discriminator.arch == "dcgan", name
        assert cfg.generator.lr == cfg.discriminator.lr == 1e-3, name
        assert (cfg.penalty.r1_gamma, cfg.penalty.r1_interval) == (1.0, 4), name
        assert cfg.train.steps == steps and cfg.train.batch_size == 64 and cfg.ema.decay == 0.999, name
    cgan = gankit.load_config("mnist-cgan")
    assert (cgan.conditional.mode, cgan.conditional.acgan, cgan.train.steps) == ("projection", True, 4000)
    assert cgan.generator.lr == 2e-4 and cgan.penalty.r1_gamma == 0
