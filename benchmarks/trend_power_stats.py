"""Pure pieces of the trend power study (benchmarks/trend_power.py): the join of a trend
table to the demo's true differences, and the rates over repeated draws.

:func:`join_truth` maps the trend table's domain names and domain codes onto the keys of
sid.demo.trend_differences.true_differences (``domain``: "origin x generation", ``group``:
"MAR:1", "ALL" overall) and fails, naming the rows, when a truth row of a domain the trend
has finds no trend row, or a trend row no truth row (other than a group of one wave only:
``not_in_<wave>``): a join that silently drops rows would bias every rate.

:func:`per_cell` and :func:`summarise` work on the long frame of cell records of all draws
(columns ``draw`` + CELL + RECORD). A test rejects at level 5 % when p < 0.05; ``cover``
(1, 0; NaN without a truth) says whether the trend's CI holds the truth (ci_low <= truth
<= ci_high). The expected power of a two-sided z test of a true difference d with
standard error s (normal reference, as sid.trends):
``Phi(-z + |d|/s) + Phi(-z - |d|/s)``, z = Phi^-1(0.975) (e.g. Cohen 1988, ch. 12; any
power formula of the two-sided z test), evaluated with s = the mean estimated SE of the
cell over draws and with s = the empirical SD of the cell's estimates. Monte Carlo SEs of
the rates are clustered by draw (the cells of one draw share its samples): the SD over
draws of the draw's rate, over sqrt(draws).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

#: trend table domain -> truth domain (sid.demo.trend_truth.DOMAINS joined by " x ")
DOMAIN_OF: Mapping[str, str] = {"overall": "all", "origin": "origin", "vlim": "vlim", "generation": "generation",
                                "origin_generation": "origin x generation", "vlim_generation": "vlim x generation"}
TRUTH_ALL = "ALL"  # the truth's group of the whole population (the trend's by_value "all")
CELL = ["concept", "domain", "group", "status", "truth"]
RECORD = ["difference", "se", "p", "cover", "n_min"]
CLAIMED = ("unchanged", "planted")  # statuses whose rates are claimed; composition, break are reported apart
ALPHA = 0.05


class JoinError(ValueError):
    """The trend table and the truth do not match row for row."""


def _shown(frame: pd.DataFrame, cols: list[str], k: int = 5) -> str:
    rows = [" / ".join(str(v) for v in r) for r in frame[cols].head(k).itertuples(index=False)]
    return "; ".join(rows) + (f" (and {len(frame) - k} more)" if len(frame) > k else "")


def asked_pairs(harmonisation) -> list[tuple[str, str]]:
    """The (concept, trend domain) pairs a harmonisation asks for: each concept overall and
    by each of its domains (sid.spec.harmonisation.Harmonisation.concept_domains)."""
    return [(c.name, d) for c in harmonisation.concepts.values()
            for d in ("overall", *harmonisation.concept_domains(c))]


def join_truth(trend: pd.DataFrame, truth: pd.DataFrame, asked: list[tuple[str, str]]) -> pd.DataFrame:
    """One row per (concept, domain, group) of ``truth`` whose (concept, trend domain) is in
    ``asked`` (:func:`asked_pairs` of the trend's harmonisation):
    CELL (``truth`` = the true difference, ``status`` the truth's) + RECORD from ``trend``
    (sid.trends.trend_table columns; ``cover``: its CI holds the truth; ``n_min`` = the
    smaller wave's n) + ``trend_status``. Raises JoinError
    when a row of either side has no partner (trend rows ``not_in_<wave>`` excepted), a key
    repeats, or the truth's breaks are not the trend's."""
    unknown = sorted(set(trend["domain"]) - set(DOMAIN_OF))
    if unknown:
        raise JoinError(f"trend domain(s) {', '.join(unknown)} have no truth domain (DOMAIN_OF)")
    t = pd.DataFrame({
        "concept": trend["concept"].astype(str).to_numpy(),
        "domain": trend["domain"].map(DOMAIN_OF).to_numpy(),
        "group": np.where(trend["domain"].to_numpy() == "overall", TRUTH_ALL, trend["by_value"].astype(str)),
        "difference": trend["difference"].to_numpy(dtype=float),
        "se": trend["se_difference"].to_numpy(dtype=float),
        "p": trend["p_value"].to_numpy(dtype=float),
        "ci_low": trend["ci_low"].to_numpy(dtype=float),
        "ci_high": trend["ci_high"].to_numpy(dtype=float),
        "n_min": np.fmin(pd.to_numeric(trend["n_1"]).to_numpy(dtype=float),
                         pd.to_numeric(trend["n_2"]).to_numpy(dtype=float)),
        "trend_status": trend["status"].astype(str).to_numpy(),
    })
    key = ["concept", "domain", "group"]
    for name, side in (("trend", t), ("truth", truth)):
        dup = side[side.duplicated(key, keep=False)]
        if len(dup):
            raise JoinError(f"{name}: repeated key(s) {_shown(dup, key)}")
    unknown = sorted({d for _, d in asked} - set(DOMAIN_OF))
    if unknown:
        raise JoinError(f"asked domain(s) {', '.join(unknown)} have no truth domain (DOMAIN_OF)")
    pairs = pd.DataFrame([(c, DOMAIN_OF[d]) for c, d in asked], columns=["concept", "domain"]).drop_duplicates()
    wanted = truth.merge(pairs, on=["concept", "domain"], how="inner")
    absent = pairs.merge(wanted[["concept", "domain"]].drop_duplicates(), how="left", indicator=True)
    absent = absent[absent["_merge"] == "left_only"]
    if len(absent):
        raise JoinError(f"no truth row for the asked concept and domain {_shown(absent, ['concept', 'domain'])}")
    m = wanted.rename(columns={"difference": "truth"})[CELL].merge(t, on=key, how="outer", indicator=True)
    lost = m[m["_merge"] == "left_only"]
    if len(lost):
        raise JoinError(f"{len(lost)} truth row(s) without a trend row: {_shown(lost, key)}")
    extra = m[(m["_merge"] == "right_only") & ~m["trend_status"].str.contains("not_in_", regex=False)]
    if len(extra):
        raise JoinError(f"{len(extra)} trend row(s) without a truth row: {_shown(extra, key)}")
    m = m[m["_merge"] == "both"].copy()
    truth_d = m["truth"].to_numpy(dtype=float)
    m["cover"] = np.where(np.isnan(truth_d), np.nan, ((m["ci_low"].to_numpy(dtype=float) <= truth_d)
                                                      & (truth_d <= m["ci_high"].to_numpy(dtype=float))))
    trend_break = m["trend_status"].str.split(";").map(lambda toks: "break" in toks)
    if not (trend_break == (m["status"] == "break")).all():
        bad = m[trend_break != (m["status"] == "break")]
        raise JoinError(f"breaks differ between the trend and the truth: {_shown(bad, key + ['status'])}")
    return m[CELL + RECORD + ["trend_status"]].reset_index(drop=True)


def expected_power(d, se, level: float = 1 - ALPHA) -> np.ndarray:
    """Power of the two-sided z test at ``level`` of a true difference ``d`` with standard
    error ``se``: Phi(-z + |d|/se) + Phi(-z - |d|/se) (0.05 at d = 0)."""
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):  # no SE (fewer than 2 draws): NaN
        r = np.abs(np.asarray(d, dtype=float)) / np.asarray(se, dtype=float)
    return stats.norm.cdf(-z + r) + stats.norm.cdf(-z - r)


def aliases(records: pd.DataFrame) -> pd.Series:
    """Per cell (index CELL[:4]), whether it repeats an earlier cell of the same concept and
    status: the same estimate and SE in every draw (the same respondents: SID's Belgian
    origin is origin BEL, VLIM BEL, BEL:0 and VLIM BEL:0). Rates count such a cell once."""
    key = CELL[:4]
    ordered = records.sort_values("draw", kind="stable")
    sig = ordered.groupby(key, sort=False, dropna=False)[["difference", "se"]].apply(  # over cells
        lambda g: tuple(np.round(g.to_numpy(dtype=float), 10).ravel().tolist()))
    first = pd.DataFrame({"concept": sig.index.get_level_values("concept"),
                          "status": sig.index.get_level_values("status"), "sig": sig.to_numpy()})
    return pd.Series(first.duplicated(keep="first").to_numpy(), index=sig.index, name="alias")


def _flags(records: pd.DataFrame) -> pd.DataFrame:
    return records.assign(reject=(records["p"].to_numpy(dtype=float) < ALPHA).astype(float),
                          cover=records["cover"].to_numpy(dtype=float))


def per_cell(records: pd.DataFrame) -> pd.DataFrame:
    """Per cell (CELL) over draws: draws, mean and SD (ddof 1) of the estimated difference,
    mean SE, se_ratio = mean SE / SD, rejection and coverage rates, and the expected power
    with the mean SE (power_se) and with the SD (power_sd)."""
    f = _flags(records)
    g = f.groupby(CELL[:4], sort=False, dropna=False)
    out = g.agg(truth=("truth", "first"), draws=("draw", "nunique"), mean_difference=("difference", "mean"),
                sd_difference=("difference", "std"), mean_se=("se", "mean"), reject=("reject", "mean"),
                cover=("cover", "mean"), n_min=("n_min", "min")).reset_index()
    out["alias"] = aliases(records).to_numpy()
    out["se_ratio"] = out["mean_se"] / out["sd_difference"]
    out["power_se"] = expected_power(out["truth"], out["mean_se"])
    out["power_sd"] = expected_power(out["truth"], out["sd_difference"])
    return out


def _rate(f: pd.DataFrame, col: str) -> tuple[float, float]:
    """Pooled rate of ``col`` over cells and draws, and its draw-clustered Monte Carlo SE."""
    by_draw = f.groupby("draw")[col].mean()
    mc = float(by_draw.std() / np.sqrt(len(by_draw))) if len(by_draw) > 1 else float("nan")
    return float(f[col].mean()), mc


def summarise(records: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per truth status (unchanged, planted, composition, break), over distinct cells (an
    :func:`aliases` cell counted once): cells (and ``aliases`` left out), draws,
    cell-draws, rejection rate at 5 % and its Monte Carlo SE, CI coverage and its SE, the
    mean over cells of the expected power (mean SE; SD) and the median, min and max
    se_ratio; ``claimed``: the median se_ratio over the unchanged and planted cells."""
    all_cells = per_cell(records)
    cells = all_cells[~all_cells["alias"]]
    keep = records.set_index(CELL[:4]).index.isin(cells.set_index(CELL[:4]).index)
    f = _flags(records[keep])
    out: dict[str, dict[str, float]] = {}
    for status in ("unchanged", "planted", "composition", "break"):
        fs, cs = f[f["status"] == status], cells[cells["status"] == status]
        if not len(fs):
            continue
        rej, rej_se = _rate(fs, "reject")
        s: dict[str, float] = {"cells": len(cs), "aliases": int((all_cells["status"] == status).sum() - len(cs)),
                               "draws": int(fs["draw"].nunique()), "cell_draws": len(fs),
                               "rejection_rate": rej, "rejection_mc_se": rej_se}
        if status != "break":
            cov, cov_se = _rate(fs, "cover")
            s |= {"coverage": cov, "coverage_mc_se": cov_se,
                  "expected_power_mean_se": float(cs["power_se"].mean()),
                  "expected_power_sd": float(cs["power_sd"].mean()),
                  "se_ratio_median": float(cs["se_ratio"].median()), "se_ratio_min": float(cs["se_ratio"].min()),
                  "se_ratio_max": float(cs["se_ratio"].max())}
        out[status] = s
    claimed = cells[cells["status"].isin(CLAIMED)]
    if len(claimed):
        out["claimed"] = {"cells": len(claimed), "se_ratio_median": float(claimed["se_ratio"].median())}
    return out


__all__ = ["ALPHA", "CELL", "DOMAIN_OF", "JoinError", "RECORD", "aliases", "asked_pairs", "expected_power", "join_truth", "per_cell",
           "summarise"]
