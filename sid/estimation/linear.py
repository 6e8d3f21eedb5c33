"""Ratio-of-totals estimators in domains, with their influence values or replicate estimates.

Every linear estimator of sid is a ratio T_Y / T_X of weighted totals within a group:
a total (X absent), a mean (X = 1), a proportion (Y = category indicator, X = 1) or a
ratio. Its influence value for row i of group g is ``w_i (y_i - r_g x_i) / T_X,g``
(R survey: ``svymean``, ``svytotal``, ``svyratio`` for ``survey.design2``); rows outside
the group, outside the domain or with a missing value get zero (R's ``na.rm=TRUE`` on a
domain: they stay in the design).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sid.estimation.factored import is_factored


@dataclass(frozen=True)
class RatioResult:
    """Estimates (G x m), their covariance over the G*m cells (group-major), and counts;
    ``influence`` the Taylor influence columns (sparse n x G*m, before calibration);
    ``replicates`` the replicate estimates (G x m x R) where kept."""

    estimate: np.ndarray
    vcov: np.ndarray
    numerator: np.ndarray
    denominator: np.ndarray
    n: np.ndarray
    weighted_n: np.ndarray
    influence: sp.csr_matrix | None
    replicates: np.ndarray | None = None


def group_totals(values: np.ndarray, g: np.ndarray, rows: np.ndarray, G: int, w) -> np.ndarray:
    """Weighted totals (G x m [x R]) of ``values`` (n x m) over ``rows``, per group code ``g``.

    ``w`` is (n,) (np.bincount per column) or (n x R) replicate weights (one sparse
    product); no loop over rows.
    """
    n, m = values.shape
    r = rows
    if np.ndim(w) == 1:
        # Over all rows with zero outside ``rows`` (adding 0.0 leaves every sum exact):
        # cheaper than gathering the rows, and the same order of summation.
        inside = np.zeros(n, dtype=bool)
        inside[r] = True
        gg = np.maximum(g, 0)
        if m == 1:
            return np.bincount(gg, weights=np.where(inside, values[:, 0] * w, 0.0), minlength=G)[:, None]
        # A sparse (G x n) indicator of the rows times the weighted values: per group the
        # rows are added in row order from 0.0, as np.bincount does (the same sums),
        # without an (n x m) key array; no Python loop over the m columns.
        idx = np.int32 if n < np.iinfo(np.int32).max else np.int64
        indptr = np.zeros(n + 1, dtype=idx)
        indptr[r + 1] = 1
        np.cumsum(indptr, out=indptr)
        ind = sp.csc_matrix((np.ones(r.shape[0]), g[r].astype(idx), indptr), shape=(G, n), copy=False)
        return np.asarray(ind @ (values * w[:, None]))
    if is_factored(w):
        out = w.group_totals(values, g, r, G)
        if out is not None:
            return out
    # Sparse (G*m x n) indicator, built column by column (CSC: rows are already in
    # order) and without the zeros of category indicators: work ~ non-zeros x R.
    idx = np.int32 if r.shape[0] * m < np.iinfo(np.int32).max else np.int64  # scipy's own index type
    vals = values[r]
    cells = (g[r] * m).astype(idx)[:, None] + np.arange(m, dtype=idx)[None, :]
    keep = vals != 0
    if keep.all():
        data, cells, count = vals.ravel(), cells.ravel(), m
    else:
        data, cells, count = vals[keep], cells[keep], keep.sum(axis=1, dtype=idx)
    indptr = np.zeros(n + 1, dtype=idx)
    indptr[r + 1] = count
    np.cumsum(indptr, out=indptr)
    ind = sp.csc_matrix((data, cells, indptr), shape=(G * m, n), copy=False)
    out = w.left(ind) if is_factored(w) else ind @ w
    return np.asarray(out).reshape((G, m) + np.shape(w)[1:])


def _is_partition(Y: np.ndarray, rows: np.ndarray) -> bool:
    """True when ``Y`` over ``rows`` is 0/1 with exactly one 1 per row (category indicators)."""
    vals = Y[rows]
    return Y.shape[1] > 1 and bool(((vals == 0) | (vals == 1)).all()) and bool((vals.sum(axis=1) == 1).all())


_CACHED_GROUPINGS = 8


def _weight_totals(g: np.ndarray, rows: np.ndarray, G: int, W: np.ndarray, cache: dict | None) -> np.ndarray:
    """Totals (G x 1 x R) of the replicate weights ``W`` over ``rows`` per group: the
    denominators of means. With ``cache`` (kept with the replicate weights): the totals
    over every grouped row, one product per grouping, minus those of the rows left out
    (missing values: few), instead of a second product over all rows per estimate."""
    n = g.shape[0]
    valid = g >= 0
    n_left = int(np.count_nonzero(valid)) - rows.shape[0]
    if cache is None or n_left > rows.shape[0] // 4:
        return group_totals(np.ones((n, 1)), g, rows, G, W)
    hit = cache.get(id(g))
    if hit is None or hit[0] is not g:
        if len(cache) >= _CACHED_GROUPINGS:
            cache.pop(next(iter(cache)))
        hit = cache[id(g)] = (g, group_totals(np.ones((n, 1)), g, np.flatnonzero(valid), G, W))
    if n_left == 0:
        return hit[1]
    inside = np.zeros(n, dtype=bool)
    inside[rows] = True
    left = np.flatnonzero(valid & ~inside)
    ind = sp.csr_matrix((np.ones(left.shape[0]), (g[left], np.arange(left.shape[0]))), shape=(G, left.shape[0]))
    return hit[1] - np.asarray(ind @ W[left])[:, None, :]


def ratio_estimate(
    Y: np.ndarray,
    X: np.ndarray | None,
    dom: np.ndarray,
    g: np.ndarray,
    G: int,
    w: np.ndarray,
    variance,
    repweights: np.ndarray | None = None,
    replicate_variance=None,
    rep_cache: dict | None = None,
) -> RatioResult:
    """Domain ratio estimator of ``Y`` (n x m) over ``X`` (n x m, None for a total).

    ``dom`` (n,) rows that count; ``g`` group codes; ``w`` (n,) analysis weights;
    ``variance(U)`` maps influence columns U (scipy.sparse n x k) to a k x k covariance (Taylor);
    with ``repweights`` (n x R), ``replicate_variance(thetas, theta)`` is used instead;
    ``rep_cache`` (a dict kept with the replicate weights) holds their group totals.
    """
    rows = np.flatnonzero(dom & (g >= 0))
    m = Y.shape[1]
    ty = group_totals(Y, g, rows, G, w)
    ones = X is not None and m > 1 and bool((X[rows] == 1).all())
    if X is None:
        tx = np.ones_like(ty)
        est = ty
    else:
        # Means and shares (X = 1 in every column): one column of totals serves all m.
        tx = group_totals(X[:, :1] if ones else X, g, rows, G, w)
        tx = np.repeat(tx, m, axis=1) if ones else tx
        with np.errstate(divide="ignore", invalid="ignore"):
            est = ty / tx
    n_count = np.bincount(g[rows], minlength=G).astype(float)
    wn = np.bincount(g[rows], weights=w[rows], minlength=G)
    U = None
    if repweights is None:
        # Sparse influence columns (n x G*m): row i is non-zero only in its own group's m
        # columns, so the variance works on O(n m) values, not on an n x G*m array.
        gr = g[rows]
        if X is None:
            vals = w[rows, None] * Y[rows]
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                vals = w[rows, None] * (Y[rows] - est[gr] * X[rows]) / tx[gr]
        counts = np.zeros(Y.shape[0] + 1, dtype=np.int64)
        counts[rows + 1] = m
        cols = (gr * m)[:, None] + np.arange(m)[None, :]
        U = sp.csr_matrix((vals.ravel(), cols.ravel(), np.cumsum(counts)), shape=(Y.shape[0], G * m))
        V = variance(U)
    else:
        # The cost is the product with the n x R replicate weights, ~ its non-zeros x R.
        if X is None:
            est_r = group_totals(Y, g, rows, G, repweights)
        elif ones and _is_partition(Y, rows):
            # Shares: the denominator is the sum of the category totals, no second product.
            ty_r = group_totals(Y, g, rows, G, repweights)
            with np.errstate(divide="ignore", invalid="ignore"):
                est_r = ty_r / ty_r.sum(axis=1, keepdims=True)
        elif (ones or m == 1) and bool((X[rows, 0] == 1).all()):
            # Means: the denominators are totals of the replicate weights themselves.
            ty_r = group_totals(Y, g, rows, G, repweights)
            with np.errstate(divide="ignore", invalid="ignore"):
                est_r = ty_r / _weight_totals(g, rows, G, repweights, rep_cache)
        else:
            # Numerator and denominator columns in one product (one pass over the weights).
            both = group_totals(np.concatenate([Y, X], axis=1), g, rows, G, repweights)
            with np.errstate(divide="ignore", invalid="ignore"):
                est_r = both[:, :m] / both[:, m:]
        thetas = est_r.reshape(G * m, -1).T
        V = replicate_variance(thetas, est.ravel())
    return RatioResult(est, V, ty, tx, n_count, wn, U)
