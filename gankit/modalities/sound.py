"""Sound: clips (N, samples) in [-1, 1] at the data's sample rate, trained as spectrograms or waveforms.

``data.representation`` chooses the codec (:mod:`gankit.audio.representations`; Donahue et al. 2019 compare
both): SpecGAN's (:class:`gankit.audio.codec.SpecCodec`) encodes clips to normalised log-mel spectrograms
(N, 1, n_mels, frames), which the convolutional image networks (DCGAN) take as one-channel pictures, and
decodes generated spectrograms back to clips by Griffin–Lim; WaveGAN's
(:class:`gankit.audio.waveform.WaveCodec`) keeps the samples, (N, 1, length), for the one-dimensional
networks. Everything the user gets is sound either way: ``gankit sample`` writes WAV files, previews are
spectrogram grids *of the decoded clips* (what is heard) beside the real spectrograms, and a few
preview clips per step are kept as WAV files under ``samples/audio/step_*/`` for report.html to play.

Samples save as a folder of WAV files (one sub-folder per class for a conditional run, the layout
gankit reads back as a labelled sound folder), one ``.wav`` (the clips one after another, a short
silence between them), ``.npy`` (N, samples) float32 (+ ``.labels.npy``) or a ``.png`` spectrogram grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gankit.audio import PREVIEW_AUDIO
from gankit.errors import GankitError
from gankit.modalities import MODALITIES
from gankit.modalities.base import Modality, is_folder, save_npy
from gankit.modalities.image import class_folder, item_paths, output_range, real_pick

#: silence between the clips of a ``.wav`` holding several
GAP_SECONDS = 0.25
#: clips of each preview step kept as WAV for the report: one per class (at most this many), or this many
PREVIEW_CLIPS = 10


@MODALITIES.register("sound", "clips (N, samples) in [-1, 1], trained as log-mel spectrograms (SpecGAN) or "
                     "waveforms (WaveGAN)")
class SoundModality(Modality):
    name = "sound"
    formats = "folder/ (one WAV per clip), .wav (the clips one after another), .npy, .png (spectrograms)"
    clamp = (-1.0, 1.0)
    #: Griffin–Lim runs for every evaluated clip: fewer than the image modality's 10,000
    eval_items = (2_000, 500)
    #: decoding is Griffin–Lim (~10 ms a clip): the monitor's real spread from 128 clips, not 512 (its samples
    #: are the preview's 40)
    spread_items = 128
    #: scored by a spoken-digit classifier gankit trains on the labelled clips (gankit.metrics.sound_classifier),
    #: reading the clips themselves (kept as read: Data.raw), never the generator's spectrograms
    has_domain_classifier = True
    keeps_raw = True
    #: without class labels there is no classifier, and no other feature space for clips: refused by name
    feature_space = "classifier"
    #: the headline of Donahue et al. 2019 (the Inception-score formula on a digit classifier) and the
    #: near-copy check; during training only the score (its probabilities are computed for `classes` anyway)
    extra_metrics = (("classifier_score", "nearest"), ("classifier_score",))

    def as_written(self, x: np.ndarray) -> np.ndarray:
        """Clips rounded to 16-bit PCM, as :func:`gankit.audio.wav.write_wav` stores them."""
        from gankit.audio.wav import pcm16

        return pcm16(np.asarray(x, np.float32))

    def fit(self, raw, *, output: str, standardize: bool, seed: int = 0):
        """(training tensor, codec): (N, 1, n_mels, frames) spectrograms or (N, 1, length) waveforms."""
        from gankit.audio.representations import DEFAULT, codec_class

        options = dict(raw.options or {})
        codec = codec_class(options.pop("representation", DEFAULT)).from_clips(raw.x, options, output_range(output))
        return codec.encode(raw.x), codec

    def codec_from(self, meta: dict):
        from gankit.audio.representations import DEFAULT, codec_class

        return codec_class(meta.get("representation", DEFAULT)).from_dict(meta)

    def example_out(self, stem: str) -> str:
        return f"{stem}/"

    def save_real(self, data, path: Path, n: int = 40) -> bool:
        """Real spectrograms (SpecGAN: the training tensor itself, as the networks see it; WaveGAN: the
        clips'), labelled by class, and a few of them turned back into sound through the codec (what
        Griffin–Lim makes of real data; a waveform comes back as it was)."""
        from gankit.report.spectrograms import save_spectrogram_grid

        pick, labels = real_pick(data, n)
        x = data.x[pick]
        c = data.codec
        save_spectrogram_grid(c.picture(x).numpy(), path, c.centre - c.half, c.centre + c.half, labels=labels)
        keep = audio_picks(labels, len(pick))
        clips = c.decode(x[keep]).numpy()
        write_preview_clips(clips, [labels[i] for i in keep] if labels else None, audio_folder(path), c)
        return True

    def preview(self, x, path, *, real=None, nrow=None, columns=None, title="", labels=None, codec=None):
        """``x``: decoded clips (N, samples). A spectrogram grid of them, and a few as WAV for the report."""
        clip_grid(x, path, codec, nrow=nrow, labels=labels)
        keep = audio_picks(labels, len(x))
        write_preview_clips(np.asarray(x)[keep], [labels[i] for i in keep] if labels else None, audio_folder(path),
                            codec)

    def save(self, x, out: Path, *, columns=None, labels=None, label_name="label", nrow=None, codec=None) -> Path:
        if codec is None:
            raise GankitError("saving sound needs the run's codec (its sample rate); use gankit.load(RUN).save(...)")
        rate = codec.spec.sample_rate
        if is_folder(out):
            save_clips(np.asarray(x), out, labels, rate)
            return out
        out.parent.mkdir(parents=True, exist_ok=True)
        suffix = out.suffix.lower()
        if suffix == ".npy":
            save_npy(x, out, labels)
        elif suffix == ".wav":
            from gankit.audio.wav import write_wav

            write_wav(out, reel(np.asarray(x), rate), rate)
        elif suffix == ".png":
            clip_grid(x, out, codec, nrow=nrow, labels=labels)
        else:
            raise GankitError(f"--out {out}: unknown format {suffix!r}; use {self.formats}")
        return out


def clip_grid(x: np.ndarray, path: Path, codec, *, nrow: int | None = None, labels: list[str] | None = None) -> None:
    """A spectrogram grid of clips (N, samples), in the codec's normalisation (the real grid's colours)."""
    from gankit.report.spectrograms import save_spectrogram_grid

    spec = codec.spectrogram(torch.from_numpy(np.asarray(x, np.float32))).numpy()  # (N, 1, n_mels, frames)
    save_spectrogram_grid(spec, path, codec.centre - codec.half, codec.centre + codec.half, nrow=nrow, labels=labels)


def audio_folder(png: Path) -> Path:
    """``samples/step_00000100.png`` -> ``samples/audio/step_00000100/``: that step's preview clips."""
    return Path(png).parent / PREVIEW_AUDIO / Path(png).stem


