"""Influence columns with one group per row: products that use their block layout.

:func:`sid.estimation.linear.ratio_estimate` gives row i of its (n x G*m) influence
columns non-zeros only in the m cells of its own group g_i (columns g_i m .. g_i m + m - 1).
Products of such a matrix T with the design's sparse matrices then need no sparse x
sparse multiplication (whose symbolic pass costs more than the arithmetic here): with V
the (n x m) row values,

- T' diag(c) T is block-diagonal, its blocks are the rows of T' (c V) (k x m);
- L' diag(s) T, for a sparse L (n x p), is P (s V) with P the (p G x n) matrix holding
  L[i, a] at row a G + g_i: one sparse x dense product, O(nnz(L) m).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class Blocks:
    """Block layout of a sparse (n x k) matrix ``T``: ``m`` cells per group, ``rows`` the
    non-empty rows, ``group`` (n,) each row's group (0 for empty rows), ``values``
    (n x m) each row's m values (0 for empty rows)."""

    T: sp.csr_matrix
    m: int
    k: int
    rows: np.ndarray
    group: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, T: sp.spmatrix) -> Blocks | None:
        """The layout of ``T``, or None when a row is not one group's m consecutive cells."""
        if not sp.isspmatrix_csr(T) or not T.has_sorted_indices:
            return None
        counts = np.diff(T.indptr)
        rows = np.flatnonzero(counts)
        if rows.size == 0:
            return None
        m = int(counts[rows[0]])
        n, k = T.shape
        if k % m or not bool((counts[rows] == m).all()):
            return None
        cols = T.indices.reshape(-1, m)
        if (cols[:, 0] % m).any() or not bool((cols == cols[:, :1] + np.arange(m)).all()):
            return None
        group = np.zeros(n, dtype=np.int64)
        group[rows] = cols[:, 0] // m
        values = np.zeros((n, m))
        values[rows] = T.data.reshape(-1, m)
        return cls(T, m, k, rows, group, values)

    def cross(self, c: np.ndarray) -> np.ndarray:
        """T' diag(c) T (k x k) for row factors ``c`` (n,)."""
        m, k = self.m, self.k
        inner = np.asarray(self.T.T @ (self.values * c[:, None]))  # (g m + j, l): sum_g c v_j v_l
        out = np.zeros((k, k))
        first = (np.arange(k) // m) * m
        out[np.arange(k)[:, None], first[:, None] + np.arange(m)[None, :]] = inner
        return out

    def left(self, L: sp.csr_matrix, scale: np.ndarray | None = None) -> np.ndarray:
        """L' diag(scale) T (p x k) for sparse ``L`` (n x p, CSR) and row factors ``scale``."""
        n, p = L.shape
        G = self.k // self.m
        per_row = np.diff(L.indptr)
        rows_of = np.repeat(self.group, per_row)
        P = sp.csc_matrix(
            (L.data, L.indices.astype(np.int64) * G + rows_of, L.indptr.astype(np.int64)), shape=(p * G, n)
        )
        V = self.values if scale is None else self.values * scale[:, None]
        return np.asarray(P @ V).reshape(p, G * self.m)
