"""gankit's own audio pieces against librosa's (issue 16: "tested against librosa in the benchmark only").

gankit writes its mel filters, STFT and Griffin–Lim small (gankit/audio/) rather than depending on librosa.
When librosa is installed, this checks them against it with the same settings; without it the check is
skipped and says so (librosa is no dependency of gankit, not even of its tests):

* **mel filters**: ``gankit.audio.mel.mel_filters`` against ``librosa.filters.mel(htk=False,
  norm="slaney")`` (Slaney's scale and area normalisation, librosa's defaults): the largest absolute
  difference, and that relative to the largest filter value, at SpecGAN's settings and two others;
* **STFT**: ``|gankit.audio.stft.stft|`` against ``|librosa.stft|`` (periodic Hann, centred frames,
  reflect padding) on a test tone;
* **Griffin–Lim**: on the magnitudes of a 440 + 880 Hz tone (1 s at 8 kHz, SpecGAN's frames), the spectral
  convergence ``||S - |STFT(x)| || / ||S||`` of gankit's ``griffin_lim`` and of ``librosa.griffinlim`` at
  equal iterations, both with momentum 0.99 (Perraudin et al. 2013) from a random phase, measured with
  the same STFT.

    python -m benchmarks.audio_librosa          # prints the JSON (benchmarks.audio includes it)
"""

from __future__ import annotations

import json
from types import ModuleType

import numpy as np

#: (sample_rate, n_fft, n_mels): SpecGAN's (gankit's fsdd presets), a 16 kHz speech setting, a music one
MEL_SETTINGS = ((8000, 256, 64), (16000, 512, 80), (22050, 2048, 128))
ITERATIONS = (32, 100)


def test_tone(rate: int = 8000, seconds: float = 1.0) -> np.ndarray:
    """The tone of tests/audio's Griffin–Lim test: 440 Hz at 0.5 plus 880 Hz at 0.25."""
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * 440 * t) + 0.25 * np.sin(2 * np.pi * 880 * t)).astype(np.float32)


def mel_differences(librosa: ModuleType) -> list[dict]:
    """Per setting: the largest absolute difference of the two filter banks, also relative to their peak."""
    from gankit.audio.mel import mel_filters

    rows = []
    for rate, n_fft, n_mels in MEL_SETTINGS:
        ours = mel_filters(rate, n_fft, n_mels).numpy().astype(np.float64)
        theirs = librosa.filters.mel(sr=rate, n_fft=n_fft, n_mels=n_mels, htk=False, norm="slaney",
                                     dtype=np.float64)
        diff = float(np.abs(ours - theirs).max())
        rows.append({"sample_rate": rate, "n_fft": n_fft, "n_mels": n_mels, "max_abs_diff": diff,
                     "relative": diff / float(np.abs(theirs).max())})
    return rows


def griffin_lim_comparison(librosa: ModuleType) -> dict:
    """Spectral convergence of gankit's and librosa's Griffin–Lim on the test tone, and |STFT| agreement."""
    import torch

    from gankit.audio.griffinlim import griffin_lim, spectral_convergence
    from gankit.audio.stft import Frames, magnitude

    f = Frames(8000, 256, 64)
    x = test_tone()
    S = magnitude(torch.from_numpy(x)[None], f)  # (1, 129, 64)
    theirs_stft = np.abs(librosa.stft(x, n_fft=f.n_fft, hop_length=f.hop, window="hann", center=True,
                                      pad_mode="reflect"))[:, : f.frames]
    out = {"tone": "440 Hz (0.5) + 880 Hz (0.25), 1 s at 8 kHz", "n_fft": f.n_fft, "hop": f.hop, "frames": f.frames,
           "stft_max_abs_diff": float(np.abs(S[0].numpy() - theirs_stft).max()), "spectral_convergence": []}
    for n in ITERATIONS:
        ours = griffin_lim(S, f, n)
        theirs = librosa.griffinlim(S[0].numpy(), n_iter=n, hop_length=f.hop, n_fft=f.n_fft, window="hann",
                                    center=True, length=f.samples, pad_mode="reflect", momentum=0.99,
                                    random_state=0)
        out["spectral_convergence"].append({
            "iterations": n, "gankit": spectral_convergence(S, ours, f),
            "librosa": spectral_convergence(S, torch.from_numpy(np.asarray(theirs, np.float32))[None], f)})
    return out


def compare() -> dict:
    """The comparison, or ``{"skipped": why}`` when librosa cannot be imported."""
    try:
        import librosa
    except Exception as e:  # not installed, or broken (numba and numpy out of step)
        return {"skipped": f"librosa not importable ({type(e).__name__}: {e}); pip install librosa to compare"}
    return {"librosa_version": librosa.__version__, "mel_filters": mel_differences(librosa),
            "griffin_lim": griffin_lim_comparison(librosa)}


def markdown(doc: dict) -> str:
    """A paragraph for BENCHMARKS.md."""
    if "skipped" in doc:
        return f"Against librosa: skipped, {doc['skipped']}.\n"
    mel = "; ".join(f"{r['sample_rate']} Hz, n_fft {r['n_fft']}, {r['n_mels']} bands: {r['max_abs_diff']:.1e} "
                    f"({r['relative']:.1e} of the peak)" for r in doc["mel_filters"])
    g = doc["griffin_lim"]
    gl = "; ".join(f"{r['iterations']} iterations: gankit {r['gankit']:.3f}, librosa {r['librosa']:.3f}"
                   for r in g["spectral_convergence"])
    return (f"Against librosa {doc['librosa_version']} (same settings). Mel filter banks (Slaney scale and norm), "
            f"largest difference: {mel}. |STFT| of the test tone, largest difference: {g['stft_max_abs_diff']:.1e}. "
            f"Griffin–Lim on the {g['tone']} (n_fft {g['n_fft']}, hop {g['hop']}), spectral convergence, both with "
            f"momentum 0.99 from one random phase each: {gl}.\n")


if __name__ == "__main__":
    doc = compare()
    print(json.dumps(doc, indent=1))
    print(markdown(doc))
