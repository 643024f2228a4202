"""gankit's fast training step computes the same thing as the plain reference loops.

Issue 5 compares speed against benchmarks/reference.py (mnist-mlp) and
benchmarks/reference_dcgan.py (mnist-dcgan); the comparison only means something if both compute
the same update. From the same weights, real batches and noise, a few steps of each must give the
same G and D weights *and* the same Adam moments (the moments hold the gradients themselves: after
step 1, exp_avg = (1-β1)·g and exp_avg_sq = (1-β2)·g², so a gradient that is off by a factor would
show there even though Adam's first update is ≈ lr·sign(g)).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import torch

from gankit.config import load
from gankit.data import Data
from gankit.modalities.base import Codec
from gankit.training.batches import Batches
from gankit.run.session import build

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import reference, reference_dcgan  # noqa: E402
from benchmarks.run import STEP_AS_REFERENCE  # noqa: E402


class FixedBatches:
    """Stands in for gankit.training.batches.Batches: hands out the given real batches in order."""

    def __init__(self, batches: list[torch.Tensor]) -> None:
        self.batches = list(batches)

    def next(self) -> tuple[torch.Tensor, None]:  # (x, labels) as Batches.next returns
        return {"x": self.batches.pop(0)}


def _gankit(preset: str):
    """The stepper ``gankit train PRESET`` builds, on a small stand-in of MNIST's shape."""
    x = torch.rand(256, 1, 28, 28) * 2 - 1
    data = Data(x, "image", "mnist", Codec(offset=torch.tensor([0.5]), scale=torch.tensor([0.5]), clamp=(0.0, 1.0)))
    overrides = ["train.device=cpu", *STEP_AS_REFERENCE.get(preset, [])]  # as the speed benchmark builds it
    _, trainer = build(load(preset, overrides), torch.device("cpu"), data)
    trainer.task.noise_gen = None  # noise from torch's global RNG, as the reference loops draw it
    return trainer, x


def _reference_loop(preset: str, trainer, x: torch.Tensor):
    """The reference loop of ``preset``, starting from the gankit trainer's weights."""
    loop = reference.Loop(x) if preset == "mnist-mlp" else reference_dcgan.Loop(x)
    loop.G.load_state_dict(trainer.task.G.state_dict())
    loop.D.load_state_dict(trainer.task.D.state_dict())
    if hasattr(loop, "G_ema"):
        loop.G_ema.load_state_dict(trainer.task.G.state_dict())
    return loop


def _moments(opt: torch.optim.Optimizer, params) -> list[torch.Tensor]:
    return [t for p in params for t in (opt.state[p]["exp_avg"], opt.state[p]["exp_avg_sq"])]


@pytest.mark.parametrize("preset", ["mnist-mlp", "mnist-dcgan"])
def test_reference_has_the_preset_models(preset):
    trainer, x = _gankit(preset)
    loop = _reference_loop(preset, trainer, x)
    for ours, theirs in ((trainer.task.G, loop.G), (trainer.task.D, loop.D)):
        a, b = ours.state_dict(), theirs.state_dict()
        assert list(a) == list(b)
        assert [v.shape for v in a.values()] == [v.shape for v in b.values()]
    for opt in (loop.opt_g, loop.opt_d):
        assert (opt.defaults["lr"], opt.defaults["betas"]) == (2e-4, (0.5, 0.999))
    assert trainer.task.loss_fn.name == "bce" and trainer.task.s.n_critic == 1
    assert ("G" in trainer.emas) == hasattr(loop, "G_ema")
    if "G" in trainer.emas:
        assert trainer.emas["G"].decay == reference_dcgan.EMA_DECAY
    # the same functions: equal outputs from equal weights (activations, padding, batch norm)
    z = torch.randn(8, trainer.task.s.latent_dim)
    torch.testing.assert_close(trainer.task.G(z), loop.G(z))
    torch.testing.assert_close(trainer.task.D(x[:8]), loop.D(x[:8]))


