"""The D/G alternation, on one screen (stylegan2-ada's phases).

One *step* is ``n_critic`` discriminator updates followed by one generator update:

* ``d_step``: D learns real -> 1 and fake -> 0 (or the loss's equivalent). G is not involved:
  the fake batch is detached. When D has no batch norm, real and fake go through D in one
  concatenated forward pass (the same numbers, one larger matrix product instead of two).
* ``g_step``: G learns to make D call its samples real. D is frozen with ``requires_grad_(False)``
  so its weight gradients are not computed at all; the gradient flows through D into G only.

As in the PyTorch DCGAN example, the fake batch of the last D update is reused by the G update
(one G forward per step). Per-step statistics stay on the device as tensors; they are read
(one host sync) only every ``log.every`` steps. Adam is torch's fused kernel, and convolutional
networks on the CPU keep channels-last weights (see ``make_optimizer`` and ``Trainer``; the gains
are measured in BENCHMARKS.md, and tests/test_reference_equivalence.py checks the maths).

Scaling (README "Scaling"): ``precision`` bf16/fp16 runs the forward passes under autocast, fp16
with a gradient scaler per network (one overflow in D must not skip G's step); ``accumulate`` runs
each step's batch in micro-batches; in a torchrun world (distributed.py) G and D are wrapped in
DistributedDataParallel for their own updates, D is called unwrapped and frozen in G's step, and
each process takes its rank's slice of the global batch.
"""

from __future__ import annotations

import inspect
import random
import warnings
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.augment import diff_augment
from gankit.distributed import World
from gankit.ema import EMA
from gankit.losses import GANLoss, gradient_penalty, r1_penalty


def _has_conv(*models: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.conv._ConvNd) for model in models for m in model.modules())


def has_batchnorm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


class Batches:
    """Shuffled mini-batches of an in-memory tensor: a permutation per epoch, no DataLoader.

    The order comes from its own ``torch.Generator`` so that data order is reproducible and its
    state can be checkpointed. Incomplete last batches are dropped (constant batch size).
    ``next()`` returns (x (B, *item_shape), labels (B,) or None).

    ``shard=(rank, world_size)``: every process draws the same permutation and takes its rank's
    contiguous slice of each global batch of ``batch_size`` (then B = batch_size / world_size).
    """

    def __init__(self, x: Tensor, batch_size: int, seed: int, labels: Tensor | None = None,
                 shard: tuple[int, int] = (0, 1)) -> None:
        self.x, self.labels = x, labels
        self.batch_size = batch_size
        rank, size = shard
        self.local = batch_size // size
        self.offset = rank * self.local
        self.gen = torch.Generator().manual_seed(seed)
        self.per_epoch = x.shape[0] // batch_size
        self.epoch = 0
        self.pos = 0
        self.perm = torch.randperm(x.shape[0], generator=self.gen).to(x.device)

    def next(self) -> tuple[Tensor, Tensor | None]:
        if self.pos >= self.per_epoch:
            self.epoch += 1
            self.pos = 0
            self.perm = torch.randperm(self.x.shape[0], generator=self.gen).to(self.x.device)
        start = self.pos * self.batch_size + self.offset
        idx = self.perm[start : start + self.local]
        self.pos += 1
        y = self.labels.index_select(0, idx) if self.labels is not None else None
        return self.x.index_select(0, idx), y

    def state_dict(self) -> dict:
        return {"gen": self.gen.get_state(), "perm": self.perm.cpu(), "epoch": self.epoch, "pos": self.pos}

    def load_state_dict(self, s: dict) -> None:
        self.gen.set_state(s["gen"])
        self.perm = s["perm"].to(self.x.device)
        self.epoch, self.pos = int(s["epoch"]), int(s["pos"])


@dataclass
class StepStats:
    """Per-step numbers as 0-d tensors (no host sync)."""

    d_loss: Tensor
    g_loss: Tensor
    d_real: Tensor  # mean D(x): probability for probability losses, raw output otherwise
    d_fake: Tensor  # mean D(G(z)), measured in the D step


