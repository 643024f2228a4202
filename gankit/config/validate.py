"""Checks that types alone cannot express: ranges, combinations, and names held by the registries.

The generic keys are checked here. Names (``loss``, ``generator.arch``, ``discriminator.arch``,
``data.name``) are looked up in the registry that holds them, and each chosen entry then checks
the settings it reads itself (``Registry.check``: an mlp its ``hidden`` sizes, a dcgan its
``channels``, wgan-gp its ``penalty.gp_weight``). The registries are torch-free, so this stays fast.
"""

from __future__ import annotations

import functools
import math

from gankit.config.schema import Config, all_keys, parse_policy
from gankit.errors import need
from gankit.tasks import TRANSLATION_TASKS


def _check_finite(cfg: Config) -> None:
    for key in all_keys():  # .nan / .inf / "inf" are floats to YAML but never useful settings
        value = functools.reduce(getattr, key.split("."), cfg)
        items = value if isinstance(value, (list, tuple)) else [value]
        need(all(not isinstance(v, float) or math.isfinite(v) for v in items), key,
             f"must be a finite number, got {value}")


def _check_names(cfg: Config) -> None:
    """Each name is one its registry holds (built-in or registered by the user)."""
    from gankit.audio.representations import REPRESENTATIONS
    from gankit.data import DATASETS
    from gankit.losses import LOSSES
    from gankit.models import DISCRIMINATORS, GENERATORS
    from gankit.tasks import TASKS

    TASKS.refuse_unknown(cfg.task)
    LOSSES.refuse_unknown(cfg.loss)
    GENERATORS.refuse_unknown(cfg.generator.arch)
    DISCRIMINATORS.refuse_unknown(cfg.discriminator.arch)
    DATASETS.refuse_unknown(cfg.data.name, also=("auto",))
    REPRESENTATIONS.refuse_unknown(cfg.data.representation)


def _check_entries(cfg: Config) -> None:
    """The chosen entries check the settings they read (and refuse combinations they cannot run)."""
    from gankit.audio.representations import REPRESENTATIONS
    from gankit.losses import LOSSES
    from gankit.models import DISCRIMINATORS, GENERATORS

    GENERATORS.check(cfg.generator.arch, cfg.generator, "generator")
    DISCRIMINATORS.check(cfg.discriminator.arch, cfg.discriminator, "discriminator")
    LOSSES.check(cfg.loss, cfg)
    REPRESENTATIONS.check(cfg.data.representation, cfg)
    _check_length(cfg)


def _check_models(cfg: Config) -> None:
    g = cfg.generator
    for name, net in (("generator", g), ("discriminator", cfg.discriminator)):
        need(net.lr > 0, f"{name}.lr", f"must be > 0, got {net.lr} (try 2e-4)")
        need(all(0 <= b < 1 for b in net.betas), f"{name}.betas", f"must be in [0, 1), got {list(net.betas)}")
    need(g.latent_dim > 0, "generator.latent_dim", f"must be > 0, got {g.latent_dim}")
    need(0 <= cfg.ema.decay < 1, "ema.decay", f"must be in [0, 1), got {cfg.ema.decay} (try 0.999)")
    need(cfg.conditional.acgan_weight >= 0, "conditional.acgan_weight", "must be >= 0")
    parse_policy(cfg.augment.policy)
    p = cfg.penalty
    need(p.r1_gamma >= 0, "penalty.r1_gamma", "must be >= 0")
    need(p.r1_interval >= 1, "penalty.r1_interval", "must be >= 1")
    need(p.r1_start >= 0, "penalty.r1_start", "must be >= 0 (a training step; 0 = from the first)")


def _check_train(cfg: Config) -> None:
    t = cfg.train
    need(t.batch_size >= 1, "train.batch_size", f"must be >= 1, got {t.batch_size}")
    need(t.steps is None or t.steps >= 1, "train.steps", f"must be >= 1, got {t.steps}")
    need(t.epochs is None or t.epochs >= 1, "train.epochs", f"must be >= 1, got {t.epochs}")
    need(t.accumulate >= 1, "train.accumulate", f"must be >= 1, got {t.accumulate}")
    need(t.batch_size % t.accumulate == 0, "train.accumulate",
         f"({t.accumulate}) must divide train.batch_size ({t.batch_size}): each micro-batch has batch_size / accumulate items")
    need(t.n_critic >= 1, "train.n_critic", f"must be >= 1, got {t.n_critic}")
    need(0 <= t.seed < 2**63, "train.seed", f"must be in 0..2**63-1, got {t.seed}")
    need(0 < t.divergence_lr_factor < 1, "train.divergence_lr_factor",
         f"must be in (0, 1), got {t.divergence_lr_factor} (try 0.5)")
    need(t.max_rollbacks >= 0, "train.max_rollbacks", f"must be >= 0, got {t.max_rollbacks}")
    t.time_limit_seconds()
    need(t.threads is None or t.threads >= 1, "train.threads", "must be >= 1")
    dev = t.device
    ok_dev = dev in ("auto", "cpu", "cuda", "mps") or (dev.startswith("cuda:") and dev[5:].isdigit())
    need(ok_dev, "train.device", f"must be auto, cpu, cuda, cuda:N or mps, got {dev!r}")


