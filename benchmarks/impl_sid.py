"""The benchmark tasks in sid (``sid.Design``): what is timed for sid.

rake:      Design(df, weight="design_weight", strata="origin").calibrate(margins,
           method="raking") with margins origin:sex, origin:age_band, origin:region.
taylor:    on the raked design, ``mean(v)`` and ``mean(v, by="origin")`` for the
           TAYLOR_VARS: calibration-aware Taylor SEs (R ``rake()`` residuals).
bootstrap: Design(...).replicate("subbootstrap", replicates=100, seed).calibrate(...):
           draws 100 Rao-Wu bootstrap replicates and rakes the full-sample and every
           replicate weight column.
rerake:    only the ``.calibrate(...)`` of the above, on the replicate design drawn
           beforehand (untimed): the same work as svy and R get in their rerake.
tables:    on the re-raked bootstrap design, ``mean`` of the indices and dutch_home and
           ``proportion`` of q_lang_home, overall and by origin (replicate SEs), each a
           list of variables per call (one pass over the replicate weights per call).
"""

from __future__ import annotations

import pandas as pd

from benchmarks.common import (
    BOOT_SEED,
    REPLICATES,
    TABLE_MEANS,
    TABLE_PROPS,
    TAYLOR_VARS,
    TOL,
    tidy,
)
from benchmarks.data import BenchData
from sid.estimation.design import Design


def _design(b: BenchData) -> Design:
    return Design(b.respondents, weight="design_weight", strata="origin", psu="psu")


def rake(b: BenchData) -> Design:
    return _design(b).calibrate(b.margins, method="raking", tol=TOL)


def draw(b: BenchData) -> Design:
    return _design(b).replicate("subbootstrap", replicates=REPLICATES, seed=BOOT_SEED)


def rerake(rep: Design, b: BenchData) -> Design:
    return rep.calibrate(b.margins, method="raking", tol=TOL)


def bootstrap(b: BenchData) -> Design:
    return rerake(draw(b), b)


def _mean(d: Design, v: str | list[str], by: str | None) -> pd.DataFrame:
    t = d.mean(v, by=by)
    return pd.DataFrame({"variable": t["variable"], "group": t["origin"] if by else "ALL", "category": "",
                         "estimate": t["estimate"], "se": t["se"]})


def _prop(d: Design, v: str | list[str], by: str | None) -> pd.DataFrame:
    t = d.proportion(v, by=by)
    return pd.DataFrame({"variable": t["variable"], "group": t["origin"] if by else "ALL", "category": t["category"],
                         "estimate": t["estimate"], "se": t["se"]})


def means(d: Design, variables) -> list[pd.DataFrame]:
    """Means overall and by origin, one call each (sid estimates one variable per call)."""
    return [_mean(d, v, by) for v in variables for by in (None, "origin")]


def taylor(d: Design) -> list[pd.DataFrame]:
    return means(d, TAYLOR_VARS)


def tables(d: Design) -> list[pd.DataFrame]:
    """The same estimates as one call per variable, with the list form: one ``mean`` of all
    TABLE_MEANS and one ``proportion`` of all TABLE_PROPS per domain (overall, origin),
    each one pass over the replicate weights (4 calls instead of 14)."""
    out = []
    for by in (None, "origin"):
        out.append(_mean(d, list(TABLE_MEANS), by))
        out.append(_prop(d, list(TABLE_PROPS), by))
    return out


__all__ = ["rake", "draw", "rerake", "bootstrap", "taylor", "tables", "tidy"]
