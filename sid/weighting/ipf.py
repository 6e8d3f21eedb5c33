"""Post-stratification and raking by iterative proportional fitting (IPF).

Post-stratification (Holt & Smith 1979; R's ``survey::postStratify``): within each cell,
weights are scaled so that they sum to the cell's population total. Raking (Deming &
Stephan 1940; R's ``survey::rake``, which is repeated ``postStratify``) post-stratifies
to each margin in turn until every margin holds. Raking converges to the same weights
as ``calibrate(method="raking")`` on the same categorical margins.

Cells are integer codes 0..K-1 (e.g. from ``pandas.factorize``); group sums use
``np.bincount`` or a sparse group indicator, never a loop over respondents.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sid.errors import ConvergenceError, WeightingError
from sid.weighting.compress import group_sum
from sid.weighting.result import CalibrationResult

__all__ = ["rake", "poststratify"]


def _weights(weights: np.ndarray) -> np.ndarray:
    d = np.asarray(weights, dtype=float)
    if d.ndim not in (1, 2):
        raise WeightingError(f"weights must be (n,) or (n, R), not of shape {d.shape}")
    if not np.isfinite(d).all() or (d < 0).any():
        raise WeightingError("weights must be finite and >= 0 before post-stratification or raking")
    return d


def _margin(
    codes: np.ndarray, totals: np.ndarray, n: int, name: str
) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(codes)
    if c.shape != (n,):
        raise WeightingError(
            f"margin {name}: {c.shape[0] if c.ndim else 0} cell codes for {n} respondents"
        )
    if c.dtype.kind == "f":
        if np.isnan(c).any():
            raise WeightingError(
                f"margin {name}: {int(np.isnan(c).sum())} respondents have no value; "
                "impute or drop them before weighting"
            )
        if (c != np.round(c)).any():
            raise WeightingError(f"margin {name}: cell codes must be integers 0..K-1")
    c = c.astype(np.int64)
    t = np.asarray(totals, dtype=float).ravel()
    if not np.isfinite(t).all() or (t < 0).any():
        raise WeightingError(f"margin {name}: totals must be finite and >= 0")
    if (c < 0).any() or (c >= t.size).any():
        bad = c[(c < 0) | (c >= t.size)][0]
        raise WeightingError(
            f"margin {name}: respondents in cell {bad}, which has no population total "
            f"({t.size} totals given); add it to the margin or recode"
        )
    return c, t


def _factors(s: np.ndarray, t: np.ndarray, name: str) -> np.ndarray:
    """Cell factors T/s; a cell with a positive total but no weighted respondents is an error."""
    tt = t if s.ndim == 1 else t[:, None]
    empty = (s <= 0) & (tt > 0)
    if empty.any():
        k = int(np.nonzero(empty)[0][0])
        where = "" if s.ndim == 1 else f" (replicate column {int(np.nonzero(empty)[1][0])})"
        raise WeightingError(
            f"margin {name}, cell {k}: population total {t[k]:.10g} but no respondents with a "
            f"positive weight{where}; merge the cell with a neighbour"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s > 0, tt / np.where(s > 0, s, 1.0), 0.0)


def poststratify(
    weights: np.ndarray, cells: np.ndarray, totals: np.ndarray | Sequence[float]
) -> CalibrationResult:
    """Scale weights within each cell to its population total: w = d * T_c / sum_c(d).

    weights: (n,) or (n, R); cells: (n,) integer codes 0..K-1; totals: (K,) population
    totals. Returns a CalibrationResult (iterations = 1). R: ``survey::postStratify``.
    """
    d = _weights(weights)
    c, t = _margin(cells, totals, d.shape[0], "'cells'")
    s = group_sum(d, c, t.size)
    g = _factors(s, t, "'cells'")[c]
    w = d * g
    err = float(np.abs(group_sum(w, c, t.size) - (t if d.ndim == 1 else t[:, None])).max())
    return CalibrationResult(weights=w, g=g, iterations=1, max_abs_error=err)


def rake(
    weights: np.ndarray,
    groups: Sequence[np.ndarray],
    totals: Sequence[np.ndarray | Sequence[float]],
    tol: float = 1e-10,
    max_iter: int = 100,
    *,
    names: Sequence[str] | None = None,
) -> CalibrationResult:
    """Rake weights to several margins by iterative proportional fitting.

    weights: (n,) or (n, R); groups: one integer-coded (n,) array per margin (codes
    0..K_m-1); totals: one (K_m,) array of population totals per margin. Converged when,
    at the start of a cycle, every margin holds to tol * (1 + |T|). Returns a
    CalibrationResult (iterations = full cycles). R: ``survey::rake``.
    """
    d = _weights(weights)
    n = d.shape[0]
    if len(groups) != len(totals) or not groups:
        raise WeightingError(f"{len(groups)} margins but {len(totals)} sets of totals")
    labels = list(names) if names is not None else [f"{m}" for m in range(len(groups))]
    margins = [
        _margin(c, t, n, f"'{labels[m]}'")
        for m, (c, t) in enumerate(zip(groups, totals, strict=True))
    ]
    sums = [float(t.sum()) for _, t in margins]
    for m, s in enumerate(sums[1:], start=1):
        if abs(s - sums[0]) > 1e-9 * max(abs(s), abs(sums[0]), 1.0):
            raise WeightingError(
                f"margins disagree: '{labels[0]}' sums to {sums[0]:.10g} but '{labels[m]}' sums "
                f"to {s:.10g}; raking margins must describe the same population"
            )
    # IPF factors depend on a respondent only through its cells, so rake the joint cells
    # of all margins (a few hundred) and expand once: exact, and cheap for (n, R) weights.
    codes = np.stack([c for c, _ in margins])
    _, first, inverse = np.unique(codes, axis=1, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    cells = [(c[first], t) for c, t in margins]
    du = group_sum(d, inverse, first.size)
    gu = np.ones_like(du)
    for it in range(1, max_iter + 2):
        worst = 0.0
        for m, (c, t) in enumerate(cells):
            wu = du * gu
            s = group_sum(wu, c, t.size)
            tt = t if d.ndim == 1 else t[:, None]
            worst = max(worst, float((np.abs(s - tt) / (1.0 + tt)).max()))
            gu = gu * _factors(s, t, f"'{labels[m]}'")[c]
        if worst <= tol:
            g = gu[inverse]
            w = d * g
            return CalibrationResult(
                weights=w, g=g, iterations=it, max_abs_error=_max_err(w, margins)
            )
    err = _max_err(d * gu[inverse], margins)
    raise ConvergenceError(
        f"raking did not converge in {max_iter} iterations: largest margin error {err:.6g}; "
        "raise max_iter or collapse sparse categories"
    )


def _max_err(w: np.ndarray, margins: list[tuple[np.ndarray, np.ndarray]]) -> float:
    out = 0.0
    for c, t in margins:
        s = group_sum(w, c, t.size)
        out = max(out, float(np.abs(s - (t if w.ndim == 1 else t[:, None])).max()))
    return out
