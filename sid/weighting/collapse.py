"""Collapsing of sparse calibration cells, decided once on the full sample.

A calibration cell with few respondents makes calibration fragile: its few respondents
carry the whole population of the cell (large g-weights), and a bootstrap replicate may
draw none of them, so the replicate cannot meet the margin at all. The classical remedy
is to collapse such a cell with a neighbouring one before calibrating (Kalton & Flores-
Cervantes 2003, "Weighting methods", J. Official Statistics 19:81-97, sec. 3; Valliant,
Dever & Kreuter 2018, Practical Tools for Designing and Weighting Survey Samples, 2nd ed.,
sec. 14.2: cells of fewer than 20-30 respondents collapsed).

Rule (``calibration.collapse: {min_respondents: k}``): within each calibration group and
margin, the categories of the margin's LAST variable are taken in code order (numeric
order when every code is a number, else text order); while a category (or merged block)
has fewer than k respondents, the first such block is merged with the next one (the last
block with the previous one). For an interaction ``a:b`` this happens along ``b`` within
each category of ``a`` (for ``a:b:c``: along ``c`` within each ``a:b``). For an ordinal
variable (age band) the neighbour is the adjacent band; for a nominal variable (region)
code order has no meaning beyond being a fixed, documented choice. The merged cell's
population total is the sum of its cells' totals; it is written ``"5+6"`` in margin keys
(:func:`sid.weighting.margins.calibration_matrix` reads it as a union of categories).

The collapsed margins are used for the full sample AND every replicate, so replicates
calibrate to exactly the same cells. Population cells of total 0 without respondents are
left as they are (nothing to meet); cells of total 0 with respondents, and respondent
categories absent from the frame, are not collapsed away: calibration reports them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sid.errors import WeightingError
from sid.weighting.margins import category_text

__all__ = ["Collapse", "merge_blocks", "collapse_group", "merge_propensity_classes"]


@dataclass(frozen=True)
class Collapse:
    """One merged cell: group, margin (``"sex:age_band"``), the fixed categories of the
    earlier variables (``"1"``; ``""`` for a one-variable margin), the merged categories of
    the last variable (in code order), the merged key (``"1:5+6"``), its respondents
    (unweighted count) and its population total (sum of the merged cells' totals)."""

    group: str
    margin: str
    within: str
    categories: tuple[str, ...]
    key: str
    respondents: int
    population: float

    def as_dict(self) -> dict:
        return {"group": self.group, "margin": self.margin, "within": self.within,
                "categories": list(self.categories), "key": self.key,
                "respondents": self.respondents, "population": self.population}


def merge_blocks(counts: np.ndarray | list[int], k: int) -> list[list[int]]:
    """Blocks of consecutive positions so that every block counts at least k.

    counts: respondents per category in code order. The first block below k is merged
    with the next block (the last block with the previous one), repeatedly. Raises
    WeightingError when all categories together count fewer than k.
    """
    n = [int(c) for c in counts]
    if sum(n) < k:
        raise WeightingError(f"{sum(n)} respondents in all, fewer than min_respondents {k}")
    blocks = [[i] for i in range(len(n))]
    sizes = list(n)
    while len(blocks) > 1:
        small = [j for j, s in enumerate(sizes) if s < k]
        if not small:
            break
        j = small[0]
        other = j + 1 if j + 1 < len(blocks) else j - 1
        a, b = min(j, other), max(j, other)
        blocks[a:b + 1] = [blocks[a] + blocks[b]]
        sizes[a:b + 1] = [sizes[a] + sizes[b]]
    return blocks


def _order(codes: list[str]) -> list[str]:
    try:
        return sorted(codes, key=float)
    except ValueError:
        return sorted(codes)


def _respondent_counts(df: pd.DataFrame, variables: tuple[str, ...]) -> dict[str, int]:
    """Respondents per cell key ``"1:5"`` (canonical texts of the distinct cells only)."""
    if any(v not in df.columns for v in variables):
        return {}  # calibration_matrix names the missing variable
    sizes = df.groupby(list(variables), dropna=True, observed=True).size()
    out: dict[str, int] = {}
    for key, n in sizes.items():
        parts = key if isinstance(key, tuple) else (key,)
        text = ":".join(category_text(p) for p in parts)
        out[text] = out.get(text, 0) + int(n)
    return out


def collapse_group(df: pd.DataFrame, totals: dict[str, dict[str, float]], k: int,
                   group: str) -> tuple[dict[str, dict[str, float]], list[Collapse]]:
    """Collapse the sparse cells of one calibration group's margins.

    df: the group's respondents (margin variables as columns); totals: ``{margin:
    {key: N}}`` as from :func:`sid.weighting.chain.frame_margins` for this group (keys
    ``"1:5"``); k: min_respondents. Returns the collapsed totals (merged keys ``"1:5+6"``,
    the other keys unchanged) and one :class:`Collapse` per merged cell. Raises
    WeightingError naming group and margin when a margin (or a slice of an interaction)
    has fewer than k respondents in all.
    """
    out: dict[str, dict[str, float]] = {}
    records: list[Collapse] = []
    for margin, cells in totals.items():
        variables = tuple(margin.split(":"))
        counts = _respondent_counts(df, variables)
        keep = {key: N for key, N in cells.items() if N == 0}  # left to calibration as they are
        slices: dict[str, list[str]] = {}
        for key, N in cells.items():
            if N > 0:
                head, _, last = key.rpartition(":")
                slices.setdefault(head, []).append(last)
        new: dict[str, float] = {}
        for head in _order(list(slices)):
            order = _order(slices[head])
            full = [f"{head}:{c}" if head else c for c in order]
            n = [counts.get(f, 0) for f in full]
            try:
                blocks = merge_blocks(n, k)
            except WeightingError as exc:
                where = f" within {':'.join(variables[:-1])} {head}" if head else ""
                raise WeightingError(
                    f"calibration collapse, group {group!r}, margin {margin!r}{where}: {exc}; "
                    "lower calibration.collapse.min_respondents or drop the margin") from None
            for b in blocks:
                cats = tuple(order[i] for i in b)
                key = (f"{head}:" if head else "") + "+".join(cats)
                total = float(sum(cells[full[i]] for i in b))
                new[key] = total
                if len(b) > 1:
                    records.append(Collapse(group, margin, head, cats, key,
                                            int(sum(n[i] for i in b)), total))
        out[margin] = {**new, **keep}
    return out, records


def merge_propensity_classes(cls: np.ndarray, responded: np.ndarray, k: int) -> tuple[np.ndarray, list[dict]]:
    """Merge adjacent response-propensity classes of fewer than k respondents.

    cls: (n,) class labels ``"<group>:<j>"`` of the eligible units (j = 1 lowest
    propensity, :func:`sid.weighting.nonresponse.propensity_adjustment`); responded: (n,)
    bool. Within each group the classes, in propensity order, are merged with
    :func:`merge_blocks` (a class of few respondents gives a large, unstable factor, and a
    bootstrap replicate may draw none of its respondents). Merged labels are
    ``"<group>:1+2"``. Returns the new labels and one record per merged class (group,
    classes, key, respondents). Raises WeightingError when a group has fewer than k
    respondents.
    """
    labels, codes = np.unique(np.asarray(cls, dtype=str), return_inverse=True)
    n_resp = np.bincount(codes, weights=np.asarray(responded, dtype=float), minlength=labels.size)
    by_group: dict[str, list[tuple[str, int]]] = {}
    for lab, n in zip(labels, n_resp, strict=True):
        g, _, j = lab.rpartition(":")
        by_group.setdefault(g, []).append((j, int(n)))
    new_of = {}
    records = []
    for g, items in by_group.items():
        items.sort(key=lambda t: float(t[0]))
        try:
            blocks = merge_blocks([n for _, n in items], k)
        except WeightingError as exc:
            raise WeightingError(f"non-response, group {g!r}: {exc}; lower nonresponse.min_respondents") from None
        for b in blocks:
            key = f"{g}:" + "+".join(items[i][0] for i in b)
            for i in b:
                new_of[f"{g}:{items[i][0]}"] = key
            if len(b) > 1:
                records.append({"group": g, "classes": [items[i][0] for i in b], "key": key,
                                "respondents": int(sum(items[i][1] for i in b))})
    return np.array([new_of[lab] for lab in labels], dtype=object)[codes], records
