"""Weighting diagnostics: the spread of weights per group, and margins before and after.

Kish's design effect due to unequal weighting (Kish 1965, Survey Sampling, sec. 11.7;
Kish 1992, J. Official Statistics 8:183-200): deff_w = n * sum(w^2) / (sum w)^2, and the
effective sample size n_eff = (sum w)^2 / sum(w^2) = n / deff_w. Quantiles are numpy's
default (linear interpolation, R's type 7). All per-group figures come from grouped sums
(np.bincount) and one sort, never a loop over respondents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from sid.errors import WeightingError
from sid.weighting.compress import group_codes

__all__ = ["QUANTILES", "weight_summary", "margin_table"]

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def _grouped_quantiles(
    w: np.ndarray, codes: np.ndarray, k: int, qs: tuple[float, ...]
) -> np.ndarray:
    """Type-7 quantiles of w within each group: (k, len(qs))."""
    order = np.lexsort((w, codes))
    ws = w[order]
    counts = np.bincount(codes, minlength=k)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = np.empty((k, len(qs)))
    for j, q in enumerate(qs):  # a handful of quantiles, each vectorised over groups
        h = (counts - 1) * q
        lo = np.floor(h).astype(np.int64)
        hi = np.minimum(lo + 1, counts - 1)
        frac = h - lo
        out[:, j] = ws[start + lo] + frac * (ws[start + hi] - ws[start + lo])
    return out


def weight_summary(
    weights: np.ndarray,
    groups: np.ndarray | pd.Series | None = None,
    *,
    trimmed: np.ndarray | None = None,
    quantiles: tuple[float, ...] = QUANTILES,
) -> pd.DataFrame:
    """One row per group (and "all"): n, sum, min, quantiles, max, max/min, deff, n_eff, trimmed.

    weights: (n,) weights of the respondents; groups: (n,) group labels (SID: origin
    group), or None for the whole sample only; trimmed: (n,) bool, units set to a
    trimming bound. max_min_ratio is NaN when the smallest weight is <= 0 (linear
    calibration can give such weights; ``n_nonpositive`` counts them).
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or not np.isfinite(w).all() or w.size == 0:
        raise WeightingError("weight diagnostics: weights must be a non-empty finite (n,) array")
    if groups is None:
        codes, labels = np.zeros(w.size, dtype=np.int64), np.array(["all"], dtype=object)
    else:
        codes, labels = group_codes(groups, "weight diagnostics: group")
        codes = np.concatenate([codes, np.full(w.size, len(labels))])
        labels = np.append(labels, "all")
        w = np.concatenate([w, w])
        if trimmed is not None:
            trimmed = np.concatenate([np.asarray(trimmed), np.asarray(trimmed)])
    k = len(labels)
    n = np.bincount(codes, minlength=k).astype(float)
    s1 = np.bincount(codes, weights=w, minlength=k)
    s2 = np.bincount(codes, weights=w * w, minlength=k)
    qv = _grouped_quantiles(w, codes, k, (0.0, *quantiles, 1.0))
    wmin, wmax = qv[:, 0], qv[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(wmin > 0, wmax / np.where(wmin > 0, wmin, 1.0), np.nan)
        deff = n * s2 / s1**2
        neff = s1**2 / s2
    out = pd.DataFrame({"group": labels, "n": n.astype(np.int64), "sum": s1, "min": wmin})
    for j, q in enumerate(quantiles):
        out[f"p{round(q * 100):02d}"] = qv[:, j + 1]
    out["max"] = wmax
    out["max_min_ratio"] = ratio
    out["deff_kish"] = deff
    out["n_eff"] = neff
    out["n_nonpositive"] = np.bincount(codes, weights=(w <= 0), minlength=k).astype(np.int64)
    if trimmed is not None:
        out["n_trimmed"] = np.bincount(
            codes, weights=np.asarray(trimmed, dtype=float), minlength=k
        ).astype(np.int64)
    return out


def margin_table(
    X: sp.spmatrix | np.ndarray,
    totals: np.ndarray,
    names: list[str],
    before: np.ndarray,
    after: np.ndarray,
) -> pd.DataFrame:
    """Each margin's population total, weighted total before and after an adjustment.

    X, totals, names as from :func:`sid.weighting.margins.calibration_matrix`; before and
    after: (n,) weights. rel_diff_* = (weighted - population) / population.
    """
    X = sp.csr_matrix(X)
    t = np.asarray(totals, dtype=float)
    if X.shape[1] != t.size or len(names) != t.size:
        raise WeightingError("margin table: X, totals and names disagree in length")
    b = X.T @ np.asarray(before, dtype=float)
    a = X.T @ np.asarray(after, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                "margin": names,
                "population": t,
                "before": b,
                "after": a,
                "rel_diff_before": (b - t) / t,
                "rel_diff_after": (a - t) / t,
            }
        )
