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
    if n and k and X.nnz == n * k:  # every row k non-zeros (categorical margins): no padding
        return X.indices.reshape(n, k).astype(np.int64), X.data.reshape(n, k).astype(float)
    cols = np.full((n, max(k, 1)), -1, dtype=np.int64)
    vals = np.zeros((n, max(k, 1)))
    if X.nnz:
        row = np.repeat(np.arange(n), counts)
        pos = np.arange(X.nnz) - X.indptr[row]
        cols[row, pos] = X.indices
        vals[row, pos] = X.data
    return cols, vals


def unique_rows(X: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
    """Distinct rows of X (CSR, n_u x p) and, for every row of X, the index of its distinct row.

    Rows are told apart by one 1-D integer key: the codes of their padded column indices
    and values (:func:`padded_rows`) combined column by column in mixed radix (re-coded
    when the key would overflow), so no sort of whole rows. Distinct rows come in
    increasing key order (lexicographic in column indices, then values).
    """
    cols, vals = padded_rows(X)
    vals = vals + 0.0  # turn -0.0 into 0.0 so that equal values have equal bits
    n = cols.shape[0]
    key = np.zeros(n, dtype=np.int64)
    nkey = 1
    parts = [(c + 1, X.shape[1] + 1) for c in cols.T]  # column indices -1..p-1
    parts += [_factorize(v.view(np.int64)) for v in vals.T if n and not (v == v[0]).all()]
    for codes, size in parts:
        if nkey * size >= 1 << 62:
            key, nkey = _factorize(key)
        key = key * size + codes
        nkey *= size
    key, nu = _factorize(key)
    rep = np.empty(nu, dtype=np.int64)
    rep[key] = np.arange(n)  # any row of a group: its rows are identical
    return sp.csr_matrix(X)[rep], key


def _factorize(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0..k-1 of int64 ``values`` in sorted order, and k (a bincount when the range is small)."""
    if values.size == 0:
        return values.astype(np.int64), 0
    lo, hi = int(values.min()), int(values.max())
    if hi - lo <= 4 * values.size + 1024:
        present = np.bincount(values - lo, minlength=hi - lo + 1) > 0
        code_of = np.cumsum(present) - 1
        return code_of[values - lo], int(code_of[-1]) + 1
    uniq, codes = np.unique(values, return_inverse=True)
    return codes.ravel().astype(np.int64), int(uniq.shape[0])


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
