"""Pooled calibration: margins over all origin groups, met jointly with the within-group ones.

The spec's ``calibration.pooled: {margins: [region:sex]}`` adds margins counted in the
register frame over all calibration groups together. They are met in ONE calibration of
all respondents whose model matrix is [within-group margins crossed with the group
(``stratum:sex:age_band``, as the group-by-group calibration)] + [pooled margins]
(Deville & Särndal 1992: any set of consistent linear constraints; the per-group
margins still hold exactly because they are constraints of the same system). Raking
runs as iterative proportional fitting over all these margins (Deming & Stephan 1940;
Deville, Särndal & Sautory 1993: the same solution as raking calibration), the other
methods by Newton's method (:func:`sid.weighting.calibration.calibrate`). Trimming then
re-calibrates against the same joint system with bounds still per trimming group.

Totals must be coherent: the pooled totals, summed over the categories of the variables a
pooled margin shares with a within-group margin, must equal that margin's totals summed
over the groups (both come from the frame; they differ when frame rows lack the group or
a margin variable). A disagreement stops with a WeightingError naming both margins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.errors import WeightingError
from sid.spec.weighting import CalibrationSpec

__all__ = ["POOLED", "JOINT", "pooled_totals", "check_coherent", "crossed_margins", "joint_convergence"]

POOLED = "(pooled)"  # group label of the pooled margins in diagnostics
JOINT = "joint calibration"  # where-text of errors from the joint system


def _frame_totals(frame: pd.DataFrame, count: str, margin: tuple[str, ...]) -> dict[str, float]:
    from sid.weighting.margins import category_text

    sums = frame.groupby(list(margin), dropna=True, observed=True)[count].sum()
    out: dict[str, float] = {}
    for key, total in sums.items():
        key = key if isinstance(key, tuple) else (key,)
        out[":".join(category_text(c) for c in key)] = float(total)
    return out


def pooled_totals(frame: pd.DataFrame, count: str, gross: pd.DataFrame,
                  cal: CalibrationSpec) -> dict[str, dict[str, float]]:
    """Population totals of the pooled margins over the whole frame: ``{"region:sex":
    {"1:2": N}}``. Raises WeightingError naming the margin when a variable is missing from
    the frame or the gross sample."""
    assert cal.pooled is not None
    out = {}
    for m in cal.pooled.margins:
        name = ":".join(m)
        for v in m:
            if v not in frame.columns:
                raise WeightingError(f"calibration, pooled margin {name!r}: the frame has no column {v!r}; "
                                     "add it to the frame or remove the margin from calibration.pooled")
            if v not in gross.columns:
                raise WeightingError(f"calibration, pooled margin {name!r}: variable {v!r} is not in the "
                                     "gross sample; add it or remove the margin from calibration.pooled")
        out[name] = _frame_totals(frame, count, m)
    return out


def _by(cells: dict[str, float], variables: list[str], keep: list[str]) -> dict[str, float]:
    """Totals of a margin summed to the categories of ``keep`` (a subset of variables)."""
    idx = [variables.index(v) for v in keep]
    out: dict[str, float] = {}
    for key, value in cells.items():
        parts = key.split(":")
        k = ":".join(parts[i] for i in idx)
        out[k] = out.get(k, 0.0) + value
    return out


def check_coherent(pooled: dict[str, dict[str, float]], groups: dict[str, dict[str, dict[str, float]]],
                   within: str, rtol: float = 1e-9) -> None:
    """Every pooled margin against every within-group margin summed over the groups, on
    the variables they share (the grand total when they share none); raw frame totals,
    before any collapsing. Raises WeightingError naming both margins and the category."""
    within_names = list(dict.fromkeys(m for g in groups.values() for m in g))
    for pname, pcells in pooled.items():
        pvars = pname.split(":")
        for wname in within_names:
            wvars = wname.split(":")
            shared = [v for v in pvars if v in wvars]
            a = _by(pcells, pvars, shared)
            b: dict[str, float] = {}
            for g in groups.values():
                for k, v in _by(g.get(wname, {}), wvars, shared).items():
                    b[k] = b.get(k, 0.0) + v
            for key in sorted(set(a) | set(b)):
                x, y = a.get(key, 0.0), b.get(key, 0.0)
                if abs(x - y) > rtol * max(abs(x), abs(y), 1.0):
                    cat = f"{':'.join(shared)}={key}" if shared else "the total"
                    raise WeightingError(
                        f"calibration: pooled margin {pname!r} disagrees with margin {wname!r} summed over "
                        f"the {within} groups at {cat}: {x:.10g} pooled but {y:.10g} over the groups; the "
                        f"frame has cells without a {within} or margin value: fix the frame")


def crossed_margins(totals: dict[str, dict[str, dict[str, float]]], labels: list[str],
                    within: str | None) -> dict[str, dict[str, float]]:
    """The groups' margins as whole-sample margins crossed with the group:
    ``{"stratum:sex:age_band": {"BEL:1:1": N}}`` (no ``within``: the one group's margins)."""
    crossed: dict[str, dict[str, float]] = {}
    for label in labels:
        for margin, cells in totals[label].items():
            name = f"{within}:{margin}" if within else margin
            for key, value in cells.items():
                crossed.setdefault(name, {})[f"{label}:{key}" if within else key] = value
    return crossed


def joint_convergence(groups, pooled, calibrated: np.ndarray, weight: np.ndarray,
                      iterations: int, trim_rounds: int | None) -> list[dict]:
    """Per group and for the pooled margins: the joint calibration's iterations and each
    one's largest remaining margin error (units of the totals) after calibration and,
    with trimming, after the last trim/re-calibrate round."""
    out = []
    for g in [*groups, pooled]:
        entry = {"group": g.label, "iterations": iterations, "joint": True,
                 "max_abs_error": float(np.abs(g.X.T @ calibrated[g.rows] - g.totals).max())}
        if trim_rounds is not None:
            entry.update(trim_rounds=trim_rounds,
                         max_abs_error_after_trimming=float(np.abs(g.X.T @ weight[g.rows] - g.totals).max()))
        out.append(entry)
    return out
