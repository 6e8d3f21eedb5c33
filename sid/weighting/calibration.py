"""Calibration of survey weights to population margins (GREG / CALMAR family).

Deville & Särndal (1992), "Calibration estimators in survey sampling", JASA 87:376-382;
Deville, Särndal & Sautory (1993), "Generalized raking procedures", JASA 88:1013-1020.
The same estimator as R's ``survey::calibrate`` (``grake`` in R/grake.R): find Lagrange
multipliers lambda with ``X' (d * F(X lambda)) = T`` by Newton's method, where d are the
input weights, F the calibration function (linear, raking, logit; bounds on g = w/d) and
T the population totals. The Newton matrix ``X' diag(d F'(X lambda)) X`` is p x p.

Differences from R, on purpose: a singular system raises (R takes a generalised inverse),
non-convergence raises (R warns and returns the last iterate), and Newton steps are
safeguarded: a backtracking line search on the convex dual objective
sum d Psi(x'lambda) - T'lambda (Psi' = F), and Levenberg-Marquardt damping where units
sit on a bound and F' vanishes (R's plain Newton stalls there). The solution, where one
exists, is the same. Respondents with identical rows of X are solved as one unit
(exact: g depends on x only), so categorical margins cost a few hundred cells, not n.

``weights`` may be (n, R): every column is calibrated to the same totals at once, as
R's ``calibrate.svyrep.design`` does for replicate weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sid.errors import ConvergenceError, WeightingError
from sid.estimation.factored import FactoredWeights
from sid.weighting.compress import group_sum, pair_matrix, unique_rows
from sid.weighting.distance import GFunction, g_function
from sid.weighting.feasibility import bounded_feasible, independent_columns
from sid.weighting.ipf import poststratify, rake
from sid.weighting.margins import calibration_matrix
from sid.weighting.result import CalibrationResult

__all__ = [
    "CalibrationResult", "CalibrationSystem", "calibration_matrix", "calibration_system", "calibrate",
    "rake", "poststratify", "calibrate_factored",
]

_MAX_HALVINGS = 40


def _as_weights(weights: np.ndarray, n: int) -> np.ndarray:
    d = np.asarray(weights, dtype=float)
    if d.ndim not in (1, 2) or d.shape[0] != n:
        raise WeightingError(
            f"weights have shape {d.shape} but the calibration matrix has {n} rows; "
            "give one weight (or one row of replicate weights) per respondent"
        )
    lo, hi = (d.min(), d.max()) if d.size else (0.0, 0.0)
    if np.isfinite(lo) and np.isfinite(hi) and lo >= 0:
        return d  # two reductions, no n x R boolean temporaries; the details only on error
    if not np.isfinite(d).all():
        raise WeightingError(
            f"{int((~np.isfinite(d)).sum())} weights are missing or infinite; "
            "every respondent needs a finite weight before calibration"
        )
    if (d < 0).any():
        raise WeightingError(
            f"{int((d < 0).sum())} weights are negative; input weights must be >= 0"
        )
    return d


def _where(names: list[str], j: int, r: int, ncol: int) -> str:
    return f"'{names[j]}'" + (f" (replicate column {r})" if ncol > 1 else "")


def _check_support(Xu: sp.csr_matrix, Du: np.ndarray, totals: np.ndarray, names: list[str]) -> None:
    """A margin with a non-zero total needs respondents of positive weight in every column."""
    support = abs(Xu).T @ Du  # (p, R)
    bad = (support <= 0) & (totals[:, None] != 0)
    if bad.any():
        j, r = (int(v[0]) for v in np.nonzero(bad))
        raise WeightingError(
            f"margin {_where(names, j, r, Du.shape[1])} has total {totals[j]:.10g} but no "
            "respondent with a positive weight; merge the category or drop the margin"
        )


def _solve(J: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Newton steps for a batch of p x p systems J (R, p, p), rhs (R, p); equilibrated."""
    diag = np.einsum("rii->ri", J)
    s = 1.0 / np.sqrt(np.where(diag > 0, diag, 1.0))
    Js = J * s[:, :, None] * s[:, None, :]
    try:
        return np.linalg.solve(Js, (rhs * s)[..., None])[..., 0] * s
    except np.linalg.LinAlgError:
        # Some column's system is singular (all of a margin's respondents sit on a bound):
        # a least-squares direction keeps the iteration going; the final margin check
        # decides, and infeasibility is diagnosed separately.
        out = np.empty_like(rhs)
        for r in range(J.shape[0]):  # loop over replicate columns, not respondents
            out[r] = np.linalg.lstsq(Js[r], rhs[r] * s[r], rcond=None)[0] * s[r]
        return out


