"""The true 2022 - 2017 difference of the demo's planted trend, per concept and domain.

sid.demo.trend_truth defines the planted changes and the concepts; this module simulates
what they do to the population truth (:func:`true_differences`), for a power study of
``sid trend`` on the two demo waves to join on (concept, domain, group) with the waves'
``trend_truth.csv``. See docs/demo-trend.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sid.demo import sid2017_model as M
from sid.demo.answers import TRAITS, simulate_answers
from sid.demo.population import population_counts
from sid.demo.sample import persons_from_cells
from sid.demo.trend_truth import (
    CONCEPTS,
    DOMAINS,
    Concept,
    concept_values,
    domain_keys,
    planted_shift,
    weighted_means,
)
from sid.demo.truth import headline
from sid.spec.check import load_checked_questionnaire

_SPEC_2022 = Path(__file__).resolve().parents[2] / "questionnaires" / "sid2022.yaml"


def _status(c: Concept, domain: tuple[str, ...], group: str, touched: set[str]) -> str:
    if not c.comparable:
        return "break"
    if domain in (("all",), ("generation",)) or (domain[0] == "vlim" and group.startswith("NEU")):
        return "composition"
    return "planted" if group in touched else "unchanged"


def true_differences(per_group: int = 40_000, seed: int = 1712) -> pd.DataFrame:
    """The true 2022 - 2017 difference per comparable concept and domain.

    Columns concept, domain, group, difference, se (its own Monte Carlo error), status:
    ``planted`` (a planted change reaches the group), ``unchanged`` (none does: the
    difference is 0 up to the rounding of register counts), ``composition`` (a pooled
    group whose mix differs between waves: ALL, generation and the non-EU category hold
    AFG in 2022 only; the difference holds that) or ``break`` (not comparable: NaN).

    Simulated on the 2022 pseudo-population with common random numbers: the same persons
    and draws answer once with the 2022 traits and once with the planted changes taken
    off (the 2017 traits), weighted with each wave's register counts per cell.
    """
    spec = load_checked_questionnaire(_SPEC_2022)
    pop = population_counts()
    p17 = population_counts(M.POPULATION)
    p17["region"] = np.where(p17["province"].to_numpy() == 6, 2, 1)
    cell = ["origin", "generation", "sex", "age_band", "region"]
    n17 = pop[cell].merge(p17.groupby(cell, as_index=False)["count"].sum(), on=cell, how="left")["count"]
    counts = pop["count"].to_numpy(dtype=float)
    N_o = pop.groupby("origin")["count"].transform("sum").to_numpy(dtype=float)
    m = np.maximum(np.rint(per_group * counts / N_o), 20).astype(np.int64)
    rng = np.random.default_rng(seed)
    persons = persons_from_cells(pop, m, rng)
    w22 = np.repeat(counts / m, m)
    w17 = np.repeat(n17.fillna(0.0).to_numpy(dtype=float) / m, m)
    draw = int(rng.integers(2**32))
    a = simulate_answers(persons, np.random.default_rng(draw))
    b = simulate_answers(persons, np.random.default_rng(draw), shift=-planted_shift(persons))
    va = concept_values(a, headline(a, spec), spec, "sid2022")
    vb = concept_values(b, headline(b, spec), spec, "sid2022")
    shift = planted_shift(persons)
    frames = []
    for domain in DOMAINS:  # 8 domains
        keys = domain_keys(persons, domain)
        codes, groups = pd.factorize(keys, sort=True)
        k = len(groups)
        for c in CONCEPTS:
            m22, _, _, r22, s22 = weighted_means(va[c.name].to_numpy(dtype=float), w22, codes, k)
            m17, _, _, r17, s17 = weighted_means(vb[c.name].to_numpy(dtype=float), w17, codes, k)
            lin = r22 / s22[codes] - np.nan_to_num(r17 / np.where(s17 > 0, s17, np.nan)[codes])
            se = np.sqrt(np.bincount(codes, weights=lin ** 2, minlength=k))
            touched = set(pd.unique(keys[shift[:, TRAITS.index(c.trait)] != 0]))
            status = [_status(c, domain, g, touched) for g in groups]
            diff = np.where(np.asarray(status) == "break", np.nan, m22 - m17)
            frames.append(pd.DataFrame({"concept": c.name, "domain": " x ".join(domain), "group": list(groups),
                                        "difference": diff, "se": np.where(np.isnan(diff), np.nan, se),
                                        "status": status}))
    out = pd.concat(frames, ignore_index=True)
    # a group of one wave only (AFG) has no difference
    return out[~out["group"].str.startswith("AFG")].reset_index(drop=True)
