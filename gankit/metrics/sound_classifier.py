"""The spoken-digit classifier's network: clips -> a fixed log-mel front-end -> gankit's small CNN.

Donahue et al. 2019 score WaveGAN and SpecGAN with the Inception-score formula (Salimans et al. 2016)
on a digit classifier of their own, trained on real SC09 clips; gankit does the same on the run's
labelled clips (FSDD's training split), through the domain-classifier machinery of
:mod:`gankit.metrics.classifier` (training, cache with data and weights sha256, held-out accuracy,
provenance on every score). FID in its penultimate layer follows Heusel et al. 2017.

The input is the **waveform** (N, samples) in [-1, 1], as ``gankit sample`` writes it: the front-end
computes its own log-mel spectrogram, with settings fixed here and independent of the run's codec
(``n_fft`` 256, 64 mel bands, 64 frames over the clip, a floor of 1e-5 on the magnitudes), so that

* generated clips are judged after Griffin–Lim, as heard, never as the generator's spectrograms;
* every run on the same clips (SpecGAN or WaveGAN, any ``data.n_mels``) is judged by one classifier.

The log-mel values are standardised by a BatchNorm without affine parameters, whose running mean and
variance are learnt from the training clips and then fixed (eval mode); the rest is the image
classifier's CNN on the (1, 64, 64) picture.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit.audio.codec import Spectrogram, log_mel
from gankit.metrics.cnn import DomainClassifier

FLOOR = 1e-5  # mel magnitudes below it count as it: digital silence is one finite value
N_FFT, N_MELS, FRAMES = 256, 64, 64


class SoundClassifier(nn.Module):
    """(N, samples) clips -> (N, feature_dim) features -> (N, K) logits."""

    def __init__(self, in_shape: tuple[int, ...], n_classes: int, width: int = 16, feature_dim: int = 128,
                 dropout: float = 0.3, *, sample_rate: int = 8000) -> None:
        super().__init__()
        (samples,) = in_shape
        self.spec = Spectrogram(sample_rate=sample_rate, samples=samples, n_fft=N_FFT, n_mels=N_MELS, frames=FRAMES)
        self.register_buffer("filters", self.spec.filters(), persistent=False)  # (n_mels, bins), from the settings
        self.norm = nn.BatchNorm2d(1, affine=False)
        self.cnn = DomainClassifier((1, N_MELS, FRAMES), n_classes, width, feature_dim, dropout)
        self.in_shape = tuple(in_shape)

    @property
    def head(self) -> nn.Module:
        return self.cnn.head

    def frontend(self, clips: Tensor) -> Tensor:  # (N, samples) -> (N, 1, n_mels, frames), standardised
        mel = log_mel(clips.float(), self.spec, self.filters)
        return self.norm(torch.log(mel.clamp_min(FLOOR))[:, None])

    def features(self, clips: Tensor) -> Tensor:  # (N, samples) -> (N, feature_dim)
        return self.cnn.features(self.frontend(clips))

    def forward(self, clips: Tensor) -> Tensor:  # (N, samples) -> (N, n_classes) logits
        return self.head(self.features(clips))
