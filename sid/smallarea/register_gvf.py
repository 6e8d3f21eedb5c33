"""Anticipated design variances of area means from the register composition of each area.

The direct variance estimate of a small area's weighted mean is unstable and, where a few
heavy-weight respondents dominate the mean, biased low (issue 13's Monte Carlo: mean
psi_hat / actual variance 0.26 in the worst Brussels municipality). For a sample
stratified by group h (origin) the design variance of the area mean
ybar_i = sum_k w_k y_k / sum_k w_k over the area's respondents can instead be *anticipated*
from what is known without the area's answers: its register counts N_hi per group, the
weights of the design and moments of y pooled over all areas of a group. Linearising the
ratio, z_k = (y_k - Ybar_i) / N_i for the area's persons and 0 elsewhere; under
stratified sampling with n_hi ~ N_hi / wbar_h respondents of group h in area i,

    psi_i = sum_h N_hi r_h [s2_h + (mu_h - m_i)^2 (1 - P_hi)] / N_i^2,   m_i = sum_h N_hi mu_h / N_i,

with r_h = sum w^2 / sum w over group h's respondents (N_h / n_h for equal weights: the
population per respondent, times Kish's 1 + cv^2 of the weights otherwise), mu_h and s2_h
the weighted mean and variance of y in group h over all areas (~1,000 respondents each:
stable), P_hi = N_hi / N_h the area's share of the group (N_h the sum of the counts file's
column: with cells finer than the strata, e.g. origin x region, a slight overstatement of
P_hi, so of the correction). No finite-population correction, as the Taylor variance of a
design without fpc (with sampling fractions f_h the formula is high by about f_h). The (mu_h - m_i)^2 term is the variance that the random number of respondents of
each group in the area adds to a mixed area's mean. The model behind it: within a group,
persons have mean mu_h and variance s2_h in every area (a municipal deviation is the
Fay-Herriot area effect, not sampling error). For shares m_i is also the anticipated share,
the arcsine scale gets psi_z = k_i / 4 with k_i = sum_h N_hi r_h / N_i^2 the anticipated
1 / n_eff (Jiang, Lahiri, Wan and Wu 2001: var arcsin sqrt(p) ~ 1 / (4 n)), defined
where p_i is 0 or 1 and where a cell has no variance (everyone of Belgian origin speaks
Dutch at home).

This is a generalised variance function in the sense of Wolter (2007, ch. 7) and of the
"smoothed" psi of Rao & Molina (2015, 6.4.1), but one that uses neither the area's
realised sample nor its answers; it depends on y only through 3 x H pooled moments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.errors import EstimationError


def register_cells(*columns) -> np.ndarray:
    """Cell labels "a:b" from one or more columns (e.g. origin group, region): the cells
    over which the moments are pooled and the register counts are given. Pool within a
    region when the variable's group means differ between regions: the demo's language
    index is ~13 points lower in Brussels than in Flanders for the same origin group, and
    moments pooled over both put m_i that far from a Brussels area's mean (issue 13)."""
    if not columns:
        raise EstimationError("register cells: give at least one column")
    out = _label(columns[0])
    for c in columns[1:]:
        out = out + ":" + _label(c)
    return out.to_numpy(dtype=object)


def _label(col) -> pd.Series:
    """Text of a cell column; whole numbers without decimals (a region read as 1.0 from
    the data and as "1" from the counts file is the same cell)."""
    s = pd.Series(np.asarray(col, dtype=object))
    num = pd.to_numeric(s, errors="coerce")
    whole = num.notna() & (num == np.round(num))
    if whole.all():
        return num.astype(np.int64).astype(str)
    return s.astype(str)


def group_moments(y, w, group) -> pd.DataFrame:
    """Per group (index): mu (weighted mean), s2 (weighted variance x n/(n-1)), r
    (sum w^2 / sum w) and n of the respondents with a value of ``y``."""
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    ok = np.isfinite(y) & np.isfinite(w) & (w > 0)
    g, codes = pd.factorize(pd.Series(np.asarray(group, dtype=object)[ok]), sort=True)
    yo, wo = y[ok], w[ok]
    sw = np.bincount(g, wo)
    n = np.bincount(g).astype(float)
    mu = np.bincount(g, wo * yo) / sw
    s2 = np.bincount(g, wo * (yo - mu[g]) ** 2) / sw * n / np.maximum(n - 1, 1)
    return pd.DataFrame({"mu": mu, "s2": s2, "r": np.bincount(g, wo ** 2) / sw, "n": n.astype(np.int64)},
                        index=pd.Index(list(codes), name="group"))


