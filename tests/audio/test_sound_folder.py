"""Sound folders: classes from file names or sub-folders, the test split by name, rates, lengths, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from gankit.audio.wav import write_wav
from gankit.config import DataConfig
from gankit.data import guess_name, load_data
from gankit.data.sounds import sound_folder
from gankit.data.split import heldout_data
from gankit.errors import GankitError

FSDD = {"label_pattern": r"^(\d)_", "test_pattern": r"_[0-1]\.wav$"}


def one_line(fn) -> str:
    with pytest.raises(GankitError) as e:
        fn()
    assert "\n" not in str(e.value)
    return str(e.value)


def test_labels_from_the_file_names_and_the_test_split(tmp_path, make_digits):
    root = make_digits(tmp_path / "rec", digits=(0, 1, 2), takes=3)  # 3 digits x 2 speakers x takes 0..2
    raw = sound_folder(DataConfig(path=str(root), **FSDD))
    assert raw.kind == "sound" and raw.x.shape == (6, 8000) and raw.x.dtype == np.float32  # take 2 only
    assert raw.classes == ["0", "1", "2"] and raw.labels.tolist() == [0, 0, 1, 1, 2, 2]
    test = sound_folder(DataConfig(path=str(root), **FSDD), test=True)
    assert test.x.shape == (12, 8000) and test.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert "12 files matching data.test_pattern held out as the test split" in raw.notes
    # lengths 0.3, 0.6, 1.3 s (cycled): the 1.3 s clips are cut to their loudest second, nothing is dropped
    assert any("clips longer than 1 s cut to their loudest 1 s" in n for n in raw.notes)


def test_the_held_out_reference_is_the_test_split_in_training_space(tmp_path, make_digits):
    cfg = DataConfig(path=str(make_digits(tmp_path / "rec", takes=3)), **FSDD)
    assert guess_name(cfg) == "sound"
    data = load_data(cfg)
    assert data.shape == (1, 64, 64) and len(data) == 6 and data.notes
    held, source = heldout_data(cfg, data)
    assert source == "sound test split" and held.shape == (1, 64, 64) and len(held) == 12
    assert held.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert held.codec is data.codec


def test_classes_from_sub_folders_sort_as_numbers(tmp_path, make_tone):
    for name in ("10", "2", "1"):
        (tmp_path / "c" / name).mkdir(parents=True)
        write_wav(tmp_path / "c" / name / "a.wav", make_tone(440, 0.5, 8000), 8000)
    raw = sound_folder(DataConfig(path=str(tmp_path / "c")))
    assert raw.classes == ["1", "2", "10"] and raw.labels.tolist() == [0, 2, 1]  # files in sorted path order
    flat = tmp_path / "flat"
    flat.mkdir()
    write_wav(flat / "x.wav", make_tone(440, 0.5, 8000), 8000)
    assert sound_folder(DataConfig(path=str(flat))).classes is None  # no sub-folders, no pattern: unlabelled


def test_any_rate_and_width_is_resampled_and_counted(tmp_path, make_tone):
    root = tmp_path / "mixed"
    root.mkdir()
    write_wav(root / "0_a_5.wav", make_tone(440, 0.5, 44100), 44100, width=3)
    write_wav(root / "1_a_5.wav", np.stack([make_tone(440, 0.5, 16000)] * 2), 16000, width=1)  # stereo 8-bit
    write_wav(root / "2_a_5.wav", make_tone(440, 0.5, 8000), 8000, width=4)
    raw = sound_folder(DataConfig(path=str(root), label_pattern=r"^(\d)_", sample_rate=8000, duration=0.5))
    assert raw.x.shape == (3, 4000)
    assert "1 clips resampled from 16,000 Hz to 8,000 Hz" in raw.notes
    assert "1 clips resampled from 44,100 Hz to 8,000 Hz" in raw.notes
    np.testing.assert_allclose(raw.x[0, 500:-500], raw.x[2, 500:-500], atol=0.02)  # the same tone whatever the file


def test_bad_input_is_one_line(tmp_path, make_digits):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no sound here")
    assert "no audio files found" in one_line(lambda: sound_folder(DataConfig(path=str(empty))))
    root = make_digits(tmp_path / "rec", takes=2)
    msg = one_line(lambda: sound_folder(DataConfig(path=str(root), label_pattern=r"^digit(\d)")))
    assert "data.label_pattern='^digit(\\\\d)' matches none of the 12 file names" in msg
    msg = one_line(lambda: sound_folder(DataConfig(path=str(root), test_pattern=r"_9\.wav$")))
    assert "data.test_pattern='_9\\\\.wav$' matches none of the 12 file names" in msg
    assert "leaves nothing to train on" in one_line(
        lambda: sound_folder(DataConfig(path=str(root), test_pattern=r"\.wav$")))
    (root / "odd.wav").write_bytes((root / "0_ann_0.wav").read_bytes())
    assert "does not match odd.wav (1 of 13 files)" in one_line(
        lambda: sound_folder(DataConfig(path=str(root), label_pattern=r"^(\d)_")))
    assert "not a regular expression" in one_line(lambda: sound_folder(DataConfig(path=str(root), label_pattern="(")))
    (root / "odd.wav").write_bytes(b"RIFF....WAVEjunk")
    assert "odd.wav: cannot read audio" in one_line(lambda: sound_folder(DataConfig(path=str(root))))
    assert "one file" in one_line(lambda: sound_folder(DataConfig(path=str(root / "0_ann_0.wav"))))
    pics = tmp_path / "pics"
    pics.mkdir()
    from PIL import Image

    Image.new("L", (8, 8)).save(pics / "a.png")
    assert "data.label_pattern reads sound folders" in one_line(
        lambda: load_data(DataConfig(path=str(pics), label_pattern="x")))
