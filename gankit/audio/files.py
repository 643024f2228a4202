"""Any audio file -> mono float32 samples and their rate: PCM WAV through the standard library
(:mod:`gankit.audio.wav`), everything else (FLAC, OGG, MP3 where libsndfile has it, float WAV) through
the optional ``soundfile`` package, asked for by name when it is missing.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from gankit.audio.wav import NotPCM, read_wav
from gankit.errors import GankitError

EXTRA = "pip install 'gankit[audio]'"


def _soundfile(path: Path, why: str):
    try:
        import soundfile
    except ImportError:
        raise GankitError(f"{path}: {why}; reading it needs the soundfile package: {EXTRA}") from None
    return soundfile


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """(samples (T,) float32 mono in [-1, 1], sample rate) of one file; a file that cannot be read, or
    holds no samples, is refused by name (GankitError)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".wav":
            try:
                x, rate = read_wav(path)
            except NotPCM as e:
                x, rate = _read_soundfile(path, f"a WAV in an encoding the standard library cannot read ({e})")
        else:
            x, rate = _read_soundfile(path, f"{path.suffix or 'this'} files are not WAV")
    except (wave.Error, EOFError, ValueError, RuntimeError, OSError) as e:
        raise GankitError(f"{path}: cannot read audio ({str(e).splitlines()[0][:120] or type(e).__name__}); "
                          f"remove or replace the file") from None
    if x.size == 0:
        raise GankitError(f"{path}: the file holds no samples (zero length); remove it")
    if rate <= 0:
        raise GankitError(f"{path}: the file gives a sample rate of {rate} Hz; remove or replace it")
    return x, rate


def _read_soundfile(path: Path, why: str) -> tuple[np.ndarray, int]:
    sf = _soundfile(path, why)
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)  # (T, C)
    except sf.LibsndfileError as e:  # soundfile's own error type: not an OSError on every version
        raise ValueError(str(e)) from None
    return data.mean(1, dtype=np.float32), int(rate)
