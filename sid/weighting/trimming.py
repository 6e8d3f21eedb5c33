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

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from sid.errors import ConvergenceError, WeightingError
from sid.weighting.calibration import calibrate
from sid.weighting.compress import group_codes, group_sum, unique_rows
from sid.weighting.feasibility import bounded_feasible
from sid.weighting.result import CalibrationResult

__all__ = ["TrimResult", "median_bounds", "trim_weights", "trim_and_recalibrate"]


@dataclass(frozen=True)
class TrimResult:
    """Trimmed weights (shape of the input), which weights were set to a bound, rounds.

    For ``trim_and_recalibrate`` also the calibration's largest margin error (units of the
    totals); ``g`` = final weights / input weights. With ``keep_unsettled=True``:
    ``unsettled``, the columns (indices) whose calibrated weights still lie outside the
    bounds after the last round, and ``max_bound_excess``, their largest relative
    excess over a bound (w / upper - 1 or 1 - w / lower).
    """

    weights: np.ndarray
    trimmed: np.ndarray
    rounds: int
    g: np.ndarray | None = None
    max_abs_error: float = 0.0
    unsettled: np.ndarray | None = None
    max_bound_excess: float = 0.0


def _span(lo: float, hi: float) -> str:
    """The bounds as a message names them: "[lo, hi]", or one side ("at most hi")."""
    if not np.isfinite(lo) and np.isfinite(hi):
        return f"at most {hi:g}"
    if np.isfinite(lo) and not np.isfinite(hi):
        return f"at least {lo:g}"
    return f"[{lo:g}, {hi:g}]"


def _bounds(lower: float | None, upper: float | None) -> tuple[float, float]:
    lo = -np.inf if lower is None else float(lower)
    hi = np.inf if upper is None else float(upper)
    if not lo < hi:
        raise WeightingError(f"trimming bounds: lower {lo:g} must be below upper {hi:g}")
    return lo, hi


