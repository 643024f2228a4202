"""The presets do what they promise (the cheap ones; image quality lives in benchmarks/)."""

from __future__ import annotations

import numpy as np

import gankit


def test_gaussian_1d_mse_matches_mean_and_std(tmp_path):
    """Issue 2: after training, the generated mean and std are within 5% of the data's."""
    run = gankit.train("gaussian-1d-mse", "log.sample_every=100000", "log.checkpoint_every=100000", "train.threads=1",
                       out=tmp_path / "run", quiet=True)
    x = gankit.load(run).sample(20000, seed=0)
    cfg = gankit.load_config("gaussian-1d-mse")
    from gankit.data import load_data

    data = load_data(cfg.data, output=cfg.generator.output, seed=cfg.train.seed)
    real = (data.x * data.scale + data.offset).numpy()
    assert abs(x.mean() - real.mean()) / abs(real.mean()) < 0.05
    assert abs(x.std() - real.std()) / real.std() < 0.05
    assert np.isfinite(x).all()
