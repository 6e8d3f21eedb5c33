"""Quality flags (the spec's ``quality`` block): speeders, straight-liners, register mismatches.

Flags mark records, they change no value; a record is dropped only where the spec says
``drop: true`` (speeders, straight-lining), and the drop is logged (sid.clean.stage).
All flags read the cleaned valid view (missing codes, invalid codes and routed-out items
are missing).

* Speeder: in a mode the spec lists (all modes when it lists none), a duration below
  ``ratio_to_median`` x the median duration of that mode's *complete* questionnaires.
  Break-offs are never speeders: their duration is short because they stopped.
* Straight-liner: on a grid the spec lists, at least ``min_items`` valid answers and all
  of them the same code.
* Register mismatch: the answer and the register value are both valid and differ by more
  than ``tolerance`` (text: differ at all).
* Failed check: a variable's consistency ``checks`` (spec expressions) definitely false
  (a check on a missing answer is not a violation: ``Expression.violated``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.clean.completion import BREAKOFF, COMPLETE
from sid.errors import DataError
from sid.spec.frame import FrameEnv
from sid.spec.questionnaire import Questionnaire


def speeders(df: pd.DataFrame, q: Questionnaire, status: np.ndarray,
             where: str = "wave") -> tuple[np.ndarray, dict[str, float]]:
    """Speeder flag per record and the duration threshold per mode (minutes, or the unit
    of the duration variable). No flag without ``quality.speeders`` in the spec."""
    spec = q.quality.speeders
    n = len(df)
    flag = np.zeros(n, dtype=bool)
    if spec is None:
        return flag, {}
    if spec.duration not in df.columns:
        raise DataError(f"{where}: no duration variable {spec.duration!r} for the speeder check "
                        f"(quality.speeders of {q.path or q.wave}); deliver it or drop the check")
    dur = FrameEnv(df, q)[spec.duration]
    if dur.dtype == object:
        raise DataError(f"{where}: {spec.duration} holds text; a duration must be a number")
    mv = q.mode_variable
    if spec.modes:
        if not mv or mv not in df.columns:
            raise DataError(f"{where}: no mode variable {mv!r}, needed by quality.speeders.modes "
                            "(ingest the mode files with sid ingest)")
        mode = df[mv].to_numpy(dtype=object)
        groups = {m: mode == m for m in spec.modes}
    else:
        groups = {"all": np.ones(n, dtype=bool)}
    thresholds = {}
    has = ~np.isnan(dur)
    for m, sel in groups.items():  # loop over modes
        ref = sel & has & (status == COMPLETE)
        if not ref.any():
            continue  # no complete interview in the mode: no median to compare with
        thresholds[m] = spec.ratio_to_median * float(np.median(dur[ref]))
        flag |= sel & has & (dur < thresholds[m]) & (status != BREAKOFF)
    return flag, thresholds


def grid_items(q: Questionnaire, grid: str, df: pd.DataFrame) -> list[str]:
    """The items of ``grid`` present in ``df``, in spec order."""
    return [v.name for v in q.variables if v.grid == grid and v.name in df.columns]


def straightliners(df: pd.DataFrame, q: Questionnaire) -> dict[str, np.ndarray]:
    """Per grid of ``quality.straightlining``: True where a record straight-lines it."""
    spec = q.quality.straightlining
    if spec is None:
        return {}
    env = FrameEnv(df, q)
    out = {}
    for g in spec.grids:  # loop over grids
        items = grid_items(q, g, df)
        if len(items) < spec.min_items:
            out[g] = np.zeros(len(df), dtype=bool)
            continue
        x = np.column_stack([env[i] for i in items]).astype(float)
        valid = ~np.isnan(x)
        enough = valid.sum(axis=1) >= spec.min_items
        lo = np.where(valid, x, np.inf).min(axis=1)
        hi = np.where(valid, x, -np.inf).max(axis=1)
        out[g] = enough & (lo == hi)
    return out


def register_mismatches(df: pd.DataFrame, q: Questionnaire,
                        where: str = "wave") -> dict[str, np.ndarray]:
    """Per ``quality.register_mismatch`` entry (keyed by the answer variable): True where
    the answer and the register value disagree beyond the tolerance."""
    env = FrameEnv(df, q)
    out = {}
    for rm in q.quality.register_mismatch:  # loop over compared pairs
        for name in (rm.answer, rm.register):
            if name not in env:
                raise DataError(f"{where}: no variable {name!r} for quality.register_mismatch "
                                f"of {q.path or q.wave}")
        a, r = env[rm.answer], env[rm.register]
        if a.dtype == object or r.dtype == object:
            both = ~pd.isna(a) & ~pd.isna(r)
            out[rm.answer] = both & (a.astype(str) != r.astype(str))
        else:
            with np.errstate(invalid="ignore"):
                out[rm.answer] = np.abs(a - r) > rm.tolerance  # NaN compares False
    return out


def check_violations(df: pd.DataFrame, q: Questionnaire) -> dict[tuple[str, int], np.ndarray]:
    """Per consistency check of the spec, keyed (variable, index of the check): True
    where the record violates it."""
    env, raw = FrameEnv(df, q), FrameEnv(df, q, valid=False)
    out = {}
    for v in q.variables:  # loop over variables with checks
        if v.name not in df.columns:
            continue
        for i, c in enumerate(v.checks):
            out[(v.name, i)] = c.expr.violated(env, len(df), codes=raw)
    return out
