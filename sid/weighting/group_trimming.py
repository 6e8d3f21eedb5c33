"""Trimming within calibration groups, for the full sample and for replicate columns.

The full sample (W (n,)): the spec's bounds (ratio to the trimming group's median, or
absolute), trimming alternated with re-calibration until both hold, else a WeightingError
(:func:`sid.weighting.trimming.trim_and_recalibrate`; Potter 1990).

Replicate columns (W (n, R), ``factors`` given): each replicate mimics the full-sample
procedure on its own weights: the bounds follow the same rule applied to w / f (the
weight without the unit's resampling multiplicity f; medians per column), then the same
trim -> re-calibrate rounds (at most ``max_rounds``). The margins are the hard
constraint: a replicate column must meet them, or its variance would mix calibration
error into the standard errors. When a column's weights cannot also be brought within
the bounds in ``max_rounds`` rounds (a resample can put a few units of a small cell in
a position no weights within the bounds can carry), that column keeps the weights of its
last round, which meet the margins and trim the extremes as far as the rounds went; the
columns concerned and their largest excess over a bound are reported (diagnostics.json,
``replicates.trimming_unsettled``), never hidden. This is the usual practice for trimmed
replicate weights (Valliant, Dever & Kreuter 2018, sec. 15.4: replicate the steps; the
calibration is the step the estimates rely on).
"""

from __future__ import annotations

import numpy as np

from sid.errors import WeightingError
from sid.spec.weighting import CalibrationSpec, TrimmingSpec
from sid.weighting.compress import group_codes
from sid.weighting.groups import GroupMargins
from sid.weighting.trimming import trim_and_recalibrate

__all__ = ["trim_bounds", "trim_groups"]


def _group_medians(W: np.ndarray, trim_group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median of the positive weights of each trimming group, per column of W: (groups x
    R) medians and each unit's group code.

    Zero weights (units a bootstrap replicate did not draw) are not part of the median.
    Each group's weights are sorted as (R x n_g) rows (contiguous: the sort of one column
    does not stride over the others).
    """
    codes, labels = group_codes(trim_group, "trimming: trimming group")
    W2 = W.reshape(W.shape[0], -1)
    med = np.empty((len(labels), W2.shape[1]))
    cols = np.arange(W2.shape[1])
    for j in range(len(labels)):  # a handful of groups; each vectorised over columns
        v = W2[codes == j].T.copy()  # C order: R rows of the group's weights
        v[~(v > 0)] = np.inf
        v.sort(axis=1)
        m = (v < np.inf).sum(axis=1)  # positive weights per column, sorted first
        if (m == 0).any():
            raise WeightingError(f"trimming: group {labels[j]!r} has no positive weight")
        med[j] = 0.5 * (v[cols, (m - 1) // 2] + v[cols, m // 2])
    return med, codes


def trim_bounds(W: np.ndarray, trim: TrimmingSpec, trim_group: np.ndarray,
                factors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit (and per-column) trimming bounds: ratio_to_median x group median, or absolute.

    factors: replicate factors of the units ((n, R), None for the full sample). In a
    replicate the bounds apply to w / f, the weight without the unit's resampling
    multiplicity, as in the full sample: the bounds are f times the full-sample rule
    (a unit drawn twice may weigh twice as much). A unit with f = 0 (not drawn) keeps
    weight 0: both bounds 0, so the feasibility diagnosis knows it can take no weight.
    A side the spec leaves out (only ``upper`` or only ``lower``) is unbounded: -inf or
    +inf for every drawn unit. Memory: the two bounds and w / f, (n, R) each; the
    medians stay per group until multiplied out.
    """
    drawn = None
    if factors is None:
        V = W
    else:
        drawn = factors > 0
        V = np.divide(W, factors, out=np.zeros(W.shape), where=drawn)
    ratio = any(b is not None and b.form == "ratio_to_median" for b in (trim.lower, trim.upper))
    med, codes = _group_medians(V, trim_group) if ratio else (None, None)

    def one(b, default: float) -> np.ndarray:
        if b is None:
            out = np.full(W.shape, default)
        elif b.form == "ratio_to_median":
            out = (b.value * med)[codes].reshape(W.shape)
        else:
            out = np.full(W.shape, b.value)
        if drawn is not None:
            # a one-sided spec leaves the other bound infinite: inf * 0 would be nan, so a
            # unit not drawn gets both bounds 0 without multiplying its infinite bound
            np.multiply(out, factors, out=out, where=drawn)
            out[~drawn] = 0.0
        return out

    lo, hi = one(trim.lower, -np.inf), one(trim.upper, np.inf)
    np.minimum(lo, 0.0, out=lo, where=~(V > 0))
    return lo, hi


def trim_groups(W: np.ndarray, groups: list[GroupMargins], cal: CalibrationSpec,
                trim: TrimmingSpec, trim_group: np.ndarray, within: str,
                factors: np.ndarray | None = None,
                ) -> tuple[np.ndarray, np.ndarray, list[int], list[float], list[dict]]:
    """Trim calibrated weights W ((n,) or (n, R)) and re-calibrate, group by group.

    The trimmed excess is shared in proportion to the weights (zero weights of replicate
    columns stay zero); re-calibration then moves it onto the margins anyway. Returns
    final weights, trimmed flags, rounds and largest margin error per group, and the
    unsettled replicate columns (``[{"group", "columns", "max_bound_excess"}]``, only
    groups that have some). factors: the replicate factors of replicate columns W (see
    :func:`trim_bounds`); with them, a column that cannot meet the bounds keeps its
    calibrated weights of the last round (the module docstring's rule) instead of raising.
    """
    lo, hi = trim_bounds(W, trim, trim_group, factors)
    out = np.empty_like(W, dtype=float)
    flags = np.zeros(W.shape, dtype=bool)
    rounds, errors, unsettled = [], [], []
    replicate = factors is not None
    for g in groups:
        Wg = W[g.rows]
        if not ((Wg < lo[g.rows]) | (Wg > hi[g.rows])).any():  # within the bounds: nothing to do
            out[g.rows] = Wg
            rounds.append(0)
            errors.append(float(np.abs(g.X.T @ Wg - (g.totals if W.ndim == 1 else g.totals[:, None])).max()))
            continue
        try:
            t = trim_and_recalibrate(W[g.rows], g.X, g.totals, lower=lo[g.rows], upper=hi[g.rows],
                                     relative_to="absolute", groups=trim_group[g.rows],
                                     method=cal.method, bounds=cal.bounds, names=g.names,
                                     max_rounds=trim.max_rounds, tol=cal.tolerance,
                                     redistribute="proportional",
                                     calibrator=lambda w, g=g: g.calibrate(w, cal),
                                     keep_unsettled=replicate)
        except WeightingError as exc:
            hint = "" if not replicate else (
                " (in a replicate: a sparse margin cell whose drawn respondents must carry the "
                "cell; collapse sparse cells with calibration.collapse)")
            raise type(exc)(f"trimming, {within} {g.label!r}: {exc}{hint}") from None
        out[g.rows], flags[g.rows] = t.weights, t.trimmed
        rounds.append(t.rounds)
        errors.append(t.max_abs_error)
        if replicate and t.unsettled is not None and t.unsettled.size:
            unsettled.append({"group": g.label, "columns": [int(c) for c in t.unsettled],
                              "max_bound_excess": t.max_bound_excess})
    return out, flags, rounds, errors, unsettled
