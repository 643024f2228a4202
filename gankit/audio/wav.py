"""PCM WAV files through the standard library's ``wave``: no extra package for the common case.

Reading gives float32 in [-1, 1): a ``b``-bit sample ``s`` becomes ``s / 2^(b-1)`` (8-bit WAV is
unsigned, centred on 128, as the format defines it). Stereo (any channel count) is averaged to mono.
Writing rounds ``x * 2^(b-1)`` and clips to the integer range, so that a value read from a ``b``-bit
file is written back to the same integer (a read -> write -> read round trip is exact).

``wave`` reads plain PCM only; a WAV in another encoding (IEEE float, or WAVE_FORMAT_EXTENSIBLE before
Python 3.12) raises :class:`NotPCM`, which :mod:`gankit.audio.files` hands to soundfile.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import BinaryIO

import numpy as np

#: sample widths (bytes) that PCM WAV files use
WIDTHS = (1, 2, 3, 4)


class NotPCM(Exception):
    """The file is a WAV the standard library cannot decode (not integer PCM)."""


def _to_float(raw: bytes, width: int) -> np.ndarray:
    """Interleaved little-endian PCM bytes -> float32 samples in [-1, 1)."""
    if width == 1:  # unsigned 8-bit, 128 = silence
        return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    if width == 3:  # 24-bit: widen each 3-byte sample to int32 (the byte on top carries the sign)
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
    else:
        ints = np.frombuffer(raw, {2: "<i2", 4: "<i4"}[width])
    return (ints.astype(np.float64) / float(1 << (8 * width - 1))).astype(np.float32)


def read_wav(path: str | Path | BinaryIO) -> tuple[np.ndarray, int]:
    """(samples (T,) float32 in [-1, 1), mono; sample rate in Hz) of a PCM WAV file.

    Raises :class:`NotPCM` for a WAV in another encoding, ``wave.Error``/``EOFError`` for a damaged one.
    """
    try:
        w = wave.open(str(path) if isinstance(path, Path) else path, "rb")
    except wave.Error as e:
        if "unknown format" in str(e):
            raise NotPCM(str(e)) from None
        raise
    with w:
        channels, width, rate, frames = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
        raw = w.readframes(frames)
    if width not in WIDTHS:
        raise NotPCM(f"{8 * width}-bit samples")
    x = _to_float(raw[: len(raw) // (width * channels) * width * channels], width)
    if channels > 1:  # (T, C) interleaved -> mean over the channels
        x = x.reshape(-1, channels).mean(1, dtype=np.float32)
    return x, rate


def pcm16(x: np.ndarray) -> np.ndarray:
    """float samples as a 16-bit file stores them (rounded and clipped), back as float32 in [-1, 1)."""
    full = float(1 << 15)
    return (np.clip(np.round(np.asarray(x, np.float64) * full), -full, full - 1) / full).astype(np.float32)


def _to_ints(x: np.ndarray, width: int) -> bytes:
    """float samples -> little-endian PCM bytes of ``width`` bytes, rounded and clipped."""
    full = float(1 << (8 * width - 1))
    ints = np.clip(np.round(np.asarray(x, np.float64) * full), -full, full - 1).astype(np.int64)
    if width == 1:
        return (ints + 128).astype(np.uint8).tobytes()
    if width == 3:
        u = (ints & 0xFFFFFF).astype(np.uint32)
        return np.stack([u & 0xFF, (u >> 8) & 0xFF, (u >> 16) & 0xFF], 1).astype(np.uint8).tobytes()
    return ints.astype({2: "<i2", 4: "<i4"}[width]).tobytes()


def write_wav(path: str | Path | BinaryIO, x: np.ndarray, rate: int, width: int = 2) -> None:
    """Write samples in [-1, 1] as a PCM WAV: ``x`` (T,) mono or (C, T) channels; ``width`` bytes a sample."""
    if width not in WIDTHS:
        raise ValueError(f"width must be one of {WIDTHS} bytes, got {width}")
    x = np.asarray(x, np.float32)
    channels = 1 if x.ndim == 1 else x.shape[0]
    frames = x if x.ndim == 1 else x.T.reshape(-1)  # (C, T) -> interleaved
    with wave.open(str(path) if isinstance(path, Path) else path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(int(rate))
        w.writeframes(_to_ints(frames, width))


def wav_bytes(x: np.ndarray, rate: int, width: int = 2) -> bytes:
    """A WAV file's bytes in memory (report.html embeds clips as data URIs)."""
    buf = io.BytesIO()
    write_wav(buf, x, rate, width)
    return buf.getvalue()