class Trainer:
    def __init__(
        self,
        G: nn.Module,
        D: nn.Module,
        loss: GANLoss,
        opt_g: torch.optim.Optimizer,
        opt_d: torch.optim.Optimizer,
        *,
        latent_dim: int,
        n_critic: int = 1,
        gp_weight: float = 10.0,
        r1_gamma: float = 0.0,
        r1_interval: int = 1,
        conditional: bool = False,
        acgan_weight: float = 0.0,
        ema_decay: float = 0.0,
        augment: list[str] | None = None,
        channels_last: bool | None = None,
        precision: str = "fp32",
        accumulate: int = 1,
        world: World | None = None,
        noise_seed: int | None = None,
    ) -> None:
        device = next(G.parameters()).device
        # A conv GAN step on the CPU runs 1.1-1.25x faster with channels-last (NHWC) weights: oneDNN
        # then skips reordering every activation to and from its own layout (benchmarks/ ablation;
        # same maths, other summation order). None = on for conv models on the CPU, where it wins.
        if channels_last is None:
            channels_last = _has_conv(G, D) and device.type == "cpu"
        if channels_last:  # in place: the optimisers keep the same Parameter objects
            G.to(memory_format=torch.channels_last)
            D.to(memory_format=torch.channels_last)
        self.G, self.D, self.loss = G, D, loss
        self.opt_g, self.opt_d = opt_g, opt_d
        self.latent_dim = latent_dim
        self.n_critic = n_critic
        self.gp_weight = gp_weight
        self.r1_gamma, self.r1_interval = r1_gamma, r1_interval
        self.conditional = conditional  # G(z, y) and D(x, y): the fake batch takes the real batch's labels
        self.acgan_weight = acgan_weight  # > 0: D has an auxiliary classifier (AC-GAN, Odena et al. 2017)
        self.ema = EMA(G, ema_decay) if ema_decay > 0 else None
        self.augment = augment or []  # DiffAugment policy, applied to everything D sees
        # batch norm couples the samples of a batch: then real and fake must go through D apart
        self.concat_d = not has_batchnorm(D)
        self.step = 0  # G steps done
        self.d_steps = 0
        # mixed precision: autocast around the forward passes; fp16 also scales each network's loss
        # (separate scalers: an overflow in D's gradients must not skip G's step, nor the reverse)
        self.device = device
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
        self.scaler_g = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
        self.scaler_d = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
        self.accumulate = accumulate
        # the noise of a step: from its own generator when seeded (all processes draw the same global
        # batch and slice it: distributed.py), else from torch's global RNG
        self.world = world or World()
        self.noise_gen = torch.Generator(device).manual_seed(noise_seed) if noise_seed is not None else None
        # the networks that compute their own updates: DDP-wrapped across processes (stylegan2-ada
        # does the same, with broadcast_buffers=False: no buffer traffic on every forward)
        self.G_train, self.D_train = G, D
        if self.world.distributed:
            from torch.nn.parallel import DistributedDataParallel as DDP

            # a (1, n) weight's gradient may come with other (equivalent) strides than DDP's bucket:
            # one copy, and a warning that would alarm every user of a 1-output D
            warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
            ids = [device.index] if device.type == "cuda" else None
            params = inspect.signature(DDP).parameters  # newer torch renamed the switch
            buffers = {"forward_sync_buffers": False} if "forward_sync_buffers" in params else {"broadcast_buffers": False}
            self.G_train = DDP(G, device_ids=ids, **buffers)
            self.D_train = DDP(D, device_ids=ids, **buffers)

    def noise(self, n: int, device: torch.device) -> Tensor:  # (n, latent_dim)
        if self.noise_gen is None:
            return torch.randn(n, self.latent_dim, device=device)
        size, rank = self.world.size, self.world.rank  # the global batch's noise, this rank's slice
        z = torch.randn(n * size, self.latent_dim, generator=self.noise_gen, device=self.noise_gen.device)
        return z[rank * n : (rank + 1) * n].to(device)

    def autocast(self):
        return nullcontext() if self.amp_dtype is None else torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _readout(self, logits: Tensor) -> Tensor:
        return torch.sigmoid(logits).mean() if self.loss.probability else logits.mean()

    def generate(self, z: Tensor, y: Tensor | None, G: nn.Module | None = None) -> Tensor:
        G = self.G if G is None else G
        return G(z, y) if self.conditional else G(z)

    def discriminate(self, x: Tensor, y: Tensor | None, D: nn.Module | None = None) -> tuple[Tensor, Tensor | None]:
        """D's logits (N, 1) and, for AC-GAN, class logits (N, K); x is augmented first."""
        D = self.D if D is None else D
        if self.augment:
            x = diff_augment(x, self.augment)
        if not self.conditional:
            return D(x), None
        if self.acgan_weight > 0:
            return D(x, y, aux=True)
        return D(x, y), None

    # ------------------------------------------------------------------ the two phases

    def d_step(self, real: Tensor, fake: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """One D update on a real batch and a (detached) fake batch, both of labels ``y``."""
        self.D.requires_grad_(True)
        r1 = self.r1_gamma > 0 and self.d_steps % self.r1_interval == 0
        self.opt_d.zero_grad(set_to_none=True)
        k = self.accumulate
        stats = []
        for i, (r, f, yy) in enumerate(_micro(k, real, fake, y)):
            with _sync(self.D_train, i == k - 1):
                with self.autocast():
                    loss, d_real, d_fake = self._d_loss(r, f, yy, r1)
                _backward(loss / k if k > 1 else loss, self.scaler_d)
            stats.append((loss.detach(), d_real, d_fake))
        loss, d_real, d_fake = stats[0] if k == 1 else (torch.stack(c).mean() for c in zip(*stats))
        self.d_steps += 1
        return _step(self.opt_d, self.scaler_d, loss), d_real, d_fake

    def _d_loss(self, real: Tensor, fake: Tensor, y: Tensor | None, r1: bool) -> tuple[Tensor, Tensor, Tensor]:
        """D's loss on one (micro-)batch: (loss, mean D(x), mean D(G(z)))."""
        if r1:
            real = real.detach().requires_grad_(True)
        n = real.shape[0]
        if self.concat_d:
            logits, aux = self.discriminate(torch.cat([real, fake]), None if y is None else torch.cat([y, y]),
                                            self.D_train)
            real_logits, fake_logits = logits[:n], logits[n:]
        else:  # one forward through the DDP wrapper per backward; its gradient hooks see both
            (real_logits, aux_r), (fake_logits, aux_f) = self.discriminate(real, y, self.D_train), self.discriminate(fake, y)
            aux = None if aux_r is None else torch.cat([aux_r, aux_f])
        loss = self.loss.d(real=real_logits, fake=fake_logits)
        if aux is not None:  # AC-GAN: D classifies real and fake alike
            loss = loss + self.acgan_weight * F.cross_entropy(aux, torch.cat([y, y]))
        if self.loss.gradient_penalty or r1:  # penalties differentiate scaled outputs, then unscale (fp16)
            scale = _scale(self.scaler_d)
        if self.loss.gradient_penalty:
            critic = lambda x: self.discriminate(x, y)[0]  # noqa: E731
            loss = loss + self.gp_weight * gradient_penalty(critic, real=real, fake=fake, scale=scale)
        if r1:  # lazy R1 (StyleGAN2): every r1_interval steps, scaled by the interval
            loss = loss + (self.r1_gamma / 2) * self.r1_interval * r1_penalty(real_logits, real, scale=scale)
        return loss, self._readout(real_logits.detach()), self._readout(fake_logits.detach())

    def g_step(self, fake: Tensor | None, y: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        """One G update through a frozen, unwrapped D.

        ``fake`` = G(z, y) with its graph, from the D step; or None with ``z``: then G runs again on
        z's micro-batches (train.accumulate > 1: one graph alive at a time).
        """
        self.D.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        k = self.accumulate
        if fake is not None:
            with self.autocast():
                loss = self._g_loss(fake, y)
            _backward(loss, self.scaler_g)
            total = loss.detach()
        else:
            total = 0.0
            for i, (zz, yy) in enumerate(_micro(k, z, y)):
                with _sync(self.G_train, i == k - 1):
                    with self.autocast():
                        loss = self._g_loss(self.generate(zz, yy, self.G_train), yy)
                    _backward(loss / k, self.scaler_g)
                total = total + loss.detach() / k
        total = _step(self.opt_g, self.scaler_g, total)
        self.D.requires_grad_(True)
        if self.ema is not None:
            self.ema.update(self.G, self.step)
        self.step += 1
        return total

    def _g_loss(self, fake: Tensor, y: Tensor | None) -> Tensor:
        logits, aux = self.discriminate(fake, y)
        loss = self.loss.g(fake=logits)
        if aux is not None:  # AC-GAN: G makes samples D classifies as the asked-for class
            loss = loss + self.acgan_weight * F.cross_entropy(aux, y)
        return loss

    def train_step(self, batches: Batches) -> StepStats:
        """n_critic D updates, then one G update that reuses the last fake batch."""
        keep = self.accumulate == 1  # with micro-batches, G's step runs G again instead
        for k in range(self.n_critic):
            real, y = batches.next()
            y = y if self.conditional else None
            z = self.noise(real.shape[0], real.device)
            last = k == self.n_critic - 1
            with torch.set_grad_enabled(last and keep), self.autocast():  # G's graph only where G's step uses it
                fake = self.generate(z, y, self.G_train)
            d_loss, d_real, d_fake = self.d_step(real, fake.detach(), y)
        g_loss = self.g_step(fake if keep else None, y, z)
        return StepStats(d_loss, g_loss, d_real, d_fake)

    @property
    def sampler(self) -> nn.Module:
        """The generator used for samples: the EMA copy when EMA is on."""
        return self.ema.model if self.ema is not None else self.G

    # ------------------------------------------------------------------ resume state

    def state_dict(self, batches: Batches) -> dict:
        return {
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            **({"G_ema": self.ema.state_dict()} if self.ema is not None else {}),
            **({"noise": self.noise_gen.get_state()} if self.noise_gen is not None else {}),
            **({"scaler_g": self.scaler_g.state_dict(), "scaler_d": self.scaler_d.state_dict()}
               if self.scaler_g.is_enabled() else {}),
            "step": self.step,
            "d_steps": self.d_steps,
            "batches": batches.state_dict(),
            "rng": rng_state(),
        }

    def load_state_dict(self, s: dict, batches: Batches) -> None:
        self.G.load_state_dict(s["G"])
        self.D.load_state_dict(s["D"])
        self.opt_g.load_state_dict(_fix_groups(s["opt_g"], self.opt_g))
        self.opt_d.load_state_dict(_fix_groups(s["opt_d"], self.opt_d))
        if self.ema is not None:
            self.ema.load_state_dict(s["G_ema"])
        if self.noise_gen is not None and "noise" in s:
            self.noise_gen.set_state(s["noise"])
        if self.scaler_g.is_enabled() and "scaler_g" in s:  # a run that switches to fp16 starts fresh scalers
            self.scaler_g.load_state_dict(s["scaler_g"])
            self.scaler_d.load_state_dict(s["scaler_d"])
        self.step, self.d_steps = int(s["step"]), int(s["d_steps"])
        batches.load_state_dict(s["batches"])
        set_rng_state(s["rng"])


def _micro(k: int, *tensors: Tensor | None) -> list[tuple[Tensor | None, ...]]:
    """Split each tensor into ``k`` micro-batches along dim 0 (None stays None)."""
    if k == 1:
        return [tensors]
    cols = [t.chunk(k) if t is not None else (None,) * k for t in tensors]
    return list(zip(*cols))


def _sync(net: nn.Module, sync: bool):
    """DDP's no_sync for all but the last micro-batch: gradients are averaged once per step."""
    return net.no_sync() if not sync and hasattr(net, "no_sync") else nullcontext()


def _scale(scaler: torch.amp.GradScaler) -> float | Tensor:
    """The current loss scale, as a device tensor (no host sync); the initial scale before the first step."""
    if not scaler.is_enabled():
        return 1.0
    scale = scaler._get_scale_async()
    return scale if scale is not None else scaler.get_scale()


def _backward(loss: Tensor, scaler: torch.amp.GradScaler) -> None:
    (scaler.scale(loss) if scaler.is_enabled() else loss).backward()


def _step(opt: torch.optim.Optimizer, scaler: torch.amp.GradScaler, loss: Tensor) -> Tensor:
    """The optimiser step; returns the loss to log.

    With fp16 the scaler skips the step when a scaled gradient overflowed, and lowers the scale. The
    loss of such a step may be infinite too (a penalty's scaled input gradient overflows in fp16):
    that is the scaler's business, not divergence, so it is logged as 0 (no host sync).
    """
    if not scaler.is_enabled():
        opt.step()
        return loss
    before = scaler._get_scale_async().clone()  # update() changes it in place
    scaler.step(opt)
    scaler.update()
    return torch.where(scaler._get_scale_async() < before, torch.zeros_like(loss), loss)


#: devices with a fused Adam kernel in torch >= 2.4 (fused Adam checks this only at its first step)
_FUSED_DEVICES = ("cpu", "cuda", "mps", "xpu")
#: per-group flags that choose Adam's implementation, not its maths: they follow this machine
_IMPL_KEYS = ("fused", "foreach", "capturable")


def _fix_groups(sd: dict, opt: torch.optim.Optimizer) -> dict:
    """Make a stored optimiser state loadable into ``opt``.

    JSON turns tuples into lists, so betas become a tuple again. ``load_state_dict`` would adopt the
    stored implementation flags, so a checkpoint written with ``fused=False`` (or on another device)
    would silently slow the resumed run: ``opt``'s own flags are kept instead.
    """
    for g, own in zip(sd.get("param_groups", []), opt.param_groups):
        if isinstance(g.get("betas"), list):
            g["betas"] = tuple(g["betas"])
        for k in _IMPL_KEYS:
            if k in own:
                g[k] = own[k]
    return sd


def make_optimizer(params, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam (Kingma & Ba 2015) in torch's fused implementation where the device has it.

    ``fused=True`` updates each tensor in one kernel that reads and writes param, grad and both
    moments once; the ``foreach`` path takes about six passes over memory, and the default
    single-tensor loop more. Same update rule (benchmarks/README.md has the measurements). Devices
    without a fused kernel fall back to ``foreach``.
    """
    params = list(params)
    fused = all(p.device.type in _FUSED_DEVICES and p.is_floating_point() for p in params)
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas), fused=fused or None, foreach=not fused or None)


def rng_state() -> dict:
    st = random.getstate()
    np_st = np.random.get_state()
    out = {
        "torch": torch.get_rng_state(),
        "python": [st[0], list(st[1]), st[2]],
        "numpy": [np_st[0], torch.from_numpy(np_st[1].astype(np.int64)), int(np_st[2]), int(np_st[3]), float(np_st[4])],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def set_rng_state(s: dict) -> None:
    torch.set_rng_state(s["torch"])
    v, internal, gauss = s["python"]
    random.setstate((v, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = s["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    if "cuda" in s and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(list(s["cuda"]))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
