"""Survey quantiles with Woodruff confidence intervals (R survey 4.x ``svyquantile``).

Defaults of survey >= 4.1: ``qrule="math"`` (the smallest x whose weighted CDF reaches
p, i.e. the inverse of the step CDF) and ``interval.type="mean"`` (Woodruff 1952): the
design-based t-interval of the estimated CDF at the quantile, m = mean(x <= q_hat) -/+
t_df * SE(m), mapped back through the same quantile rule. SE is reported as R does:
(upper - lower) / (2 t_df). The df is that of the domain's design after dropping the
missing rows (R's ``degf`` inside ``svyquantile(na.rm=TRUE)`` on a subset).

One deliberate difference: for p below the first step of the CDF (p < F(x_(1))), R's
``qs()`` falls back to position 1 and returns the *second* smallest value; sid returns
the smallest, which is what ``qrule="math"`` is documented to give. It only shows in a
lower Woodruff bound of a small domain.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.errors import EstimationError
from sid.estimation.estimators import groups, numeric
from sid.estimation.intervals import t_quantile
from sid.estimation.linear import ratio_estimate

_ORDER = ["estimate", "se", "ci_low", "ci_high", "cv", "n", "weighted_n", "deff", "df", "method", "lonely_psu"]


def qrule_math(x: np.ndarray, w: np.ndarray, p: np.ndarray) -> np.ndarray:
    """R's ``qrule_math``: for each p, min{x_k : F_w(x_k) >= p} over distinct sorted x.

    ``x``, ``w`` (n,) values and weights (rows of zero weight ignored); ``p`` (k,);
    NaN where p is outside [0, 1] or NaN.
    """
    keep = w != 0
    x, w = x[keep], w[keep]
    ux, inv = np.unique(x, return_inverse=True)
    cw = np.cumsum(np.bincount(inv.ravel(), weights=w, minlength=ux.shape[0]))
    cw = cw / cw[-1]
    p = np.atleast_1d(np.asarray(p, float))
    ok = np.isfinite(p) & (p >= 0) & (p <= 1)
    # Guard the comparison F >= p against rounding in the cumulative sum.
    pos = np.searchsorted(cw, np.where(ok, p, 0.0) * (1 - 1e-12), side="left")
    out = ux[np.minimum(pos, ux.shape[0] - 1)].astype(float)
    return np.where(ok, out, np.nan)


def quantile(design, variable: str, q=0.5, by=None, level: float = 0.95) -> pd.DataFrame:
    """Quantiles ``q`` (float or list) of ``variable`` per domain, with Woodruff CIs."""
    qs = np.atleast_1d(np.asarray(q, float))
    if np.any((qs < 0) | (qs > 1)):
        raise EstimationError(f"quantile: q={list(qs)} must lie in [0, 1]")
    y = numeric(design, variable)
    g, labels, _ = groups(design, by)
    G = len(labels)
    dom = design.domain & ~np.isnan(y) & (g >= 0)
    w = design.weights
    yy = np.nan_to_num(y)
    # R: svyquantile(na.rm=TRUE) on each domain's design uses degf() of that design
    # after dropping the missing rows.
    dfs = design.group_degf(g, G, mask=~np.isnan(y)).astype(float)
    rows = []
    for j in range(G):  # loop over domains, each vectorised over respondents
        tq = float(t_quantile(level, dfs[j]))
        in_g = dom & (g == j)
        if not (in_g & (w > 0)).any():
            raise EstimationError(f"quantile: domain {j} of {by!r} has no respondent with a value of {variable!r}")
        qhat = qrule_math(yy[in_g], w[in_g], qs)
        # Indicators x <= q_hat for every q at once, their domain means and SEs.
        ind = (yy[:, None] <= qhat[None, :]).astype(float)
        res = ratio_estimate(ind, np.ones_like(ind), in_g, np.zeros_like(g), 1, w, **design.variance_args())
        m = res.estimate[0]
        se_m = np.sqrt(np.clip(np.diag(res.vcov), 0, None))
        p_lo, p_hi = m - tq * se_m, m + tq * se_m
        lo = np.where(p_lo < 0, np.nan, qrule_math(yy[in_g], w[in_g], p_lo))
        hi = np.where(p_hi > 1, np.nan, qrule_math(yy[in_g], w[in_g], p_hi))
        for k, qk in enumerate(qs):
            rows.append({**labels.iloc[j].to_dict(), "variable": variable, "quantile": qk,
                         "estimate": qhat[k], "se": (hi[k] - lo[k]) / (2 * tq),
                         "ci_low": lo[k], "ci_high": hi[k], "n": int(res.n[0]), "weighted_n": res.weighted_n[0],
                         "df": dfs[j]})
    out = pd.DataFrame(rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["cv"] = out["se"] / out["estimate"]
    out["deff"] = np.nan  # R's svyquantile defines no design effect for quantiles
    out["method"] = design.method
    out["lonely_psu"] = design.lonely_psu
    first = [c for c in out.columns if c not in _ORDER]
    return out[first + _ORDER]
