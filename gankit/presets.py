"""Named starting points. Each preset is a plain dict of config values (no torch import here).

``gankit presets`` lists them; ``gankit train PRESET key=value ...`` starts from one.
"""

from __future__ import annotations

import copy

from gankit.errors import GankitError, did_you_mean

#: the DCGAN of the 28x28 presets (MNIST, Fashion-MNIST), sized to train in minutes on 2 CPU cores
_DCGAN_28 = {
    "generator": {"arch": "dcgan", "latent_dim": 64, "channels": [64, 32], "kernel_size": 4,
                  "norm": "batch", "output": "tanh", "lr": 2e-4, "betas": [0.5, 0.999]},
    "discriminator": {"arch": "dcgan", "channels": [32, 64], "kernel_size": 4, "norm": "none",
                      "activation": "leaky_relu", "lr": 2e-4, "betas": [0.5, 0.999]},
    "loss": "bce",
    "ema": {"decay": 0.999},
    "train": {"steps": 4000, "batch_size": 64},
}

#: FSDD for fsdd-specgan and fsdd-wavegan: digits and the test split (takes 0-4) by file name, 8 kHz, 1 s, 64x64
_FSDD = {"name": "sound", "path": "../shared/data/fsdd/recordings", "label_pattern": r"^(\d)_",
         "test_pattern": r"_[0-4]\.wav$", "sample_rate": 8000, "duration": 1.0, "n_mels": 64, "frames": 64,
         "n_fft": 256}
#: their class-conditional recipe (mnist-cgan's): projection D + AC-GAN head, EMA of G; 40 clips per preview
_SOUND_CGAN = {"conditional": {"mode": "projection", "acgan": True}, "ema": {"decay": 0.999}, "log": {"grid_size": 40}}

#: the unconditional 28x28 DCGANs (mnist-dcgan, fashion-dcgan). DCGAN's classic step (lr 2e-4, no
#: penalty) left MNIST at FID 85 (classifier confidence 0.82) and Fashion-MNIST at 59 after 4,000 steps,
#: the latter worse than the MLP at equal time. A 5x larger learning rate held in check by a light lazy
#: R1 penalty on real data (Mescheder et al. 2018; every 4 D steps, Karras et al. 2020) gives FID 26 and
#: 31 in the same 4,000 steps (about 5 minutes on one core); 6,000 steps do not improve Fashion-MNIST.
#: (benchmarks/reference_dcgan.py times the classic step: reference_dcgan.CLASSIC_STEP.)
_DCGAN_28_R1 = {
    **_DCGAN_28,
    "generator": {**_DCGAN_28["generator"], "lr": 1e-3},
    "discriminator": {**_DCGAN_28["discriminator"], "lr": 1e-3},
    "penalty": {"r1_gamma": 1.0, "r1_interval": 4},
}

#: CIFAR-10 as ../shared/data/cifar10 holds it: 32x32 JPGs in train/<class>/ and test/<class>/ inside two
#: archives, read in memory (50,000 and 10,000 images; the test set is the evaluation's reference)
_CIFAR10 = {"path": "../shared/data/cifar10/train.tar.gz", "test_path": "../shared/data/cifar10/test.tar.gz",
            "image_size": 32}


def _sngan(g_channels: list[int], d_channels: list[int], *, lr: tuple[float, float], n_critic: int, steps: int,
           schedule: str, ema: float, shared_dim: int = 0, projection: str = "pooled", hold: float = 0.0,
           batch: int = 64) -> dict:
    """SNGAN (Miyato et al. 2018) on CIFAR-10, class-conditional as the projection paper trains it (Miyato & Koyama
    2018): ResNet G with a gain and bias per class in its batch norms (``shared_dim``: BigGAN's shared class
    embedding and hierarchical z instead), spectrally normalised ResNet D with projection, hinge loss, Adam with
    betas (0, 0.9) at ``lr`` (G's, D's); ``hold``: both decay_starts."""
    biggan = {"shared_dim": shared_dim, "hierarchical": True} if shared_dim else {}
    return {
        "data": dict(_CIFAR10),
        "generator": {"arch": "sngan", "latent_dim": 128, "channels": g_channels, "norm": "batch", "output": "tanh",
                      "lr": lr[0], "betas": [0.0, 0.9], "schedule": schedule, "decay_start": hold, **biggan},
        "discriminator": {"arch": "sngan", "channels": d_channels, "blocks": 2, "norm": "spectral", "lr": lr[1],
                          "betas": [0.0, 0.9], "schedule": schedule, "decay_start": hold, "projection": projection},
        "loss": "hinge",
        "conditional": {"mode": "projection"},
        "ema": {"decay": ema},
        "train": {"steps": steps, "batch_size": batch, "n_critic": n_critic},
    }


