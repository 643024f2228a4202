"""Resampling, clip lengths, the mel filter bank by hand, the STFT layout, Griffin–Lim's convergence on a tone."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gankit.audio.clips import fit_all, fit_length, loudest_start
from gankit.audio.griffinlim import griffin_lim, spectral_convergence
from gankit.audio.mel import hz_to_mel, mel_filters, mel_points, mel_to_hz, to_linear
from gankit.audio.resample import resample
from gankit.audio.stft import Frames, istft, magnitude, stft
from gankit.errors import GankitError


def peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[spectrum.argmax()])


@pytest.mark.parametrize("rate,target", [(44100, 8000), (16000, 8000), (8000, 22050), (48000, 16000)])
def test_resampling_keeps_length_and_frequency(make_tone, rate, target):
    x = make_tone(440.0, 0.5, rate)
    y = resample(x, rate, target)
    assert y.dtype == np.float32 and len(y) == math.ceil(len(x) * target / rate)
    assert abs(peak_hz(y, target) - 440.0) <= target / len(y)  # within one FFT bin (2 Hz here)
    assert abs(np.abs(y[100:-100]).max() - 0.5) < 0.01  # the amplitude is kept
    assert resample(x, rate, rate) is not None and np.array_equal(resample(x, rate, rate), x)


def test_resampling_removes_what_the_new_rate_cannot_hold(make_tone):
    y = resample(make_tone(6000.0, 0.5, 44100), 44100, 8000)  # above 8 kHz's Nyquist: filtered out, not aliased
    assert np.abs(y[200:-200]).max() < 0.01  # (the filter's edges ring for a few samples)


def test_short_clips_are_centred_and_long_ones_keep_their_loudest_window():
    x, what = fit_length(np.ones(4, np.float32), 10)
    assert what == "padded" and x.tolist() == [0, 0, 0, 1, 1, 1, 1, 0, 0, 0]
    x, what = fit_length(np.ones(3, np.float32), 6)  # odd difference: the extra zero goes after
    assert x.tolist() == [0, 1, 1, 1, 0, 0]
    loud = np.zeros(100, np.float32)
    loud[60:70] = 1.0
    x, what = fit_length(loud, 20)
    assert what == "cut" and x.sum() == 10 and loudest_start(loud, 20) == 50  # the first window holding it all
    same, what = fit_length(loud, 100)
    assert what == "kept" and np.array_equal(same, loud)
    fitted = fit_all([np.ones(5), np.ones(30), np.ones(20), np.ones(1)], 20)
    assert fitted.clips.shape == (4, 20) and (fitted.padded, fitted.cut) == (2, 1)
    assert fitted.note(1.0) == "1 of 4 clips longer than 1 s cut to their loudest 1 s; 2 shorter ones centred in 1 s of silence"


def test_slaney_scale_by_hand():
    # Slaney: 200/3 Hz per mel below 1 kHz (1 kHz = 15 mel), then 27 mel per factor 6.4
    assert float(hz_to_mel(torch.tensor(500.0))) == pytest.approx(7.5)
    assert float(hz_to_mel(torch.tensor(6400.0))) == pytest.approx(42.0)
    f = torch.tensor([0.0, 300.0, 1000.0, 2500.0, 4000.0])
    torch.testing.assert_close(mel_to_hz(hz_to_mel(f)), f.double())


def test_mel_filter_edges_and_values_by_hand():
    # 8 kHz, 2 bands from 0 to 4 kHz: mel(4000) = 15 + 27 ln 4 / ln 6.4 = 35.16376; the 4 edges are equally spaced
    # in mel: 0, 11.72125, 23.44251, 35.16376 mel = 0, 11.72125 * 200/3 = 781.417 Hz,
    # 1000 exp((23.44251 - 15) ln 6.4 / 27) = 1786.820 Hz, 4000 Hz
    np.testing.assert_allclose(mel_points(2, 0.0, 4000.0).numpy(), [0.0, 781.417, 1786.820, 4000.0], atol=1e-3)
    m = mel_filters(8000, 16, 2)  # FFT bins every 500 Hz: 0, 500, ..., 4000
    assert m.shape == (2, 9)
    # band 0 rises from 0 to 781.417 Hz: at 500 Hz (500 / 781.417) * 2 / 1786.820 (Slaney's area norm)
    assert float(m[0, 1]) == pytest.approx(500 / 781.417 * 2 / 1786.820, rel=1e-4)
    # band 1 rises from 781.417 to 1786.820: at 1500 Hz (718.583 / 1005.403) * 2 / (4000 - 781.417)
    assert float(m[1, 3]) == pytest.approx(718.583 / 1005.403 * 2 / 3218.583, rel=1e-4)
    # outside its edges a band is 0; band 1 falls to 0 at 4000 Hz
    assert float(m[0, 4]) == 0.0 and float(m[1, 1]) == 0.0 and float(m[1, 8]) == 0.0
    # area normalisation: each triangle's area in Hz is 1 (up to the sampling of the bins)
    fine = mel_filters(8000, 4096, 8)
    area = fine.sum(1) * (4000 / 2048)
    np.testing.assert_allclose(area.numpy(), 1.0, rtol=0.02)


def test_an_fft_too_coarse_for_the_bands_is_refused():
    with pytest.raises(GankitError, match=r"4 of 32 mel bands cover no frequency bin: at 16000 Hz with n_fft=64 the "
                                          r"bins are 250 Hz apart, too coarse"):
        mel_filters(16000, 64, 32)


def test_mel_inverse_nnls_fits_better_than_the_clipped_pseudo_inverse():
    filters = mel_filters(8000, 256, 32)
    linear = torch.rand(4, 129, 10) ** 4  # peaky spectra: the clipped pseudo-inverse leaves a residual
    mel = torch.einsum("mf,nft->nmt", filters, linear)
    pinv, nnls = to_linear(mel, filters, "pinv"), to_linear(mel, filters, "nnls")
    assert (pinv >= 0).all() and (nnls >= 0).all()
    err = {k: float(torch.linalg.vector_norm(torch.einsum("mf,nft->nmt", filters, v) - mel)) for k, v in
           (("pinv", pinv), ("nnls", nnls))}
    assert err["nnls"] < err["pinv"]


def test_stft_layout_and_inverse(make_tone):
    f = Frames(samples=8000, n_fft=256, frames=64)
    assert (f.hop, f.bins, f.full) == (126, 129, 64)  # 64 frames centred every 126 samples cover the clip
    x = torch.from_numpy(np.stack([make_tone(440, 1.0, 8000), make_tone(1000, 1.0, 8000)]))
    spec = stft(x, f)
    assert spec.shape == (2, 129, 64) and spec.is_complex()
    torch.testing.assert_close(istft(spec, f), x, atol=1e-5, rtol=0)  # Hann at this hop: a perfect inverse
    assert int(magnitude(x, f)[0, :, 32].argmax()) == round(440 / (8000 / 256))  # 440 Hz: bin 14


def test_griffin_lim_converges_on_a_tone(make_tone):
    """Spectral convergence ||S - |STFT(x)| || / ||S|| of a 440 + 880 Hz tone rebuilt from its magnitudes:
    below 0.10 after 32 iterations and 0.06 after 100 (measured: 0.079, 0.046); the momentum of Perraudin et
    al. (2013) beats the plain algorithm at equal iterations; the same magnitudes give the same clip."""
    f = Frames(8000, 256, 64)
    x = torch.from_numpy(make_tone(440, 1.0, 8000) + make_tone(880, 1.0, 8000, 0.25))[None]
    S = magnitude(x, f)
    fast32 = spectral_convergence(S, griffin_lim(S, f, 32), f)
    assert fast32 < 0.10
    assert spectral_convergence(S, griffin_lim(S, f, 100), f) < 0.06
    assert fast32 < spectral_convergence(S, griffin_lim(S, f, 32, momentum=0.0), f)
    random_phase = spectral_convergence(S, griffin_lim(S, f, 0), f)
    assert random_phase > 0.3 and fast32 < random_phase / 4
    torch.testing.assert_close(griffin_lim(S, f, 8), griffin_lim(S, f, 8))
