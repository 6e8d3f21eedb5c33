"""Several variables in one estimator call: one product with the replicate weights (W'Y).

Every ``Design.mean`` (and ``total``, ``proportion``, ``count``; one variable is a list
of one) stacks the columns of every variable into one (n x m) block Y (a variable's value, or its categories' indicators; 0
where it is missing) and, per variable, its non-missing mask M_j: R's ``na.rm=TRUE`` on
a domain keeps the row in the design but out of that variable's numerator and
denominator. The ratio of totals of column c of variable j is T(Y_c) / T(M_j) (a total:
T(Y_c)); its influence value w_i (y_ic - r_c m_ij) / T(M_j) is zero for the rows missing
j, so the Taylor covariance of all columns comes from one sparse influence matrix, and
the replicate totals of all columns (and of the masks with many missing rows) from one
sparse x dense product with the n x R replicate weights. Results equal per-variable
calls bit for bit (the same sums in the same order; each variable's covariance from its
own columns, as a matrix product of another shape may round differently).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from sid.estimation.linear import RatioResult, _weight_totals, group_totals


def _replicate_ratios(Y: np.ndarray, M: np.ndarray, var_of: np.ndarray, rows: np.ndarray, g: np.ndarray,
                      G: int, W: np.ndarray, kind: str, cache: dict | None) -> np.ndarray:
    """Replicate estimates (G x m x R) of every column of ``Y`` with ONE product with ``W``.

    kind "total": the totals of Y. "share": the columns of a variable are its categories,
    so its denominator is the sum of their totals. "mean": a mask with few missing rows
    takes its denominator from the cached group totals of W (minus the rows left out,
    as a single-variable mean does); the other masks join Y in the product.
    """
    if kind == "total":
        return group_totals(Y, g, rows, G, W)
    k = M.shape[1]
    if kind == "share":
        ty_r = group_totals(Y, g, rows, G, W)
        den = np.stack([ty_r[:, var_of == j].sum(axis=1) for j in range(k)], axis=1)
    else:
        n_valid = int(np.count_nonzero(g >= 0))
        in_rows = [rows[M[rows, j] != 0] for j in range(k)]
        cached = [cache is not None and n_valid - r.shape[0] <= r.shape[0] // 4 for r in in_rows]
        product = [j for j in range(k) if not cached[j]]
        both = group_totals(np.concatenate([Y, M[:, product]], axis=1), g, rows, G, W)
        m = Y.shape[1]
        ty_r = both[:, :m]
        den = np.empty((G, k, W.shape[1]))
        for pos, j in enumerate(product):
            den[:, j] = both[:, m + pos]
        for j in range(k):
            if cached[j]:
                den[:, j] = _weight_totals(g, in_rows[j], G, W, cache)[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        return ty_r / den[:, var_of]


def _influence(vals: np.ndarray, rows: np.ndarray, g: np.ndarray, n: int, G: int) -> sp.csr_matrix:
    """Sparse influence columns (n x G m) of ``vals`` (rows x m): row i in its group's m columns."""
    m = vals.shape[1]
    counts = np.zeros(n + 1, dtype=np.int64)
    counts[rows + 1] = m
    cols = (g[rows] * m)[:, None] + np.arange(m)[None, :]
    return sp.csr_matrix((vals.ravel(), cols.ravel(), np.cumsum(counts)), shape=(n, G * m))


