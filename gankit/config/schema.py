"""The config schema: nested dataclasses, one field per key, each with its help and resume policy.

Every leaf field is made by :func:`setting`, whose metadata carries

* ``help``: one line saying what the key does (``describe_keys`` lists them);
* ``resume``: :data:`LOCKED` (the default) when the key shapes the networks or the data a checkpoint
  belongs to, so ``--resume`` refuses to change it; :data:`FREE` for training dynamics and
  bookkeeping a resumed run may change. A new key is locked unless it says otherwise.

Names held by a registry (``loss``, ``generator.arch``, ``discriminator.arch``, ``data.name``) are
plain strings checked against that registry (validate.py), so an entry registered by a user is a
valid choice; ``Literal`` types are kept for the fixed choices no registry holds.

No torch here (nor in the rest of gankit.config): ``gankit --help`` / ``presets`` stay fast.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from dataclasses import dataclass
from typing import Any, Literal, Optional

import yaml

from gankit.config.fields import FREE, LOCKED, free, parse_duration, section, setting  # noqa: F401 (re-exported)

Activation = Literal["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "silu", "elu"]
Norm = Literal["none", "batch", "layer", "spectral", "instance"]  # spectral: Miyato et al. 2018 (dcgan); instance: unet/resnet/patchgan
OutputActivation = Literal["tanh", "sigmoid", "none"]
Precision = Literal["fp32", "bf16", "fp16"]
Schedule = Literal["constant", "linear", "cosine"]

AUGMENTATIONS = ("color", "translation", "cutout")


def parse_policy(policy: str) -> list[str]:
    """``"translation,cutout"`` -> ["translation", "cutout"], refusing unknown names."""
    from gankit.errors import GankitError, did_you_mean

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
    name: str = setting("auto", "dataset (a registered name); auto: digits, or guessed from data.path")
    path: Optional[str] = free(None, "your data: an image folder or archive (.zip, .tar.gz), a .csv/.npy/.npz/.parquet "
                               "table, or an IDX folder (MNIST)")
    n_samples: int = setting(10_000, "size of the toy sets (gaussian-1d, ring, grid)")
    mean: float = setting(4.0, "gaussian-1d: mean")
    std: float = setting(1.25, "gaussian-1d: standard deviation")
    image_size: Optional[int] = setting(None, "image folder: resize to this square size")
    channels: Optional[int] = setting(None, "image folder: 1 (grayscale) or 3 (RGB); null = infer")
    standardize: bool = setting(True, "tables: train on zero-mean unit-variance columns")
    label_column: Optional[str] = setting(None, "tables: column of class labels (header name or 0-based index)")
    download: bool = free(True, "MNIST-format sets: download to the cache when absent")
    cache_dir: Optional[str] = free(None, "download cache; default ~/.cache/gankit (or $GANKIT_CACHE)")
    limit: Optional[int] = setting(None, "use only the first N items (quick tries)")
    # held-out data, one way for every modality (gankit/data/split.py): evaluation scores against it
    holdout: float = setting(0.0, "share of the data held out of training as the evaluation reference, split "
                                  "with train.seed (0 = none)")
    test_path: Optional[str] = free(None, "held-out data of the same kind as data.path (folder or file), the "
                                          "evaluation reference")
    columns: dict[str, str] = setting({}, "table task: column kinds overriding the inferred ones, e.g. "
                                          "{age: integer, zip: categorical, id: ignore}")
    max_categories: Optional[int] = setting(None, "table task: pool the rarest categories of a column beyond this "
                                                  "many into one (drawn back by frequency when sampling)")
    # sound folders (gankit/data/sounds.py, gankit/audio/): clips, labels and test split from file names, and
    # what the networks see (gankit/audio/representations.py); the spectrogram keys also draw the previews
    sample_rate: int = setting(8000, "sound: clips are resampled to this rate (Hz)")
    duration: float = setting(1.0, "sound: clip length (s); shorter clips are centred in silence, longer ones "
                                   "cut to their loudest window (the start-up line counts both)")
    label_pattern: Optional[str] = setting(None, "sound: regular expression on file names whose first group is "
                                                 "the class, e.g. '^(\\d)_' (else sub-folders = classes)")
    test_pattern: Optional[str] = setting(None, "sound: regular expression on file names; the files it matches are "
                                                "the held-out test split (FSDD: '_[0-4]\\.wav$')")
    representation: str = setting("spectrogram", "sound: what the networks train on: spectrogram (log-mel, SpecGAN)"
                                                 " or waveform (the samples, WaveGAN)")
    length: Optional[int] = setting(None, "sound, waveform: samples per training clip (silence appended); null = the "
                                          "clip's, rounded up to what the networks take (wavegan: 4^stages)")
    n_mels: int = setting(64, "sound: mel bands of the spectrogram (its height)")
    frames: int = setting(64, "sound: STFT frames per clip (the spectrogram's width; hop = samples // (frames - 1))")
    n_fft: int = setting(256, "sound: STFT window and FFT length (samples)")
    griffin_lim: int = free(32, "sound: Griffin-Lim iterations when spectrograms are turned into sound")
    mel_inverse: Literal["pinv", "nnls"] = free("pinv", "sound: mel -> linear magnitudes by the pseudo-inverse "
                                                        "(clipped at 0) or non-negative least squares")
    direction: Literal["AtoB", "BtoA"] = setting("AtoB", "pix2pix/cyclegan: translate A -> B or B -> A (A: the left "
                                                          "half of side-by-side images, or folder A/)")


@dataclass
class GeneratorConfig:
    arch: str = setting("mlp", "generator family (a registered name): mlp, dcgan, sngan, ...")
    latent_dim: int = setting(100, "noise size")
    hidden: list[int] = setting([256, 512], "mlp: neurons per hidden layer")
    activation: Activation = setting("relu", "hidden activation")
    negative_slope: float = setting(0.2, "slope of leaky_relu")
    norm: Norm = setting("none", "normalisation after each hidden layer (spectral: dcgan only; sngan: batch, "
                                 "class-conditional in a conditional run)")
    dropout: float = setting(0.0, "mlp: dropout after each hidden layer")
    output: OutputActivation = setting("tanh", "output activation; also the data range: tanh [-1,1], sigmoid [0,1]")
    channels: list[int] = setting([128, 64], "dcgan, wavegan: feature maps per stage, coarse to fine; sngan: the "
                                             "width entering each up-sampling residual block, coarse to fine (SNGAN "
                                             "CIFAR: [256,256,256])")
    kernel_size: int = setting(4, "dcgan, wavegan: convolution kernel size (wavegan: the paper's 25)")
    blocks: int = setting(16, "srresnet, resnet: residual blocks; unet: levels (7 for 128-pixel crops, 8 for 256)")
    scale: int = setting(4, "srresnet: upscaling factor 2, 3, 4 or 8 (the superres task shrinks its images by it)")
    attention: Optional[int] = setting(None, "sngan: self-attention (SAGAN, Zhang et al. 2019) after the block that "
                                             "makes feature maps of this side, e.g. 16; null = none")
    shared_dim: int = setting(0, "sngan, class-conditional: a class embedding of this size shared by every batch "
                                 "norm (BigGAN: 128); 0 = a gain and bias per class in each (SNGAN's projection paper)")
    hierarchical: bool = setting(False, "sngan: split the latent into one chunk per block and one for the input; each "
                                        "block's batch norms read its chunk (BigGAN's hierarchical latent)")
    lr: float = free(2e-4, "Adam learning rate")
    betas: tuple[float, float] = free((0.5, 0.999), "Adam betas")
    schedule: Schedule = free("constant", "learning rate over the run: constant, linear (decay to 0) or cosine")
    decay_start: float = free(0.0, "share of the run at the full learning rate before schedule=linear|cosine "
                                   "decays it (pix2pix/cyclegan: translate.decay_start holds both)")


@dataclass
class DiscriminatorConfig:
    arch: str = setting("mlp", "discriminator family (a registered name): mlp, dcgan, sngan, ...")
    hidden: list[int] = setting([512, 256], "mlp: neurons per hidden layer")
    activation: Activation = setting("leaky_relu", "hidden activation")
    negative_slope: float = setting(0.2, "slope of leaky_relu")
    norm: Norm = setting("none", "normalisation after each hidden layer (spectral: dcgan, sngan (its default "
                                 "in the presets), none)")
    dropout: float = setting(0.0, "dropout after each hidden layer")
    pac: int = setting(1, "ctgan: rows judged together (PacGAN, Lin et al. 2018); the table preset uses 10")
    channels: list[int] = setting([64, 128], "dcgan, wavegan: feature maps per stage, fine to coarse; sngan: the "
                                             "width of each down-sampling residual block, fine to coarse (SNGAN "
                                             "CIFAR: [128,128])")
    kernel_size: int = setting(4, "dcgan, wavegan: convolution kernel size (wavegan: the paper's 25)")
    blocks: int = setting(2, "sngan: residual blocks after the down-sampling ones, at the coarsest size (SNGAN "
                             "CIFAR: 2)")
    attention: Optional[int] = setting(None, "sngan: self-attention (SAGAN) after the block that makes feature maps "
                                             "of this side, e.g. 16; null = none")
    projection: Literal["pooled", "spatial"] = setting(
        "pooled", "sngan: what a projection's class embedding reads: pooled (the paper's: the C features summed over "
                  "positions) or spatial (the last map's C x H x W, as a dcgan D's flattened features)")
    phase_shuffle: int = setting(2, "wavegan: shift D's activations by up to this many samples at random (Donahue "
                                    "et al. 2019; 0 = off)")
    lr: float = free(2e-4, "Adam learning rate")
    betas: tuple[float, float] = free((0.5, 0.999), "Adam betas")
    schedule: Schedule = free("constant", "learning rate over the run: constant, linear (decay to 0) or cosine")
    decay_start: float = free(0.0, "share of the run at the full learning rate before schedule=linear|cosine "
                                   "decays it (pix2pix/cyclegan: translate.decay_start holds both)")


@dataclass
class ConditionalConfig:
    """Class-conditional training (needs labelled data: digits, MNIST, class folders, a table's label column).

    ``mode="auto"`` is resolved when a config is validated (:func:`gankit.config.validate.settle_auto`): a
    label column is given to train on its classes, so it means projection; a run folder's config.yaml
    holds the resolved mode, so old runs (``mode: none``) read unchanged.
    """

    mode: Literal["auto", "none", "projection", "concat"] = setting(
        "auto", "how D sees the class: projection, concat or none; auto: projection when data.label_column is "
                "set, else none")
    acgan: bool = setting(False, "auxiliary classifier on D's features (Odena et al. 2017)")
    acgan_weight: float = free(1.0, "weight of the auxiliary classifier's loss")


@dataclass
class EMAConfig:
    decay: float = free(0.0, "moving average of G's weights, used for sampling; 0 = off, e.g. 0.999")


@dataclass
class AugmentConfig:
    policy: str = free("", "DiffAugment (Zhao et al. 2020): comma list of color, translation, cutout")


@dataclass
class PenaltyConfig:
    gp_weight: float = free(10.0, "WGAN-GP lambda (Gulrajani et al. 2017), used by loss=wgan-gp")
    r1_gamma: float = free(0.0, "R1 penalty weight (Mescheder et al. 2018); 0 = off")
    r1_interval: int = free(1, "lazy regularisation: apply R1 every k D steps (scaled by k)")
    r1_start: int = free(0, "training step from which R1 applies (0 = from the first); a late start leaves D "
                            "unregularised while it is still learning")


@dataclass
class SRConfig:
    """The superres task (gankit/tasks/superres.py): SRResNet's pixel stage, then SRGAN's."""

    patch: int = setting(96, "high-resolution training crop (pixels; the input crop is patch / generator.scale)")
    content: Literal["l1", "mse"] = free("mse", "pixel content loss between output and target: mse or l1")
    adv_weight: float = free(1e-3, "weight of the adversarial loss added to the content loss from sr.pretrain on")
    pretrain: int = free(0, "steps of the PSNR stage (content loss only) before D and the adversarial loss start")
    tile: int = free(128, "gankit upscale: input tile side (pixels); tiles overlap by the network's reach")


@dataclass
class TranslateConfig:
    """The pix2pix and cyclegan tasks (gankit/tasks/pix2pix.py, cyclegan.py)."""

    size: int = setting(128, "training crop side (pixels): a multiple of 2^generator.blocks (unet) or of 4 (resnet)")
    load: int = setting(0, "training images are resized so their shorter side is this, then cropped at random to "
                           "translate.size (jitter); 0 = translate.size")
    flip: bool = free(True, "random horizontal flips of the training images")
    l1_weight: float = free(100.0, "pix2pix: weight of the L1 term |G(a) - b|")
    gan_weight: float = free(1.0, "weight of the adversarial term in G's loss (pix2pix with 0 = L1 only, the "
                                  "paper's ablation; D still trains, so the step count and its cost stay equal)")
    cycle_weight: float = free(10.0, "cyclegan: weight of each cycle-consistency term")
    identity: float = free(0.5, "cyclegan: identity term weight as a multiple of translate.cycle_weight (0 = off)")
    pool: int = setting(50, "cyclegan: buffer of past fakes D sees half the time once full (0 = off)")
    decay_start: float = free(0.5, "share of the run at the full learning rate before schedule=linear decays it "
                                   "to 0 (the papers: half)")


@dataclass
class TrainConfig:
    steps: Optional[int] = free(None, "generator steps; setting it clears train.epochs")
    epochs: Optional[int] = free(None, "passes over the data; setting it clears train.steps")
    # the *global* batch of one optimiser step: under torchrun each of N processes takes
    # batch_size / N of it, and with accumulate=K each process runs it in K micro-batches
    batch_size: int = free(64, "global batch of one optimiser step (split over processes and micro-batches)")
    accumulate: int = free(1, "gradient accumulation: micro-batches per optimiser step (same maths, less memory)")
    n_critic: int = free(1, "D steps per G step")
    seed: int = setting(0, "seed of the networks, the data order and the toy data sets")
    device: str = free("auto", "auto | cpu | cuda | cuda:N | mps")
    precision: Precision = free("fp32", "bf16 / fp16: autocast mixed precision (fp16 with a loss scaler per network)")
    deterministic: bool = free(False, "deterministic algorithms only (bit-identical resumes)")
    threads: Optional[int] = free(None, "torch intra-op threads; null = torch's default")
    # divergence guard: on non-finite losses/weights, roll back to the last good checkpoint and
    # multiply both learning rates by divergence_lr_factor, at most max_rollbacks times (0 = stop)
    divergence_lr_factor: float = free(0.5, "divergence guard: multiply both learning rates by this on a rollback")
    max_rollbacks: int = free(3, "divergence guard: rollbacks before stopping (0 = stop at once)")
    time_limit: Optional[str] = free(None, "stop cleanly after this much training time (90s, 5m, 2h); run.json "
                                     "records the step reached, and train.steps=that step reproduces the run")
    # a CPU-time budget holds on a shared machine, where other jobs stretch the wall clock
    time_clock: Literal["wall", "cpu"] = free("wall", "what train.time_limit counts: wall-clock seconds, or this "
                                              "process's CPU seconds (all its threads: with train.threads=1, "
                                              "the time of one core, whatever else the machine runs)")

    def time_limit_seconds(self) -> float | None:
        return parse_duration(self.time_limit) if self.time_limit is not None else None


@dataclass
class LogConfig:
    every: int = free(50, "steps between rows of metrics.csv (and progress-bar updates)")
    sample_every: Optional[int] = free(None, "steps between sample grids; null = 10 per run")
    checkpoint_every: Optional[int] = free(None, "steps between checkpoints; null = 5 per run")
    keep_checkpoints: int = free(3, "checkpoints kept on disk")
    grid_size: int = free(64, "samples in each grid (fixed noise)")
    progress: Literal["auto", "on", "off"] = free("auto", "progress bar; auto: only when stdout is a terminal")
    tensorboard: bool = free(False, "also log to RUN/tensorboard/ (needs `pip install tensorboard`)")


@dataclass
class EvalConfig:
    """Evaluation during training (gankit/metrics/tracker.py): scores every ``every`` steps, best/, early stop."""

    every: int = free(0, "steps between evaluations; 0 = off")
    metrics: str = free("", "comma list of fid, kid, prdc, modes, classes, classifier_score; empty = what fits "
                                 "the data")
    n: Optional[int] = free(None, "samples per evaluation; null = 1000 images, 2500 tables")
    extractor: str = free("", "feature space: classifier | inception | raw | standardized; empty = classifier "
                              "for labelled images, standardized for tables, else raw")
    best_metric: str = free("", "score that picks RUN/best/ (fid, modes_captured, coverage, ...); empty = the "
                                "first metric's")
    patience: int = free(0, "stop after this many evaluations without a new best; 0 = never")
    seed: int = free(0, "evaluation noise and real subset (as `gankit eval --seed`)")
    target: Optional[str] = free(None, "table task: the column the utility metric predicts (train on synthetic, "
                                       "test on the real holdout), e.g. income")


@dataclass
class Config:
    preset: Optional[str] = free(None, "the preset this config started from")
    task: str = setting("noise", "what is trained (gankit.tasks): noise = noise -> G -> D, unconditional or "
                        "class-conditional")
    data: DataConfig = section(DataConfig, "the training data")
    generator: GeneratorConfig = section(GeneratorConfig, "the generator network and its optimiser")
    discriminator: DiscriminatorConfig = section(DiscriminatorConfig, "the discriminator network and its optimiser")
    loss: str = free("bce", "GAN loss (a registered name): bce, minimax, mse, lsgan, wgan-gp, hinge, ...")
    penalty: PenaltyConfig = section(PenaltyConfig, "gradient penalties")
    conditional: ConditionalConfig = section(ConditionalConfig, "class-conditional training")
    ema: EMAConfig = section(EMAConfig, "moving average of the generator")
    augment: AugmentConfig = section(AugmentConfig, "differentiable augmentation")
    train: TrainConfig = section(TrainConfig, "the training loop")
    log: LogConfig = section(LogConfig, "what a run writes, and how often")
    eval: EvalConfig = section(EvalConfig, "evaluation during training")
    sr: SRConfig = section(SRConfig, "super-resolution (task=superres)")
    translate: TranslateConfig = section(TranslateConfig, "image-to-image translation (task=pix2pix, cyclegan)")
    version: int = free(SCHEMA_VERSION, "config file format, set by gankit")


# --------------------------------------------------------------------------- introspection


@functools.lru_cache(maxsize=None)  # resolving the annotations is slow, and they never change
def hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def all_keys(cls: type = Config, prefix: str = "") -> list[str]:
    """Every dotted key of the schema, for help texts."""
    out = []
    for f in dataclasses.fields(cls):
        tp = hints(cls)[f.name]
        if dataclasses.is_dataclass(tp):
            out += all_keys(tp, f"{prefix}{f.name}.")
        else:
            out.append(prefix + f.name)
    return out


def field_of(key: str) -> dataclasses.Field:
    """The dataclass field of a dotted key (``generator.lr``)."""
    cls: Any = Config
    *sections, leaf = key.split(".")
    for part in sections:
        cls = hints(cls)[part]
    return next(f for f in dataclasses.fields(cls) if f.name == leaf)


def resume_policy(key: str) -> str:
    """:data:`FREE` or :data:`LOCKED` (also for a field made without :func:`setting`)."""
    return field_of(key).metadata.get("resume", LOCKED)


def key_help(key: str) -> str:
    return field_of(key).metadata.get("help", "")


def to_dict(cfg: Config) -> dict:
    def plain(v: Any) -> Any:
        if isinstance(v, (tuple, list)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(cfg))


def lookup(flat: dict, key: str, missing: Any = None) -> Any:
    """``flat["generator"]["lr"]`` for ``generator.lr`` in a nested dict, ``missing`` when absent."""
    value: Any = flat
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return missing
        value = value[part]
    return value


def yaml_text(value: Any) -> str:
    """A value as one line of YAML: ``null``, ``true``, ``auto``, ``[256, 512]``, ``0.0002``."""
    text = yaml.safe_dump(value, default_flow_style=True, width=float("inf"))
    return text.removesuffix("\n...\n").strip()


def describe_keys() -> list[tuple[str, str, str]]:
    """(key, default as YAML text, help) for every key of the schema, in schema order."""
    defaults = to_dict(Config())
    return [(key, yaml_text(lookup(defaults, key)), key_help(key)) for key in all_keys()]


def keys_text() -> str:
    """``gankit train --keys``: ``key = value  # what it does``, aligned; values as typed on the command line."""
    rows = describe_keys()
    kw = max(len(k) for k, _, _ in rows)
    vw = min(16, max(len(v) for _, v, _ in rows))
    return "\n".join(f"{key:<{kw}} = {value:<{vw}}  # {help}" if help else f"{key:<{kw}} = {value}"
                     for key, value, help in rows)
