"""A two-stage clustered sample: sampling points drawn PPS within strata, persons within them.

Stage 1 (PSUs). Within each stratum h, ``a_h`` sampling points are drawn from the
stratum's municipalities by systematic PPS (probability proportional to the number of
residents of the stratum, ``M_j``): a random start, then every ``M*_h / a_h`` residents
along the municipalities in NIS-code order (an implicit geographic stratification). A
municipality is hit ``floor(e_j)`` or ``ceil(e_j)`` times, ``e_j = a_h M_j / M*_h`` the
expected number of hits; with ``e_j <= 1`` its first-stage inclusion probability is
``e_j``, a larger municipality is taken with certainty (and hit more than once). Each hit
is a sampling point: the PSU of the design, so a municipality hit three times gives three
PSUs. Municipalities with fewer than ``min_residents`` residents of the group are left out
of the first-stage frame (they could not fill a sampling point): their residents are not
covered, and calibration to the register corrects for them. ``M*_h`` is the covered
number of residents.

Stage 2 (persons). Each sampling point takes ``take`` persons of the stratum living in the
municipality, without replacement. Every covered person's inclusion probability is then
``pi = take * a_h / M*_h`` (expected number of selections: ``take x e_j / M_j``): the design
is self-weighting within a stratum, design weight ``1 / pi = M*_h / n_h``.

Variance: the sampling points are PSUs drawn with (nearly) replacement-like PPS, so the
design is declared with the sampling point as PSU and no first-stage fpc (Hansen-Hurwitz;
R: ``svydesign(ids = ~point, strata = ~stratum, weights = ~w)``).

Benchmark regime: a stratum whose sample exceeds its residents (``sid demo --scale 50``
asks more Congolese-origin persons than the register has) is drawn *with replacement*
from its register cells (synthetic persons); ``pi`` is then an expected number of
selections above 1 and the design weight is below 1. Such strata are listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TwoStage:
    """Settings of the two-stage draw: ``take`` persons per sampling point, at least
    ``min_points`` points per stratum (two: a stratum's variance needs two PSUs), and the
    smallest municipality (residents of the group) in the first-stage frame."""

    take: int = 20
    min_points: int = 2
    min_residents: int = 40


def allocate(totals: pd.Series, group: pd.Series, n_per_group: Mapping[str, int], design: TwoStage) -> pd.Series:
    """Sampling points per stratum: ``n_per_group[g]`` persons in group g, shared over the
    group's strata in proportion to their residents (``totals``, indexed by stratum;
    ``group``: the group of each stratum), at least ``design.min_points`` each."""
    share = totals / totals.groupby(group).transform("sum")
    n = group.map(n_per_group).to_numpy(dtype=float)
    points = np.rint(n * share.to_numpy(dtype=float) / design.take).astype(np.int64)
    return pd.Series(np.maximum(points, design.min_points), index=totals.index, name="points")


def systematic_pps(sizes: np.ndarray, n_draws: int, start: float) -> np.ndarray:
    """Hits per unit of a systematic PPS draw of ``n_draws`` points over ``sizes`` (in
    their order) with random ``start`` in [0, 1): points at ``(start + k) T / n``."""
    cum = np.cumsum(sizes, dtype=float)
    points = (start + np.arange(n_draws)) * cum[-1] / n_draws
    unit = np.searchsorted(cum, points, side="right")
    return np.bincount(unit, minlength=sizes.size)


def first_stage(frame: pd.DataFrame, points: pd.Series, design: TwoStage,
                rng: np.random.Generator) -> pd.DataFrame:
    """Draw the sampling points: ``frame`` has stratum, municipality, residents (one row per
    stratum x municipality, in frame order); ``points`` the number per stratum.

    Returns ``frame`` with in_frame (residents >= min_residents), covered (M*_h of the
    stratum), points (a_h), expected_hits (e_j; 0 out of the frame), p_first
    (min(e_j, 1)) and hits.
    """
    out = frame.copy()
    res = out["residents"].to_numpy(dtype=float)
    in_frame = res >= design.min_residents
    # a stratum whose municipalities are all small keeps its largest: it must be drawn
    largest = out.assign(r=res).groupby("stratum")["r"].transform("max").to_numpy() == res
    none = ~pd.Series(in_frame).groupby(out["stratum"].to_numpy()).transform("any").to_numpy()
    in_frame |= none & largest
    size = np.where(in_frame, res, 0.0)
    covered = pd.Series(size).groupby(out["stratum"].to_numpy()).transform("sum").to_numpy()
    a = points.reindex(out["stratum"]).to_numpy(dtype=np.int64)
    hits = np.zeros(len(out), dtype=np.int64)
    strata = out["stratum"].to_numpy()
    for h in points.index:  # loop over the strata (36 in SID 2017), not persons
        rows = np.flatnonzero(strata == h)
        hits[rows] = systematic_pps(size[rows], int(points[h]), float(rng.random()))
    e = a * size / covered
    out["in_frame"] = in_frame
    out["covered"] = covered.astype(np.int64)
    out["points"] = a
    out["expected_hits"] = e
    out["p_first"] = np.minimum(e, 1.0)
    out["hits"] = hits
    return out


def sampling_points(drawn: pd.DataFrame) -> pd.DataFrame:
    """One row per sampling point (a hit): point (1..P, stratum then municipality order),
    stratum, municipality, residents, covered, points, p_first."""
    rows = np.repeat(np.arange(len(drawn)), drawn["hits"].to_numpy())
    pts = drawn.iloc[rows][["stratum", "municipality", "residents", "covered", "points", "p_first"]]
    pts = pts.reset_index(drop=True)
    pts.insert(0, "point", np.arange(1, len(pts) + 1, dtype=np.int64))
    return pts


def assign(person_stratum: np.ndarray, pts: pd.DataFrame, take: int, rng: np.random.Generator) -> np.ndarray:
    """Row of ``pts`` of each person: the persons of a stratum (``take`` per point of it)
    dealt at random over the stratum's sampling points, ``take`` each. The persons'
    stratum counts must be ``take`` x the stratum's points."""
    slots = np.repeat(np.arange(len(pts)), take)
    slot_stratum = pts["stratum"].to_numpy()[slots]
    labels, codes = np.unique(np.concatenate([slot_stratum, person_stratum]), return_inverse=True)
    s_codes, p_codes = codes[: slots.size], codes[slots.size:]
    order_slots = np.argsort(s_codes, kind="stable")
    order_persons = np.lexsort((rng.random(p_codes.size), p_codes))
    if not np.array_equal(s_codes[order_slots], p_codes[order_persons]):
        raise ValueError("assign: the persons per stratum are not take x the stratum's sampling points")
    out = np.empty(p_codes.size, dtype=np.int64)
    out[order_persons] = slots[order_slots]
    return out