def _mode_coverage(data: dict, *, beta2: float, r1_gamma: float, steps: int) -> dict:
    """The ring/grid recipe (issue 4; the comment at the ring preset says why each part is there)."""
    betas = [0.0, beta2]
    return {
        "data": data,
        "generator": {"latent_dim": 2, "hidden": [128, 128, 128], "activation": "relu", "output": "none",
                      "lr": 2e-3, "betas": betas},
        "discriminator": {"hidden": [128, 128], "activation": "leaky_relu", "lr": 2e-3, "betas": betas},
        "loss": "bce",
        "penalty": {"r1_gamma": r1_gamma, "r1_interval": 4},
        "ema": {"decay": 0.99},
        "train": {"steps": steps, "batch_size": 512, "threads": 1},
    }


#: name -> (one-line description, config values)
PRESETS: dict[str, tuple[str, dict]] = {
    "digits": (
        "MLP GAN on scikit-learn's bundled 8x8 digits (1,797 images, no download)",
        {
            "data": {"name": "auto"},  # digits, or the data.path given (so `gankit train data.path=x.csv` works)
            "generator": {"latent_dim": 64, "hidden": [256, 256], "activation": "relu", "norm": "batch",
                          "output": "tanh"},
            "discriminator": {"hidden": [256, 128], "activation": "leaky_relu", "dropout": 0.3},
            "loss": "bce",
            # one thread: for a model this small a second thread only adds waiting (BENCHMARKS.md)
            "train": {"steps": 4000, "batch_size": 64, "threads": 1},
        },
    ),
    "mnist-mlp": (
        "the classic PyTorch MNIST GAN: G 100-256-512-784, D 784-512-256-1, BCE, Adam 2e-4, 10 epochs",
        {
            "data": {"name": "mnist"},
            "generator": {"latent_dim": 100, "hidden": [256, 512], "activation": "relu",
                          "output": "tanh", "lr": 2e-4, "betas": [0.5, 0.999]},
            "discriminator": {"hidden": [512, 256], "activation": "relu", "lr": 2e-4,
                              "betas": [0.5, 0.999]},
            "loss": "bce",
            "train": {"epochs": 10, "batch_size": 64},
        },
    ),
    "mnist-mlp-keras": (
        "the Keras MNIST GAN: G 100-128-784 (sigmoid), D 784-128-1, BCE, Adam with Keras defaults (1e-3)",
        {
            "data": {"name": "mnist"},
            "generator": {"latent_dim": 100, "hidden": [128], "activation": "relu",
                          "output": "sigmoid", "lr": 1e-3, "betas": [0.9, 0.999]},
            "discriminator": {"hidden": [128], "activation": "relu", "lr": 1e-3,
                              "betas": [0.9, 0.999]},
            "loss": "bce",
            "train": {"epochs": 10, "batch_size": 128},
        },
    ),
    "gaussian-1d-mse": (
        "1-D Gaussian (mean 4, std 1.25), small MLPs, MSE loss on D's probability (targets 1/0)",
        {
            "data": {"name": "gaussian-1d", "mean": 4.0, "std": 1.25, "n_samples": 10000},
            "generator": {"latent_dim": 4, "hidden": [32, 32], "activation": "leaky_relu",
                          "output": "none", "lr": 2e-4, "betas": [0.5, 0.999]},
            "discriminator": {"hidden": [32, 32], "activation": "leaky_relu", "lr": 2e-4,
                              "betas": [0.5, 0.999]},
            "loss": "mse",
            "ema": {"decay": 0.995},
            "train": {"steps": 4000, "batch_size": 128, "threads": 1},
        },
    ),
    # ring and grid (issue 4; benchmarks/quality_toy.py, BENCHMARKS.md "Mode coverage"): every mode with
    # >= 90% high-quality samples on 5 of 5 seeds. Plain BCE GANs on the same networks collapse or
    # oscillate; what gets there: an R1 penalty on real data (Mescheder et al. 2018: the gradient-penalised
    # game converges locally, so samples settle *on* the modes), lazily every 4 D steps (Karras et al. 2020),
    # Adam with beta1 = 0 (no momentum to overshoot in the rotating GAN dynamics, as in those papers),
    # a large batch (512: less gradient noise, which is what limits precision at std 0.01), a deep ReLU G
    # (sharp folds: few samples in the gaps between modes) and a short EMA of G (Yazici et al. 2019; a long
    # one, 0.999, averages weights that are still being rearranged and scores far worse).
    "ring": (
        "8 Gaussians on a circle (radius 1, std 0.01): the mode-collapse benchmark; all 8 modes, >= 90% "
        "high-quality samples (R1, EMA, batch 512; about a minute)",
        _mode_coverage({"name": "ring", "n_samples": 20000, "standardize": False}, beta2=0.99, r1_gamma=0.01,
                       steps=3000),
    ),
    "grid": (
        "25 Gaussians on a 5x5 grid ({-4..4}^2, std 0.05): the mode-collapse benchmark; all 25 modes, >= 90% "
        "high-quality samples (R1, EMA, batch 512; about 1.5 minutes)",
        # standardized: the grid then has the ring's scale (std ~0.7 per column), so the same R1 range works
        _mode_coverage({"name": "grid", "n_samples": 50000, "standardize": True}, beta2=0.9, r1_gamma=0.003,
                       steps=5000),
    ),
    "digits-dcgan": (
        "convolutional (DCGAN) GAN on the bundled 8x8 digits: 2x2x128 -> 4x4x64 -> 8x8, no download; "
        "lr 1e-3 with a light lazy R1 penalty",
        {
            "data": {"name": "digits"},
            # 1,797 images: D overfits them at DCGAN's lr 2e-4 (FID 82 vs the MLP's 13.5 at equal time);
            # a light lazy R1 (Mescheder et al. 2018) and lr 1e-3 give FID 13.4 after 3,000 steps, 7.3 after
            # 6,000 and 4.4 after 9,000 (4 minutes on one core), where the MLP at equal time scores 7.6-12.6
            # (BENCHMARKS.md)
            "generator": {"arch": "dcgan", "latent_dim": 64, "channels": [128, 64], "kernel_size": 4,
                          "norm": "batch", "output": "tanh", "lr": 1e-3, "betas": [0.5, 0.999]},
            "discriminator": {"arch": "dcgan", "channels": [64, 128], "kernel_size": 4, "norm": "none",
                              "activation": "leaky_relu", "lr": 1e-3, "betas": [0.5, 0.999]},
            "loss": "bce",
            "penalty": {"r1_gamma": 1.0, "r1_interval": 4},
            "ema": {"decay": 0.999},
            "train": {"steps": 9000, "batch_size": 64},
        },
    ),
    "mnist-dcgan": (
        "DCGAN on MNIST: G 7x7x64 -> 14x14x32 -> 28x28 (transposed convs, batch norm), D strided convs; "
        "lr 1e-3 with a light lazy R1 penalty",
        {"data": {"name": "mnist"}, **_DCGAN_28_R1},
    ),
    # projection alone reached 71% requested-class accuracy in 2,000 steps (FID 95); adding the AC-GAN
    # classifier head and 4,000 steps gives 98.6% (BENCHMARKS.md "Image GAN quality"), ~8 min on 2 cores
    "mnist-cgan": (
        "class-conditional DCGAN on MNIST (projection discriminator + AC-GAN head): `gankit sample RUN --label 7`",
        {"data": {"name": "mnist"}, "conditional": {"mode": "projection", "acgan": True},
         **_DCGAN_28},
    ),
    "fashion-dcgan": (
        "DCGAN on Fashion-MNIST (the networks and recipe of mnist-dcgan)",
        {"data": {"name": "fashion-mnist"}, **_DCGAN_28_R1},
    ),
    # your own images: three stages (sides divisible by 8) take 8x8 to 64x64; the recipe of the 28x28
    # presets (lr 1e-3 held in check by a light lazy R1, EMA) with one more stage, as narrow as mnist-dcgan's
    # (a step on 32x32 colour images: ~0.06 s at one thread on a busy 2-core CPU; [128, 64, 32] took 0.16 s)
    "images-dcgan": (
        "DCGAN on your own images: data.path=FOLDER or archive (.zip, .tar.gz; sub-folders = classes), resized "
        "to the largest size its 3 stages support that fits them (8x8 to 64x64), or data.image_size=N",
        {
            "data": {"name": "images"},
            "generator": {"arch": "dcgan", "latent_dim": 64, "channels": [64, 32, 16], "kernel_size": 4,
                          "norm": "batch", "output": "tanh", "lr": 1e-3, "betas": [0.5, 0.999]},
            "discriminator": {"arch": "dcgan", "channels": [16, 32, 64], "kernel_size": 4, "norm": "none",
                              "activation": "leaky_relu", "lr": 1e-3, "betas": [0.5, 0.999]},
            "loss": "bce",
            "penalty": {"r1_gamma": 1.0, "r1_interval": 4},
            "ema": {"decay": 0.999},
            "train": {"steps": 5000, "batch_size": 64},
        },
    ),
    # CIFAR-10, class-conditional (issue 17). A DCGAN baseline with the recipe of the 28x28 presets (lr 1e-3 held
    # in check by a light lazy R1, EMA), one stage more and twice images-dcgan's width; the class enters G as a
    # one-hot vector beside z and D by projection. 20 steps at train.threads=1 on the busy 2-core machine (load
    # average 5): 0.24 s a step, about 15,000 steps an hour ([256, 128, 64] took 0.75 s).
    "cifar10-dcgan": (
        "class-conditional DCGAN on CIFAR-10 (data.path default ../shared/data/cifar10/train.tar.gz): the baseline "
        "of cifar10-sngan; gankit sample RUN --label cat",
        {
            "data": dict(_CIFAR10),
            "generator": {"arch": "dcgan", "latent_dim": 128, "channels": [128, 64, 32], "kernel_size": 4,
                          "norm": "batch", "output": "tanh", "lr": 1e-3, "betas": [0.5, 0.999]},
            "discriminator": {"arch": "dcgan", "channels": [32, 64, 128], "kernel_size": 4, "norm": "none",
                              "activation": "leaky_relu", "lr": 1e-3, "betas": [0.5, 0.999]},
            "loss": "bce",
            "penalty": {"r1_gamma": 1.0, "r1_interval": 4},
            "conditional": {"mode": "projection"},
            "ema": {"decay": 0.999},
            "train": {"steps": 20000, "batch_size": 64},
        },
    ),
    # SNGAN for a CPU: the paper's nets (below) narrowed, G 64->32->16, D 16, 32 (paper: 256, 128), 1 D step (5),
    # batch 32 (64: half the steps in a budget); G 2e-4, D 4e-4 held 10k steps, then linear to 0; BigGAN's shared
    # class embedding, hierarchical z; EMA; the class projected on D's every position; lazy R1 (Mescheder et al.
    # 2018) from step 6,500, before D took over (~9,500 steps) in runs without it (BENCHMARKS.md).
    "cifar10-sngan": (
        "class-conditional SNGAN on CIFAR-10, sized for a CPU: ResNet G with class-conditional batch norm, "
        "spectrally normalised ResNet D with projection, hinge loss (Miyato et al. 2018)",
        {**_sngan([64, 32, 16], [16, 32], lr=(2e-4, 4e-4), n_critic=1, steps=30000, schedule="linear", ema=0.999,
                  shared_dim=128, projection="spatial", hold=0.3333, batch=32),
         "penalty": {"r1_gamma": 1.0, "r1_interval": 16, "r1_start": 6500}},
    ),
    # The paper's recipe (SNGAN, Miyato et al. 2018; the conditional CIFAR-10 config of the authors' sngan_projection
    # code): G 256 channels, D 128, z 128, hinge, Adam 2e-4 betas (0, 0.9), 5 D steps per G step, batch 64, 50,000 G
    # steps, both rates decayed linearly to 0. Not the paper's: the authors draw 128 samples for each G step (gankit:
    # the batch's 64), and no EMA (ema.decay=0.9999 is a switch away). For a GPU: 47 s a step on one CPU core.
    "cifar10-sngan-gpu": (
        "class-conditional SNGAN on CIFAR-10 with the paper's recipe (G 256, D 128 channels, 5 D steps per G step, "
        "50k G steps): for a GPU",
        _sngan([256, 256, 256], [128, 128], lr=(2e-4, 2e-4), n_critic=5, steps=50000, schedule="linear", ema=0.0),
    ),
    # SRResNet then SRGAN (Ledig et al. 2017), sized for a 2-core CPU: 8 residual blocks of 32 channels
    # (the paper: 16 of 64), 64-pixel HR crops, MSE content loss; a PSNR stage of 3,000 steps, then D and
    # the adversarial term (1e-3, the paper's) for 1,000 more, G's rate 1e-3 on a cosine over the whole run
    # (2e-4 gave +0.76 dB instead of +1.72). 13.8 + 9.1 minutes at torch's default two threads on the slower
    # 2-core machine; Set5 +1.56 dB over bicubic, then +0.97 dB and sharper (BENCHMARKS.md).
    "sr-t91": (
        "x4 super-resolution (SRResNet, then SRGAN) on T91: data.path=FOLDER of images of any sizes (default "
        "../shared/data/sr/T91); gankit upscale RUN photo.png --out big.png",
        {
            "task": "superres",
            "data": {"path": "../shared/data/sr/T91", "test_path": "../shared/data/sr/Set5"},
            "generator": {"arch": "srresnet", "channels": [32], "blocks": 8, "scale": 4, "output": "none",
                          "lr": 1e-3, "betas": [0.9, 0.999], "schedule": "cosine"},
            "discriminator": {"arch": "srgan", "channels": [32, 64, 128], "negative_slope": 0.2, "lr": 1e-4,
                              "betas": [0.9, 0.999]},
            "loss": "bce",
            "sr": {"patch": 64, "content": "mse", "adv_weight": 1e-3, "pretrain": 3000},
            "train": {"steps": 4000, "batch_size": 16},
            "log": {"grid_size": 4},
        },
    ),
    # pix2pix (Isola et al. 2017) on facades, labels -> photo (the release's images are photo|labels, so
    # BtoA), sized for a 2-core CPU: 128-pixel crops of images resized to 143 (the paper's 286 -> 256 jitter,
    # halved), a 7-level U-Net and a 70x70 PatchGAN with 32 base filters (the paper: 64), batch 1, L1 x 100,
    # Adam 2e-4 (0.5, 0.999), constant then linear decay over the second half. 6,000 steps (15 epochs): 20
    # minutes at two threads on the slower 2-core machine, 28 at its slowest step time (BENCHMARKS.md).
    "facades-pix2pix": (
        "paired translation (pix2pix) on facades, label maps -> photos: data.path=FOLDER of side-by-side A|B "
        "images or folders A/ B/; gankit translate RUN labels.png --out photo.png",
        {
            "task": "pix2pix",
            "data": {"path": "../shared/data/facades/train", "test_path": "../shared/data/facades/test",
                     "direction": "BtoA"},
            "generator": {"arch": "unet", "channels": [32], "blocks": 7, "norm": "batch", "dropout": 0.5,
                          "output": "tanh", "lr": 2e-4, "betas": [0.5, 0.999], "schedule": "linear"},
            "discriminator": {"arch": "patchgan", "channels": [32, 64, 128, 256], "norm": "batch",
                              "negative_slope": 0.2, "lr": 2e-4, "betas": [0.5, 0.999], "schedule": "linear"},
            "loss": "bce",
            "translate": {"size": 128, "load": 143, "flip": True, "l1_weight": 100.0, "decay_start": 0.5},
            "train": {"steps": 6000, "batch_size": 1},
            "log": {"grid_size": 4},
        },
    ),
    # CycleGAN (Zhu et al. 2017) on facades with the pairs ignored (A and B drawn independently): two ResNet
    # generators with 6 residual blocks (the paper's for 128 px) and 32 base filters (the paper: 64), two
    # 70x70 PatchGANs with instance norm, least squares, cycle 10, identity 0.5, a pool of 50 fakes, batch 1.
    # 750 steps (under 2 epochs; the paper: 200): 22 minutes at two threads, 28 at the slowest step time.
    "facades-cyclegan": (
        "unpaired translation (CycleGAN) on facades, label maps <-> photos: data.path=FOLDER with A/ and B/ "
        "(or side-by-side images); gankit translate RUN photo.png --to A --out labels.png",
        {
            "task": "cyclegan",
            "data": {"path": "../shared/data/facades/train", "test_path": "../shared/data/facades/test",
                     "direction": "BtoA"},
            "generator": {"arch": "resnet", "channels": [32], "blocks": 6, "norm": "instance", "dropout": 0.0,
                          "output": "tanh", "lr": 2e-4, "betas": [0.5, 0.999], "schedule": "linear"},
            "discriminator": {"arch": "patchgan", "channels": [32, 64, 128, 256], "norm": "instance",
                              "negative_slope": 0.2, "lr": 2e-4, "betas": [0.5, 0.999], "schedule": "linear"},
            "loss": "lsgan",
            "translate": {"size": 128, "load": 143, "flip": True, "cycle_weight": 10.0, "identity": 0.5,
                          "pool": 50, "decay_start": 0.5},
            "train": {"steps": 750, "batch_size": 1},
            "log": {"grid_size": 4},
        },
    ),
    # SpecGAN (Donahue et al. 2019) on the Free Spoken Digit Dataset, class-conditional, sized for a 2-core
    # CPU: clips at 8 kHz padded or cut to 1 s, 64x64 normalised log-mel spectrograms (gankit/audio/codec.py),
    # the paper's generator and discriminator made one stage shorter and 8x narrower (4 stages from 4x4:
    # G 128-64-32-16, D 16-32-64-128, kernel 4; the paper: 5 stages of 1024..64, kernel 5, for 128x128), and
    # the class-conditional recipe of mnist-cgan (projection discriminator + AC-GAN head, BCE, Adam 2e-4,
    # EMA) instead of the paper's unconditional WGAN-GP with 5 D steps per G step. Recordings 0-4 of each
    # speaker and digit are FSDD's test split. Timed at train.threads=1 on the shared 2-core machine: 0.20 s a
    # step with one other busy process, 0.29-0.37 s with five (a 600-step run: 0.29 s a step at first, 0.37 s
    # after its resume, Griffin-Lim previews included), so 4,000 steps take 14-25 minutes; requested digit
    # 97.5%, classifier score 7.34 (real clips 7.59) in BENCHMARKS.md.
    "fsdd-specgan": (
        "SpecGAN on spoken digits (FSDD): data.path=FOLDER of audio files (default ../shared/data/fsdd/recordings), "
        "class-conditional; gankit sample RUN --label 7 --n 20 --out sevens/ writes WAV files",
        {
            "data": {**_FSDD, "griffin_lim": 32},
            "generator": {"arch": "dcgan", "latent_dim": 100, "channels": [128, 64, 32, 16], "kernel_size": 4,
                          "norm": "batch", "output": "tanh", "lr": 2e-4, "betas": [0.5, 0.999]},
            "discriminator": {"arch": "dcgan", "channels": [16, 32, 64, 128], "kernel_size": 4, "norm": "none",
                              "activation": "leaky_relu", "lr": 2e-4, "betas": [0.5, 0.999]},
            "loss": "bce",
            **_SOUND_CGAN,
            "train": {"steps": 4000, "batch_size": 64, "threads": 1},
        },
    ),
    # WaveGAN (Donahue et al. 2019) on FSDD's waveforms (8,000 samples + 192 of silence), class-conditional: the
    # paper's 5 stages (kernel 25, stride 4) 8x narrower, phase shuffle 2. Tried at 1 thread, FID by gankit eval (500
    # clips; real 14, noise ~2,250): WGAN-GP, 5 D steps ~2.5 s a step; no norms: nothing learnt in 3 min; batch norm,
    # 2e-4, 800 steps of 64: hinge 2,144, BCE 2,855; hinge, 32s: 1,632 in 1,600. 0.15 CPU-s a step: 7,500 in 19
    # CPU-min; on 2,000 clips FID 1,060, requested digit 14% (SpecGAN: 44, 97.5%), BENCHMARKS.md.
    "fsdd-wavegan": (
        "WaveGAN on spoken digits (FSDD) as raw waveforms, class-conditional: data.path=FOLDER of audio files "
        "(default ../shared/data/fsdd/recordings); gankit sample RUN --label 7 --n 20 --out sevens/ writes WAVs",
        {
            "data": {**_FSDD, "representation": "waveform"},
            "generator": {"arch": "wavegan", "latent_dim": 100, "channels": [128, 64, 32, 16, 8], "kernel_size": 25,
                          "norm": "batch", "output": "tanh", "lr": 2e-4, "betas": [0.5, 0.9]},
            "discriminator": {"arch": "wavegan", "channels": [8, 16, 32, 64, 128], "kernel_size": 25,
                              "norm": "batch", "activation": "leaky_relu", "phase_shuffle": 2, "lr": 2e-4,
                              "betas": [0.5, 0.9]},
            "loss": "hinge",
            **_SOUND_CGAN,
            "train": {"steps": 7500, "batch_size": 32, "threads": 1},
        },
    ),
    # CTGAN (Xu et al. 2019) as its authors ship it — residual G 256-256 and PacGAN D 256-256 (pac 10,
    # dropout 0.5), WGAN-GP, Adam betas (0.5, 0.9), batches of 500, a 128-d latent — with two changes that
    # reach ctgan's 300-epoch quality in a fifth of its steps on adult (BENCHMARKS.md): sampling from a
    # moving average of G's weights (0.999) and Adam at 1e-3 instead of 2e-4 (6,000 steps: quality 0.864
    # with both, 0.854 with the EMA alone, 0.824 with neither after 8,000; ctgan 300 epochs: 0.849).
    # A held-out fifth of the rows for the train-on-synthetic and privacy scores. The length is in steps
    # (not a clock, so that a run repeats exactly).
    "table": (
        "CTGAN-class synthetic tables: data.path=FILE.csv|.parquet with numbers, categories, dates and missing "
        "cells (column kinds inferred; --dry-run shows them)",
        {
            "task": "table",
            "data": {"name": "auto", "holdout": 0.2},
            "generator": {"arch": "ctgan", "latent_dim": 128, "hidden": [256, 256], "lr": 1e-3,
                          "betas": [0.5, 0.9]},
            "discriminator": {"arch": "ctgan", "hidden": [256, 256], "negative_slope": 0.2, "dropout": 0.5,
                              "pac": 10, "lr": 1e-3, "betas": [0.5, 0.9]},
            "loss": "wgan-gp",
            "penalty": {"gp_weight": 10.0},
            "ema": {"decay": 0.999},
            "train": {"steps": 6000, "batch_size": 500},
        },
    ),
}

DEFAULT_PRESET = "digits"


def preset_dict(name: str) -> dict:
    try:
        return copy.deepcopy(PRESETS[name][1])
    except KeyError:
        raise GankitError(
            f"unknown preset {name!r}{did_you_mean(name, PRESETS)}; choose one of: {', '.join(PRESETS)}"
        ) from None


def describe() -> list[tuple[str, str]]:
    return [(name, desc) for name, (desc, _) in PRESETS.items()]
