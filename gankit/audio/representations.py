"""What the networks see of a sound clip, chosen by ``data.representation`` (Donahue et al. 2019 compare both).

* ``spectrogram`` (SpecGAN, :class:`gankit.audio.codec.SpecCodec`): normalised log-mel spectrograms
  (N, 1, n_mels, frames) that image networks (dcgan) train on; Griffin–Lim turns them back into sound.
* ``waveform`` (WaveGAN, :class:`gankit.audio.waveform.WaveCodec`): the samples themselves (N, 1, length),
  for one-dimensional networks (wavegan); decoding only drops the padding.

Each entry is a torch-free loader of its codec class (the config is validated against this registry before
torch is imported); the class fits itself to training clips with ``from_clips(clips, options, output_range)``
and reads itself back from generator.json with ``from_dict``. A new representation registers the same way;
the modality, the tasks and the training loop do not change. Old runs' generator.json files name no
representation: they are spectrograms (:data:`DEFAULT`).
"""

from __future__ import annotations

from typing import Any, Callable

from gankit.errors import need
from gankit.registry import Registry

REPRESENTATIONS: Registry[Callable[[], type]] = Registry("sound representation (data.representation)")
#: what a generator.json without a ``representation`` (written before WaveGAN) holds
DEFAULT = "spectrogram"


def clip_samples(data: Any) -> int:
    """Samples of a clip after the duration rule (gankit.audio.clips): ``data.duration`` x ``data.sample_rate``."""
    return max(1, round(data.duration * data.sample_rate))


def _spectrogram_check(cfg: Any) -> None:
    need(cfg.data.length is None, "data.length", "is for data.representation=waveform (a spectrogram is data.n_mels "
         "x data.frames); leave it unset, or set data.representation=waveform")


def _waveform_check(cfg: Any) -> None:
    d = cfg.data
    samples = clip_samples(d)
    need(d.length is None or d.length >= samples, "data.length",
         f"({d.length}) is shorter than a clip's {samples} samples (data.duration x data.sample_rate); raise it or "
         f"leave it unset (the clips are padded up to it, never cut)")


@REPRESENTATIONS.register("spectrogram", "SpecGAN: normalised log-mel spectrograms (N, 1, n_mels, frames) for image "
                          "networks (generator.arch=dcgan), Griffin-Lim back to sound", keys=(
                              "n_mels", "frames", "n_fft", "griffin_lim", "mel_inverse"), check=_spectrogram_check)
def _spectrogram() -> type:
    from gankit.audio.codec import SpecCodec

    return SpecCodec


@REPRESENTATIONS.register("waveform", "WaveGAN: the samples themselves (N, 1, data.length), silence appended to a "
                          "length the 1-D networks take (generator.arch=wavegan)", keys=("length",),
                          check=_waveform_check)
def _waveform() -> type:
    from gankit.audio.waveform import WaveCodec

    return WaveCodec


def codec_class(name: str) -> type:
    """The codec class of a representation (imports torch)."""
    return REPRESENTATIONS.get(name)()
