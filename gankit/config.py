"""Typed configuration: nested dataclasses, YAML files, dotted ``key=value`` overrides.

Design (nanoGPT's checks, timm's args.yaml): every key has a type and a default; a YAML file or a
preset gives a starting point; ``train.epochs=3 generator.hidden=[256,256] loss=mse`` on the
command line overrides single keys; unknown keys, wrong types and out-of-range values are refused
with a message that names the key and the fix. The resolved config is written to the run folder.

This module must not import torch: ``gankit --help``/``presets`` stay fast.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Union, get_args, get_origin

import yaml

from gankit.errors import GankitError, did_you_mean

Activation = Literal["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "silu", "elu"]
Norm = Literal["none", "batch", "layer", "spectral"]  # spectral: Miyato et al. 2018 (dcgan)
OutputActivation = Literal["tanh", "sigmoid", "none"]
LossName = Literal["bce", "minimax", "mse", "lsgan", "wgan-gp", "hinge"]
DatasetName = Literal[
    "auto", "digits", "mnist", "fashion-mnist", "gaussian-1d", "ring", "grid", "images", "table"
]
Arch = Literal["mlp", "dcgan"]
Precision = Literal["fp32", "bf16", "fp16"]
Schedule = Literal["constant", "linear", "cosine"]

AUGMENTATIONS = ("color", "translation", "cutout")


def parse_policy(policy: str) -> list[str]:
    """``"translation,cutout"`` -> ["translation", "cutout"], refusing unknown names."""
    parts = [p.strip() for p in policy.split(",") if p.strip()]
    for p in parts:
        if p not in AUGMENTATIONS:
            raise GankitError(f"augment.policy: unknown augmentation {p!r}{did_you_mean(p, AUGMENTATIONS)}; "
                              f"use a comma list of {', '.join(AUGMENTATIONS)}")
    return parts


#: Version of the config / checkpoint schema. A file from a newer gankit is refused.
SCHEMA_VERSION = 1


@dataclass
class DataConfig:
    name: DatasetName = "auto"  # "auto": digits, or guessed from data.path
    path: Optional[str] = None  # IDX folder (MNIST), image folder, or .csv/.npy/.npz table
    n_samples: int = 10_000  # size of the toy sets (gaussian-1d, ring, grid)
    mean: float = 4.0  # gaussian-1d
    std: float = 1.25  # gaussian-1d
    image_size: Optional[int] = None  # image folder: resize to this square size
    channels: Optional[int] = None  # image folder: 1 (grayscale) or 3 (RGB); None = infer
    standardize: bool = True  # tables: train on zero-mean unit-variance columns
    label_column: Optional[str] = None  # tables: column of class labels (header name or 0-based index)
    download: bool = True  # MNIST-format sets: download to the cache when absent
    cache_dir: Optional[str] = None  # default ~/.cache/gankit (or $GANKIT_CACHE)
    limit: Optional[int] = None  # use only the first N items (quick tries)


@dataclass
class GeneratorConfig:
    arch: Arch = "mlp"
    latent_dim: int = 100
    hidden: list[int] = field(default_factory=lambda: [256, 512])
    activation: Activation = "relu"
    negative_slope: float = 0.2  # for leaky_relu
    norm: Norm = "none"
    dropout: float = 0.0
    output: OutputActivation = "tanh"  # also sets the data range: tanh [-1,1], sigmoid [0,1]
    channels: list[int] = field(default_factory=lambda: [128, 64])  # dcgan: maps per stage, coarse->fine
    kernel_size: int = 4  # dcgan
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    schedule: Schedule = "constant"  # learning rate over the run: constant, linear (decay to 0), cosine


@dataclass
class DiscriminatorConfig:
    arch: Arch = "mlp"
    hidden: list[int] = field(default_factory=lambda: [512, 256])
    activation: Activation = "leaky_relu"
    negative_slope: float = 0.2
    norm: Norm = "none"
    dropout: float = 0.0
    channels: list[int] = field(default_factory=lambda: [64, 128])  # dcgan: maps per stage, fine->coarse
    kernel_size: int = 4  # dcgan
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    schedule: Schedule = "constant"  # learning rate over the run: constant, linear (decay to 0), cosine


@dataclass
class ConditionalConfig:
    """Class-conditional training (needs labelled data: digits, MNIST, class folders)."""

    mode: Literal["none", "projection", "concat"] = "none"  # how D sees the class
    acgan: bool = False  # auxiliary classifier on D's features (Odena et al. 2017)
    acgan_weight: float = 1.0


@dataclass
class EMAConfig:
    decay: float = 0.0  # 0 = off; e.g. 0.999. Sampling uses the averaged generator when on


@dataclass
class AugmentConfig:
    policy: str = ""  # DiffAugment (Zhao et al. 2020): comma list of color, translation, cutout


@dataclass
class PenaltyConfig:
    gp_weight: float = 10.0  # WGAN-GP lambda (Gulrajani et al. 2017), used by loss=wgan-gp
    r1_gamma: float = 0.0  # R1 penalty weight (Mescheder et al. 2018); 0 = off
    r1_interval: int = 1  # lazy regularisation: apply R1 every k D steps (scaled by k)


@dataclass
class TrainConfig:
    steps: Optional[int] = None  # generator steps; setting it clears train.epochs
    epochs: Optional[int] = None  # passes over the data; setting it clears train.steps
    # the *global* batch of one optimiser step: under torchrun each of N processes takes
    # batch_size / N of it, and with accumulate=K each process runs it in K micro-batches
    batch_size: int = 64
    accumulate: int = 1  # gradient accumulation: micro-batches per optimiser step (same maths, less memory)
    n_critic: int = 1  # D steps per G step
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    precision: Precision = "fp32"  # bf16 / fp16: autocast mixed precision (fp16 with a loss scaler per network)
    deterministic: bool = False
    threads: Optional[int] = None  # torch intra-op threads; None = torch's default
    # divergence guard: on non-finite losses/weights, roll back to the last good checkpoint and
    # multiply both learning rates by divergence_lr_factor, at most max_rollbacks times (0 = stop)
    divergence_lr_factor: float = 0.5
    max_rollbacks: int = 3
    # stop cleanly after this much training wall time ("90s", "5m", "2h"; null = no limit); run.json
    # records the step reached, and train.steps=that step reproduces the run
    time_limit: Optional[str] = None

    def time_limit_seconds(self) -> float | None:
        return parse_duration(self.time_limit) if self.time_limit is not None else None


@dataclass
class LogConfig:
    every: int = 50  # steps between rows of metrics.csv (and progress-bar updates)
    sample_every: Optional[int] = None  # steps between sample grids; None = 10 per run
    checkpoint_every: Optional[int] = None  # steps between checkpoints; None = 5 per run
    keep_checkpoints: int = 3
    grid_size: int = 64  # samples in each grid (fixed noise)
    progress: Literal["auto", "on", "off"] = "auto"  # auto: only when stdout is a terminal
    tensorboard: bool = False  # also log to RUN/tensorboard/ (needs `pip install tensorboard`)


@dataclass
class EvalConfig:
    """Evaluation during training (gankit/metrics/tracker.py): scores every ``every`` steps, best/, early stop."""

    every: int = 0  # steps between evaluations; 0 = off
    metrics: str = ""  # comma list of fid, kid, prdc, modes, classes, classifier_score; "" = what fits the data
    n: Optional[int] = None  # generated (and real) samples per evaluation; None = 1000 images, 2500 tables
    extractor: str = ""  # feature space: classifier | inception | raw; "" = classifier for labelled images, else raw
    best_metric: str = ""  # score that picks RUN/best/ (fid, modes_captured, coverage, ...); "" = the first metric's
    patience: int = 0  # stop after this many evaluations without a new best; 0 = never
    seed: int = 0  # evaluation noise and real subset (as `gankit eval --seed`)


def parse_duration(text: str) -> float:
    """``"90s"``, ``"5m"``, ``"1.5h"`` or a number of seconds -> seconds."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([smh]?)\s*", str(text))
    if not m or float(m.group(1)) <= 0:
        raise GankitError(f"train.time_limit must be a duration such as 90s, 5m or 2h, got {text!r}")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


