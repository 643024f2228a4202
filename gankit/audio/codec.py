"""SpecGAN's representation (Donahue et al. 2019, section 4): clips <-> normalised log-mel spectrograms.

Encoding a clip (samples,) at ``sample_rate``:

1. ``|STFT|`` (:mod:`gankit.audio.stft`: Hann window of ``n_fft``, ``frames`` frames over the clip);
2. mel magnitudes through ``n_mels`` Slaney filters (:mod:`gankit.audio.mel`; the paper keeps 128
   linear-frequency bins of a 256-point FFT at 16 kHz, mel bands give speech's low frequencies more rows);
3. ``log(max(mel, floor))``, the floor 80 dB below the loudest mel value of the training clips (the
   usual ``top_db`` of a dB spectrogram), so that digital silence is one finite value;
4. each mel band normalised to zero mean and unit variance over the training clips' values above the
   floor (:func:`band_moments`), clipped to 3 standard deviations and scaled into the generator's output
   range ([-1, 1] for tanh), as the paper does per frequency bin.

The per-band means and standard deviations are kept in the codec (``offset``, ``scale``: the log-mel
is ``x * scale + offset``), so decoding inverts step 4 exactly, step 3 up to the floor and the 3-sigma
clip, step 2 by the (pseudo-)inverse of the filter bank or NNLS, and step 1 by Griffin–Lim
(``griffin_lim`` iterations, :mod:`gankit.audio.griffinlim`).

Shapes: clips (N, samples) float in [-1, 1] <-> training tensors (N, 1, n_mels, frames).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from gankit.audio.griffinlim import griffin_lim
from gankit.audio.mel import mel_filters, to_linear
from gankit.audio.stft import Frames, magnitude
from gankit.modalities.base import Codec

TOP_DB = 80.0  # the floor: this far below the loudest mel magnitude of the training clips
CLIP_STD = 3.0  # SpecGAN's _CLIP_NSTD
CHUNK = 256  # clips per STFT batch when encoding (memory, not results)


@dataclass
class Spectrogram:
    """The settings of the representation (the ``data.*`` sound keys), kept in generator.json."""

    sample_rate: int = 8000
    samples: int = 8000
    n_fft: int = 256
    n_mels: int = 64
    frames: int = 64
    griffin_lim: int = 32
    mel_inverse: str = "pinv"

    @property
    def stft(self) -> Frames:
        return Frames(self.samples, self.n_fft, self.frames)

    def filters(self) -> Tensor:  # (n_mels, bins)
        return mel_filters(self.sample_rate, self.n_fft, self.n_mels)


def log_mel(x: Tensor, s: Spectrogram, filters: Tensor) -> Tensor:
    """(N, samples) -> (N, n_mels, frames) mel magnitudes (not yet logged), in chunks."""
    out = [torch.einsum("mf,nft->nmt", filters, magnitude(x[i : i + CHUNK], s.stft)) for i in range(0, len(x), CHUNK)]
    return torch.cat(out) if out else x.new_zeros(0, s.n_mels, s.frames)


def band_moments(logs: Tensor, sound: Tensor) -> tuple[Tensor, Tensor]:
    """Per mel band, the mean and standard deviation (1, n_mels, 1) of the log-magnitudes above the floor.

    Clips padded to the duration are mostly digital silence (FSDD: half of all values); moments over
    everything would place the mean between silence and speech and spend the output range on the gap.
    Over the values above the floor, speech is centred and silence falls below -3 sigma: the bottom
    of the range, as the background of an image is black.
    """
    w = sound.double()
    count = w.sum((0, 2), keepdim=True).clamp_min(1.0)
    mean = (logs * w).sum((0, 2), keepdim=True) / count
    var = (((logs - mean) ** 2) * w).sum((0, 2), keepdim=True) / count
    return mean, var.sqrt().clamp_min(1e-3)


@dataclass
class SpecCodec(Codec):
    """Clips <-> normalised log-mel spectrograms; ``offset``/``scale`` (1, n_mels, 1) per mel band."""

    spec: Spectrogram = field(default_factory=Spectrogram)
    floor: float = 1e-8  # mel magnitudes below it count as it (log of silence)
    centre: float = 0.0  # middle of the generator's output range
    half: float = 1.0  # half its width
    _filters: Tensor | None = field(default=None, repr=False, compare=False)  # a cache of spec.filters()
    rule = ("x * scale + offset is the natural log of the mel magnitudes (n_mels, frames); exp() it, take it to "
            "linear magnitudes with the pseudo-inverse of the Slaney mel filters (clipped at 0; or NNLS), then "
            "Griffin-Lim (griffin_lim iterations, periodic Hann window of n_fft, hop samples // (frames - 1), "
            "centred frames) to a waveform of samples at sample_rate, clipped to clamp")

    @classmethod
    def fit(cls, clips: np.ndarray, spec: Spectrogram, output_range: tuple[float, float]) -> "SpecCodec":
        """The codec of training clips (N, samples): floor, per-band mean and std."""
        filters = spec.filters()
        mel = log_mel(torch.from_numpy(np.ascontiguousarray(clips, np.float32)), spec, filters)
        floor = max(float(mel.max()) * 10 ** (-TOP_DB / 20), 1e-10)
        mean, std = band_moments(torch.log(mel.clamp_min(floor)).double(), mel > floor)
        lo, hi = output_range
        centre, half = (lo + hi) / 2, (hi - lo) / 2
        scale = CLIP_STD * std / half  # log-mel = x * scale + offset
        offset = mean - centre * scale
        codec = cls(offset.float(), scale.float(), (-1.0, 1.0), spec, floor, centre, half)
        codec._filters = filters
        return codec

    @classmethod
    def from_clips(cls, clips: np.ndarray, options: dict, output_range: tuple[float, float]) -> "SpecCodec":
        """The codec of training clips (N, samples) from the ``data.*`` sound settings in ``options`` (those of
        :class:`Spectrogram`; the others belong to other representations)."""
        from dataclasses import fields

        names = {f.name for f in fields(Spectrogram)} - {"samples"}
        spec = Spectrogram(samples=int(clips.shape[1]), **{k: v for k, v in options.items() if k in names})
        return cls.fit(clips, spec, output_range)

    @property
    def filters(self) -> Tensor:
        if self._filters is None:
            self._filters = self.spec.filters()
        return self._filters

    def spectrogram(self, clips: Tensor) -> Tensor:
        """(N, samples) clips -> (N, 1, n_mels, frames) in training space (clipped to the output range)."""
        logs = torch.log(log_mel(clips.float().cpu(), self.spec, self.filters).clamp_min(self.floor))
        x = (logs[:, None] - self.offset) / self.scale
        return x.clamp(self.centre - self.half, self.centre + self.half).contiguous()

    def picture(self, x: Tensor) -> Tensor:
        """Training tensors as spectrogram pictures: themselves (N, 1, n_mels, frames)."""
        return x

    def encode(self, raw: np.ndarray) -> Tensor:  # (N, samples) -> (N, 1, n_mels, frames)
        return self.spectrogram(torch.from_numpy(np.ascontiguousarray(raw, np.float32)))

    def mel(self, x: Tensor) -> Tensor:
        """(N, 1, n_mels, frames) training space -> (N, n_mels, frames) mel magnitudes."""
        logs = x.float().cpu()[:, 0] * self.scale[0] + self.offset[0]
        return torch.exp(logs)

    def decode(self, x: Tensor) -> Tensor:  # (N, 1, n_mels, frames) -> (N, samples) in [-1, 1]
        s = self.spec
        linear = to_linear(self.mel(x), self.filters, s.mel_inverse)
        return griffin_lim(linear, s.stft, s.griffin_lim).clamp(*self.clamp).to(x.device)

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return {**super().to_dict(), "representation": "spectrogram", "spectrogram": asdict(self.spec),
                "floor": self.floor, "centre": self.centre, "half": self.half}

    @classmethod
    def from_dict(cls, meta: dict) -> "SpecCodec":
        f32 = lambda v: torch.tensor(v, dtype=torch.float32)  # noqa: E731
        return cls(f32(meta["offset"]), f32(meta["scale"]), (-1.0, 1.0), Spectrogram(**meta["spectrogram"]),
                   float(meta["floor"]), float(meta["centre"]), float(meta["half"]))