def multi_ratio_estimate(
    Y: np.ndarray,
    M: np.ndarray,
    var_of: np.ndarray,
    kind: str,
    dom: np.ndarray,
    g: np.ndarray,
    G: int,
    w: np.ndarray,
    variance,
    repweights: np.ndarray | None = None,
    replicate_variance=None,
    rep_cache: dict | None = None,
) -> tuple[RatioResult, list[np.ndarray]]:
    """Estimates of the columns of ``Y`` (n x m) of k variables in groups ``g`` (G groups).

    ``M`` (n x k) 0/1: variable j is not missing; ``var_of`` (m,) the variable of each
    column (a variable's columns consecutive); ``kind`` "mean", "total" or "share"
    (columns of a variable partition its non-missing rows); ``dom`` (n,) the design's
    domain. Returns a RatioResult (``vcov`` None) whose ``n`` and ``weighted_n`` are per
    cell (G x m): respondents (and their weights) with a value of the column's variable,
    and (replicate designs) its replicate estimates (G x m x R);
    and per variable j the covariance of its G x m_j cells (group-major). The influence
    values (Taylor) or replicate estimates of all columns are computed at once; each
    variable's covariance is then taken from its own columns, with the arithmetic (and
    the rounding) of a per-variable call. Variance arguments as
    :func:`sid.estimation.linear.ratio_estimate`.
    """
    n, k = M.shape
    est_r = None
    rows = np.flatnonzero(dom & (g >= 0))
    ratio = kind != "total"
    # Value and mask totals in one grouped sum (per cell in row order, as np.bincount):
    # ty (G x m), wn (G x k); the counts per variable are exact integer sums.
    both = group_totals(np.concatenate([Y, M], axis=1), g, rows, G, w)
    ty, wn = both[:, :Y.shape[1]], both[:, Y.shape[1]:]
    nk = group_totals(M, g, rows, G, np.ones(n))
    tx = wn[:, var_of] if ratio else np.ones_like(ty)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = ty / tx if ratio else ty
    columns = [np.flatnonzero(var_of == j) for j in range(k)]
    if repweights is None:
        gr = g[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            # Evaluated as ratio_estimate does (same rounding): w (y - r x), then / T_x.
            vals = w[rows, None] * Y[rows] if not ratio else \
                w[rows, None] * (Y[rows] - est[gr] * M[rows][:, var_of]) / tx[gr]
        vcovs = []
        for j, cols in enumerate(columns):
            keep = M[rows, j] != 0  # the rows missing j stay out of its influence matrix
            vcovs.append(variance(_influence(vals[np.ix_(keep, cols)], rows[keep], g, n, G)))
    else:
        est_r = _replicate_ratios(Y, M, var_of, rows, g, G, repweights, kind, rep_cache)
        vcovs = [replicate_variance(est_r[:, cols].reshape(G * cols.shape[0], -1).T, est[:, cols].ravel())
                 for cols in columns]
    return RatioResult(est, None, ty, tx, nk[:, var_of], wn[:, var_of], None, est_r), vcovs


def srs_variances(Y: np.ndarray, M: np.ndarray, var_of: np.ndarray, g: np.ndarray, G: int, w: np.ndarray,
                  dom: np.ndarray, res: RatioResult, kind: str) -> np.ndarray:
    """R's deff denominators (G x m) of all columns at once: var_srs = s_w^2 / n (N - n)
    / N for means and shares, s_w^2 N^2 / n (N - n) / N for totals (R ``svytotal``),
    s_w^2 the weighted variance (divisor n - 1, R ``svyvar``) over the rows with a value
    of the column's variable."""
    rows = np.flatnonzero(dom & (g >= 0))
    mean_y = res.numerator / np.where(res.weighted_n > 0, res.weighted_n, np.nan)
    # Per variable over its rows with a value (the others would add 0.0; the squares are
    # >= 0): the same sums in row order, without (n x m) masks and temporaries.
    wsum = np.empty((G, Y.shape[1]))
    for j in range(M.shape[1]):
        cols = np.flatnonzero(var_of == j)
        rj = rows[M[rows, j] != 0]
        gj = g[rj]
        wsq = (Y[np.ix_(rj, cols)] - mean_y[:, cols][gj]) ** 2 * w[rj, None]
        ind = sp.csr_matrix((np.ones(rj.shape[0]), (gj, np.arange(rj.shape[0]))), shape=(G, rj.shape[0]))
        wsum[:, cols] = np.asarray(ind @ wsq)
    n_g = res.n
    N_g = res.weighted_n
    with np.errstate(divide="ignore", invalid="ignore"):
        svyvar = wsum / N_g * n_g / (n_g - 1)
        fpc = (N_g - n_g) / N_g
        if kind != "total":
            return svyvar / n_g * fpc
        return svyvar * N_g**2 / n_g * fpc
