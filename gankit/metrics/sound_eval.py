"""Scoring clips that lie on disk, and the two baselines sound is measured against (benchmarks/audio.py).

``gankit eval RUN`` scores the clips a run's generator makes, rounded as 16-bit WAV stores them. The
benchmark goes one step further and scores the files ``gankit sample`` wrote, read back from disk
(:func:`read_clip_folder`), through the same pipeline (:func:`sound_plan`: the spoken-digit classifier,
the real test clips as reference). Two baselines show what the scores mean (Donahue et al. 2019 use
real data as the ceiling; the floors are ours):

* :func:`noise_clips`: Gaussian noise at the training clips' loudness: no speech at all;
* :func:`class_mean_clips`: each class's mean spectrogram (in the codec's training space) sent through
  the codec's own Griffin–Lim: a generator that learnt one blurred template per digit and nothing else.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gankit.errors import GankitError
from gankit.metrics.pipeline import GANKIT_EVAL, Plan, prepare_for_data


def read_clip_folder(folder: str | Path, samples: int) -> tuple[np.ndarray, list[str] | None]:
    """(clips (N, samples) float32, the class of each from its sub-folder, or None) of the WAV files of
    a ``gankit sample --out folder/`` (``folder/7/0000.wav``: asked for a seven)."""
    from gankit.audio.files import read_audio
    from gankit.data.sounds import sound_files

    root = Path(folder)
    files = sound_files(str(root))
    clips, names = [], []
    for f in files:
        x, _ = read_audio(f)
        if len(x) != samples:
            raise GankitError(f"{f}: {len(x)} samples, expected {samples} (clips of the run's duration)")
        clips.append(x)
        names.append(f.relative_to(root).parts[0] if len(f.relative_to(root).parts) > 1 else None)
    labelled = all(n is not None for n in names)
    return np.stack(clips).astype(np.float32), (names if labelled else None)


def sound_plan(data, data_cfg, n: int, *, seed: int = 0, metrics: str | None = None, quiet: bool = True) -> Plan:
    """The ``gankit eval`` plan of a sound data set (real test clips as reference, training clips' features for
    the near-copy check, training against test clips as real-vs-real) for ``n`` clips."""
    return prepare_for_data(data, data_cfg, GANKIT_EVAL, n=n, seed=seed, metrics=metrics, quiet=quiet,
                            real_vs_real=True)


def requested_of(data, names: list[str] | None) -> torch.Tensor | None:
    """Class indices of class names (None stays None); a name the data lacks is refused."""
    if names is None:
        return None
    unknown = sorted(set(names) - set(data.classes or []))
    if unknown:
        raise GankitError(f"clips of classes the data lacks: {', '.join(unknown[:5])}")
    return torch.tensor([data.classes.index(c) for c in names])


def score_clips(plan: Plan, data, clips: np.ndarray, names: list[str] | None) -> dict:
    """Scores (with real-vs-real beside each) of clips (N, samples) in [-1, 1] asked for as ``names``."""
    from gankit.modalities import get_modality

    written = get_modality(data.kind).as_written(clips)
    return plan.real_vs_real(plan.score(written, requested_of(data, names)))


def balanced_names(data, n: int) -> list[str]:
    """``n`` class names in sorted blocks, as a conditional generator's ``labels_for(n)``."""
    k = len(data.classes)
    return [data.classes[i * k // n] for i in range(n)]


def noise_clips(data, n: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """``n`` clips of Gaussian noise with the training clips' RMS, "asked for" as balanced classes."""
    rms = float(data.raw.pow(2).mean().sqrt())
    rng = np.random.default_rng(seed)
    x = np.clip(rng.normal(0.0, rms, size=(n, data.raw.shape[1])), -1, 1).astype(np.float32)
    return x, balanced_names(data, n)


def class_mean_clips(data, n: int) -> tuple[np.ndarray, list[str]]:
    """``n`` clips, balanced over classes, each its class's mean training spectrogram decoded by the codec's
    Griffin–Lim (one template per class, repeated)."""
    names = balanced_names(data, n)
    means = torch.stack([data.x[data.labels == c].mean(0) for c in range(len(data.classes))])  # (K, 1, M, F)
    templates = data.codec.decode(means).numpy()  # (K, samples)
    return templates[[data.classes.index(c) for c in names]], names
