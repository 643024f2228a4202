"""WaveGAN's representation (Donahue et al. 2019, section 3): the networks train on the samples themselves.

Encoding clips (N, samples) in [-1, 1] at ``sample_rate``:

1. ``length - samples`` zeros (silence) **appended at the end** of each clip;
2. the affine map onto the generator's output range (``raw = x * scale + offset``): for tanh's [-1, 1]
   ``scale`` is 1 and ``offset`` 0, so the training values *are* the samples and the round trip is exact;
3. one channel: (N, 1, length).

Decoding keeps the first ``samples`` of the channel, maps them back and clips to [-1, 1]: (N, samples).

The pad rule: ``length`` (``data.length``) is at least ``samples``; left unset it is ``samples`` rounded up
to a multiple of what the networks take (wavegan: 4^stages, a stride of 4 per stage; FSDD's 8,000 samples
at 8 kHz -> 8,192 for 4 or 5 stages, 8,000 for 3), settled when the config is validated
(:func:`gankit.config.validate.settle_auto`). Nothing is cut here: the clips were already brought to
``data.duration`` by :mod:`gankit.audio.clips`, which centres short clips in silence, so the appended tail
is silence after silence and decoding is a plain slice. The generator's tail is dropped, whatever it holds.

Pictures: previews and ``gankit sample --out x.png`` draw spectrograms of the clips in the normalisation of a
:class:`~gankit.audio.codec.SpecCodec` fitted to the same training clips (``view``: the ``data.n_mels``,
``data.frames`` and ``data.n_fft`` keys), so a WaveGAN run's grids read like a SpecGAN run's on the same data.

Shapes: clips (N, samples) float in [-1, 1] <-> training tensors (N, 1, length).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.audio.codec import SpecCodec, Spectrogram
from gankit.modalities.base import Codec


@dataclass
class WaveCodec(Codec):
    """Clips <-> (N, 1, length) waveforms; ``offset``/``scale`` are scalars (the output range's affine map)."""

    view: SpecCodec = field(default_factory=lambda: SpecCodec(torch.zeros(()), torch.ones(())))
    samples: int = 8000  # of a clip, at view.spec.sample_rate
    length: int = 8000  # of a training tensor: samples + the silence appended
    rule = ("x[:, 0, :samples] * scale + offset is the waveform at sample_rate (for tanh: x itself), clipped to "
            "[-1, 1]; the last length - samples values are padding and dropped")

    @classmethod
    def from_clips(cls, clips: np.ndarray, options: dict, output_range: tuple[float, float]) -> "WaveCodec":
        """The codec of training clips (N, samples): the affine map to ``output_range``, the pictures' view."""
        samples = int(clips.shape[1])
        length = int(options.get("length") or samples)
        if length < samples:  # config validation refuses this; the codec never cuts
            raise ValueError(f"length {length} < samples {samples}")
        lo, hi = output_range
        scale = 2.0 / (hi - lo)  # [lo, hi] -> [-1, 1]
        view = SpecCodec.from_clips(clips, options, output_range)
        return cls(torch.tensor(-1.0 - lo * scale), torch.tensor(scale), (-1.0, 1.0), view, samples, length)

    @property
    def spec(self) -> Spectrogram:
        """The clips' settings (sample rate) and the pictures' spectrogram."""
        return self.view.spec

    @property
    def centre(self) -> float:
        return self.view.centre

    @property
    def half(self) -> float:
        return self.view.half

    def encode(self, raw: np.ndarray) -> Tensor:  # (N, samples) -> (N, 1, length)
        x = F.pad(torch.from_numpy(np.ascontiguousarray(raw, np.float32)), (0, self.length - self.samples))
        return ((x - self.offset) / self.scale)[:, None].contiguous()  # silence padded, then mapped with the clip

    def decode(self, x: Tensor) -> Tensor:  # (N, 1, length) -> (N, samples) in [-1, 1]
        return super().decode(x[:, 0, : self.samples])

    def spectrogram(self, clips: Tensor) -> Tensor:
        """(N, samples) clips -> (N, 1, n_mels, frames) pictures, as the SpecGAN codec draws them."""
        return self.view.spectrogram(clips)

    def picture(self, x: Tensor) -> Tensor:
        """(N, 1, length) training tensors -> (N, 1, n_mels, frames): the spectrograms of their clips."""
        return self.view.spectrogram(self.decode(x))

    def to_dict(self) -> dict:
        s = self.view.spec
        return {**super().to_dict(), "representation": "waveform",
                "waveform": {"sample_rate": s.sample_rate, "samples": self.samples, "length": self.length},
                "picture": self.view.to_dict()}

    @classmethod
    def from_dict(cls, meta: dict) -> "WaveCodec":
        w = meta["waveform"]
        return cls(torch.tensor(float(meta["offset"])), torch.tensor(float(meta["scale"])), (-1.0, 1.0),
                   SpecCodec.from_dict(meta["picture"]), int(w["samples"]), int(w["length"]))
