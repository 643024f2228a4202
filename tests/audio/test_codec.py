"""SpecGAN's codec: clips -> normalised log-mel spectrograms -> clips (Griffin–Lim), and its saved form."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit.audio.codec import CLIP_STD, SpecCodec, Spectrogram, log_mel


def clips(make_tone, n: int = 12) -> np.ndarray:
    """Tones of several pitches under a Hann envelope, some shorter than the clip (silence around them)."""
    out = np.zeros((n, 8000), np.float32)
    for i in range(n):
        length = 3000 + 400 * i
        x = make_tone(300 + 150 * i, length / 8000, 8000) * np.hanning(length).astype(np.float32)
        out[i, (8000 - length) // 2 : (8000 - length) // 2 + length] = x
    return out


def test_encode_shape_range_and_per_band_normalisation(make_tone):
    x = clips(make_tone)
    codec = SpecCodec.fit(x, Spectrogram(), (-1.0, 1.0))
    e = codec.encode(x)
    assert e.shape == (12, 1, 64, 64) and e.dtype == torch.float32
    assert float(e.min()) >= -1.0 and float(e.max()) <= 1.0
    # per band: log-mel = x * scale + offset with scale = 3 std / half-range (the paper's 3-sigma clip)
    assert codec.offset.shape == codec.scale.shape == (1, 64, 1)
    logs = torch.log(log_mel(torch.from_numpy(x), codec.spec, codec.filters).clamp_min(codec.floor))
    sound = logs > np.log(codec.floor) + 1e-6
    band = 20  # the values above the floor have mean 0 and std 1/3 in training space
    values = e[:, 0, band][sound[:, band]]
    assert abs(float(values.mean())) < 0.05 and float(values.std()) == pytest.approx(1 / CLIP_STD, rel=0.05)


def test_other_output_ranges(make_tone):
    x = clips(make_tone)
    e = SpecCodec.fit(x, Spectrogram(), (0.0, 1.0)).encode(x)  # a sigmoid generator: the same values, in [0, 1]
    torch.testing.assert_close(e, (SpecCodec.fit(x, Spectrogram(), (-1.0, 1.0)).encode(x) + 1) / 2)


def test_encode_decode_round_trip(make_tone):
    """Decoding a clip's own spectrogram gives back a clip with (nearly) its log-mel spectrogram."""
    x = clips(make_tone)
    codec = SpecCodec.fit(x, Spectrogram(griffin_lim=32), (-1.0, 1.0))
    e = codec.encode(x)
    y = codec.decode(e)
    assert y.shape == (12, 8000) and float(y.abs().max()) <= 1.0
    mel_in, mel_out = codec.mel(e), codec.mel(codec.encode(y.numpy()))
    err = float(torch.linalg.vector_norm(mel_out - mel_in) / torch.linalg.vector_norm(mel_in))
    assert err < 0.25  # measured 0.17 on these tones (0.06 on 300 FSDD clips)
    torch.testing.assert_close(codec.decode(e), y)  # decoding is deterministic


def test_saved_form_decodes_the_same(make_tone):
    import json

    x = clips(make_tone)
    codec = SpecCodec.fit(x, Spectrogram(griffin_lim=4, mel_inverse="nnls"), (-1.0, 1.0))
    again = SpecCodec.from_dict(json.loads(json.dumps(codec.to_dict())))
    assert again.spec == codec.spec and again.floor == pytest.approx(codec.floor)
    e = codec.encode(x[:3])
    torch.testing.assert_close(again.encode(x[:3]), e)
    torch.testing.assert_close(again.decode(e), codec.decode(e))
