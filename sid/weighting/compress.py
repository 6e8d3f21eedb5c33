"""Sparse helpers of calibration: identical rows of X collapsed, cross-products as p x p.

Calibration factors depend on a respondent only through its row x_i of X (g_i =
F(x_i'lambda)), so respondents with identical rows can be solved as one unit carrying
their summed weight, exactly. With categorical margins only, 350,000 respondents collapse
to the few hundred cells of the margins' cross-classification.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from sid.errors import WeightingError

__all__ = ["padded_rows", "unique_rows", "group_sum", "pair_matrix", "group_codes"]


def padded_rows(X: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Column indices (n, k) and values (n, k) of each row's non-zeros, padded with -1 / 0.

    k is the largest number of non-zeros in a row (the number of margins, typically).
    """
    X = sp.csr_matrix(X)
    X.eliminate_zeros()
    X.sort_indices()
    n = X.shape[0]
    counts = np.diff(X.indptr)
    k = int(counts.max()) if n and X.nnz else 0
    cols = np.full((n, max(k, 1)), -1, dtype=np.int64)
    vals = np.zeros((n, max(k, 1)))
    if X.nnz:
        row = np.repeat(np.arange(n), counts)
        pos = np.arange(X.nnz) - X.indptr[row]
        cols[row, pos] = X.indices
        vals[row, pos] = X.data
    return cols, vals


def unique_rows(X: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
    """Distinct rows of X (CSR, n_u x p) and, for every row of X, the index of its distinct row."""
    cols, vals = padded_rows(X)
    vals = vals + 0.0  # turn -0.0 into 0.0 so that equal values have equal bits
    key = np.concatenate([cols, vals.view(np.int64)], axis=1)
    key = np.ascontiguousarray(key).view(np.dtype((np.void, key.dtype.itemsize * key.shape[1])))
    _, first, inverse = np.unique(key.ravel(), return_index=True, return_inverse=True)
    return sp.csr_matrix(X)[first], inverse.ravel().astype(np.int64)


def group_sum(values: np.ndarray, groups: np.ndarray, ngroups: int) -> np.ndarray:
    """Sum of ``values`` (n,) or (n, R) within integer ``groups`` (n,): (ngroups,) or (ngroups, R)."""
    if values.ndim == 1:
        return np.bincount(groups, weights=values, minlength=ngroups)
    # a sparse group-indicator product: one pass over (n, R), no (n, R) index array
    n = groups.shape[0]
    A = sp.csr_matrix((np.ones(n), (groups, np.arange(n))), shape=(ngroups, n))
    return np.asarray(A @ values)


def pair_matrix(X: sp.csr_matrix) -> sp.csr_matrix:
    """Z (p*p x n) with Z @ c = vec(X' diag(c) X) for any c (n,) or (n, R).

    Built from each row's k non-zeros (k*k pairs a row), so X'diag(c)X costs n k^2 per
    column of c and never forms an n x n matrix.
    """
    n, p = X.shape
    cols, vals = padded_rows(X)
    k = cols.shape[1]
    ca = np.repeat(cols, k, axis=1)
    cb = np.tile(cols, (1, k))
    va = np.repeat(vals, k, axis=1)
    vb = np.tile(vals, (1, k))
    ok = (ca >= 0) & (cb >= 0)
    rows = np.broadcast_to(np.arange(n)[:, None], ca.shape)
    return sp.csr_matrix(((va * vb)[ok], ((ca * p + cb)[ok], rows[ok])), shape=(p * p, n))


def group_codes(labels: object, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes 0..k-1 (sorted labels) of a label array, and the labels.

    ``what`` names the step and the labels in the error for a missing label, e.g.
    "eligibility: ... units have no adjustment class".
    """
    s = labels if isinstance(labels, pd.Series) else pd.Series(np.asarray(labels, dtype=object))
    missing = int(s.isna().sum())
    if missing:
        raise WeightingError(f"{what}: {missing} units have no value; give every unit one")
    codes, uniques = pd.factorize(s, sort=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)
