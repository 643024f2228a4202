"""Sound, small and tested, without torchaudio (its wheels pin their own torch, which would replace the CPU
build): one job per module.

* :mod:`~gankit.audio.wav` reads and writes PCM WAV files through the standard library's ``wave``
  (8/16/24/32-bit, any rate, mono or stereo -> mono); :mod:`~gankit.audio.files` reads other formats
  through the optional ``soundfile`` package (``pip install 'gankit[audio]'``);
* :mod:`~gankit.audio.resample` changes the sample rate (``scipy.signal.resample_poly``);
* :mod:`~gankit.audio.clips` pads or cuts clips to one duration, by a stated rule;
* :mod:`~gankit.audio.stft` is the short-time Fourier transform (``torch.stft``) and its frame layout;
* :mod:`~gankit.audio.mel` is the mel filter bank (Slaney's scale, as librosa's default) and its inverse;
* :mod:`~gankit.audio.griffinlim` turns magnitudes back into sound (Griffin & Lim 1984);
* :mod:`~gankit.audio.codec` is SpecGAN's representation (Donahue et al. 2019): clips <-> normalised
  log-mel spectrograms that image networks train on.

Waveforms are float32 in [-1, 1], shape (N, T) for a batch of clips.
"""

#: the suffixes a sound folder is read for (.wav through the standard library; the others need soundfile)
SOUNDS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")
#: the folder under a run's samples/ holding each preview step's clips as WAV (report.html plays them)
PREVIEW_AUDIO = "audio"
