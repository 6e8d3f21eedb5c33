"""Trimming of extreme weights, and trimming alternated with re-calibration.

``trim_weights`` follows R's ``survey::trimWeights`` (survey 4.1, R/grake.R): weights
below ``lower`` or above ``upper`` are set to the bound and the total trimmed off (or
added) is shared out over the untrimmed weights, equally (R's rule, ``"additive"``) or in
proportion to their size (``"proportional"``), so the sum of weights is kept. With
``strict=True`` this is repeated until no weight lies outside the bounds (the shares can
push a weight past a bound). Bounds may be absolute, or multiples of the median weight.

Trimming moves weights off their margins; ``trim_and_recalibrate`` alternates trimming
and calibration until the weights meet both, or raises a WeightingError saying they
cannot (the classical "trim, then re-rake" loop; Potter 1990, "A study of procedures to
identify and trim extreme sampling weights", ASA Proc. Survey Research Methods).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sid.errors import ConvergenceError, WeightingError
from sid.weighting.calibration import calibrate
from sid.weighting.compress import unique_rows
from sid.weighting.feasibility import bounded_feasible

__all__ = ["TrimResult", "median_bounds", "trim_weights", "trim_and_recalibrate"]


@dataclass(frozen=True)
class TrimResult:
    """Trimmed weights (shape of the input), which weights were set to a bound, rounds.

    For ``trim_and_recalibrate`` also the calibration's largest margin error (units of the
    totals); ``g`` = final weights / input weights.
    """

    weights: np.ndarray
    trimmed: np.ndarray
    rounds: int
    g: np.ndarray | None = None
    max_abs_error: float = 0.0


def _bounds(lower: float | None, upper: float | None) -> tuple[float, float]:
    lo = -np.inf if lower is None else float(lower)
    hi = np.inf if upper is None else float(upper)
    if not lo < hi:
        raise WeightingError(f"trimming bounds: lower {lo:g} must be below upper {hi:g}")
    return lo, hi


def median_bounds(
    weights: np.ndarray, lower: float | None, upper: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Absolute bounds from multiples of the median weight (per column for (n, R)).

    E.g. ``lower=0.2, upper=5`` -> [0.2 median, 5 median] (a common rule: Kish 1992,
    "Weighting for unequal Pi", J. Official Statistics 8:183-200).
    """
    lo, hi = _bounds(lower, upper)
    med = np.median(np.asarray(weights, dtype=float), axis=0)
    return lo * med, hi * med


def _trim_once(
    w: np.ndarray, lo: np.ndarray | float, hi: np.ndarray | float, redistribute: str
) -> tuple[np.ndarray, np.ndarray]:
    outside = (w < lo) | (w > hi)
    new = np.clip(w, lo, hi)
    excess = (w - new).sum(axis=0)
    inside = ~outside
    n_in = inside.sum(axis=0)
    if ((n_in == 0) & outside.any(axis=0)).any():
        raise WeightingError(
            "trimming: every weight lies outside the bounds, so no weight can take the "
            "trimmed excess; widen the bounds"
        )
    if redistribute == "additive":
        share = excess / np.maximum(n_in, 1)
        new = new + inside * share
    else:
        base = (new * inside).sum(axis=0)
        new = np.where(inside, new * (1.0 + excess / np.where(base > 0, base, 1.0)), new)
    return new, outside


