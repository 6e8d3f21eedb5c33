"""Confidence intervals: t-interval, and logit / Korn-Graubard intervals for proportions.

References: R survey ``confint.svystat`` with ``df = degf(design)`` (t-interval);
``svyciprop(method="logit")`` (interval on the logit scale, SE by the delta method
se(p) / (p (1 - p))); ``svyciprop(method="beta")``, Korn & Graubard (1998), with the
effective sample size p(1-p)/var(p) times (t_{n-1} / t_df)^2.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from sid.errors import EstimationError

PROPORTION_CI = ("logit", "korn-graubard")


def check_level(level: object, what: str = "estimate") -> float:
    """The confidence level as a float strictly between 0 and 1 (EstimationError otherwise)."""
    try:
        value = float(level)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(level, bool) or not 0 < value < 1:  # NaN fails the comparison too
        raise EstimationError(f"{what}: level={level!r} is not a confidence level between 0 and 1; "
                              "give e.g. level=0.95")
    return value


def t_quantile(level: float, df: np.ndarray | float) -> np.ndarray:
    """Two-sided critical value t_{1-(1-level)/2, df}; df = inf gives the normal quantile."""
    df = np.asarray(df, dtype=float)
    return np.where(np.isinf(df), stats.norm.ppf(0.5 + level / 2), stats.t.ppf(0.5 + level / 2, np.where(np.isinf(df), 1.0, df)))


def t_interval(est: np.ndarray, se: np.ndarray, df: np.ndarray | float, level: float = 0.95):
    """Symmetric interval est -/+ t * se (arrays), R's confint(..., df=degf(design))."""
    q = t_quantile(level, df)
    return est - q * se, est + q * se


def logit_interval(p: np.ndarray, se: np.ndarray, df: np.ndarray | float, level: float = 0.95):
    """R's svyciprop(method="logit"): expit(logit(p) -/+ t * se / (p (1-p)))."""
    p = np.asarray(p, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.log(p / (1 - p))
        se_eta = se / (p * (1 - p))
        q = t_quantile(level, df)
        lo = 1 / (1 + np.exp(-(eta - q * se_eta)))
        hi = 1 / (1 + np.exp(-(eta + q * se_eta)))
    # p = 0 or 1: the logit interval degenerates to the point, as in R (NaN there).
    return lo, hi


def korn_graubard_interval(
    p: np.ndarray, se: np.ndarray, n: np.ndarray, df: np.ndarray | float, level: float = 0.95
):
    """Korn-Graubard (R svyciprop method="beta") with degrees-of-freedom adjusted n_eff.

    ``n`` is the unweighted number of respondents (R: ``nrow(design)``).
    """
    p = np.asarray(p, float)
    alpha = 1 - level
    df = np.asarray(df, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = p * (1 - p) / se**2
        adj = (stats.t.ppf(alpha / 2, np.asarray(n, float) - 1) / stats.t.ppf(alpha / 2, df)) ** 2
        n_eff = n_eff * adj
        lo = stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
        hi = stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
    lo = np.where(p == 0, 0.0, lo)
    hi = np.where(p == 1, 1.0, hi)
    return lo, hi