# more steps amplify rounding chaotically (gankit against itself with real and fake in separate D
# forwards drifts by 2e-3 of the moments' range by DCGAN step 3), so the runs are kept short
@pytest.mark.parametrize("preset,steps", [("mnist-mlp", 3), ("mnist-dcgan", 2)])
def test_same_updates_as_reference(preset, steps):
    torch.manual_seed(0)
    t, x = _gankit(preset)
    loop = _reference_loop(preset, t, x)
    start = [p.detach().clone() for p in (*t.task.G.parameters(), *t.task.D.parameters())]
    reals = [x[64 * i : 64 * (i + 1)] for i in range(steps)]

    batches = FixedBatches(reals)
    ref_losses, our_losses = [], []
    for i, real in enumerate(reals):
        torch.manual_seed(100 + i)  # the same noise z for both
        ref_losses.append(torch.stack(loop.train_step(real)))
        torch.manual_seed(100 + i)
        st = t.train_step(batches)
        our_losses.append(torch.stack([st["d_loss"], st["g_loss"]]))

    torch.testing.assert_close(torch.stack(our_losses), torch.stack(ref_losses), rtol=1e-5, atol=1e-6)
    # Adam's first update is lr·g/(|g| + eps): where |g| ~ eps, rounding in g moves it by a fraction
    # of lr (2e-4), so weights are compared to 1e-5; a real difference moves many weights by ~lr
    for ours, theirs in ((t.task.G, loop.G), (t.task.D, loop.D)):
        for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):  # incl. BN stats
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5, msg=lambda m: f"{name}: {m}")
    pairs = ((t.opts["G"], t.task.G, loop.opt_g, loop.G), (t.opts["D"], t.task.D, loop.opt_d, loop.D))
    for opt_ours, net_ours, opt_ref, net_ref in pairs:
        for a, b in zip(_moments(opt_ours, net_ours.parameters()), _moments(opt_ref, net_ref.parameters())):
            # gradients agree to float rounding (different but equivalent orders of summation):
            # measured against the tensor's range, as near-zero entries have no relative precision
            assert (a - b).abs().max() <= 2e-4 * b.abs().max()
    if "G" in t.emas:
        for a, b in zip(t.emas["G"].model.state_dict().values(), loop.G_ema.state_dict().values()):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    # every tensor really moved (a step that did nothing would also "match")
    for p0, p in zip(start, (*t.task.G.parameters(), *t.task.D.parameters())):
        assert (p - p0).abs().max() > 1e-5


def test_moments_would_catch_a_scaled_gradient():
    """The check above can fail: halving the D loss changes exp_avg though not Adam's first step."""
    torch.manual_seed(0)
    G, D = reference.generator(), reference.discriminator()
    G2, D2 = reference.generator(), reference.discriminator()
    G2.load_state_dict(G.state_dict())
    D2.load_state_dict(D.state_dict())
    (og, od), (og2, od2) = reference.optimizers(G, D), reference.optimizers(G2, D2)
    real = torch.rand(64, 1, 28, 28) * 2 - 1
    torch.manual_seed(1)
    reference.train_step(G, D, og, od, real)
    torch.manual_seed(1)
    fake = G2(torch.randn(64, reference.LATENT))
    od2.zero_grad()
    crit = reference.criterion
    (0.5 * (crit(D2(real), torch.ones(64, 1)) + crit(D2(fake.detach()), torch.zeros(64, 1)))).backward()
    od2.step()
    a, b = _moments(od, D.parameters())[0], _moments(od2, D2.parameters())[0]
    torch.testing.assert_close(a, 2 * b)


def test_resume_keeps_the_fused_optimizer():
    """A stored optimiser state names its implementation (fused / foreach); loading it must not
    switch the resumed run to a slower one, nor change where it goes."""
    torch.manual_seed(0)
    t, x = _gankit("mnist-mlp")
    assert all(g["fused"] for g in (*t.opts["G"].param_groups, *t.opts["D"].param_groups))  # CPU has fused Adam
    b = Batches({"x": x}, 64, seed=0)
    t.train_step(b)
    state = copy.deepcopy(t.state_dict(b))  # as read back from a checkpoint: fresh tensors
    for g in (*state["opts"]["G"]["param_groups"], *state["opts"]["D"]["param_groups"]):
        g.update(fused=None, foreach=True, betas=list(g["betas"]))  # an older run's state, through JSON

    t2, _ = _gankit("mnist-mlp")
    b2 = Batches({"x": x}, 64, seed=1)
    t2.load_state_dict(state, b2)
    groups = (*t2.opts["G"].param_groups, *t2.opts["D"].param_groups)
    assert all(g["fused"] is True and not g["foreach"] and g["betas"] == (0.5, 0.999) for g in groups)
    torch.manual_seed(5)
    t.train_step(b)
    torch.manual_seed(5)
    t2.train_step(b2)
    for a, c in zip((*t.task.G.parameters(), *t.task.D.parameters()), (*t2.task.G.parameters(), *t2.task.D.parameters())):
        torch.testing.assert_close(a, c, rtol=0, atol=0)
