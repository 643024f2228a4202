"""GAN losses by name (``loss=``): the registry, torch-free; the maths is in functions.py.

Each entry is a :class:`GANLoss` (a D loss and a G loss that belong together, and how D's output
is read) that declares the config keys it reads and refuses combinations it cannot run. The config
is validated against this registry without importing torch, so the built-in entries call their
functions through :class:`_Math`, which imports functions.py (and torch) on the first call.

The functions themselves (``bce_d``, ``gradient_penalty``, ``r1_penalty``, ...) are importable from
here as before (``from gankit.losses import r1_penalty``); that import loads torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from gankit.errors import GankitError, need
from gankit.registry import Registry

if TYPE_CHECKING:
    from gankit.config.schema import Config


@dataclass(frozen=True)
class GANLoss:
    """A D loss and a G loss that belong together."""

    name: str
    d: Callable[..., Any]  # (*, real, fake) -> scalar tensor
    g: Callable[..., Any]  # (*, fake) -> scalar tensor
    probability: bool  # D's output is read as a probability (sigmoid of the logit)
    gradient_penalty: bool = False  # add λ·gradient_penalty to the D loss (WGAN-GP)


def _functions() -> Any:
    import gankit.losses.functions as functions  # torch

    return functions


class _Math:
    """The function ``name`` of gankit/losses/functions.py, imported (with torch) on its first call."""

    def __init__(self, name: str) -> None:
        self.__name__ = name
        self._fn: Callable[..., Any] | None = None

    def __call__(self, **kw: Any) -> Any:  # keyword-only, as the functions are
        if self._fn is None:
            self._fn = getattr(_functions(), self.__name__)
        return self._fn(**kw)

    def __repr__(self) -> str:
        return f"<loss function {self.__name__}>"


def _check_wgan_gp(cfg: Config) -> None:
    need(cfg.penalty.gp_weight >= 0, "penalty.gp_weight", "must be >= 0")
    if cfg.penalty.r1_gamma > 0:
        raise GankitError("penalty.r1_gamma: use either loss=wgan-gp or an R1 penalty, not both")


LOSSES: Registry[GANLoss] = Registry("loss")
for _loss, _help, _keys, _check in (
    (GANLoss("bce", _Math("bce_d"), _Math("bce_g"), True),
     "binary cross-entropy, non-saturating G (PyTorch example)", (), None),
    (GANLoss("minimax", _Math("bce_d"), _Math("minimax_g"), True),
     "original saturating minimax game (Goodfellow 2014)", (), None),
    (GANLoss("mse", _Math("mse_d"), _Math("mse_g"), True),
     "MSE on D's probability, targets 1 real / 0 fake", (), None),
    (GANLoss("lsgan", _Math("lsgan_d"), _Math("lsgan_g"), False),
     "least squares on raw outputs (Mao et al. 2017)", (), None),
    (GANLoss("wgan-gp", _Math("wasserstein_d"), _Math("wasserstein_g"), False, True),
     "Wasserstein + gradient penalty", ("penalty.gp_weight",), _check_wgan_gp),
    (GANLoss("hinge", _Math("hinge_d"), _Math("wasserstein_g"), False),
     "hinge loss (Lim & Ye 2017, SNGAN)", (), None),
):
    LOSSES.register(_loss.name, _help, keys=_keys, check=_check)(_loss)


def __getattr__(name: str) -> Any:
    """``from gankit.losses import r1_penalty`` (and the other functions): loads functions.py and torch."""
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(_functions(), name)
    except AttributeError:
        raise AttributeError(f"module 'gankit.losses' has no attribute {name!r}") from None