def anticipated_variances(counts, moments: pd.DataFrame, name: str = "indicator"
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(psi, m, k): the anticipated design variance and mean per area (rows of ``counts``, a
    frame areas x groups of register counts) from ``moments`` (:func:`group_moments`), and
    k = sum_h N_hi r_h / N_i^2, the anticipated 1 / n_eff (the arcsine scale's variance is
    k / 4 whatever the share, so a cell where everyone answers alike is no problem there).
    A group with register population in an area but no respondent with a value anywhere
    is an EstimationError naming it."""
    counts = pd.DataFrame(counts).astype(float)
    missing = [g for g in counts.columns if g not in moments.index and counts[g].sum() > 0]
    if missing:
        raise EstimationError(f"register variances ({name}): group {missing[0]!r} has register population but no "
                              "respondent with a value; merge it with another group in the register counts")
    mom = moments.reindex(counts.columns)
    N = counts.to_numpy()
    Ni = N.sum(axis=1)
    if not (Ni > 0).all():
        raise EstimationError(f"register variances ({name}): area {counts.index[int(np.flatnonzero(~(Ni > 0))[0])]!r} "
                              "has no register population; give every area its counts")
    mu = np.nan_to_num(mom["mu"].to_numpy(float))
    m = N @ mu / Ni
    share = N / np.maximum(N.sum(axis=0), 1.0)[None, :]  # P_hi = N_hi / N_h (the cell's total over the areas)
    spread = np.nan_to_num(mom["s2"].to_numpy(float))[None, :] + (mu[None, :] - m[:, None]) ** 2 * (1 - share)
    r = np.nan_to_num(mom["r"].to_numpy(float))[None, :]
    return (N * r * spread).sum(axis=1) / Ni ** 2, m, (N * r).sum(axis=1) / Ni ** 2


def realised_variances(area, y, w, cells, moments: pd.DataFrame, areas, name: str = "indicator"
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(psi, m, k) per area of ``areas``: the design variance of the area mean *conditional on
    the realised sample*, psi_i = sum_{k in s_i} w_k^2 s2_c(k) / (sum_{k in s_i} w_k)^2 over
    the area's respondents with a value of ``y`` (weights w, variance cell c(k), pooled
    s2_c from ``moments``), m_i = sum w_k mu_c(k) / sum w_k and k_i = sum w^2 / (sum w)^2
    (Kish's 1 / n_eff; the arcsine scale's variance is k_i / 4); NaN where an area has no
    respondent. This is S^2 x sum w^2 / (sum w)^2 with S^2 pooled per cell: for a
    clustered design whose areas are PSUs (sid2017: municipalities drawn PPS, then persons
    within), where an area's respondents and weights are fixed by its sampling points and
    the ultimate-cluster Taylor variance of a domain that is one PSU per stratum says
    little. It leaves out the variance from a random number of respondents per cell in
    the area, which :func:`anticipated_variances` includes."""
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    ok = np.isfinite(y) & np.isfinite(w) & (w > 0)
    cells = pd.Series(np.asarray(cells, dtype=object)[ok])
    s2 = cells.map(moments["s2"]).to_numpy(float)
    mu = cells.map(moments["mu"]).to_numpy(float)
    if np.isnan(s2).any():
        raise EstimationError(f"realised variances ({name}): cell {cells[np.isnan(s2)].iloc[0]!r} has no moments; "
                              "compute them from the same respondents (group_moments)")
    a = pd.Series(np.asarray(area, dtype=object)[ok])
    wo = w[ok]
    g = pd.DataFrame({"a": a, "w": wo, "w2": wo ** 2, "w2s2": wo ** 2 * s2, "wmu": wo * mu}).groupby("a").sum()
    g = g.reindex(list(areas))
    w2 = g["w"].to_numpy(float) ** 2
    return g["w2s2"].to_numpy(float) / w2, (g["wmu"] / g["w"]).to_numpy(float), g["w2"].to_numpy(float) / w2
