"""Structure of a calibration problem: redundant or aliased margins, feasibility of bounds.

Several full categorical margins each sum to the population size, so their indicator
columns are linearly dependent. Such a dependency is harmless when the totals obey it
too (the margins describe the same population); then one column per dependency is set
aside and the system is solved on independent columns. When the totals contradict it
(e.g. two categories cover exactly the same respondents but have different totals), no
weights can meet the margins and the aliased categories are named.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from sid.errors import WeightingError
from sid.weighting.compress import pair_matrix

__all__ = ["independent_columns", "bounded_feasible"]

# Relative size of a pivot of the equilibrated cross-product matrix (unit diagonal: the
# squared length of a column left after projecting on the earlier kept columns) below
# which the column counts as a linear combination of them.
_RANK_TOL = 1e-10
# Relative size of T'v (v a dependency) above which the totals contradict the dependency.
_TOTALS_TOL = 1e-8


def _gram(Xu: sp.csr_matrix, counts: np.ndarray) -> np.ndarray:
    p = Xu.shape[1]
    return (pair_matrix(Xu) @ counts).reshape(p, p)


def independent_columns(
    Xu: sp.csr_matrix, counts: np.ndarray, totals: np.ndarray, names: list[str], tol: float
) -> np.ndarray:
    """Indices of a maximal set of independent columns of X, earliest columns first.

    Xu: distinct rows of X; counts: respondents per distinct row. Raises WeightingError
    naming the categories of a dependency that the totals contradict, or a column that is
    zero for every respondent.
    """
    p = Xu.shape[1]
    M = _gram(Xu, counts)
    diag = np.diag(M).copy()
    if (diag <= 0).any():
        j = int(np.flatnonzero(diag <= 0)[0])
        raise WeightingError(
            f"margin '{names[j]}' is zero for every respondent; drop it from the margins"
        )
    s = 1.0 / np.sqrt(diag)
    Ms = M * s[:, None] * s[None, :]
    # Greedy in margin order (the later duplicate is set aside): a Cholesky pass that
    # skips column j when its residual, after projecting on the kept earlier columns, is
    # (numerically) zero. A = Ms minus the projections on the kept columns so far.
    A = Ms.copy()
    keep: list[int] = []
    for j in range(p):  # loop over margin columns, not respondents
        if A[j, j] > _RANK_TOL * (len(keep) + 1):
            col = A[j:, j] / np.sqrt(A[j, j])
            A[j:, j:] -= np.outer(col, col)
            keep.append(j)
            continue
        # a dependency: column j = Ms[:, keep] c; its totals must obey it too
        c = np.linalg.solve(Ms[np.ix_(keep, keep)], Ms[keep, j]) if keep else np.zeros(0)
        v = np.zeros(p)
        v[j], v[keep] = 1.0, -c
        u = v * s  # the dependency in the original columns: X u = 0
        contrib = totals * u
        scale = np.abs(contrib).sum()
        if abs(contrib.sum()) > max(_TOTALS_TOL, tol) * max(scale, 1.0):
            involved = np.flatnonzero(np.abs(v) > 1e-6 * np.abs(v).max())
            raise WeightingError(
                "aliased margins: categories "
                + ", ".join(f"'{names[i]}'" for i in involved)
                + " cover the same respondents but their totals disagree; "
                "merge or drop one of these margin categories"
            )
    return np.asarray(keep, dtype=np.int64)


def bounded_feasible(
    Xk: sp.csr_matrix,
    d: np.ndarray,
    totals: np.ndarray,
    lower: float | np.ndarray,
    upper: float | np.ndarray,
) -> bool:
    """Whether some weights w with lower*d <= w <= upper*d meet X'w = totals (an LP).

    lower, upper: scalars or one value per row. Used to tell "bounds too tight" from a
    solver that failed to converge.
    """
    with np.errstate(invalid="ignore"):
        lo = np.where(np.isfinite(lower), lower * d, -np.inf)
        hi = np.where(np.isfinite(upper), upper * d, np.inf)
    scale = 1.0 + np.abs(totals)
    A = sp.csr_matrix(Xk.T.multiply(1.0 / scale[:, None]))
    res = linprog(
        np.zeros(Xk.shape[0]),
        A_eq=A,
        b_eq=totals / scale,
        bounds=np.column_stack(
            [np.where(np.isfinite(lo), lo, None), np.where(np.isfinite(hi), hi, None)]
        ),
        method="highs",
    )
    return bool(res.status == 0)