def _check_log_data_eval(cfg: Config) -> None:
    lg, dt, ev = cfg.log, cfg.data, cfg.eval
    need(lg.every >= 1, "log.every", "must be >= 1")
    need(lg.sample_every is None or lg.sample_every >= 1, "log.sample_every", "must be >= 1")
    need(lg.checkpoint_every is None or lg.checkpoint_every >= 1, "log.checkpoint_every", "must be >= 1")
    need(lg.keep_checkpoints >= 1, "log.keep_checkpoints", "must be >= 1")
    need(lg.grid_size >= 1, "log.grid_size", "must be >= 1")
    need(dt.n_samples >= 1, "data.n_samples", "must be >= 1")
    need(dt.std > 0, "data.std", "must be > 0")
    need(dt.image_size is None or 4 <= dt.image_size <= 1024, "data.image_size", "must be in 4..1024")
    need(dt.channels in (None, 1, 3), "data.channels", "must be 1 (grayscale) or 3 (RGB)")
    need(dt.limit is None or dt.limit >= 1, "data.limit", "must be >= 1")
    need(0 <= dt.holdout < 1, "data.holdout", f"must be in [0, 1), the share held out (e.g. 0.1), got {dt.holdout}")
    need(dt.holdout == 0 or dt.test_path is None, "data.holdout",
         "and data.test_path both give held-out data; set one of them")
    need(ev.every >= 0, "eval.every", f"must be >= 0 (0 = off), got {ev.every}")
    need(ev.n is None or ev.n >= 1, "eval.n", f"must be >= 1, got {ev.n}")
    need(ev.patience >= 0, "eval.patience", f"must be >= 0 (0 = never stop early), got {ev.patience}")
    need(ev.patience == 0 or ev.every > 0, "eval.patience",
         f"={ev.patience} needs evaluations to count: set eval.every=K too (e.g. eval.every=500)")
    need(0 <= ev.seed < 2**63, "eval.seed", f"must be in 0..2**63-1, got {ev.seed}")
    sr = cfg.sr
    need(sr.patch >= 4 and sr.patch % cfg.generator.scale == 0, "sr.patch",
         f"must be >= 4 and a multiple of generator.scale={cfg.generator.scale}, got {sr.patch}")
    need(sr.adv_weight >= 0, "sr.adv_weight", f"must be >= 0, got {sr.adv_weight}")
    need(sr.pretrain >= 0, "sr.pretrain", f"must be >= 0, got {sr.pretrain}")
    need(sr.tile >= 8, "sr.tile", f"must be >= 8, got {sr.tile}")
    _check_sound(cfg)
    _check_translate(cfg)
    _check_decay_start(cfg)


def _check_decay_start(cfg: Config) -> None:
    for net in ("generator", "discriminator"):
        start = getattr(cfg, net).decay_start
        need(0 <= start < 1, f"{net}.decay_start", f"must be in [0, 1), got {start}")
        need(start == 0 or cfg.task not in TRANSLATION_TASKS, f"{net}.decay_start",
             f"task={cfg.task} holds both rates with translate.decay_start; set that instead")