def person_design(pts: pd.DataFrame, row: np.ndarray, take: int) -> pd.DataFrame:
    """Design columns of each person at sampling point ``pts.iloc[row]``: point,
    municipality, residents (M_j), covered (M*_h), points (a_h), p_first, p_second
    (conditional on the municipality), pi (inclusion probability) and design_weight (1/pi)."""
    p = pts.iloc[row].reset_index(drop=True)
    pi = take * p["points"].to_numpy(dtype=float) / p["covered"].to_numpy(dtype=float)
    return pd.DataFrame({
        "point": p["point"].to_numpy(), "municipality": p["municipality"].to_numpy(),
        "residents": p["residents"].to_numpy(), "covered": p["covered"].to_numpy(),
        "points": p["points"].to_numpy(), "p_first": p["p_first"].to_numpy(),
        "p_second": pi / p["p_first"].to_numpy(), "pi": pi, "design_weight": 1.0 / pi,
    })


def cells_per_stratum(cells: pd.DataFrame, n_stratum: pd.Series, rng: np.random.Generator) -> tuple[np.ndarray, list]:
    """Persons per register cell: ``n_stratum[h]`` persons drawn from the cells of stratum
    h (``cells``: stratum, count), without replacement (multivariate hypergeometric), or
    with replacement (multinomial) where the stratum has fewer residents than asked.
    Returns the counts per cell row and the strata drawn with replacement."""
    n_cell = np.zeros(len(cells), dtype=np.int64)
    strata = cells["stratum"].to_numpy()
    counts = cells["count"].to_numpy()
    replaced = []
    for h, n in n_stratum.items():  # loop over the strata
        rows = np.flatnonzero(strata == h)
        c = counts[rows]
        if n <= c.sum():
            n_cell[rows] = rng.multivariate_hypergeometric(c, int(n))
        else:
            n_cell[rows] = rng.multinomial(int(n), c / c.sum())
            replaced.append(h)
    return n_cell, replaced
