"""GAN losses as pure functions of discriminator logits (stylegan2-ada's loss.py, one place).

The registry of names (``loss=``) is the torch-free package face, gankit/losses/__init__.py.

Every function takes keyword-only ``real=`` / ``fake=`` logits of shape (N,) or (N, 1) and returns a
scalar. Probabilities are never formed and then logged: ``log(sigmoid(x)) = -softplus(-x)`` and
``log(1 - sigmoid(x)) = -softplus(x)`` are computed stably with softplus.

Conventions (each checked against the paper's formula in tests/test_losses.py):

* ``bce``      Goodfellow et al. 2014 with the non-saturating G loss, as the PyTorch DCGAN/MNIST
               examples write it: D: BCE(D(x), 1) + BCE(D(G(z)), 0); G: BCE(D(G(z)), 1).
* ``minimax``  the original saturating game: G minimises E[log(1 - D(G(z)))].
* ``mse``      MSE on D's *probability*: D: (D(x) - 1)^2 + D(G(z))^2; G: (D(G(z)) - 1)^2.
* ``lsgan``    Mao et al. 2017 on raw outputs, a=0, b=1, c=1: D: ½(D(x)-1)^2 + ½D(G(z))^2;
               G: ½(D(G(z))-1)^2.
* ``wgan-gp``  Gulrajani et al. 2017: D: E[D(G(z))] - E[D(x)] + λ E[(‖∇D(x̂)‖₂ - 1)^2],
               x̂ = αx + (1-α)G(z), α ~ U(0, 1) per sample; G: -E[D(G(z))].
* ``hinge``    Lim & Ye 2017 / Miyato et al. 2018: D: E[relu(1 - D(x))] + E[relu(1 + D(G(z)))];
               G: -E[D(G(z))].
* R1           Mescheder et al. 2018: γ/2 E[‖∇D(x)‖²] on real data, optional for any loss.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def _flat(x: Tensor) -> Tensor:
    return x.reshape(x.shape[0])


# ----------------------------------------------------------------------------- D losses


def bce_d(*, real: Tensor, fake: Tensor) -> Tensor:
    # BCE(x, 1) = softplus(-x); BCE(x, 0) = softplus(x)
    return F.softplus(-_flat(real)).mean() + F.softplus(_flat(fake)).mean()


def bce_g(*, fake: Tensor) -> Tensor:
    return F.softplus(-_flat(fake)).mean()


def minimax_g(*, fake: Tensor) -> Tensor:
    # E[log(1 - sigmoid(f))] = E[-softplus(f)]
    return (-F.softplus(_flat(fake))).mean()


def mse_d(*, real: Tensor, fake: Tensor) -> Tensor:
    return (torch.sigmoid(_flat(real)) - 1).square().mean() + torch.sigmoid(_flat(fake)).square().mean()


def mse_g(*, fake: Tensor) -> Tensor:
    return (torch.sigmoid(_flat(fake)) - 1).square().mean()


def lsgan_d(*, real: Tensor, fake: Tensor) -> Tensor:
    return 0.5 * (_flat(real) - 1).square().mean() + 0.5 * _flat(fake).square().mean()


def lsgan_g(*, fake: Tensor) -> Tensor:
    return 0.5 * (_flat(fake) - 1).square().mean()


def wasserstein_d(*, real: Tensor, fake: Tensor) -> Tensor:
    return _flat(fake).mean() - _flat(real).mean()


def wasserstein_g(*, fake: Tensor) -> Tensor:
    return -_flat(fake).mean()


def hinge_d(*, real: Tensor, fake: Tensor) -> Tensor:
    return F.relu(1 - _flat(real)).mean() + F.relu(1 + _flat(fake)).mean()


# ----------------------------------------------------------------------------- penalties


def _input_grad(out: Tensor, x: Tensor, scale: float | Tensor) -> Tensor:
    """∇ₓ Σ out, unscaled and in float32.

    Under fp16 mixed precision the output is multiplied by the loss scale before differentiating
    (so small gradients do not underflow) and the gradient is divided by it afterwards: the penalty
    is computed on *unscaled* gradients, as PyTorch's AMP notes prescribe for gradient penalties.
    """
    (grad,) = torch.autograd.grad(_fp32(out).sum() * scale, x, create_graph=True)
    return _fp32(grad) / scale


def _fp32(t: Tensor) -> Tensor:
    """Upcast half / bfloat16 to float32; leave float32 and float64 alone."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def gradient_penalty(
    critic: Callable[[Tensor], Tensor], *, real: Tensor, fake: Tensor, alpha: Tensor | None = None,
    scale: float | Tensor = 1.0,
) -> Tensor:
    """WGAN-GP term E[(‖∇D(x̂)‖₂ - 1)^2] (without λ), x̂ = αx + (1-α)x̃, α ~ U(0,1) per sample.

    The norm is taken per sample over all non-batch dimensions. ``alpha`` (shape (N,)) may be given
    for testing; by default it is drawn from the global torch RNG. ``scale``: the fp16 loss scale.
    """
    n = real.shape[0]
    if alpha is None:
        alpha = torch.rand(n, device=real.device, dtype=real.dtype)
    a = alpha.reshape(n, *([1] * (real.dim() - 1)))
    x_hat = (a * real.detach() + (1 - a) * fake.detach()).requires_grad_(True)
    grad = _input_grad(critic(x_hat), x_hat, scale)
    norm = grad.reshape(n, -1).norm(2, dim=1)
    return (norm - 1).square().mean()


def r1_penalty(real_logits: Tensor, real: Tensor, scale: float | Tensor = 1.0) -> Tensor:
    """R1 term E[‖∇ₓD(x)‖²] (without γ/2); ``real`` must have requires_grad=True."""
    grad = _input_grad(real_logits, real, scale)
    return grad.reshape(grad.shape[0], -1).square().sum(1).mean()