def trim_weights(
    weights: np.ndarray,
    lower: float | None = None,
    upper: float | None = None,
    *,
    relative_to: str = "absolute",
    strict: bool = False,
    redistribute: str = "additive",
    max_rounds: int = 1000,
) -> TrimResult:
    """Trim weights to [lower, upper], keeping their sum (per column for (n, R) weights).

    relative_to: "absolute" (bounds in weight units) or "median" (bounds are multiples of
    the median weight). strict: repeat until every weight is inside (R's ``strict``).
    redistribute: "additive" (R: equal shares) or "proportional". Raises WeightingError on
    unusable bounds and ConvergenceError when strict trimming needs more than max_rounds.
    """
    w = np.asarray(weights, dtype=float)
    if not np.isfinite(w).all():
        raise WeightingError("trimming: weights must be finite")
    if redistribute not in ("additive", "proportional"):
        raise WeightingError(
            f"trimming: redistribute {redistribute!r} is unknown; use 'additive' or 'proportional'"
        )
    if relative_to == "median":
        lo, hi = median_bounds(w, lower, upper)
    elif relative_to == "absolute":
        lo, hi = _bounds(lower, upper)
    else:
        raise WeightingError(
            f"trimming: relative_to {relative_to!r} is unknown; use 'absolute' or 'median'"
        )
    if strict:
        # the sum is kept, so strict trimming can only end if n*lower <= sum <= n*upper
        total, n = w.sum(axis=0), w.shape[0]
        if (total > n * np.asarray(hi)).any() or (total < n * np.asarray(lo)).any():
            raise WeightingError(
                f"strict trimming: the weights sum to {np.max(total):.10g}, which {n} weights "
                f"within the bounds cannot hold; widen the bounds"
            )
    trimmed = np.zeros(w.shape, dtype=bool)
    rounds = 0
    while ((w < lo) | (w > hi)).any():
        if rounds >= max_rounds:
            raise ConvergenceError(
                f"strict trimming still has weights outside the bounds after {rounds} rounds; "
                "widen the bounds"
            )
        w, outside = _trim_once(w, lo, hi, redistribute)
        trimmed |= outside
        rounds += 1
        if not strict:
            break
    return TrimResult(weights=w, trimmed=trimmed, rounds=rounds)


def trim_and_recalibrate(
    weights: np.ndarray,
    X: sp.spmatrix | np.ndarray,
    totals: np.ndarray | Sequence[float],
    *,
    lower: float | None = None,
    upper: float | None = None,
    relative_to: str = "absolute",
    method: str = "raking",
    bounds: tuple[float, float] | None = None,
    names: list[str] | None = None,
    max_rounds: int = 50,
    bound_tol: float = 1e-6,
    tol: float = 1e-10,
) -> TrimResult:
    """Alternate trimming and calibration until the weights meet the margins and bounds.

    weights: calibrated (or design) weights (n,) to start from; X, totals, method, bounds,
    names: as for :func:`~sid.weighting.calibration.calibrate`. Median-relative bounds are
    fixed from the input weights' median. Stops when, after calibration, every weight is
    within the bounds up to ``bound_tol`` (relative); raises WeightingError when that
    takes more than ``max_rounds`` (the bounds and the margins cannot both hold).
    """
    w0 = np.asarray(weights, dtype=float)
    if relative_to == "median":
        lo, hi = median_bounds(w0, lower, upper)
    else:
        lo, hi = _bounds(lower, upper)
    w = w0
    trimmed = np.zeros(w0.shape, dtype=bool)
    err = 0.0
    for rounds in range(1, max_rounds + 1):
        t = trim_weights(w, lo, hi)
        trimmed |= t.trimmed
        res = calibrate(t.weights, X, totals, method=method, bounds=bounds, tol=tol, names=names)
        w, err = res.weights, res.max_abs_error
        slack = bound_tol * np.maximum(np.abs(lo), np.abs(hi))
        if ((w >= lo - slack) & (w <= hi + slack)).all():
            with np.errstate(divide="ignore", invalid="ignore"):
                g = np.where(w0 > 0, w / np.where(w0 > 0, w0, 1.0), 1.0)
            return TrimResult(weights=w, trimmed=trimmed, rounds=rounds, g=g, max_abs_error=err)
    Xu, inverse = unique_rows(sp.csr_matrix(X, dtype=float))
    counts = np.bincount(inverse, minlength=Xu.shape[0]).astype(float)
    T = np.asarray(totals, dtype=float)
    span = f"[{np.min(lo):g}, {np.max(hi):g}]"
    if np.ndim(lo) == 0 and not bounded_feasible(Xu, counts, T, float(lo), float(hi)):
        raise WeightingError(
            f"trimming to {span} and calibrating to the margins cannot both hold: no weights "
            "within these bounds meet the margins; widen the trimming bounds or collapse "
            "margin categories"
        )
    raise ConvergenceError(
        f"trimming to {span} and re-calibrating did not settle in {max_rounds} rounds "
        f"(weights now range {w.min():.6g} to {w.max():.6g}); widen the bounds, raise "
        "max_rounds, or calibrate with bounds on g instead"
    )
