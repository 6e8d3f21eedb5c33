"""Replicate weights kept as factors over patterns of rows, not as an n x R array.

PSU-level replicate methods (bootstrap, jackknife) multiply every row of a PSU by the
same factor, and calibration multiplies every row of a cell (a distinct row of the
calibration matrix) by the same g. So replicate weight w_ir is ``base_i * H[k_i, r]``
with ``k_i`` the row's pattern (its PSU, or its (PSU, cell) pair after calibrating):
the n x R array is a gather of a K x R table, K a few thousand for 350,000 rows.

:class:`FactoredWeights` holds (base, pattern, H). Grouped totals ``A @ W`` (A sparse
k x n, the estimators' group indicators) become ``(A diag(base) E) @ H``, E the n x K
pattern indicator: one pass over A's non-zeros and a (k x K) x (K x R) product instead
of a pass over n x R weights. Anything else gets the dense array (``np.asarray(W)``,
``W[rows]``), equal to ``base[:, None] * H[pattern]``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from sid.errors import WeightingError

__all__ = ["FactoredWeights", "is_factored"]


class FactoredWeights:
    """W (n x R) = base[:, None] * H[pattern]; base (n,), pattern (n,) codes 0..K-1, H (K x R)."""

    __slots__ = ("base", "pattern", "H")
    ndim = 2
    dtype = np.dtype(np.float64)

    def __init__(self, base: np.ndarray, pattern: np.ndarray, H: np.ndarray) -> None:
        self.base = np.asarray(base, dtype=float)
        self.pattern = np.asarray(pattern, dtype=np.int64)
        self.H = np.asarray(H, dtype=float)
        if self.base.shape != self.pattern.shape or self.H.ndim != 2:
            raise ValueError("FactoredWeights: base and pattern must be (n,) and H (K, R)")

    @property
    def shape(self) -> tuple[int, int]:
        return (self.base.shape[0], self.H.shape[1])

    def dense(self) -> np.ndarray:
        """The n x R replicate weights."""
        return self.base[:, None] * self.H[self.pattern]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self.dense()
        return out if dtype is None else out.astype(dtype, copy=False)

    def __getitem__(self, key) -> np.ndarray:
        """Rows (an index or mask array, or a slice) as dense rows; anything else via the dense array."""
        if isinstance(key, slice | np.ndarray | list):
            return self.base[key, None] * self.H[self.pattern[key]]
        return self.dense()[key]

    def __len__(self) -> int:
        return self.base.shape[0]

    def check(self) -> None:
        """Finite and >= 0 (raises WeightingError as calibration's input check does)."""
        for a in (self.base, self.H):
            if a.size and not (np.isfinite(a).all() and a.min() >= 0):
                raise WeightingError("replicate weights must be finite and >= 0 before calibration")

    def left(self, A: sp.spmatrix) -> np.ndarray:
        """``A @ W`` (k x R dense) for sparse A (k x n), without forming W: the totals of
        A's values times base per (row of A, pattern), then times H."""
        if A.format == "csc":
            row, col = A.indices.astype(np.int64), np.repeat(np.arange(A.shape[1]), np.diff(A.indptr))
        else:
            coo = sp.coo_matrix(A)
            row, col = coo.row.astype(np.int64), coo.col
        k, K = A.shape[0], self.H.shape[0]
        vals = A.data * self.base[col]
        pat = self.pattern[col]
        # Per (row of A, pattern) the values are added in row order (np.bincount), and the
        # sparse product adds each row's patterns in order: every output row is the same
        # sum whatever the other rows of A are (a list of variables equals separate calls).
        key = row * K + pat
        if k * K <= max(4 * vals.size, 1 << 20):  # a dense k x K table
            M = sp.csr_matrix(np.bincount(key, weights=vals, minlength=k * K).reshape(k, K))
        else:
            uniq, inv = np.unique(key, return_inverse=True)
            M = sp.csr_matrix((np.bincount(inv.ravel(), weights=vals), (uniq // K, uniq % K)), shape=(k, K))
        return np.asarray(M @ self.H)

    def group_totals(self, values: np.ndarray, g: np.ndarray, rows: np.ndarray, G: int) -> np.ndarray | None:
        """Totals (G x m x R) of ``values`` (n x m) over ``rows`` per group ``g``: values
        times base summed per (group, pattern) in row order (one pass over the n x m
        values), then per (group, column) its patterns' totals times H in pattern order,
        so a column's totals do not depend on the other columns. None when the (group,
        pattern) table would be larger than the values (the caller takes the generic path)."""
        n, m = values.shape
        K = self.H.shape[0]
        if G * K * m > max(4 * n * m, 1 << 20):
            return None
        idx = np.int32 if G * K < np.iinfo(np.int32).max else np.int64
        indptr = np.zeros(n + 1, dtype=idx)
        indptr[rows + 1] = 1
        np.cumsum(indptr, out=indptr)
        code = (g[rows] * K + self.pattern[rows]).astype(idx)
        ind = sp.csc_matrix((self.base[rows], code, indptr), shape=(G * K, n), copy=False)
        T = np.asarray(ind @ values).reshape(G, K, m).transpose(0, 2, 1).reshape(G * m, K)
        return np.asarray(sp.csr_matrix(T) @ self.H).reshape(G, m, -1)

    def group_sum(self, groups: np.ndarray, ngroups: int) -> np.ndarray:
        """Sum of W within integer ``groups`` (n,): (ngroups x R)."""
        M = sp.csr_matrix((self.base, (groups, self.pattern)), shape=(ngroups, self.H.shape[0]))
        return np.asarray(M @ self.H)

    def refined(self, cells: np.ndarray, ncells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Patterns of (pattern, cell) pairs: (pair code of each row, pattern and cell of each pair)."""
        from sid.weighting.compress import _factorize as factorize

        pair, npairs = factorize(self.pattern * ncells + cells)
        first = np.empty(npairs, dtype=np.int64)
        first[pair] = np.arange(pair.shape[0])
        return pair, self.pattern[first], cells[first]


def is_factored(W) -> bool:
    """True for :class:`FactoredWeights`."""
    return isinstance(W, FactoredWeights)
