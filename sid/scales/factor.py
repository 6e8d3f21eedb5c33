"""One-factor model by minimum residuals (minres), omega total, and factor scores.

The estimator is psych's default ``fa(r, nfactors=1, fm="minres")``: the loadings
``l`` minimise the sum of squared off-diagonal residuals of the correlation matrix,
``sum_{i != j} (r_ij - l_i l_j)^2`` (Harman & Jones 1966; Revelle, psych ``fa``). It is
solved here directly as a bounded nonlinear least-squares problem in ``l`` (scipy's
trust-region reflective solver, started from the principal-axis solution), which reaches
the exact minimum; psych reaches the same point through ``optim`` on the uniquenesses.
As in psych, uniquenesses are kept at or above 0.005 (|loading| <= sqrt(0.995)).

McDonald's omega total for one factor is psych ``omega(nfactors=1)``'s ``omega.tot``:
``(V_t - sum u2) / V_t`` with ``V_t`` the sum of the (sign-aligned) correlation matrix
and ``u2 = 1 - l^2`` (McDonald 1999, *Test theory*, ch. 6; Revelle & Zinbarg 2009).

Factor scores are regression (Thurstone) scores ``z R^-1 l`` on standardised items
(Thurstone 1935; psych ``factor.scores(method="Thurstone")``). A respondent with missing
items is scored from the valid items only, with ``R`` and ``l`` restricted to them; the
loop runs over the distinct missing patterns (at most 2^k), not over respondents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from sid.errors import EstimationError

MIN_UNIQUENESS = 0.005  # psych's lower bound on the uniquenesses in fa()


@dataclass(frozen=True)
class OneFactor:
    """Fitted one-factor model on a k x k correlation matrix.

    ``loadings``: standardised loadings, signed so that their sum is positive;
    ``uniquenesses``: 1 - loadings^2; ``rmsr``: root mean square off-diagonal residual;
    ``heywood``: True where a loading reached the bound sqrt(1 - 0.005).
    """

    loadings: np.ndarray
    uniquenesses: np.ndarray
    rmsr: float
    heywood: np.ndarray


def _principal_axis_start(r: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Iterated principal axis loadings: a start close to the minres solution."""
    r_star = r.copy()
    # Squared multiple correlations as first communalities (psych's default start).
    np.fill_diagonal(r_star, 1.0 - 1.0 / np.diag(np.linalg.inv(r)))
    loads = np.zeros(r.shape[0])
    for _ in range(iterations):
        values, vectors = np.linalg.eigh(r_star)
        loads = vectors[:, -1] * np.sqrt(max(values[-1], 0.0))
        np.fill_diagonal(r_star, np.minimum(loads**2, 1.0 - MIN_UNIQUENESS))
    return loads


def fit_one_factor(r: np.ndarray, names: list[str] | None = None) -> OneFactor:
    """Fit a one-factor model to correlation matrix ``r`` by minres (see module doc)."""
    r = np.asarray(r, dtype=float)
    k = r.shape[0]
    names = names or [f"item {i + 1}" for i in range(k)]
    if k < 3:
        raise EstimationError(f"one-factor model on {names}: needs at least 3 items, got {k}")
    if not np.all(np.isfinite(r)):
        raise EstimationError(f"one-factor model on {names}: the correlation matrix has missing entries")
    iu, ju = np.triu_indices(k, 1)
    target = r[iu, ju]

    def residuals(lam: np.ndarray) -> np.ndarray:
        return target - lam[iu] * lam[ju]

    def jacobian(lam: np.ndarray) -> np.ndarray:
        jac = np.zeros((iu.size, k))
        rows = np.arange(iu.size)
        jac[rows, iu] = -lam[ju]
        jac[rows, ju] = -lam[iu]
        return jac

    bound = np.sqrt(1.0 - MIN_UNIQUENESS)
    start = np.clip(_principal_axis_start(r), -bound + 1e-9, bound - 1e-9)
    fit = least_squares(
        residuals, start, jac=jacobian, bounds=(-bound, bound), method="trf",
        xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=10_000,
    )
    if not fit.success:
        raise EstimationError(f"one-factor model on {names}: minres did not converge ({fit.message})")
    loads = fit.x if fit.x.sum() >= 0 else -fit.x
    rmsr = float(np.sqrt(np.mean(residuals(loads) ** 2)))
    return OneFactor(
        loadings=loads,
        uniquenesses=1.0 - loads**2,
        rmsr=rmsr,
        heywood=np.abs(loads) >= bound - 1e-8,
    )


def omega_total(r: np.ndarray, model: OneFactor) -> float:
    """McDonald's omega total of the unit-weighted sum of standardised items.

    Items loading negatively are flipped first (psych ``omega(flip=TRUE)``), so
    ``V_t`` is the sum of the sign-aligned correlation matrix.
    """
    sign = np.where(model.loadings < 0, -1.0, 1.0)
    v_total = float(sign @ r @ sign)
    return (v_total - float(model.uniquenesses.sum())) / v_total


def factor_scores(
    x: np.ndarray, means: np.ndarray, sds: np.ndarray, r: np.ndarray, model: OneFactor
) -> np.ndarray:
    """Regression (Thurstone) factor scores, one per row of ``x`` (NaN = missing item).

    ``means``/``sds`` standardise the items (item units); the score is in standard
    units of the factor. Rows without any valid item get NaN.
    """
    x = np.asarray(x, dtype=float)
    valid = ~np.isnan(x)
    z = np.where(valid, (x - means) / sds, 0.0)
    k = x.shape[1]
    codes = valid @ (1 << np.arange(k))  # one integer per missing pattern
    scores = np.full(x.shape[0], np.nan)
    for code in np.unique(codes):
        if code == 0:
            continue
        cols = np.flatnonzero((code >> np.arange(k)) & 1)
        weights = np.linalg.solve(r[np.ix_(cols, cols)], model.loadings[cols])
        rows = codes == code
        scores[rows] = z[np.ix_(rows, cols)] @ weights
    return scores