def audio_picks(labels: list[str] | None, n: int) -> list[int]:
    """Which preview clips become WAV files: the first of each class, or the first few."""
    if not labels:
        return list(range(min(n, PREVIEW_CLIPS)))
    first: dict[str, int] = {}
    for i, name in enumerate(labels):
        first.setdefault(str(name), i)
    return list(first.values())[:PREVIEW_CLIPS]


def write_preview_clips(clips: np.ndarray, labels: list[str] | None, folder: Path, codec) -> None:
    """``folder/00_<class>.wav`` ...: a step's preview clips for report.html (replaced at each call)."""
    from gankit.audio.wav import write_wav

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.wav"):
        old.unlink()
    for i, clip in enumerate(clips):
        tag = f"_{class_folder(str(labels[i]))}" if labels else ""
        write_wav(folder / f"{i:02d}{tag}.wav", clip, codec.spec.sample_rate)


def save_clips(x: np.ndarray, out: Path, labels: list[str] | None, rate: int) -> None:
    """One 16-bit WAV per clip; with class names, one sub-folder per class (``out/7/0000.wav``)."""
    from gankit.audio.wav import write_wav

    for clip, path in zip(x, item_paths(out, len(x), labels, ".wav", width=4)):
        write_wav(path, clip, rate)


def reel(x: np.ndarray, rate: int) -> np.ndarray:
    """(N, samples) -> one track: the clips one after another, ``GAP_SECONDS`` of silence between them."""
    gap = np.zeros(int(round(GAP_SECONDS * rate)), np.float32)
    parts = []
    for i, clip in enumerate(x):
        parts += [gap] if i else []
        parts.append(np.asarray(clip, np.float32))
    return np.concatenate(parts)
