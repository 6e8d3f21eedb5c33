"""Differences of category shares between domains (each domain minus a reference domain).

``Design.compare`` tests differences of domain means; a table of a categorical variable
needs the same for every category share at once. The shares of all domains and
categories come from one domain ratio estimate of the category indicators
(sid.estimation.linear.ratio_estimate, the estimator ``Design.proportion`` uses) with
their joint covariance V over the G x m cells (Taylor, calibration-aware, or replicate, as
the design says). For domain g, category k and reference domain r:

    d = p_gk - p_rk,   var(d) = V[gk, gk] + V[rk, rk] - 2 V[gk, rk],

a t-test on the design's degrees of freedom (R: ``svycontrast`` on ``svyby(~I(y==k), ~g,
svymean, covmat=TRUE)``). All cells are computed by array indexing, no loop over cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sid.errors import EstimationError
from sid.estimation.estimators import categories_of, groups
from sid.estimation.intervals import t_interval
from sid.estimation.linear import ratio_estimate
from sid.tables.labels import code_key


def domain_keys(labels: pd.DataFrame, names: list[str]) -> np.ndarray:
    """One text key per domain: the codes (normal form) of its variables joined by ":"."""
    keys = labels[names[0]].map(code_key).astype(str)
    for name in names[1:]:
        keys = keys.str.cat(labels[name].map(code_key).astype(str), sep=":")
    return keys.to_numpy(dtype=object)


def reference_index(labels: pd.DataFrame, names: list[str], reference, by_name: str) -> int:
    """Row of ``labels`` whose domain key (codes joined by ":") equals ``reference``."""
    keys = domain_keys(labels, names)
    hits = np.flatnonzero(keys == code_key(reference))
    if hits.size == 0:
        raise EstimationError(f"compare: reference {reference!r} is not a category of domain {by_name!r} "
                              f"in the data; categories: {', '.join(keys)}")
    return int(hits[0])


def proportion_differences(design, variable: str, by: list[str], reference,
                           level: float = 0.95) -> pd.DataFrame:
    """Per domain of ``by`` (a variable or a crossing; except the reference) and category of ``variable``:
    domain, category, estimate (the domain's share), difference, se, ci_low, ci_high, t,
    df, p, n (unweighted n of the domain), n_reference."""
    codes, cats = categories_of(design, variable)
    if cats.shape[0] == 0:
        raise EstimationError(f"compare: variable {variable!r} has no non-missing values")
    g, labels, names = groups(design, by)
    G, m = len(labels), cats.shape[0]
    r = reference_index(labels, names, reference, ":".join(names))
    dom = design.domain & (codes >= 0)
    Y = np.zeros((codes.shape[0], m))
    ok = np.flatnonzero(codes >= 0)
    Y[ok, codes[ok]] = 1.0
    res = ratio_estimate(Y, np.ones_like(Y), dom, g, G, design.weights, **design.variance_args())
    p = res.estimate  # G x m
    V = res.vcov
    cell = np.arange(G)[:, None] * m + np.arange(m)[None, :]
    ref = r * m + np.arange(m)
    var = V[cell, cell] + V[ref, ref][None, :] - 2 * V[cell, np.broadcast_to(ref, cell.shape)]
    se = np.sqrt(np.clip(var, 0, None))
    diff = p - p[r][None, :]
    df = float(design.degf)
    lo, hi = t_interval(diff, se, df, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = diff / se
    keep = np.arange(G) != r
    out = labels.loc[np.repeat(np.flatnonzero(keep), m)].reset_index(drop=True)
    out["category"] = np.tile(cats, int(keep.sum()))
    out["estimate"] = p[keep].ravel()
    out["difference"] = diff[keep].ravel()
    out["se"] = se[keep].ravel()
    out["ci_low"] = lo[keep].ravel()
    out["ci_high"] = hi[keep].ravel()
    out["t"] = t[keep].ravel()
    out["df"] = df
    out["p"] = 2 * stats.t.sf(np.abs(out["t"].to_numpy()), df)
    out["n"] = np.repeat(res.n[keep], m).astype(np.int64)
    out["n_reference"] = int(res.n[r])
    out["reference"] = domain_keys(labels, names)[r]
    return out


def domain_counts(design, valid: np.ndarray, by) -> tuple[pd.DataFrame, np.ndarray]:
    """Domain labels and unweighted n of rows with ``valid`` values in each domain."""
    g, labels, _ = groups(design, by)
    rows = design.domain & valid & (g >= 0)
    return labels, np.bincount(g[rows], minlength=len(labels))
