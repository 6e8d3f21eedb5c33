"""The benchmark tasks in ``svy`` (PyPI; Rust core), the fastest Python peer.

The data are handed over as a polars frame (converted once, untimed). svy's rake has no
interaction margins, so raking within origin groups uses the precomputed interaction
columns origin_sex, origin_age_band, origin_region (the same cells as sid's
"origin:sex" ... margins).

rake:      Sample(data, Design(stratum="origin", psu="psu", wgt="design_weight"))
           .weighting.rake(controls, tol=TOL).
taylor:    on the raked sample, ``estimation.mean(TAYLOR_VARS, drop_nulls=True)`` and the
           same ``by="origin"``; svy centres the scores for the raking (its
           variance-consumed ``WgtAdjustment`` record), i.e. calibration-aware SEs.
bootstrap: ``weighting.create_bs_wgts(n_reps=100)`` (Rao-Wu) then ``weighting.rake``,
           which rakes the full-sample and every replicate column (svy's own draws, so
           not compared number by number).
rerake:    the same 100 replicate weights as sid draws (design weight x sid's factors,
           passed as columns rw1..rw100, ``BootstrapWgts(scale=1/(R-1))``), then
           ``weighting.rake``: the figures match sid's exactly.
tables:    on the re-raked sample, ``mean(..., method="replication")`` of the indices and
           dutch_home and ``prop("q_lang_home", ...)``, overall and by origin.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.common import BOOT_SEED, REPLICATES, TABLE_MEANS, TABLE_PROPS, TAYLOR_VARS, TOL
from benchmarks.data import BenchData

try:
    import polars as pl
    import svy
except ImportError:  # the peer is optional: the runner reports it as absent
    svy = None
    pl = None


def available() -> bool:
    return svy is not None


def version() -> str:
    from importlib.metadata import version as v

    return v("svy")


def controls(b: BenchData) -> dict[str, dict[str, float]]:
    return {f"origin_{m.split(':')[1]}": dict(cats) for m, cats in b.margins.items()}


def frame(b: BenchData, rep_weights: np.ndarray | None = None):
    """The respondents as polars, with replicate weight columns rw1..rwR if given."""
    df = pl.from_pandas(b.respondents)
    if rep_weights is not None:
        df = df.with_columns(
            [pl.Series(f"rw{r + 1}", rep_weights[:, r]) for r in range(rep_weights.shape[1])]
        )
    return df


def rake(data, ctrl):
    s = svy.Sample(data, svy.Design(stratum="origin", psu="psu", wgt="design_weight"))
    return s.weighting.rake(controls=ctrl, wgt_name="rk", tol=TOL, max_iter=1000)


def rerake(data_rw, ctrl):
    reps = svy.BootstrapWgts(prefix="rw", n_reps=REPLICATES, scale=1.0 / (REPLICATES - 1))
    s = svy.Sample(data_rw, svy.Design(stratum="origin", psu="psu", wgt="design_weight", rep_wgts=reps))
    return s.weighting.rake(controls=ctrl, wgt_name="rk", tol=TOL, max_iter=1000)


def bootstrap(data, ctrl):
    """svy drawing its own 100 Rao-Wu replicates, then raking them (timed, not compared)."""
    s = svy.Sample(data, svy.Design(stratum="origin", psu="psu", wgt="design_weight"))
    s = s.weighting.create_bs_wgts(n_reps=REPLICATES, rstate=BOOT_SEED)
    return s.weighting.rake(controls=ctrl, wgt_name="rk", tol=TOL, max_iter=1000)


def _means(s, variables, method: str) -> list:
    out = []
    for by in (None, "origin"):
        res = s.estimation.mean(list(variables), by=by, drop_nulls=True, method=method)
        out.extend(zip(variables, res, [by] * len(variables), strict=True))
    return out


def taylor(s) -> list:
    return _means(s, TAYLOR_VARS, "taylor")


def tables(s) -> list:
    out = _means(s, TABLE_MEANS, "replication")
    for v in TABLE_PROPS:
        for by in (None, "origin"):
            out.append((v, s.estimation.prop(v, by=by, drop_nulls=True, method="replication"), by))
    return out


def to_tidy(results: list) -> list[pd.DataFrame]:
    """Tidy frames from svy results (outside the timing: conversion for the comparison)."""
    frames = []
    for v, res, by in results:
        t = res.to_polars().to_pandas()
        cat = t[v] if v in t.columns else ""
        frames.append(pd.DataFrame({"variable": v, "group": t["origin"] if by else "ALL", "category": cat,
                                    "estimate": t["est"], "se": t["se"]}))
    return frames


def weights(s) -> np.ndarray:
    return s.data["rk"].to_numpy()
