"""Tiny sounds the audio tests make themselves (no data set is read): tones and folders of WAVs, handed to
the tests as fixtures (``make_tone``, ``make_digits``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import pytest

from gankit.audio.wav import write_wav


def tone(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def digit_folder(root: Path, digits=(0, 1, 2), speakers=("ann", "bob"), takes: int = 3, rate: int = 8000,
                 seconds=(0.3, 0.6, 1.3)) -> Path:
    """FSDD-like ``{digit}_{speaker}_{index}.wav``: each digit a tone of its own pitch under a Hann envelope,
    of the lengths in ``seconds`` (cycled), so clips are padded and cut."""
    root.mkdir(parents=True, exist_ok=True)
    k = 0
    for d in digits:
        for s in speakers:
            for i in range(takes):
                x = tone(300 + 250 * d, seconds[k % len(seconds)], rate)
                write_wav(root / f"{d}_{s}_{i}.wav", x * np.hanning(len(x)).astype(np.float32), rate)
                k += 1
    return root


@pytest.fixture(scope="session")
def make_tone():
    return tone


@pytest.fixture(scope="session")
def make_digits():
    return digit_folder