def _dual(
    Xk: sp.csr_matrix, d: np.ndarray, Tk: np.ndarray, F: GFunction, lam: np.ndarray
) -> np.ndarray:
    """Dual objective sum_i d_i Psi(x_i'lambda) - T'lambda per column (convex in lambda)."""
    return (d * F.psi(Xk @ lam)).sum(axis=0) - Tk @ lam


def _damp_flat(J: np.ndarray, D: np.ndarray) -> None:
    """Levenberg-Marquardt damping for columns whose Newton matrix is (nearly) singular.

    Where units sit on a bound (clipped linear or raking) or near one (logit saturates),
    F' vanishes and Newton's matrix loses rank. Adding 1e-3 * diag(D), D = sum d x^2
    F_raw' (F' before clipping; 1 for logit, whose F'(0) = 1), gives a long step back
    towards the bounds, which the line search then shortens. J: (R, p, p) in place;
    D: (p, R).
    """
    s = 1.0 / np.sqrt(np.where(D > 0, D, 1.0)).T  # (R, p)
    Js = J * s[:, :, None] * s[:, None, :]
    idx = np.arange(J.shape[1])
    try:
        # smallest eigenvalue > 1e-8 in every column iff Js - 1e-8 I is positive definite:
        # one batched Cholesky, a fraction of the eigenvalues' cost, settles the usual case
        shifted = Js.copy()
        shifted[:, idx, idx] -= 1e-8
        np.linalg.cholesky(shifted)
        return
    except np.linalg.LinAlgError:
        pass
    smallest = np.linalg.eigvalsh(Js)[:, 0]
    flat = smallest < 1e-8
    if flat.any():
        rows = np.flatnonzero(flat)[:, None]
        J[rows, idx[None, :], idx[None, :]] += 1e-3 * D.T[rows[:, 0]]


