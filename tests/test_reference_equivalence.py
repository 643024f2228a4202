"""gankit's fast training step computes the same thing as the plain reference loop.

Issue 5 compares speed against benchmarks/reference.py; that comparison only means something if
both compute the same update. From the same weights, real batches and noise, a few steps of each
must give the same G and D weights *and* the same Adam moments (the moments hold the gradients
themselves: after step 1, exp_avg = (1-β1)·g and exp_avg_sq = (1-β2)·g², so a gradient that is
off by a factor would show there even though Adam's first update is ≈ lr·sign(g)).
"""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest
import torch

from gankit.config import load
from gankit.losses import LOSSES
from gankit.models import build_discriminator, build_generator
from gankit.trainer import Batches, Trainer, make_optimizer

ROOT = Path(__file__).resolve().parents[1]


def _reference():
    spec = importlib.util.spec_from_file_location("gankit_bench_reference", ROOT / "benchmarks" / "reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ref = _reference()


class FixedBatches:
    """Stands in for gankit.trainer.Batches: hands out the given real batches in order."""

    def __init__(self, batches: list[torch.Tensor]) -> None:
        self.batches = list(batches)

    def next(self) -> tuple[torch.Tensor, None]:
        return self.batches.pop(0), None


def _gankit_trainer():
    cfg = load("mnist-mlp", [])
    shape = (1, 28, 28)
    G, D = build_generator(cfg.generator, shape), build_discriminator(cfg.discriminator, shape)
    trainer = Trainer(
        G, D, LOSSES.get(cfg.loss),
        make_optimizer(G.parameters(), cfg.generator.lr, cfg.generator.betas),
        make_optimizer(D.parameters(), cfg.discriminator.lr, cfg.discriminator.betas),
        latent_dim=cfg.generator.latent_dim, n_critic=cfg.train.n_critic,
    )
    return trainer


def _moments(opt: torch.optim.Optimizer, params) -> list[torch.Tensor]:
    return [t for p in params for t in (opt.state[p]["exp_avg"], opt.state[p]["exp_avg_sq"])]


def test_reference_has_the_preset_models():
    t = _gankit_trainer()
    for ours, theirs in ((t.G, ref.generator()), (t.D, ref.discriminator())):
        a, b = ours.state_dict(), theirs.state_dict()
        assert list(a) == list(b)
        assert [v.shape for v in a.values()] == [v.shape for v in b.values()]
    assert (ref.LATENT, ref.LR, ref.BETAS) == (t.latent_dim, 2e-4, (0.5, 0.999))
    assert t.loss.name == "bce"


@pytest.mark.parametrize("steps", [1, 3])
def test_same_updates_as_reference(steps):
    torch.manual_seed(0)
    t = _gankit_trainer()
    G, D = ref.generator(), ref.discriminator()
    G.load_state_dict(t.G.state_dict())
    D.load_state_dict(t.D.state_dict())
    opt_g, opt_d = ref.optimizers(G, D)
    start = [p.detach().clone() for p in (*t.G.parameters(), *t.D.parameters())]
    reals = [torch.rand(64, 1, 28, 28) * 2 - 1 for _ in range(steps)]

    batches = FixedBatches(reals)
    ref_losses, our_losses = [], []
    for i, real in enumerate(reals):
        torch.manual_seed(100 + i)  # the same noise z for both
        ref_losses.append(torch.stack(ref.train_step(G, D, opt_g, opt_d, real)))
        torch.manual_seed(100 + i)
        st = t.train_step(batches)
        our_losses.append(torch.stack([st.d_loss, st.g_loss]))

    torch.testing.assert_close(torch.stack(our_losses), torch.stack(ref_losses), rtol=1e-5, atol=1e-6)
    for ours, theirs in ((t.G, G), (t.D, D)):
        for (name, a), b in zip(ours.named_parameters(), theirs.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=lambda m: f"{name}: {m}")
    for opt_ours, net_ours, opt_ref, net_ref in ((t.opt_g, t.G, opt_g, G), (t.opt_d, t.D, opt_d, D)):
        for a, b in zip(_moments(opt_ours, net_ours.parameters()), _moments(opt_ref, net_ref.parameters())):
            # gradients agree to float rounding (different but equivalent orders of summation)
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-9)
    # every tensor really moved (a step that did nothing would also "match")
    for p0, p in zip(start, (*t.G.parameters(), *t.D.parameters())):
        assert (p - p0).abs().max() > 1e-5


def test_moments_would_catch_a_scaled_gradient():
    """The check above can fail: halving the D loss changes exp_avg though not Adam's first step."""
    torch.manual_seed(0)
    G, D = ref.generator(), ref.discriminator()
    G2, D2 = ref.generator(), ref.discriminator()
    G2.load_state_dict(G.state_dict())
    D2.load_state_dict(D.state_dict())
    (og, od), (og2, od2) = ref.optimizers(G, D), ref.optimizers(G2, D2)
    real = torch.rand(64, 1, 28, 28) * 2 - 1
    torch.manual_seed(1)
    ref.train_step(G, D, og, od, real)
    torch.manual_seed(1)
    z = torch.randn(64, ref.LATENT)
    fake = G2(z)
    od2.zero_grad()
    crit = ref.criterion
    (0.5 * (crit(D2(real), torch.ones(64, 1)) + crit(D2(fake.detach()), torch.zeros(64, 1)))).backward()
    od2.step()
    a, b = _moments(od, D.parameters())[0], _moments(od2, D2.parameters())[0]
    torch.testing.assert_close(a, 2 * b)


def test_resume_keeps_the_fused_optimizer():
    """A stored optimiser state names its implementation (fused / foreach); loading it must not
    switch the resumed run to a slower one, nor change where it goes."""
    torch.manual_seed(0)
    t = _gankit_trainer()
    assert all(g["fused"] for g in (*t.opt_g.param_groups, *t.opt_d.param_groups))  # CPU has fused Adam
    x = torch.rand(256, 1, 28, 28) * 2 - 1
    b = Batches(x, 64, seed=0)
    t.train_step(b)
    state = copy.deepcopy(t.state_dict(b))  # as read back from a checkpoint: fresh tensors
    for g in (*state["opt_g"]["param_groups"], *state["opt_d"]["param_groups"]):
        g.update(fused=None, foreach=True, betas=list(g["betas"]))  # an older run's state, through JSON

    t2, b2 = _gankit_trainer(), Batches(x, 64, seed=1)
    t2.load_state_dict(state, b2)
    groups = (*t2.opt_g.param_groups, *t2.opt_d.param_groups)
    assert all(g["fused"] is True and not g["foreach"] and g["betas"] == (0.5, 0.999) for g in groups)
    torch.manual_seed(5)
    t.train_step(b)
    torch.manual_seed(5)
    t2.train_step(b2)
    for a, c in zip((*t.G.parameters(), *t.D.parameters()), (*t2.G.parameters(), *t2.D.parameters())):
        torch.testing.assert_close(a, c, rtol=0, atol=0)
