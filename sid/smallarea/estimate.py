"""Fay-Herriot small-area estimates of one indicator for every area: the whole chain.

direct estimates and variances -> variance smoothing (GVF) for areas with few
respondents -> optional arcsine scale for shares -> FH fit (REML or ML) on the sampled
areas -> EBLUP with Prasad-Rao / Datta-Lahiri MSE, synthetic estimates for areas without
sample -> optional benchmarking to the direct regional estimate -> diagnostics. Each step
is a function of its own module (fh, gvf, transform, benchmark); this module only
composes them. Formulas and their sources: see those modules (Rao & Molina 2015, ch. 6).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from sid.errors import EstimationError
from sid.smallarea.benchmark import benchmark as _benchmark
from sid.smallarea.fh import FHFit, eblup, fit_fh, gamma, mse, synthetic
from sid.smallarea.gvf import smooth_variances
from sid.smallarea.transform import from_arcsine

COLUMNS = ["area", "n", "direct", "direct_se", "psi", "psi_smoothed", "gamma", "synthetic",
           "estimate", "mse", "se", "ci_low", "ci_high", "cv_direct", "cv", "std_residual", "method"]


def _arcsine_inputs(y, psi, n, reliable, kish=None):
    """z and psi_z = c k_i / (4 n_i): k_i the area's Kish design effect (1 without
    ``kish``) and c = mean over reliable areas of n psi / (p (1 - p) k) a pooled design
    effect beyond the weighting (a GVF on the arcsine scale, defined also where p is 0 or 1)."""
    k = np.ones_like(n) if kish is None else np.asarray(kish, dtype=float)
    ok = reliable & (y > 0) & (y < 1) & (psi > 0)
    if not ok.any():
        raise EstimationError("arcsine transformation: no reliable area with 0 < share < 1; "
                              "lower min_n or fit on the original scale")
    c = float(np.mean(n[ok] * psi[ok] / (y[ok] * (1 - y[ok]) * k[ok])))
    return np.arcsin(np.sqrt(np.clip(y, 0, 1))), c * k / (4.0 * n)


def fay_herriot(areas, y, psi, n, X, method: str = "REML", transform: str | None = None,
                gvf_model: str = "loglinear", min_n: int = 10, population=None, total: float | None = None,
                benchmark: str | None = None, level: float = 0.95, tol: float = 1e-10, max_iter: int = 100,
                name: str = "indicator", deff=None, smooth: str = "unreliable",
                anticipated=None) -> tuple[pd.DataFrame, FHFit]:
    """Small-area estimates for every area in ``areas``; returns (frame, fit).

    y, psi, n: direct estimate, design variance and respondent count per area (NaN, NaN,
    0 for areas without sample); X: covariates per area (m x p, with the intercept).
    transform: None or "arcsine" (y are shares in [0, 1]). Variances of areas with
    n < min_n (or psi not > 0; every area with ``smooth="all"``) are replaced by the GVF
    ``gvf_model``; on the arcsine scale psi_z = c deff_i / (4 n) with a pooled c. deff: the
    Kish design effect per area (``direct_estimates``' column), needed by gvf_model "deff"
    and used on the arcsine scale when given. For weights that differ much between groups
    use gvf_model="deff", smooth="all" (see sid.smallarea.gvf), or better gvf_model="register"
    with ``anticipated`` = (psi, m, k) per area from the register composition
    (:func:`sid.smallarea.register_gvf.anticipated_variances`; "weights": the same from
    ``realised_variances``, for clustered designs): every sampled area's psi is
    then the anticipated variance, and on the arcsine scale k / 4 (k = 1 / n_eff). population, total, benchmark: population
    sizes per area, the direct regional estimate and "ratio"/"difference" to benchmark
    (None: no benchmarking). Frame columns: see ``COLUMNS``; ``method`` is "EBLUP-REML",
    "EBLUP-ML" or "synthetic" per area; mse/se/CI are those of the unbenchmarked EBLUP.
    """
    if transform not in (None, "arcsine"):
        raise EstimationError(f"Fay-Herriot ({name}): transform {transform!r} is not None or 'arcsine'")
    y = np.asarray(y, dtype=float)
    psi = np.asarray(psi, dtype=float)
    n = np.asarray(n, dtype=float)
    X = np.asarray(X, dtype=float)
    s = n > 0
    if s.sum() == 0:
        raise EstimationError(f"Fay-Herriot ({name}): no area has respondents")
    if np.isnan(y[s]).any():
        raise EstimationError(f"Fay-Herriot ({name}): area {areas[int(np.flatnonzero(s & np.isnan(y))[0])]!r} has "
                              "respondents but no direct estimate")
    if deff is not None:
        deff = np.where(s, np.asarray(deff, dtype=float), 1.0)
    psi_used = np.full_like(psi, np.nan)
    smoothed = np.zeros(len(y), dtype=bool)
    if gvf_model in ("register", "weights"):
        if anticipated is None:
            raise EstimationError(f"Fay-Herriot ({name}): gvf_model {gvf_model!r} needs the anticipated variances; "
                                  "give anticipated=(psi, m, k) from sid.smallarea.register_gvf")
        a_psi, _, a_k = (np.asarray(a, dtype=float) for a in anticipated)
        smoothed[s] = True
        if transform == "arcsine":
            y_fit, psi_used[s] = np.arcsin(np.sqrt(np.clip(y[s], 0, 1))), a_k[s] / 4.0
        else:
            y_fit, psi_used[s] = y[s], a_psi[s]
        bad = ~(np.isfinite(psi_used[s]) & (psi_used[s] > 0))
        if bad.any():
            raise EstimationError(f"Fay-Herriot ({name}): area {areas[int(np.flatnonzero(s)[bad][0])]!r} gets design "
                                  f"variance {psi_used[s][bad][0]:g} from the {gvf_model} model, not > 0 (its cells "
                                  "have no variance: a share everyone answers alike); use transform: arcsine")
    elif transform == "arcsine":
        z, psi_z = _arcsine_inputs(y[s], psi[s], n[s], n[s] >= min_n, None if deff is None else deff[s])
        psi_used[s], smoothed[s], y_fit = psi_z, True, z
    else:
        psi_used[s], smoothed[s] = smooth_variances(psi[s], n[s], gvf_model, min_n, smooth, name,
                                                    None if deff is None else deff[s])
        y_fit = y[s]
    fit = fit_fh(y_fit, psi_used[s], X[s], method=method, tol=tol, max_iter=max_iter, name=name)
    est = np.full(len(y), np.nan)
    m_ = np.full(len(y), np.nan)
    g = np.full(len(y), np.nan)
    resid = np.full(len(y), np.nan)
    est[s] = eblup(fit, y_fit, psi_used[s], X[s])
    m_[s] = mse(fit, psi_used[s], X[s])
    g[s] = gamma(fit, psi_used[s])
    syn_all, syn_mse = synthetic(fit, X)
    resid[s] = (y_fit - syn_all[s]) / np.sqrt(fit.sigma2_u + psi_used[s])
    est[~s], m_[~s] = syn_all[~s], syn_mse[~s]
    q = float(norm.ppf(0.5 + level / 2))
    if transform == "arcsine":
        est, m_, lo, hi = from_arcsine(est, m_, q)
        syn_all = np.sin(syn_all) ** 2
    else:
        lo, hi = est - q * np.sqrt(m_), est + q * np.sqrt(m_)
    if benchmark is not None:
        if population is None or total is None:
            raise EstimationError(f"Fay-Herriot ({name}): benchmarking needs population sizes per area and the "
                                  "direct regional total; give population= and total=")
        new = _benchmark(est, population, total, benchmark, name)
        if benchmark == "ratio":
            f = np.divide(new, est, out=np.ones_like(est), where=est != 0)
            lo, hi = lo * f, hi * f
        else:
            lo, hi = lo + (new - est), hi + (new - est)
        est = new
    with np.errstate(divide="ignore", invalid="ignore"):
        direct_se = np.sqrt(psi)
        frame = pd.DataFrame({
            "area": list(areas), "n": n.astype(np.int64), "direct": np.where(s, y, np.nan),
            "direct_se": np.where(s, direct_se, np.nan), "psi": psi_used, "psi_smoothed": smoothed,
            "gamma": g, "synthetic": syn_all, "estimate": est, "mse": m_, "se": np.sqrt(m_),
            "ci_low": lo, "ci_high": hi, "cv_direct": np.where(s, direct_se / np.abs(y), np.nan),
            "cv": np.sqrt(m_) / np.abs(est), "std_residual": resid,
            "method": np.where(s, f"EBLUP-{fit.method}", "synthetic"),
        })
    return frame[COLUMNS], fit


def diagnostics(frame: pd.DataFrame, fit: FHFit) -> dict:
    """Summary of a fit: sigma2_u (and whether truncated at 0), beta, iterations, the
    shrinkage range, standardised residuals beyond +-2 (expected ~5 % under the model),
    and the median CV of the direct estimates against that of the EBLUPs."""
    s = frame["n"] > 0
    r = frame.loc[s, "std_residual"]
    return {
        "method": fit.method, "sigma2_u": fit.sigma2_u, "truncated": fit.truncated,
        "iterations": fit.iterations, "beta": [float(b) for b in fit.beta],
        "areas_sampled": int(s.sum()), "areas_synthetic": int((~s).sum()),
        "gamma_min": float(frame.loc[s, "gamma"].min()), "gamma_max": float(frame.loc[s, "gamma"].max()),
        "std_residual_beyond_2": int((r.abs() > 2).sum()),
        "median_cv_direct": float(frame.loc[s, "cv_direct"].replace(np.inf, np.nan).median()),
        "median_cv_eblup": float(frame.loc[s, "cv"].median()),
    }