def _newton(
    Xk: sp.csr_matrix,
    Du: np.ndarray,
    Tk: np.ndarray,
    F: GFunction,
    tol: float,
    max_iter: int,
    Xall: sp.csr_matrix,
    Tall: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Lagrange multipliers (pk, R) for every column; returns (lambda, converged, iterations).

    Solved on the independent columns Xk; converged when every margin, the set-aside
    redundant ones (Xall, Tall) included, holds to tol * (1 + |T|).
    """
    scale_all = (1.0 + np.abs(Tall))[:, None]

    def converged(lam_: np.ndarray, d_: np.ndarray) -> np.ndarray:
        err = np.abs(Tall[:, None] - Xall.T @ (d_ * F.g(Xk @ lam_))) / scale_all
        return err.max(axis=0) <= tol

    pk, ncol = Xk.shape[1], Du.shape[1]
    Z = pair_matrix(Xk)
    X2 = sp.csr_matrix(Xk.multiply(Xk))
    scale = (1.0 + np.abs(Tk))[:, None]
    lam = np.zeros((pk, ncol))

    def misfit_cols(lam_: np.ndarray, d_: np.ndarray) -> np.ndarray:
        return (Tk[:, None] - Xk.T @ (d_ * F.g(Xk @ lam_))) / scale

    resid = misfit_cols(lam, Du)
    done = converged(lam, Du)
    it = 0
    while not done.all() and it < max_iter:
        it += 1
        act = np.flatnonzero(~done)
        lam_a, d_a = lam[:, act], Du[:, act]
        u = Xk @ lam_a
        J = (Z @ (d_a * F.dg(u))).reshape(pk, pk, act.size).transpose(2, 0, 1)
        _damp_flat(J, np.asarray(X2.T @ (d_a * F.dg_raw(u))))
        rhs = resid[:, act] * scale  # T - X'w, in units of the totals
        step = _solve(J, rhs.T).T
        slope = -(rhs * step).sum(axis=0)  # directional derivative of the dual objective
        f0 = (resid[:, act] ** 2).sum(axis=0)
        phi0 = _dual(Xk, d_a, Tk, F, lam_a)
        t = np.ones(act.size)
        accepted = np.zeros(act.size, dtype=bool)
        new = resid[:, act].copy()
        for _ in range(_MAX_HALVINGS):
            pend = np.flatnonzero(~accepted)
            trial = lam_a[:, pend] + t[pend] * step[:, pend]
            r_trial = misfit_cols(trial, d_a[:, pend])
            # Armijo on the convex dual objective; near the solution, where rounding hides
            # its decrease, a step that shrinks the margin misfit without raising it
            phi = _dual(Xk, d_a[:, pend], Tk, F, trial)
            armijo = phi <= phi0[pend] + 1e-4 * t[pend] * slope[pend]
            flat = (phi <= phi0[pend] + 1e-12 * (1.0 + np.abs(phi0[pend]))) & (
                (r_trial**2).sum(axis=0) < (1.0 - 1e-4 * t[pend]) * f0[pend]
            )
            ok = np.isfinite(r_trial).all(axis=0) & np.isfinite(phi) & (armijo | flat)
            lam[:, act[pend[ok]]] = trial[:, ok]
            new[:, pend[ok]] = r_trial[:, ok]
            accepted[pend[ok]] = True
            if accepted.all():
                break
            t[pend[~ok]] /= 2.0
        resid[:, act] = new
        done[act] = converged(lam[:, act], d_a)
        if not accepted.all():
            break  # no step improves: stuck (reported by the caller)
    return lam, done, it


@dataclass
class CalibrationSystem:
    """The weight-free part of a calibration problem, built once by
    :func:`calibration_system` and reused for several sets of input weights (the full
    sample and the replicate columns of a design).

    X (n x p CSR), T totals (p,), names (p,); Xu the distinct rows of X, ``inverse`` the
    distinct row of each respondent, ``counts`` respondents per distinct row; ``keep``
    the independent columns (found on first use, after the support check of the weights;
    found again for a smaller ``tol``, which checks the totals of dependencies tighter).
    """

    X: sp.csr_matrix
    T: np.ndarray
    names: list[str]
    Xu: sp.csr_matrix
    inverse: np.ndarray
    counts: np.ndarray
    keep: np.ndarray | None = None
    keep_tol: float = np.inf


def calibration_system(
    X: sp.spmatrix | np.ndarray, totals: np.ndarray | Sequence[float], names: list[str] | None = None
) -> CalibrationSystem:
    """Check X and the totals and collapse identical rows of X (see :func:`calibrate`)."""
    X = sp.csr_matrix(X, dtype=float)
    n, p = X.shape
    if p == 0:
        raise WeightingError("calibration needs at least one margin column; X has none")
    T = np.asarray(totals, dtype=float).ravel()
    if T.size != p:
        raise WeightingError(
            f"{T.size} totals given for {p} calibration columns; give one per column"
        )
    if not np.isfinite(T).all():
        raise WeightingError("calibration totals must be finite numbers")
    if not np.isfinite(X.data).all():
        raise WeightingError("the calibration matrix holds missing or infinite values")
    names = list(names) if names is not None else [f"column {j}" for j in range(p)]
    if len(names) != p:
        raise WeightingError(f"{len(names)} names given for {p} calibration columns")
    Xu, inverse = unique_rows(X)
    counts = np.bincount(inverse, minlength=Xu.shape[0]).astype(float)
    return CalibrationSystem(X, T, names, Xu, inverse, counts)


def calibrate(
    weights: np.ndarray,
    X: sp.spmatrix | np.ndarray | None,
    totals: np.ndarray | Sequence[float] | None,
    *,
    method: str = "linear",
    bounds: tuple[float, float] | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
    names: list[str] | None = None,
    system: CalibrationSystem | None = None,
) -> CalibrationResult:
    """Calibrate ``weights`` so that ``X' w = totals``; w = weights * F(X lambda).

    weights: (n,) or (n, R) input weights d (>= 0); columns are calibrated independently.
    X: (n, p) calibration matrix (sparse or dense), e.g. from :func:`calibration_matrix`.
    totals: (p,) population totals. method: "linear" (GREG), "raking" (multiplicative,
    g = exp(x'lambda)) or "logit" (needs bounds). bounds: (L, U) on g = w/d.
    tol: convergence when every |X'w - T| <= tol * (1 + |T|) (R's criterion, with R's
    default epsilon 1e-7 tightened). Full categorical margins that repeat the population
    size (several margins each summing to N) are allowed: the redundant columns are
    detected and the system solved on independent ones.

    system: :func:`calibration_system` of (X, totals, names), to reuse across calls on
    other weights; X, totals and names are then not read (give None).

    Raises WeightingError (bad input, a margin with no weighted respondents, aliased
    margins with contradicting totals, bounds too tight to meet the margins) or
    ConvergenceError (no convergence in ``max_iter``: iterations and largest error).
    """
    F = g_function(method, bounds)
    if system is None:
        system = calibration_system(X, totals, names)
    inverse = system.inverse
    d = _as_weights(weights, system.X.shape[0])
    D = d[:, None] if d.ndim == 1 else d
    Du = group_sum(D, inverse, system.Xu.shape[0])
    gu, it, err = _solve_cells(Du, system, F, method, bounds, tol, max_iter)
    g = gu[inverse]
    w = D * g
    if d.ndim == 1:
        w, g = w[:, 0], g[:, 0]
    return CalibrationResult(weights=w, g=g, iterations=int(it), max_abs_error=float(err.max()))


def calibrate_factored(
    weights: FactoredWeights,
    system: CalibrationSystem,
    *,
    method: str = "linear",
    bounds: tuple[float, float] | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> FactoredWeights:
    """:func:`calibrate` of replicate weights kept as factors (sid.estimation.factored).

    g depends on a respondent only through its distinct row of X, so the calibrated
    weights are factored over (pattern, cell) pairs: the cell sums of the weights are
    (pairs' base totals) @ H, Newton runs on the cells, and the new H is H times g per
    pair. Nothing n x R is formed; the weights equal :func:`calibrate`'s up to rounding.
    """
    F = g_function(method, bounds)
    n = system.X.shape[0]
    if weights.shape[0] != n:
        raise WeightingError(
            f"weights have shape {weights.shape} but the calibration matrix has {n} rows; "
            "give one weight (or one row of replicate weights) per respondent"
        )
    weights.check()
    nu = system.Xu.shape[0]
    pair, k_of, u_of = weights.refined(system.inverse, nu)
    base_sum = np.bincount(pair, weights=weights.base, minlength=k_of.shape[0])
    A = sp.csr_matrix((base_sum, (u_of, k_of)), shape=(nu, weights.H.shape[0]))
    Du = np.asarray(A @ weights.H)
    gu, _, _ = _solve_cells(Du, system, F, method, bounds, tol, max_iter)
    return FactoredWeights(weights.base, pair, weights.H[k_of] * gu[u_of])


def _solve_cells(
    Du: np.ndarray, system: CalibrationSystem, F: GFunction, method: str,
    bounds: tuple[float, float] | None, tol: float, max_iter: int,
) -> tuple[np.ndarray, int, np.ndarray]:
    """g per distinct row of X and column (nu x R), iterations, and the margin errors (p x R)."""
    T, names, Xu = system.T, system.names, system.Xu
    _check_support(Xu, Du, T, names)
    if system.keep is None or tol < system.keep_tol:
        system.keep, system.keep_tol = independent_columns(Xu, system.counts, T, names, tol), tol
    keep = system.keep
    Xk = Xu[:, keep]
    Tk = T[keep]

    lam, done, it = _newton(Xk, Du, Tk, F, tol, max_iter, Xu, T)
    gu = F.g(Xk @ lam)
    err = np.abs(T[:, None] - Xu.T @ (Du * gu))  # every margin, including the redundant ones
    rel = err / (1.0 + np.abs(T))[:, None]
    if not done.all() or rel.max() > tol:
        j, r = np.unravel_index(int(np.argmax(rel)), rel.shape)
        where = _where(names, int(j), int(r), Du.shape[1])
        if np.isfinite(F.lower) or np.isfinite(F.upper) or method == "raking":
            lo = max(F.lower, 0.0) if method == "raking" else F.lower  # exp(u) > 0
            if not bounded_feasible(Xk, Du[:, int(r)], Tk, lo, F.upper):
                rng = f"({F.lower:g}, {F.upper:g})" if bounds is not None else "g > 0"
                raise WeightingError(
                    f"calibration ({method}) is infeasible: no weights with g = w/d in {rng} "
                    f"meet the margins (largest miss on {where}); widen the bounds or "
                    "collapse margin categories"
                )
        raise ConvergenceError(
            f"calibration ({method}) did not converge in {it} iterations: largest margin "
            f"error {err[j, r]:.6g} on {where}; raise max_iter or collapse sparse categories"
        )
    return gu, it, err
