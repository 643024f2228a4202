"""A folder of audio files -> clips of one length at one rate, with classes and a test split by name.

* **Files**: every ``.wav`` (and ``.flac``, ``.ogg``, ``.mp3``, ``.aiff`` through soundfile) under
  ``data.path``, hidden files and folders skipped, in sorted order. A folder with none is refused.
* **Clips**: each file is read as mono (:mod:`gankit.audio.files`), resampled to ``data.sample_rate``
  (:mod:`gankit.audio.resample`) and padded or cut to ``data.duration`` (:mod:`gankit.audio.clips`:
  shorter clips centred in silence, longer ones cut to their loudest window). Nothing is dropped; the
  counts go to the start-up line and run.json (``Raw.notes``).
* **Classes**: ``data.label_pattern``, a regular expression searched in each file *name*, whose first
  group (or whole match, without groups) names the class (FSDD ``{digit}_{speaker}_{index}.wav``:
  ``^(\\d)_``); every file must match. Without it, when every file lies in a sub-folder, the first
  level names the class (as for image folders). Classes that are all whole numbers sort as numbers.
* **Test split**: ``data.test_pattern``, a regular expression searched in each file name; the files it
  matches are left out of training and are the held-out reference evaluation scores against
  (:data:`gankit.data.split.TEST_SPLITS`; FSDD's split, recordings 0-4 of each speaker and digit:
  ``_[0-4]\\.wav$``).

A pattern that matches no file name, and a file that cannot be read or is empty, exit 2 with one line.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from gankit.audio import SOUNDS
from gankit.audio.representations import clip_samples
from gankit.config.schema import DataConfig
from gankit.data import Raw
from gankit.errors import GankitError


def sound_files(path: str | None) -> list[Path]:
    """The audio files under a folder, sorted; refuses a missing folder or one without audio."""
    if path is None:
        raise GankitError("data.name=sound needs data.path=FOLDER, a folder of audio files (.wav), e.g. "
                          "gankit train fsdd-specgan data.path=recordings/")
    p = Path(path)
    if p.is_file():
        raise GankitError(f"data.path {path!r} is one file; give the folder that holds the audio files")
    if not p.is_dir():
        raise GankitError(f"data.path {path!r} does not exist; give a folder of audio files (.wav)")
    files = sorted(q for q in p.rglob("*") if q.suffix.lower() in SOUNDS and q.is_file()
                   and not any(part.startswith(".") for part in q.relative_to(p).parts))
    if not files:
        raise GankitError(f"{path}: no audio files found (looked for {', '.join(SOUNDS)})")
    return files


def compile_pattern(pattern: str, key: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as e:
        raise GankitError(f"{key}={pattern!r} is not a regular expression ({e})") from None


def test_part(files: list[Path], pattern: str | None, test: bool) -> list[Path]:
    """The training files (``test=False``) or the test files (``test=True``) of ``data.test_pattern``."""
    if pattern is None:
        return [] if test else files
    rx = compile_pattern(pattern, "data.test_pattern")
    hit = [rx.search(f.name) is not None for f in files]
    if not any(hit):
        raise GankitError(f"data.test_pattern={pattern!r} matches none of the {len(files)} file names (e.g. "
                          f"{files[0].name}); fix the pattern or leave it unset")
    if all(hit):
        raise GankitError(f"data.test_pattern={pattern!r} matches all {len(files)} file names, which leaves nothing "
                          f"to train on; it should match the test files only")
    return [f for f, h in zip(files, hit) if h == test]


def class_sort(names: set[str]) -> list[str]:
    """Class names in order: as numbers when all are whole numbers (2 before 10), else as text."""
    if all(n.lstrip("-").isdigit() for n in names):
        return sorted(names, key=int)
    return sorted(names)


def labels_of(files: list[Path], root: Path, pattern: str | None) -> tuple[list[str] | None, list[int] | None]:
    """(classes, label of each file) from ``data.label_pattern`` or sub-folders; (None, None) without either."""
    if pattern is not None:
        rx = compile_pattern(pattern, "data.label_pattern")
        found = [rx.search(f.name) for f in files]
        missed = [f for f, m in zip(files, found) if m is None]
        if len(missed) == len(files):
            raise GankitError(f"data.label_pattern={pattern!r} matches none of the {len(files)} file names (e.g. "
                              f"{files[0].name}); fix the pattern (its first group is the class)")
        if missed:
            raise GankitError(f"data.label_pattern={pattern!r} does not match {missed[0].name} ({len(missed)} of "
                              f"{len(files)} files); every file needs a class, so fix the pattern or move them")
        names = [m.group(1) if m.re.groups else m.group(0) for m in found]
    else:
        rels = [f.relative_to(root).parts for f in files]
        if any(len(r) < 2 for r in rels):
            return None, None
        names = [r[0] for r in rels]
    classes = class_sort(set(names))
    index = {c: i for i, c in enumerate(classes)}
    return classes, [index[n] for n in names]


def read_clips(files: list[Path], rate: int, samples: int, seconds: float) -> tuple[np.ndarray, list[str]]:
    """(clips (N, samples) float32, notes on what was resampled, padded or cut)."""
    from gankit.audio.clips import fit_all
    from gankit.audio.files import read_audio
    from gankit.audio.resample import resample

    clips, rates = [], {}
    for f in files:
        x, r = read_audio(f)
        if r != rate:
            rates[r] = rates.get(r, 0) + 1
            x = resample(x, r, rate)
        clips.append(x)
    fitted = fit_all(clips, samples)
    notes = [f"{n:,} clips resampled from {r:,} Hz to {rate:,} Hz" for r, n in sorted(rates.items())]
    note = fitted.note(seconds)
    return fitted.clips, notes + ([note] if note else [])


def sound_folder(cfg: DataConfig, test: bool = False) -> Raw:
    """The training clips of a sound folder (``test=True``: the files ``data.test_pattern`` names), as
    (N, samples) float32 in [-1, 1] at ``data.sample_rate``."""
    every = sound_files(cfg.path)
    labels_of(every, Path(cfg.path), cfg.label_pattern)  # a bad pattern is named against every file name
    files = test_part(every, cfg.test_pattern, test)
    classes, labels = labels_of(files, Path(cfg.path), cfg.label_pattern)
    samples = clip_samples(cfg)
    x, notes = read_clips(files, cfg.sample_rate, samples, cfg.duration)
    if cfg.test_pattern is not None and not test:
        notes.append(f"{len(every) - len(files):,} files matching data.test_pattern held out as the test split")
    if cfg.representation == "waveform" and cfg.length is not None and cfg.length > samples and not test:
        notes.append(f"trained as waveforms of {cfg.length:,} samples: {cfg.length - samples:,} of silence appended "
                     f"to each clip for the networks (data.length), dropped again when decoding")
    options = {"representation": cfg.representation, "sample_rate": cfg.sample_rate, "n_fft": cfg.n_fft,
               "n_mels": cfg.n_mels, "frames": cfg.frames, "griffin_lim": cfg.griffin_lim,
               "mel_inverse": cfg.mel_inverse, "length": cfg.length}
    return Raw(x, "sound", labels=np.array(labels, np.int64) if labels is not None else None, classes=classes,
               notes=notes, options=options)


def test_split(cfg: DataConfig) -> Raw | None:
    """The files ``data.test_pattern`` matches (None without a pattern): the held-out reference."""
    return sound_folder(cfg, test=True) if cfg.test_pattern is not None else None
