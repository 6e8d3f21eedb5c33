"""The Fay-Herriot area-level model: REML/ML fit by Fisher scoring, EBLUP, MSE.

Formulas from Rao & Molina (2015), *Small Area Estimation*, 2nd ed., Wiley, chapter 6
(sections 6.1-6.2); equation numbers below are theirs.

Model (6.1.1): for area i = 1..m, the direct estimate y_i = x_i'beta + v_i + e_i, with
random area effects v_i ~ N(0, sigma2_u) and sampling errors e_i ~ N(0, psi_i), psi_i the
*known* design variance (in practice smoothed, see :mod:`sid.smallarea.gvf`).
V_i = sigma2_u + psi_i; gamma_i = sigma2_u / V_i is the shrinkage factor.

- beta~(sigma2_u) = (sum x_i x_i'/V_i)^-1 sum x_i y_i/V_i (weighted least squares, 6.1.5).
- EBLUP (6.1.12): theta_i = gamma_i y_i + (1 - gamma_i) x_i'beta.
- ML score and information (section 6.2.1): s(s2) = -1/2 sum 1/V_i +
  1/2 sum r_i^2/V_i^2, I(s2) = 1/2 sum 1/V_i^2, with r = y - X beta~.
- REML: s_R(s2) = -1/2 tr(P) + 1/2 y'PPy, I_R(s2) = 1/2 tr(PP),
  P = V^-1 - V^-1 X (X'V^-1 X)^-1 X'V^-1. Here computed without an m x m matrix:
  Py = V^-1 r, tr(P) = sum 1/V - tr(A^-1 X'V^-2 X), tr(PP) = sum 1/V^2 -
  2 tr(A^-1 X'V^-3 X) + tr((A^-1 X'V^-2 X)^2), A = X'V^-1 X.
- Fisher scoring: s2 <- max(0, s2 + s(s2)/I(s2)), started at the median of psi (as
  R's sae package does), safeguarded: once two evaluated points have scores of opposite
  sign, the root between them is found by Brent's method on the score (plain Fisher
  scoring can cycle between 0 and a positive value when sigma2_u is small: issue 13's
  Monte Carlo with register design variances). **Truncation at 0** is applied at every step: when the
  likelihood's maximum lies at sigma2_u < 0 the iteration stops at sigma2_u = 0 (the
  maximiser over [0, inf)); the fit then says ``truncated``. EBLUP = synthetic x'beta.
- MSE: g1_i = gamma_i psi_i, g2_i = (1 - gamma_i)^2 x_i' A^-1 x_i,
  g3_i = psi_i^2 V_i^-3 Vbar, Vbar = 2 / sum V_j^-2 (asymptotic variance of the REML and
  ML estimators of sigma2_u). REML: Prasad-Rao form mse_i = g1 + g2 + 2 g3 (6.2.32,
  the REML version of Datta & Lahiri 2000). ML: Datta-Lahiri mse_i = g1 + g2 + 2 g3 -
  b_ML (1 - gamma_i)^2 (6.2.35), with the ML bias b_ML = -tr(A^-1 X'V^-2 X) / sum V^-2
  and (1 - gamma_i)^2 the derivative of g1_i in sigma2_u.
- AdjREML (Li & Lahiri 2010, "An adjusted maximum likelihood method for solving small
  area estimation problems", J. Multivariate Anal. 101): maximise s2 x L_R(s2), whose
  score is the REML score + 1/s2, so sigma2_u > 0 always; MSE as REML (g1 + g2 + 2 g3).
  REML truncates at 0 in many samples when the area effects are small (issue 13's Monte
  Carlo: 57-61 % of draws), and then g1 = 0 and the MSE estimate is too small.
- Synthetic estimate for an area without sample (section 6.1): x'beta, with
  MSE x' A^-1 x + sigma2_u (the uncertainty of sigma2_u itself is not added).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from sid.errors import ConvergenceError, EstimationError

METHODS = ("REML", "ML", "AdjREML")


@dataclass(frozen=True)
class FHFit:
    """A fitted Fay-Herriot model: plain numbers and arrays.

    sigma2_u: the area-effect variance (>= 0); truncated: True when the maximiser was the
    boundary 0; beta: coefficients (p,); cov_beta: A^-1 = (X'V^-1 X)^-1 (p, p);
    iterations: Fisher-scoring steps taken; method: "REML" or "ML"."""

    sigma2_u: float
    beta: np.ndarray
    cov_beta: np.ndarray
    method: str
    iterations: int
    truncated: bool


def _check(y, psi, X, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    psi = np.asarray(psi, dtype=float)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    m = y.shape[0]
    if y.ndim != 1 or psi.shape != (m,) or X.ndim != 2 or X.shape[0] != m:
        raise EstimationError(f"Fay-Herriot {name}: y {y.shape}, psi {psi.shape} and X {X.shape} "
                              "must have one row per area; give arrays of equal length")
    for label, a in (("direct estimate", y), ("design variance", psi), ("covariate", X)):
        bad = ~np.isfinite(a)
        if bad.any():
            row = int(np.flatnonzero(bad.reshape(m, -1).any(axis=1))[0])
            raise EstimationError(f"Fay-Herriot {name}: {label} of area {row} is not finite; "
                                  "leave areas without sample out of the fit (they get synthetic estimates)")
    if (psi <= 0).any():
        row = int(np.flatnonzero(psi <= 0)[0])
        raise EstimationError(f"Fay-Herriot {name}: design variance of area {row} is {psi[row]:g}, not > 0; "
                              "smooth the variances first (sid.smallarea.gvf)")
    if m <= X.shape[1]:
        raise EstimationError(f"Fay-Herriot {name}: {m} areas for {X.shape[1]} coefficients; "
                              "the model needs more areas than covariates")
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise EstimationError(f"Fay-Herriot {name}: the covariate matrix ({X.shape[1]} columns) is not of "
                              "full column rank; drop a collinear covariate")
    return y, psi, X


def _wls(y, X, V):
    """beta~, A^-1 and the residuals for variances V."""
    Xv = X / V[:, None]
    A = X.T @ Xv
    Ainv = np.linalg.inv(A)
    beta = Ainv @ (Xv.T @ y)
    return beta, Ainv, y - X @ beta


def _score_info(y, psi, X, s2: float, method: str) -> tuple[float, float]:
    V = s2 + psi
    _, Ainv, r = _wls(y, X, V)
    yPPy = float(np.sum((r / V) ** 2))
    if method == "ML":
        return -0.5 * float(np.sum(1 / V)) + 0.5 * yPPy, 0.5 * float(np.sum(V ** -2))
    B2 = Ainv @ (X.T @ (X / (V ** 2)[:, None]))  # A^-1 X'V^-2 X
    B3 = Ainv @ (X.T @ (X / (V ** 3)[:, None]))  # A^-1 X'V^-3 X
    trP = float(np.sum(1 / V) - np.trace(B2))
    trPP = float(np.sum(V ** -2) - 2 * np.trace(B3) + np.sum(B2 * B2.T))
    score = -0.5 * trP + 0.5 * yPPy
    if method == "AdjREML":  # Li & Lahiri (2010): maximise s2 x L_R(s2), score + 1/s2
        score = np.inf if s2 <= 0 else score + 1.0 / s2
    return score, 0.5 * trPP


def fit_fh(y, psi, X, method: str = "REML", tol: float = 1e-10, max_iter: int = 100,
           name: str = "model") -> FHFit:
    """Fit the Fay-Herriot model to direct estimates ``y`` with design variances ``psi``
    and covariates ``X`` (m x p, include the intercept column) by Fisher scoring.

    ``method`` "REML" (default) or "ML". Converged when a step changes sigma2_u by at most
    ``tol`` x max(1, sigma2_u); otherwise :class:`ConvergenceError` after ``max_iter``
    steps. ``name`` (e.g. the indicator) is used in messages.
    """
    if method not in METHODS:
        raise EstimationError(f"Fay-Herriot {name}: method {method!r} is not one of {', '.join(METHODS)}")
    y, psi, X = _check(y, psi, X, name)
    s2 = float(np.median(psi))
    step = np.inf
    lo = hi = None  # points with score > 0 and < 0: once both are known, Brent on the score
    for it in range(1, max_iter + 1):  # Fisher scoring on one scalar: a loop over iterations
        iterations = it
        score, info = _score_info(y, psi, X, s2, method)
        if score > 0:
            lo = s2
        elif score < 0:
            hi = s2
        new = max(0.0, s2 + score / info)
        if method == "AdjREML" and new <= 0:  # the adjusted likelihood is 0 at 0: stay inside
            new = s2 / 2
        step = abs(new - s2)
        if step > tol * max(1.0, new) and lo is not None and hi is not None:
            a, b = min(lo, hi), max(lo, hi)
            new, r = brentq(lambda v: _score_info(y, psi, X, v, method)[0], a, b,
                            xtol=tol * max(1.0, b) / 4, maxiter=max_iter, full_output=True, disp=False)
            iterations, step = it + r.function_calls, 0.0
            if not r.converged:
                step = abs(b - a)
                break
        s2 = new
        if step <= tol * max(1.0, s2):
            break
    else:
        step = step if step > tol * max(1.0, s2) else 0.0
    if step > tol * max(1.0, s2):
        raise ConvergenceError(
            f"Fay-Herriot {method} fit ({name}): sigma2_u did not converge in {max_iter} Fisher-scoring "
            f"steps (last change {step:.3g}, tolerance {tol:g}); raise max_iter or check the direct "
            "estimates and variances")
    beta, Ainv, _ = _wls(y, X, s2 + psi)
    return FHFit(sigma2_u=s2, beta=beta, cov_beta=Ainv, method=method, iterations=iterations,
                 truncated=bool(s2 == 0.0))


def gamma(fit: FHFit, psi) -> np.ndarray:
    """Shrinkage factor gamma_i = sigma2_u / (sigma2_u + psi_i) (weight of the direct estimate)."""
    psi = np.asarray(psi, dtype=float)
    return fit.sigma2_u / (fit.sigma2_u + psi)


def eblup(fit: FHFit, y, psi, X) -> np.ndarray:
    """EBLUP gamma_i y_i + (1 - gamma_i) x_i'beta (Rao & Molina 6.1.12 with estimated sigma2_u)."""
    X = np.atleast_2d(np.asarray(X, dtype=float).T).T
    g = gamma(fit, psi)
    return g * np.asarray(y, dtype=float) + (1 - g) * (X @ fit.beta)


def mse(fit: FHFit, psi, X) -> np.ndarray:
    """MSE estimate of the EBLUP per area: Prasad-Rao (REML) or Datta-Lahiri (ML); see the
    module docstring for g1, g2, g3 and the ML bias term."""
    psi = np.asarray(psi, dtype=float)
    X = np.atleast_2d(np.asarray(X, dtype=float).T).T
    V = fit.sigma2_u + psi
    g = fit.sigma2_u / V
    g1 = g * psi
    g2 = (1 - g) ** 2 * np.einsum("ij,jk,ik->i", X, fit.cov_beta, X)
    vbar = 2.0 / float(np.sum(V ** -2))
    g3 = psi ** 2 / V ** 3 * vbar
    out = g1 + g2 + 2 * g3
    if fit.method == "ML":
        b_ml = -float(np.trace(fit.cov_beta @ (X.T @ (X / (V ** 2)[:, None])))) / float(np.sum(V ** -2))
        out = out - b_ml * (1 - g) ** 2
    return out


def synthetic(fit: FHFit, X_new) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic estimates x'beta for areas without sample, and their MSE
    x' A^-1 x + sigma2_u (sigma2_u's own estimation error not included)."""
    X_new = np.atleast_2d(np.asarray(X_new, dtype=float))
    est = X_new @ fit.beta
    return est, np.einsum("ij,jk,ik->i", X_new, fit.cov_beta, X_new) + fit.sigma2_u