@dataclass
class Config:
    preset: Optional[str] = None
    task: str = "noise"  # what is trained: noise (noise -> G -> D; see `gankit train --help`)
    data: DataConfig = field(default_factory=DataConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    loss: LossName = "bce"
    penalty: PenaltyConfig = field(default_factory=PenaltyConfig)
    conditional: ConditionalConfig = field(default_factory=ConditionalConfig)
    ema: EMAConfig = field(default_factory=EMAConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    log: LogConfig = field(default_factory=LogConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    version: int = SCHEMA_VERSION


class _Loader(yaml.SafeLoader):
    """YAML 1.2-style booleans: only true/false, so ``log.progress=off`` stays the string "off"."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _safe_load(text: str):
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader subclass


# --------------------------------------------------------------------------- type handling


@functools.lru_cache(maxsize=None)  # resolving the annotations is slow, and they never change
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return " or ".join(_type_name(a) for a in args) + " or null"
    if origin is list:
        return f"a list of {_type_name(get_args(tp)[0])}"
    if origin is tuple:
        return f"a list of {len(get_args(tp))} numbers"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
        tp, str(tp)
    )


_NO = object()


def _coerce(value: Any, tp: Any) -> Any:
    """Return ``value`` converted to ``tp``, or ``_NO`` when it does not fit."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None or (isinstance(value, str) and value.lower() in ("null", "none")):
            return None if type(None) in args else _NO
        for a in args:
            if a is type(None):
                continue
            out = _coerce(value, a)
            if out is not _NO:
                return out
        return _NO
    if origin is Literal:
        return value if value in get_args(tp) else _NO
    if origin is list:
        if not isinstance(value, (list, tuple)):
            return _NO
        (inner,) = get_args(tp)
        out = [_coerce(v, inner) for v in value]
        return _NO if any(o is _NO for o in out) else out
    if origin is tuple:
        inner = get_args(tp)
        if not isinstance(value, (list, tuple)) or len(value) != len(inner):
            return _NO
        out = tuple(_coerce(v, t) for v, t in zip(value, inner))
        return _NO if any(o is _NO for o in out) else out
    if tp is bool:
        return value if isinstance(value, bool) else _NO
    if tp is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _NO
    if tp is float:
        if isinstance(value, bool):
            return _NO
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-3" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                return _NO
        return _NO
    if tp is str:
        if isinstance(value, (dict, list)) or value is None:
            return _NO
        return value if isinstance(value, str) else str(value)
    return _NO


def _parse_scalar(text: str) -> Any:
    """Parse the right-hand side of ``key=value`` as YAML (so ``[256,256]``, ``1e-3``, ``true`` work)."""
    try:
        return _safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        return text


# --------------------------------------------------------------------------- set / merge


def _set(cfg: Config, dotted: str, value: Any, *, source: str) -> None:
    parts = dotted.split(".")
    obj: Any = cfg
    for i, part in enumerate(parts):
        fields = {f.name: f for f in dataclasses.fields(obj)}
        if part not in fields:
            prefix = ".".join(parts[:i])
            names = [f"{prefix}.{n}" if prefix else n for n in fields]
            raise GankitError(
                f"{source}: unknown config key {dotted!r}"
                f"{did_you_mean('.'.join(parts[: i + 1]), names)}; "
                f"valid keys here: {', '.join(names)}"
            )
        tp = _hints(type(obj))[part]
        is_section = dataclasses.is_dataclass(tp)
        if i < len(parts) - 1:
            if not is_section:
                raise GankitError(f"{source}: {'.'.join(parts[: i + 1])!r} is not a section")
            obj = getattr(obj, part)
            continue
        if is_section:
            if not isinstance(value, dict):
                raise GankitError(
                    f"{source}: {dotted!r} is a section; give a mapping or set its keys "
                    f"like {dotted}.{dataclasses.fields(tp)[0].name}=..."
                )
            for k, v in value.items():
                _set(cfg, f"{dotted}.{k}", v, source=source)
            return
        out = _coerce(value, tp)
        if out is _NO:
            raise GankitError(f"{source}: {dotted} must be {_type_name(tp)}, got {value!r}")
        setattr(obj, part, out)
        # train.steps and train.epochs are two ways to say how long: setting one clears the other.
        if dotted == "train.steps" and out is not None:
            cfg.train.epochs = None
        elif dotted == "train.epochs" and out is not None:
            cfg.train.steps = None


def merge_dict(cfg: Config, data: dict, *, source: str) -> Config:
    if not isinstance(data, dict):
        raise GankitError(f"{source}: expected a mapping of config keys, got {type(data).__name__}")
    for key, value in data.items():
        if key == "version":
            if not isinstance(value, int) or value > SCHEMA_VERSION:
                raise GankitError(
                    f"{source}: config version {value!r} is from a newer gankit "
                    f"(this one reads version {SCHEMA_VERSION}); upgrade gankit"
                )
            continue
        _set(cfg, str(key), value, source=source)
    return cfg


def apply_overrides(cfg: Config, overrides: list[str]) -> Config:
    """Apply ``key=value`` strings such as ``train.epochs=3`` or ``generator.hidden=[256,256]``."""
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise GankitError(f"override {item!r} is not of the form key=value (e.g. train.epochs=3)")
        if key.strip() == "version":  # the schema version of files, not a setting
            raise GankitError("command line: 'version' is the config file format, set by gankit; remove it")
        _set(cfg, key.strip(), _parse_scalar(text), source="command line")
    return cfg


# --------------------------------------------------------------------------- load / dump / check


def read_yaml(path: str | Path) -> dict:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GankitError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise GankitError(f"{p}: is a folder, expected a YAML config file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise GankitError(f"{p}: cannot read ({e})") from None
    try:
        data = _safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise GankitError(f"{p}: not valid YAML{where}; check indentation and colons") from None
    return {} if data is None else data


def load(source: str | None = None, overrides: list[str] | None = None) -> Config:
    """Build a validated config from a preset name or YAML file, then dotted overrides.

    A YAML file may name ``preset: mnist-mlp`` to start from that preset.
    """
    from gankit.presets import PRESETS, preset_dict

    cfg = Config()
    if source is not None:
        if source in PRESETS:
            merge_dict(cfg, preset_dict(source), source=f"preset {source}")
            cfg.preset = source
        elif source.endswith((".yaml", ".yml")) or Path(source).is_file():
            data = read_yaml(source)
            if not isinstance(data, dict):
                raise GankitError(f"{source}: expected a mapping of config keys at the top level")
            base = data.get("preset")
            if base is not None:
                if base not in PRESETS:
                    raise GankitError(
                        f"{source}: unknown preset {base!r}{did_you_mean(base, PRESETS)}; "
                        f"see `gankit presets`"
                    )
                merge_dict(cfg, preset_dict(base), source=f"preset {base}")
            merge_dict(cfg, data, source=source)
        else:
            raise GankitError(
                f"{source!r} is neither a preset nor a YAML file{did_you_mean(source, PRESETS)}; "
                f"presets: {', '.join(PRESETS)}"
            )
    apply_overrides(cfg, overrides or [])
    validate(cfg)
    return cfg


def validate(cfg: Config) -> Config:
    """Range checks that types alone cannot express. Raises GankitError naming the key."""

    def need(ok: bool, key: str, msg: str) -> None:
        if not ok:
            raise GankitError(f"{key} {msg}")

    for key in all_keys():  # .nan / .inf / "inf" are floats to YAML but never useful settings
        value = functools.reduce(getattr, key.split("."), cfg)
        items = value if isinstance(value, (list, tuple)) else [value]
        need(all(not isinstance(v, float) or math.isfinite(v) for v in items), key,
             f"must be a finite number, got {value}")
    t, g, d, p, lg, dt = cfg.train, cfg.generator, cfg.discriminator, cfg.penalty, cfg.log, cfg.data
    for name, net in (("generator", g), ("discriminator", d)):
        need(net.lr > 0, f"{name}.lr", f"must be > 0, got {net.lr} (try 2e-4)")
        need(all(0 <= b < 1 for b in net.betas), f"{name}.betas", f"must be in [0, 1), got {list(net.betas)}")
        need(0 <= net.dropout < 1, f"{name}.dropout", f"must be in [0, 1), got {net.dropout}")
        need(all(h > 0 for h in net.hidden), f"{name}.hidden", f"sizes must be > 0, got {net.hidden}")
        need(net.negative_slope >= 0, f"{name}.negative_slope", "must be >= 0")
    need(g.latent_dim > 0, "generator.latent_dim", f"must be > 0, got {g.latent_dim}")
    for name, net in (("generator", g), ("discriminator", d)):
        need(len(net.channels) >= 1 and all(c > 0 for c in net.channels), f"{name}.channels",
             f"must be a non-empty list of sizes > 0, got {net.channels}")
        need(2 <= net.kernel_size <= 9, f"{name}.kernel_size", f"must be in 2..9, got {net.kernel_size}")
    need(0 <= cfg.ema.decay < 1, "ema.decay", f"must be in [0, 1), got {cfg.ema.decay} (try 0.999)")
    need(cfg.conditional.acgan_weight >= 0, "conditional.acgan_weight", "must be >= 0")
    parse_policy(cfg.augment.policy)
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
    need(p.gp_weight >= 0, "penalty.gp_weight", "must be >= 0")
    need(p.r1_gamma >= 0, "penalty.r1_gamma", "must be >= 0")
    need(p.r1_interval >= 1, "penalty.r1_interval", "must be >= 1")
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
    ev = cfg.eval
    need(ev.every >= 0, "eval.every", f"must be >= 0 (0 = off), got {ev.every}")
    need(ev.n is None or ev.n >= 1, "eval.n", f"must be >= 1, got {ev.n}")
    need(ev.patience >= 0, "eval.patience", f"must be >= 0 (0 = never stop early), got {ev.patience}")
    need(ev.patience == 0 or ev.every > 0, "eval.patience",
         f"={ev.patience} needs evaluations to count: set eval.every=K too (e.g. eval.every=500)")
    need(0 <= ev.seed < 2**63, "eval.seed", f"must be in 0..2**63-1, got {ev.seed}")
    if p.r1_gamma > 0 and cfg.loss == "wgan-gp":
        raise GankitError("penalty.r1_gamma: use either loss=wgan-gp or an R1 penalty, not both")
    return cfg


def to_dict(cfg: Config) -> dict:
    def plain(v: Any) -> Any:
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, list):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(cfg))


def dump(cfg: Config) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)


def from_dict(data: dict, *, source: str = "config") -> Config:
    cfg = merge_dict(Config(), data, source=source)
    return validate(cfg)


def all_keys(cls: type = Config, prefix: str = "") -> list[str]:
    """Every dotted key of the schema, for help texts."""
    out = []
    for f in dataclasses.fields(cls):
        tp = _hints(cls)[f.name]
        if dataclasses.is_dataclass(tp):
            out += all_keys(tp, f"{prefix}{f.name}.")
        else:
            out.append(prefix + f.name)
    return out


#: keys a resume must not change (temporary list until the schema marks them)
LOCKED_KEYS = (
    "task", "generator.arch", "generator.latent_dim", "generator.hidden", "generator.activation",
    "generator.negative_slope", "generator.norm", "generator.dropout", "generator.output",
    "discriminator.arch", "discriminator.hidden", "discriminator.activation",
    "discriminator.negative_slope", "discriminator.norm", "discriminator.dropout",
    "data.name", "data.n_samples", "data.mean", "data.std", "data.image_size",
    "data.channels", "data.standardize", "data.limit", "train.seed", "conditional.mode", "conditional.acgan",
)


def locked_changes(saved: dict, now: Config) -> list[tuple[str, Any, Any]]:
    out = []
    cur = to_dict(now)
    for key in LOCKED_KEYS:
        a, b = saved, cur
        for part in key.split("."):
            a = a.get(part) if isinstance(a, dict) else None
            b = b[part]
        if a is not None and a != b:
            out.append((key, a, b))
    return out
