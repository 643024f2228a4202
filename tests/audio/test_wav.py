"""WAV files through the standard library: every PCM width, rates, stereo -> mono, exact round trips."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from gankit.audio.files import read_audio
from gankit.audio.wav import read_wav, wav_bytes, write_wav
from gankit.errors import GankitError


@pytest.mark.parametrize("width", [1, 2, 3, 4])
@pytest.mark.parametrize("rate", [8000, 16000, 44100])
def test_round_trip_every_width_and_rate(tmp_path, width, rate, make_tone):
    tone = make_tone
    x = tone(440, 0.05, rate, amplitude=0.9)
    x[:3] = [-1.0, 0.0, 0.99]  # the extremes of the range
    write_wav(tmp_path / "a.wav", x, rate, width)
    y, r = read_wav(tmp_path / "a.wav")
    assert r == rate and y.dtype == np.float32 and y.shape == x.shape
    assert np.abs(y - x).max() <= 0.5 / 2 ** (8 * width - 1) + 1e-7  # half a quantisation step
    write_wav(tmp_path / "b.wav", y, rate, width)  # what was read is written back to the same integers
    assert (tmp_path / "b.wav").read_bytes() == (tmp_path / "a.wav").read_bytes()


def test_known_integers_decode_to_known_values(tmp_path):
    path = tmp_path / "k.wav"
    with wave.open(str(path), "wb") as w:  # written by the standard library, not by gankit
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(np.array([-32768, -16384, 0, 16384, 32767], "<i2").tobytes())
    y, _ = read_wav(path)
    np.testing.assert_allclose(y, [-1.0, -0.5, 0.0, 0.5, 32767 / 32768])
    with wave.open(str(path), "wb") as w:  # 8-bit WAV is unsigned around 128; 24-bit little-endian signed
        w.setnchannels(1), w.setsampwidth(1), w.setframerate(8000)
        w.writeframes(bytes([0, 64, 128, 192, 255]))
    np.testing.assert_allclose(read_wav(path)[0], [-1.0, -0.5, 0.0, 0.5, 127 / 128])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(3), w.setframerate(8000)
        w.writeframes(bytes([0, 0, 0x80, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0x40]))  # -2^23, -2^22, 0, 2^22
    np.testing.assert_allclose(read_wav(path)[0], [-1.0, -0.5, 0.0, 0.5])


def test_stereo_is_averaged_to_mono(tmp_path, make_tone):
    tone = make_tone
    left, right = tone(300, 0.1, 16000), tone(500, 0.1, 16000, amplitude=0.25)
    write_wav(tmp_path / "s.wav", np.stack([left, right]), 16000, 2)
    with wave.open(str(tmp_path / "s.wav")) as w:
        assert w.getnchannels() == 2
    y, rate = read_wav(tmp_path / "s.wav")
    assert rate == 16000 and y.shape == left.shape
    np.testing.assert_allclose(y, (left + right) / 2, atol=2 / 32768)


def test_in_memory_bytes_are_a_wav_file(make_tone):
    tone = make_tone
    data = wav_bytes(tone(440, 0.25, 8000), 8000)
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE" and len(data) == 44 + 2 * 2000


def test_bad_files_are_named(tmp_path):
    (tmp_path / "junk.wav").write_bytes(b"not a wav at all")
    with pytest.raises(GankitError, match=r"junk\.wav: cannot read audio"):
        read_audio(tmp_path / "junk.wav")
    write_wav(tmp_path / "empty.wav", np.zeros(0, np.float32), 8000)
    with pytest.raises(GankitError, match=r"empty\.wav: the file holds no samples"):
        read_audio(tmp_path / "empty.wav")


def test_other_formats_go_through_soundfile(tmp_path, make_tone):
    tone = make_tone
    sf = pytest.importorskip("soundfile")
    x = tone(440, 0.1, 22050)
    sf.write(tmp_path / "a.flac", x, 22050)
    sf.write(tmp_path / "f.wav", x, 22050, subtype="FLOAT")  # IEEE float: not PCM, the standard library refuses it
    for name in ("a.flac", "f.wav"):
        y, rate = read_audio(tmp_path / name)
        assert rate == 22050 and np.abs(y - x).max() < 1e-4, name


def test_missing_soundfile_names_the_extra(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_soundfile(name, *args, **kwargs):
        if name == "soundfile":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    (tmp_path / "a.flac").write_bytes(b"fLaC")
    monkeypatch.setattr(builtins, "__import__", no_soundfile)
    with pytest.raises(GankitError, match=r"a\.flac: .*pip install 'gankit\[audio\]'"):
        read_audio(tmp_path / "a.flac")
