"""WaveGAN's representation (gankit/audio/waveform.py): clips <-> (N, 1, length), the pad rule, the config keys."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gankit.audio.representations import REPRESENTATIONS, codec_class
from gankit.audio.waveform import WaveCodec
from gankit.config.load import load
from gankit.errors import GankitError

#: the sound keys a codec is fitted with (gankit/data/sounds.py), for 0.24 s clips drawn as 16 x 16 pictures
OPTIONS = {"sample_rate": 8000, "n_fft": 256, "n_mels": 16, "frames": 16, "griffin_lim": 4, "mel_inverse": "pinv"}


def clips(make_tone, n: int = 6, seconds: float = 0.24) -> np.ndarray:
    """(n, samples) tones of rising pitch and falling loudness, as a loader gives them."""
    return np.stack([make_tone(200 + 100 * i, seconds, 8000, 0.9 - 0.1 * i) for i in range(n)])


def test_the_round_trip_is_exact_and_the_padding_is_silence(make_tone):
    x = clips(make_tone)  # (6, 1920)
    codec = WaveCodec.from_clips(x, {**OPTIONS, "length": 2048}, (-1.0, 1.0))
    t = codec.encode(x)
    assert t.shape == (6, 1, 2048) and t.dtype == torch.float32
    assert torch.equal(t[:, 0, :1920], torch.from_numpy(x))  # tanh's range: the training values are the samples
    assert torch.count_nonzero(t[:, :, 1920:]) == 0  # 128 samples of silence appended at the end
    back = codec.decode(t)
    assert back.shape == (6, 1920) and torch.equal(back, torch.from_numpy(x))  # exact, not close


def test_decoding_drops_the_tail_and_clips_to_the_range(make_tone):
    codec = WaveCodec.from_clips(clips(make_tone), {**OPTIONS, "length": 2048}, (-1.0, 1.0))
    g = torch.full((2, 1, 2048), 3.0)  # a generator's output need not be silent in the padding, nor in range
    g[:, :, 1920:] = 7.0
    assert torch.equal(codec.decode(g), torch.ones(2, 1920))


def test_another_output_range_maps_silence_and_comes_back(make_tone):
    x = clips(make_tone)
    codec = WaveCodec.from_clips(x, {**OPTIONS, "length": 2048}, (0.0, 1.0))  # a sigmoid generator
    t = codec.encode(x)
    assert float(t.min()) >= 0 and float(t.max()) <= 1
    assert torch.all(t[:, :, 1920:] == 0.5)  # the appended silence is silence in the generator's range too
    torch.testing.assert_close(codec.decode(t), torch.from_numpy(x), atol=1e-6, rtol=0)


def test_no_length_means_the_clip_itself(make_tone):
    x = clips(make_tone)
    codec = WaveCodec.from_clips(x, OPTIONS, (-1.0, 1.0))
    assert codec.length == codec.samples == 1920 and codec.encode(x).shape == (6, 1, 1920)
    with pytest.raises(ValueError, match="length 1000 < samples 1920"):
        WaveCodec.from_clips(x, {**OPTIONS, "length": 1000}, (-1.0, 1.0))


def test_saved_and_read_back_through_the_registry(make_tone):
    """generator.json keeps the representation; gankit.load picks the codec class by it (old files: spectrogram)."""
    x = clips(make_tone)
    codec = WaveCodec.from_clips(x, {**OPTIONS, "length": 2048}, (-1.0, 1.0))
    meta = json.loads(json.dumps(codec.to_dict()))
    assert meta["representation"] == "waveform" and meta["waveform"] == {"sample_rate": 8000, "samples": 1920,
                                                                         "length": 2048}
    again = codec_class(meta["representation"]).from_dict(meta)
    t = codec.encode(x)
    assert isinstance(again, WaveCodec) and torch.equal(again.decode(t), codec.decode(t))
    assert again.spec.sample_rate == 8000 and (again.centre, again.half) == (codec.centre, codec.half)
    assert torch.equal(again.picture(t), codec.picture(t))
    assert REPRESENTATIONS.names() == ["spectrogram", "waveform"]


def test_pictures_are_the_spectrograms_of_the_clips(make_tone):
    """Previews draw a waveform run's clips as a SpecGAN codec of the same clips would (its normalisation)."""
    from gankit.audio.codec import SpecCodec

    x = clips(make_tone)
    wave = WaveCodec.from_clips(x, {**OPTIONS, "length": 2048}, (-1.0, 1.0))
    spec = SpecCodec.from_clips(x, OPTIONS, (-1.0, 1.0))
    pictures = wave.picture(wave.encode(x))
    assert pictures.shape == (6, 1, 16, 16)
    torch.testing.assert_close(pictures, spec.encode(x))
    assert torch.equal(spec.picture(spec.encode(x)), spec.encode(x))  # a spectrogram is its own picture


# ----------------------------------------------------------------------------- the pad rule in the config


@pytest.mark.parametrize("channels, length", [([8, 8, 8, 8, 8], 8192), ([8, 8, 8, 8], 8192), ([8, 8, 8], 8000),
                                              ([8], 8000)])
def test_the_length_is_rounded_up_to_what_the_networks_take(channels, length):
    """1 s at 8 kHz: 8,000 samples, a multiple of 4^3 = 64 but not of 4^4 = 256."""
    c = ",".join(map(str, channels))
    cfg = load("fsdd-wavegan", [f"generator.channels=[{c}]", f"discriminator.channels=[{c}]", "data.path=null"])
    assert cfg.data.representation == "waveform" and cfg.data.length == length


def test_the_deeper_network_decides_and_a_given_length_is_kept():
    cfg = load("fsdd-wavegan", ["generator.channels=[8,8,8]", "discriminator.channels=[8,8,8,8,8]", "data.path=null"])
    assert cfg.data.length == 8192  # lcm(4^3, 4^5)
    assert load("fsdd-wavegan", ["data.length=9216", "data.path=null"]).data.length == 9216
    assert load("fsdd-specgan", ["data.path=null"]).data.length is None  # spectrograms have no length


@pytest.mark.parametrize("overrides, message", [
    (["data.length=8000"], "data.length (8000) must be a multiple of 1024 for generator.arch=wavegan"),
    (["data.length=4096"], "data.length (4096) is shorter than a clip's 8000 samples"),
    (["data.representation=spectrum"], "unknown sound representation (data.representation) 'spectrum'"),
])
def test_bad_lengths_are_named(overrides, message):
    with pytest.raises(GankitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load("fsdd-wavegan", [*overrides, "data.path=null"])


def test_a_length_for_spectrograms_is_refused():
    with pytest.raises(GankitError, match="data.length is for data.representation=waveform"):
        load("fsdd-specgan", ["data.length=8192", "data.path=null"])