def _check_sound(cfg: Config) -> None:
    """The sound keys (gankit/data/sounds.py, gankit/audio/codec.py): a clip must hold an STFT window."""
    d = cfg.data
    need(1000 <= d.sample_rate <= 384_000, "data.sample_rate", f"must be in 1000..384000 Hz, got {d.sample_rate}")
    need(0 < d.duration <= 60, "data.duration", f"must be in (0, 60] seconds, got {d.duration}")
    need(16 <= d.n_fft <= 8192, "data.n_fft", f"must be in 16..8192 samples, got {d.n_fft}")
    need(1 <= d.n_mels <= d.n_fft // 2 + 1, "data.n_mels", f"must be in 1..{d.n_fft // 2 + 1} (n_fft // 2 + 1 "
         f"frequency bins with data.n_fft={d.n_fft}), got {d.n_mels}")
    need(d.frames >= 2, "data.frames", f"must be >= 2, got {d.frames}")
    need(d.griffin_lim >= 1, "data.griffin_lim", f"must be >= 1 iteration, got {d.griffin_lim}")
    samples = round(d.duration * d.sample_rate)
    need(samples >= d.n_fft, "data.duration", f"({d.duration:g} s) is {samples} samples at {d.sample_rate} Hz, shorter "
         f"than the STFT window (data.n_fft={d.n_fft}); raise data.duration or lower data.n_fft")
    need(samples >= d.frames, "data.frames", f"({d.frames}) is more than the {samples} samples of a clip; lower it")
    hop = samples // (d.frames - 1)  # gankit/audio/stft.py
    need(hop <= d.n_fft // 2, "data.frames", f"({d.frames}) over {samples} samples is a hop of {hop}, more than half "
         f"of data.n_fft={d.n_fft}: frames must overlap by half for Griffin-Lim; raise data.frames or data.n_fft "
         f"(or shorten data.duration)")
    need(d.test_pattern is None or (d.holdout == 0 and d.test_path is None), "data.test_pattern",
         "names a test split, and so do data.holdout / data.test_path; set one of them")


def _check_translate(cfg: Config) -> None:
    t = cfg.translate
    need(t.size >= 16, "translate.size", f"must be >= 16, got {t.size}")
    need(t.load == 0 or t.load >= t.size, "translate.load", f"must be 0 or >= translate.size={t.size}, got {t.load}")
    need(t.l1_weight >= 0, "translate.l1_weight", f"must be >= 0, got {t.l1_weight}")
    need(t.cycle_weight >= 0, "translate.cycle_weight", f"must be >= 0, got {t.cycle_weight}")
    need(t.identity >= 0, "translate.identity", f"must be >= 0, got {t.identity}")
    need(t.pool >= 0, "translate.pool", f"must be >= 0, got {t.pool}")
    need(0 <= t.decay_start < 1, "translate.decay_start", f"must be in [0, 1), got {t.decay_start}")
    if cfg.task in TRANSLATION_TASKS and cfg.generator.arch in ("unet", "resnet"):
        m = 2 ** cfg.generator.blocks if cfg.generator.arch == "unet" else 4
        need(t.size % m == 0, "translate.size", f"must be a multiple of {m} for generator.arch={cfg.generator.arch} "
             f"with generator.blocks={cfg.generator.blocks}, got {t.size}")


def _check_length(cfg: Config) -> None:
    """A waveform's ``data.length`` must be what the networks take (wavegan: a multiple of 4^stages)."""
    from gankit.models import image_multiple

    d = cfg.data
    if d.representation != "waveform" or d.length is None:
        return
    m = image_multiple(cfg.generator, cfg.discriminator)
    need(d.length % m == 0, "data.length", f"({d.length}) must be a multiple of {m} for generator.arch="
         f"{cfg.generator.arch} / discriminator.arch={cfg.discriminator.arch} as configured (wavegan: 4^stages); "
         f"e.g. data.length={-(-d.length // m) * m}, or leave it unset to round up automatically")


def settle_auto(cfg: Config) -> Config:
    """Settings whose ``auto`` value follows from other keys, made explicit (``--dry-run`` and config.yaml
    show the result): ``conditional.mode=auto`` is projection when a table's label column is given (the
    user named classes to train on), else none; an unset ``data.length`` of waveforms is the clip's samples
    rounded up to what the networks take (gankit.audio.waveform's pad rule)."""
    if cfg.conditional.mode == "auto":
        cfg.conditional.mode = "projection" if cfg.data.label_column is not None else "none"
    d = cfg.data
    if d.representation == "waveform" and d.length is None:
        from gankit.audio.representations import clip_samples
        from gankit.models import DISCRIMINATORS, GENERATORS, image_multiple

        if cfg.generator.arch in GENERATORS and cfg.discriminator.arch in DISCRIMINATORS:  # else named by validate
            m = image_multiple(cfg.generator, cfg.discriminator)
            d.length = -(-clip_samples(d) // m) * m
    return cfg


def validate(cfg: Config) -> Config:
    """Range checks that types alone cannot express (after :func:`settle_auto`). Raises GankitError naming the key."""
    settle_auto(cfg)
    _check_finite(cfg)
    _check_names(cfg)
    _check_models(cfg)
    _check_train(cfg)
    _check_log_data_eval(cfg)
    _check_entries(cfg)
    return cfg