def _array_bounds(
    lower: float | np.ndarray | None, upper: float | np.ndarray | None
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Absolute bounds, scalars or arrays (broadcast later); lower below upper everywhere."""
    if np.ndim(lower) == 0 and np.ndim(upper) == 0:
        return _bounds(lower, upper)  # type: ignore[arg-type]
    lo = -np.inf if lower is None else np.asarray(lower, dtype=float)
    hi = np.inf if upper is None else np.asarray(upper, dtype=float)
    # lo == hi pins a weight (e.g. 0 for a unit a replicate did not draw)
    if not np.all(np.less_equal(lo, hi)):
        raise WeightingError("trimming bounds: a lower bound is above its upper bound")
    return lo, hi


def _group_codes(groups: np.ndarray | pd.Series | None, n: int) -> tuple[np.ndarray, int]:
    if groups is None:
        return np.zeros(n, dtype=np.int64), 1
    g = np.asarray(groups, dtype=object)
    if len(g) != n:
        raise WeightingError(f"trimming: {len(g)} group labels for {n} weights")
    codes, labels = group_codes(g, "trimming: trimming group")
    return codes, len(labels)


def median_bounds(
    weights: np.ndarray,
    lower: float | None,
    upper: float | None,
    groups: np.ndarray | pd.Series | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit absolute bounds from multiples of the median weight of the unit's group.

    E.g. ``lower=0.2, upper=5`` -> [0.2 median, 5 median] (a common rule: Kish 1992,
    "Weighting for unequal Pi", J. Official Statistics 8:183-200). Medians per column
    for (n, R) weights, and per group when ``groups`` is given.
    """
    lo, hi = _bounds(lower, upper)
    w = np.asarray(weights, dtype=float)
    codes, k = _group_codes(groups, w.shape[0])
    med = np.empty((k,) + w.shape[1:])
    for j in range(k):  # a median per group (a handful of groups), not per respondent
        med[j] = np.median(w[codes == j], axis=0)
    return lo * med[codes], hi * med[codes]


def _trim_once(
    w: np.ndarray,
    lo: np.ndarray | float,
    hi: np.ndarray | float,
    redistribute: str,
    codes: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    outside = (w < lo) | (w > hi)
    new = np.clip(w, lo, hi)
    inside = ~outside
    excess = group_sum(w - new, codes, k)
    n_in = group_sum(inside.astype(float), codes, k)
    if ((n_in == 0) & (group_sum(outside.astype(float), codes, k) > 0)).any():
        raise WeightingError(
            "trimming: every weight of a group lies outside the bounds, so no weight can "
            "take the trimmed excess; widen the bounds"
        )
    if redistribute == "additive":
        new = new + inside * (excess / np.maximum(n_in, 1.0))[codes]
    else:
        base = group_sum(new * inside, codes, k)
        factor = 1.0 + excess / np.where(base > 0, base, 1.0)
        new = np.where(inside, new * factor[codes], new)
    return new, outside


def trim_weights(
    weights: np.ndarray,
    lower: float | None = None,
    upper: float | None = None,
    *,
    relative_to: str = "absolute",
    groups: np.ndarray | pd.Series | None = None,
    strict: bool = False,
    redistribute: str = "additive",
    max_rounds: int = 1000,
) -> TrimResult:
    """Trim weights to [lower, upper], keeping their sum per group (and per column).

    relative_to: "absolute" (bounds in weight units) or "median" (bounds are multiples of
    the group's median weight). groups: (n,) labels; the excess stays within its group
    (None: one group). strict: repeat until every weight is inside (R's ``strict``).
    redistribute: "additive" (R: equal shares) or "proportional". Raises WeightingError on
    unusable bounds and ConvergenceError when strict trimming needs more than max_rounds.
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim not in (1, 2) or not np.isfinite(w).all():
        raise WeightingError("trimming: weights must be a finite (n,) or (n, R) array")
    if redistribute not in ("additive", "proportional"):
        raise WeightingError(
            f"trimming: redistribute {redistribute!r} is unknown; use 'additive' or 'proportional'"
        )
    codes, k = _group_codes(groups, w.shape[0])
    if relative_to == "median":
        lo, hi = median_bounds(w, lower, upper, groups)
    elif relative_to == "absolute":
        lo, hi = _bounds(lower, upper)
    else:
        raise WeightingError(
            f"trimming: relative_to {relative_to!r} is unknown; use 'absolute' or 'median'"
        )
    return _trim(w, lo, hi, codes, k, strict, redistribute, max_rounds)


def _trim(
    w: np.ndarray,
    lo: np.ndarray | float,
    hi: np.ndarray | float,
    codes: np.ndarray,
    k: int,
    strict: bool,
    redistribute: str,
    max_rounds: int,
) -> TrimResult:
    if strict:
        # the sum of a group is kept, so strict trimming can only end if it fits the bounds
        total = group_sum(w, codes, k)
        cap_hi = group_sum(np.broadcast_to(hi, w.shape).astype(float), codes, k)
        cap_lo = group_sum(np.broadcast_to(lo, w.shape).astype(float), codes, k)
        if (total > cap_hi).any() or (total < cap_lo).any():
            raise WeightingError(
                f"strict trimming: the weights sum to {np.max(total):.10g} in a group, which its "
                "weights within the bounds cannot hold; widen the bounds"
            )
    trimmed = np.zeros(w.shape, dtype=bool)
    rounds = 0
    while ((w < lo) | (w > hi)).any():
        if rounds >= max_rounds:
            raise ConvergenceError(
                f"strict trimming still has weights outside the bounds after {rounds} rounds; "
                "widen the bounds"
            )
        w, outside = _trim_once(w, lo, hi, redistribute, codes, k)
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
    lower: float | np.ndarray | None = None,
    upper: float | np.ndarray | None = None,
    relative_to: str = "absolute",
    groups: np.ndarray | pd.Series | None = None,
    method: str = "raking",
    bounds: tuple[float, float] | None = None,
    names: list[str] | None = None,
    max_rounds: int = 50,
    bound_tol: float = 1e-6,
    tol: float = 1e-10,
    redistribute: str = "additive",
    calibrator: Callable[[np.ndarray], CalibrationResult] | None = None,
    keep_unsettled: bool = False,
) -> TrimResult:
    """Alternate trimming and calibration until the weights meet the margins and bounds.

    weights: calibrated (or design) weights (n,) to start from, or (n, R) replicate
    columns (each trimmed and re-calibrated on its own, all at once); X, totals, method,
    bounds, names: as for :func:`~sid.weighting.calibration.calibrate`; groups: trimming
    groups (the excess stays within its group). Median-relative bounds are fixed from the
    input weights' (group, column) medians; absolute bounds may be arrays broadcastable to
    the weights (e.g. one bound per replicate column, shape (R,)). Stops when, after
    calibration, every weight is within the bounds up to ``bound_tol`` (relative). Raises
    WeightingError when no weights within the bounds can meet the margins (a linear
    programme decides), ConvergenceError when they could but ``max_rounds`` rounds did
    not get there. redistribute: how the trimmed excess is shared before re-calibrating
    ("additive", R's rule, or "proportional", which keeps zero weights at zero, as
    replicate columns need). calibrator: a function of the trimmed weights that
    calibrates them to X, totals (e.g. :func:`~sid.weighting.ipf.rake` on the margins'
    cell codes, which reaches the same raking solution); default ``calibrate``.
    keep_unsettled: the rule for replicate columns (see
    :func:`sid.weighting.chain.trim_groups`): instead of raising, return the weights of
    the last round, which meet the margins (the last step is always a calibration), and
    name the columns still outside the bounds in ``unsettled``.
    """
    w0 = np.asarray(weights, dtype=float)
    if redistribute not in ("additive", "proportional"):
        raise WeightingError(
            f"trimming: redistribute {redistribute!r} is unknown; use 'additive' or 'proportional'"
        )
    if w0.ndim not in (1, 2):
        raise WeightingError("trim_and_recalibrate: weights must be (n,) or (n, R) columns")
    codes, k = _group_codes(groups, w0.shape[0])
    if relative_to == "median":
        lo, hi = median_bounds(w0, lower, upper, groups)
    elif relative_to == "absolute":
        lo, hi = _array_bounds(lower, upper)
    else:
        raise WeightingError(
            f"trimming: relative_to {relative_to!r} is unknown; use 'absolute' or 'median'"
        )
    lo_u = np.broadcast_to(lo, w0.shape).astype(float)
    hi_u = np.broadcast_to(hi, w0.shape).astype(float)
    w = w0
    trimmed = np.zeros(w0.shape, dtype=bool)
    for rounds in range(1, max_rounds + 1):
        t = _trim(w, lo_u, hi_u, codes, k, False, redistribute, 1)
        trimmed |= t.trimmed
        if calibrator is not None:
            res = calibrator(t.weights)
        else:
            res = calibrate(t.weights, X, totals, method=method, bounds=bounds, tol=tol, names=names)
        w = res.weights
        with np.errstate(invalid="ignore"):
            inside = (w >= lo_u - bound_tol * np.abs(lo_u)) & (w <= hi_u + bound_tol * np.abs(hi_u))
        if inside.all():
            with np.errstate(divide="ignore", invalid="ignore"):
                g = np.where(w0 > 0, w / np.where(w0 > 0, w0, 1.0), 1.0)
            return TrimResult(
                weights=w, trimmed=trimmed, rounds=rounds, g=g, max_abs_error=res.max_abs_error
            )
    if keep_unsettled:
        with np.errstate(divide="ignore", invalid="ignore"):
            over = np.where(hi_u > 0, w / hi_u - 1.0, 0.0)
            under = np.where(lo_u > 0, 1.0 - w / lo_u, 0.0)
        excess = np.maximum(np.maximum(over, under), 0.0)
        bad = ~inside.all(axis=0) if w.ndim > 1 else np.array([not inside.all()])
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(w0 > 0, w / np.where(w0 > 0, w0, 1.0), 1.0)
        return TrimResult(weights=w, trimmed=trimmed, rounds=max_rounds, g=g,
                          max_abs_error=res.max_abs_error,
                          unsettled=np.flatnonzero(bad),
                          max_bound_excess=float(excess.max()))
    # Respondents with the same row of X can share their bounds' room: the LP on the
    # distinct rows, with summed bounds, is feasible exactly when the full one is.
    Xu, inverse = unique_rows(sp.csr_matrix(X, dtype=float))
    T = np.asarray(totals, dtype=float)
    if w0.ndim == 1:
        cols = [(lo_u, hi_u, "")]
    else:  # diagnose the replicate columns that did not settle (few), one LP each
        bad = ~inside.all(axis=0)
        cols = [(lo_u[:, r], hi_u[:, r], f" (replicate column {r})") for r in np.flatnonzero(bad)]
    for lo_c, hi_c, where in cols:
        cap_lo = np.bincount(inverse, weights=lo_c, minlength=Xu.shape[0])
        cap_hi = np.bincount(inverse, weights=hi_c, minlength=Xu.shape[0])
        span = _span(np.min(lo_c), np.max(hi_c))
        if not bounded_feasible(Xu, np.ones(Xu.shape[0]), T, cap_lo, cap_hi):
            raise WeightingError(
                f"trimming to {span}{where} and calibrating to the margins cannot both hold: no "
                "weights within these bounds meet the margins; widen the trimming bounds or "
                "collapse margin categories"
            )
    span = _span(np.min(lo_u), np.max(hi_u))
    raise ConvergenceError(
        f"trimming to {span} and re-calibrating did not settle in {max_rounds} rounds "
        f"(weights now range {w.min():.6g} to {w.max():.6g}); widen the bounds, raise "
        "max_rounds, or calibrate with bounds on g instead"
    )
