"""Generalised variance functions: smoothed design variances for areas with few respondents.

A direct variance estimate of an area with a handful of respondents is itself very
unstable (zero for one respondent under a ratio estimator), and the Fay-Herriot model
takes it as known. Rao & Molina (2015, section 6.4.1 and the remarks after 6.1.1)
recommend smoothing the psi_i with a model in the area sample sizes. Two models:

- ``"loglinear"``: log(psi_i) = a + b log(n_i) + error, fitted by ordinary least squares
  over the *reliable* areas (n_i >= ``min_n`` and psi_i > 0); the smoothed value is
  exp(a + b log n_i) x s, with s = mean(exp(residual)) Duan's smearing factor (so the
  back-transformed fit is not biased low by Jensen's inequality).
- ``"pooled"``: psi_i = c / n_i, c = sum_r n_r psi_r / R over the R reliable areas (a
  pooled unit variance times the design effect, as for a mean under SRS).
- ``"deff"``: psi_i = c deff_i / n_i, deff_i the area's Kish design effect of unequal
  weighting (n_i sum w^2 / (sum w)^2 of its respondents, known without the answers) and
  c = sum_r n_r psi_r / deff_r / R a pooled unit variance. For samples whose weights
  differ between groups (an origin-stratified sample: 150-fold), an area's variance
  depends on its weight mix, not on n only; and its direct variance estimate is biased
  low exactly where the effective sample n/deff is small (a few heavy-weight
  respondents dominate the mean and their residuals from it are small). One pooled c
  is too crude where group means differ (issue 13's Monte Carlo: 2.1 times the actual
  variance for the language index); prefer the register-based variances of
  :mod:`sid.smallarea.register_gvf` (spec ``gvf: register``).

:func:`smooth_variances` keeps the direct psi_i of reliable areas and replaces the others
by the model's value (``replace="unreliable"``), or replaces all (``replace="all"``).
"""

from __future__ import annotations

import numpy as np

from sid.errors import EstimationError

GVF_MODELS = ("loglinear", "pooled", "deff")  # "register": sid.smallarea.register_gvf


def gvf(psi, n, model: str = "loglinear", min_n: int = 10, name: str = "indicator", deff=None) -> np.ndarray:
    """Model-smoothed design variances for every area from direct variances ``psi`` and
    respondent counts ``n`` (see the module docstring for the models; ``deff``, the Kish
    design effect per area, is needed by "deff" only)."""
    psi = np.asarray(psi, dtype=float)
    n = np.asarray(n, dtype=float)
    if model == "deff":
        if deff is None:
            raise EstimationError(f"variance smoothing ({name}): model 'deff' needs the design effect per area; "
                                  "give deff= (the 'deff' column of direct_estimates)")
        deff = np.asarray(deff, dtype=float)
        if deff.shape != n.shape or not (np.isfinite(deff) & (deff >= 1 - 1e-9)).all():
            raise EstimationError(f"variance smoothing ({name}): deff must be one value >= 1 per area; "
                                  "give the 'deff' column of direct_estimates")
    if model not in GVF_MODELS:
        raise EstimationError(f"variance smoothing ({name}): model {model!r} is not one of {', '.join(GVF_MODELS)}")
    if psi.shape != n.shape:
        raise EstimationError(f"variance smoothing ({name}): psi {psi.shape} and n {n.shape} differ in length")
    if (n <= 0).any() or not np.isfinite(n).all():
        raise EstimationError(f"variance smoothing ({name}): area {int(np.flatnonzero(~(n > 0))[0])} has "
                              "no respondents; leave areas without sample out (they get synthetic estimates)")
    ok = (n >= min_n) & np.isfinite(psi) & (psi > 0)
    need = 3 if model == "loglinear" else 1
    if ok.sum() < need:
        raise EstimationError(f"variance smoothing ({name}): {int(ok.sum())} areas with n >= {min_n} and a "
                              f"positive direct variance; the {model} model needs {need}; lower min_n or "
                              "use model='pooled'")
    if model == "pooled":
        return float(np.mean(n[ok] * psi[ok])) / n
    if model == "deff":
        return float(np.mean(n[ok] * psi[ok] / deff[ok])) * deff / n
    ln, lp = np.log(n[ok]), np.log(psi[ok])
    Z = np.column_stack([np.ones(ln.size), ln])
    coef, *_ = np.linalg.lstsq(Z, lp, rcond=None)
    smear = float(np.mean(np.exp(lp - Z @ coef)))
    return np.exp(coef[0] + coef[1] * np.log(n)) * smear


def smooth_variances(psi, n, model: str = "loglinear", min_n: int = 10, replace: str = "unreliable",
                     name: str = "indicator", deff=None) -> tuple[np.ndarray, np.ndarray]:
    """(psi_used, smoothed): the variances to give the Fay-Herriot fit and a bool per area
    saying whether its value came from the GVF. ``replace`` "unreliable" (n < min_n, or
    psi missing / not > 0) or "all"."""
    if replace not in ("unreliable", "all"):
        raise EstimationError(f"variance smoothing ({name}): replace={replace!r} is not 'unreliable' or 'all'")
    psi = np.asarray(psi, dtype=float)
    fitted = gvf(psi, n, model, min_n, name, deff)
    bad = (np.asarray(n) < min_n) | ~np.isfinite(psi) | ~(psi > 0)
    mask = np.ones_like(bad) if replace == "all" else bad
    return np.where(mask, fitted, psi), mask
