"""Each loss against a hand computation from its paper's formula, on a few numbers."""

from __future__ import annotations

import math

import pytest
import torch

from gankit.losses import LOSSES, gradient_penalty, r1_penalty

REAL = [2.0, -1.0, 0.5]
FAKE = [-3.0, 0.0, 1.5]


def sig(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def mean(xs) -> float:
    xs = list(xs)
    return sum(xs) / len(xs)


def t(xs) -> torch.Tensor:
    return torch.tensor(xs, dtype=torch.float64).reshape(-1, 1)  # D's (N, 1) logits


HAND = {
    # name: (D loss, G loss) from the formulas with D(x) = sigmoid(logit) where a probability is meant
    "bce": (
        mean(-math.log(sig(r)) for r in REAL) + mean(-math.log(1 - sig(f)) for f in FAKE),
        mean(-math.log(sig(f)) for f in FAKE),
    ),
    "minimax": (
        mean(-math.log(sig(r)) for r in REAL) + mean(-math.log(1 - sig(f)) for f in FAKE),
        mean(math.log(1 - sig(f)) for f in FAKE),
    ),
    "mse": (
        mean((sig(r) - 1) ** 2 for r in REAL) + mean(sig(f) ** 2 for f in FAKE),
        mean((sig(f) - 1) ** 2 for f in FAKE),
    ),
    "lsgan": (
        0.5 * mean((r - 1) ** 2 for r in REAL) + 0.5 * mean(f**2 for f in FAKE),
        0.5 * mean((f - 1) ** 2 for f in FAKE),
    ),
    "wgan-gp": (mean(FAKE) - mean(REAL), -mean(FAKE)),
    "hinge": (
        mean(max(0, 1 - r) for r in REAL) + mean(max(0, 1 + f) for f in FAKE),
        -mean(FAKE),
    ),
}


@pytest.mark.parametrize("name", LOSSES.names())
def test_loss_matches_formula(name):
    loss = LOSSES.get(name)
    d_hand, g_hand = HAND[name]
    assert loss.d(real=t(REAL), fake=t(FAKE)).item() == pytest.approx(d_hand, rel=1e-12)
    assert loss.g(fake=t(FAKE)).item() == pytest.approx(g_hand, rel=1e-12)


def test_every_registered_loss_has_a_hand_computation():
    assert set(LOSSES.names()) == set(HAND)


def test_bce_matches_torch_bce_on_probabilities():
    """The PyTorch example's nn.BCELoss(sigmoid(D(x)), 1) + nn.BCELoss(sigmoid(D(G(z))), 0)."""
    bce = torch.nn.BCELoss()
    r, f = t(REAL), t(FAKE)
    ref_d = bce(torch.sigmoid(r), torch.ones_like(r)) + bce(torch.sigmoid(f), torch.zeros_like(f))
    ref_g = bce(torch.sigmoid(f), torch.ones_like(f))
    assert LOSSES.get("bce").d(real=r, fake=f).item() == pytest.approx(ref_d.item(), rel=1e-12)
    assert LOSSES.get("bce").g(fake=f).item() == pytest.approx(ref_g.item(), rel=1e-12)


def test_bce_is_stable_for_extreme_logits():
    big = torch.tensor([[1e4], [-1e4]])
    loss = LOSSES.get("bce")
    assert torch.isfinite(loss.d(real=big, fake=-big))
    assert loss.d(real=torch.tensor([[1e4]]), fake=torch.tensor([[-1e4]])).item() == pytest.approx(0, abs=1e-6)
    assert loss.g(fake=torch.tensor([[-1e4]])).item() == pytest.approx(1e4, rel=1e-6)  # no inf


def test_loss_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        LOSSES.get("hinge").d(t(REAL), t(FAKE))  # type: ignore[misc]


def test_gradient_penalty_matches_formula_for_linear_critic():
    """For D(x) = w·x the gradient is w everywhere: penalty = (‖w‖ - 1)^2 whatever α is."""
    w = torch.tensor([3.0, 4.0], dtype=torch.float64)  # ‖w‖ = 5
    critic = lambda x: x @ w  # noqa: E731
    real = torch.randn(6, 2, dtype=torch.float64)
    fake = torch.randn(6, 2, dtype=torch.float64)
    assert gradient_penalty(critic, real=real, fake=fake).item() == pytest.approx(16.0)


def test_gradient_penalty_per_sample_norm_and_alpha():
    """D(x) = ½‖x‖² has gradient x̂: penalty = mean over samples of (‖x̂_i‖ - 1)^2 with x̂ = αx + (1-α)x̃."""
    critic = lambda x: 0.5 * x.reshape(x.shape[0], -1).square().sum(1)  # noqa: E731
    real = torch.tensor([[[1.0, 2.0]], [[0.0, 3.0]]], dtype=torch.float64)  # (N, 1, 2): norm over all dims
    fake = torch.tensor([[[-1.0, 0.0]], [[2.0, 1.0]]], dtype=torch.float64)
    alpha = torch.tensor([0.25, 0.5], dtype=torch.float64)
    hats = [alpha[i] * real[i] + (1 - alpha[i]) * fake[i] for i in range(2)]
    hand = mean((h.norm().item() - 1) ** 2 for h in hats)
    got = gradient_penalty(critic, real=real, fake=fake, alpha=alpha).item()
    assert got == pytest.approx(hand, rel=1e-12)


def test_gradient_penalty_draws_alpha_uniformly_per_sample():
    torch.manual_seed(0)
    seen = []
    critic = lambda x: (seen.append(x.detach().clone()), x.sum(1))[1]  # noqa: E731
    real, fake = torch.ones(4000, 1), torch.zeros(4000, 1)
    gradient_penalty(critic, real=real, fake=fake)
    a = seen[0][:, 0]  # x̂ = α·1 + (1-α)·0 = α
    assert 0 <= a.min() and a.max() <= 1
    assert a.mean().item() == pytest.approx(0.5, abs=0.03)
    assert a.std().item() == pytest.approx(math.sqrt(1 / 12), abs=0.02)  # U(0,1), not N(0,1)


def test_gradient_penalty_is_differentiable_for_d():
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    gp = gradient_penalty(lambda x: x @ w, real=torch.randn(5, 2), fake=torch.randn(5, 2))
    gp.backward()
    # d/dw (‖w‖-1)^2 = 2(‖w‖-1) w/‖w‖ = 2*4*w/5
    assert torch.allclose(w.grad, 1.6 * w.detach())


def test_r1_penalty_matches_formula():
    x = torch.tensor([[1.0, 2.0], [3.0, -1.0]], requires_grad=True)
    logits = 0.5 * x.square().sum(1)  # gradient = x
    got = r1_penalty(logits, x).item()
    assert got == pytest.approx(mean([1 + 4, 9 + 1]))


def test_penalties_are_computed_on_unscaled_gradients():
    """fp16 training multiplies by a loss scale before differentiating; the penalty must not change."""
    w = torch.tensor([3.0, 4.0])
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    alpha = torch.rand(6)
    plain = gradient_penalty(lambda x: x @ w, real=real, fake=fake, alpha=alpha)
    scaled = gradient_penalty(lambda x: x @ w, real=real, fake=fake, alpha=alpha, scale=65536.0)
    assert scaled.item() == pytest.approx(plain.item(), rel=1e-6)
    x = torch.randn(4, 2, requires_grad=True)
    logits = 0.5 * x.square().sum(1)
    assert r1_penalty(logits, x, scale=1024.0).item() == pytest.approx(r1_penalty(logits, x).item(), rel=1e-6)


def test_gradient_penalty_under_bf16_autocast_matches_fp32():
    torch.manual_seed(0)
    D = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.LeakyReLU(0.2), torch.nn.Linear(32, 1))
    real, fake, alpha = torch.randn(16, 8), torch.randn(16, 8), torch.rand(16)
    ref = gradient_penalty(D, real=real, fake=fake, alpha=alpha)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = gradient_penalty(D, real=real, fake=fake, alpha=alpha)
    assert low.dtype == torch.float32
    assert low.item() == pytest.approx(ref.item(), rel=0.05)
