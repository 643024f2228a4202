"""Issue 4: the ring preset's recipe spreads over the ring within 600 of its 3,000 steps.

The full claim (all modes, >= 90% high-quality samples, 5 of 5 seeds, for ring and grid) takes
minutes and lives in ``python -m benchmarks.quality_toy``; this is its fast canary, run through the
same path (``gankit.train`` on the preset, then the VEEGAN/PacGAN mode-coverage protocol of
``gankit eval``).
"""

from __future__ import annotations

import numpy as np

import gankit
from gankit.metrics import evaluate_run

FAST = ("log.sample_every=100000", "log.checkpoint_every=100000", "train.threads=1")


def test_short_ring_run_spreads_over_the_ring(tmp_path):
    """600 of the preset's 3,000 steps: the samples already lie near the circle, in every one of the 8
    angular sectors (no collapse), and several modes are already hit within 3 std (0.03)."""
    run = gankit.train("ring", "train.steps=600", *FAST, out=tmp_path / "run", quiet=True)
    x = np.asarray(gankit.load(run).sample(2500, seed=0))
    radius = np.hypot(x[:, 0], x[:, 1])
    sector = np.round(np.arctan2(x[:, 1], x[:, 0]) / (np.pi / 4)).astype(int) % 8
    share = np.bincount(sector, minlength=8) / len(x)
    assert np.median(np.abs(radius - 1)) < 0.15, np.median(np.abs(radius - 1))
    assert share.min() > 0.05, share
    s = evaluate_run(run, metrics="modes", n=2500, seed=0, write=False)["scores"]
    m = s["modes_captured"]
    assert m["n_modes"] == 8 and m["value"] >= 3, m
    assert s["hq_fraction"]["value"] == sum(m["histogram"]) / 2500


def test_ring_and_grid_presets_keep_the_tuned_recipe():
    """The benchmark's numbers belong to these settings; changing them needs a new benchmark run."""
    for name, steps in (("ring", 3000), ("grid", 5000)):
        cfg = gankit.load_config(name)
        assert cfg.loss == "bce" and cfg.penalty.r1_gamma > 0 and cfg.ema.decay == 0.99
        assert cfg.train.batch_size == 512 and cfg.train.steps == steps
        assert cfg.generator.betas[0] == 0.0 and cfg.discriminator.betas[0] == 0.0


def test_benchmark_tables_count_seeds_that_meet_the_target(tmp_path):
    """benchmarks/quality_toy.py's summary: all modes, >= 90% HQ and <= 120 s, per seed."""
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    from benchmarks import quality_toy as qt

    def row(seed, modes, hq, wall, kl=0.01):
        return qt.Row("ring", "preset", seed, modes, 8, hq, kl, wall, wall, wall, 3000, [1] * 8)

    rows = [row(0, 8, 0.95, 60), row(1, 8, 0.89, 60), row(2, 7, 0.99, 60), row(3, 8, 0.95, 130, None)]
    (s,) = qt.summary(rows)
    assert (s["met"], s["met_quality"], s["modes_min"], s["reverse_kl_mean"]) == (1, 2, 7, None)
    assert abs(s["hq_mean"] - 0.945) < 1e-9
    meta = {"command": "x", "date": "d", "machine": "m", "load_start": [0], "load_end": [0], "seconds": 1}
    md = qt.markdown(rows, [s], meta)
    assert "| ring | preset | 4 | 7.8 / 7 of 8 | 94.5 / 89.0 | inf |" in md and "1/4 (2/4 on quality alone)" in md
    assert md.count("| ring | preset |") == 5 and "PacGAN4 | 7.8 | 95.9 | 24.8 | 93.6" in md
