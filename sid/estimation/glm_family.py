"""GLM families of ``Design.glm``, with R's arithmetic (stats ``family`` objects).

Each family gives the link, its inverse and derivative, the variance function, the
deviance residuals and the starting values, as R's ``gaussian()``, ``binomial()``,
``quasibinomial()`` and ``poisson()`` compute them (including the C code's thresholds of
the logit link and the ``.Machine$double.eps`` floors of the log link), so that the IRLS
iterates of :mod:`sid.estimation.glm_fit` are R's ``glm.fit`` iterates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sid.errors import EstimationError

EPS = np.finfo(float).eps
_THRESH = 30.0  # R's logit link: beyond |eta| = 30, mu and dmu/deta are clamped


def _logit_linkinv(eta: np.ndarray) -> np.ndarray:
    e = np.exp(np.clip(eta, -_THRESH, _THRESH))
    mu = e / (1.0 + e)
    far = np.abs(eta) > _THRESH
    if far.any():  # R's clamps: EPS below -30, 1/EPS above 30, before x / (1 + x)
        mu = np.where(eta < -_THRESH, EPS / (1.0 + EPS), np.where(eta > _THRESH, (1.0 / EPS) / (1.0 + 1.0 / EPS), mu))
    return mu


def _logit_mu_eta(eta: np.ndarray) -> np.ndarray:
    e = np.exp(np.clip(eta, -_THRESH, _THRESH))
    out = e / ((1.0 + e) * (1.0 + e))
    far = np.abs(eta) > _THRESH
    return np.where(far, EPS, out) if far.any() else out


def _ylogy(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y != 0, y * np.log(np.where(y != 0, y, 1.0) / mu), 0.0)


def _binomial_dev(y, mu, w):
    if np.ndim(y) and bool(((y == 0) | (y == 1)).all()):
        # 0/1 outcomes: y log(y/mu) + (1-y) log((1-y)/(1-mu)) is -log(mu) or -log(1-mu)
        return -2.0 * w * np.log(np.where(y == 1, mu, 1.0 - mu))
    return 2.0 * w * (_ylogy(y, mu) + _ylogy(1.0 - y, 1.0 - mu))


def _poisson_dev(y, mu, w):
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = w * (y * np.log(np.where(y > 0, y, 1.0) / mu) - (y - mu))
    return 2.0 * np.where(y > 0, pos, mu * w)


@dataclass(frozen=True)
class Family:
    """One GLM family: ``name``, ``link`` name and R's functions of it."""

    name: str
    link: str
    linkfun: Callable[[np.ndarray], np.ndarray]
    linkinv: Callable[[np.ndarray], np.ndarray]
    mu_eta: Callable[[np.ndarray], np.ndarray]
    variance: Callable[[np.ndarray], np.ndarray]
    dev_resids: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    mustart: Callable[[np.ndarray, np.ndarray], np.ndarray]

    def check(self, y: np.ndarray, what: str) -> None:
        """Raise EstimationError when the response ``y`` is outside the family's range."""
        if self.name in ("binomial", "quasibinomial") and ((y < 0) | (y > 1)).any():
            bad = float(y[(y < 0) | (y > 1)][0])
            raise EstimationError(f"{what}: family {self.name!r} needs a response in [0, 1] (0/1 or a share), "
                                  f"got {bad:g}; recode the outcome")
        if self.name == "poisson" and (y < 0).any():
            raise EstimationError(f"{what}: family 'poisson' needs a non-negative response (counts), "
                                  f"got {float(y[y < 0][0]):g}")


def _binomial(name: str) -> Family:
    return Family(
        name, "logit",
        linkfun=lambda mu: np.log(mu / (1.0 - mu)),
        linkinv=_logit_linkinv,
        mu_eta=_logit_mu_eta,
        variance=lambda mu: mu * (1.0 - mu),
        dev_resids=_binomial_dev,
        mustart=lambda y, w: (w * y + 0.5) / (w + 1.0),
    )


FAMILIES: dict[str, Family] = {
    "gaussian": Family(
        "gaussian", "identity",
        linkfun=lambda mu: mu, linkinv=lambda eta: eta, mu_eta=lambda eta: np.ones_like(eta),
        variance=lambda mu: np.ones_like(mu), dev_resids=lambda y, mu, w: w * (y - mu) ** 2,
        mustart=lambda y, w: y.copy(),
    ),
    "binomial": _binomial("binomial"),
    "quasibinomial": _binomial("quasibinomial"),
    "poisson": Family(
        "poisson", "log",
        linkfun=np.log,
        linkinv=lambda eta: np.maximum(np.exp(eta), EPS),
        mu_eta=lambda eta: np.maximum(np.exp(eta), EPS),
        variance=lambda mu: mu, dev_resids=_poisson_dev,
        mustart=lambda y, w: y + 0.1,
    ),
}


def family(name: str) -> Family:
    """The family called ``name`` (gaussian, binomial, quasibinomial, poisson)."""
    if name not in FAMILIES:
        raise EstimationError(f"glm: family {name!r} is not one of {', '.join(FAMILIES)}")
    return FAMILIES[name]
