"""The trend the demo plants between its two waves (SID 2017 -> SID 2022), and its truth.

SID 2022 is the baseline: its generator is unchanged. The SID 2017 wave is generated with
the same answer model, so that a concept measured the same way in both waves has the
same population truth in both, except where a change is planted here:

* **Same composition within an origin group.** For the six groups the waves share (BEL
  MAR TUR POL ROU COD), the 2017 register has 2022's shares of the second generation,
  age bands per generation, men per generation and Brussels per generation
  (sid.demo.sid2017_model.POPULATION); the Flemish provinces split the Flemish part.
  The foreign-origin groups are 0.92 x their 2022 size (BEL 4.45 million), so the EU
  category (POL + ROU) has the same mix in both waves; the non-EU category holds AFG in
  2022 only.
* **Municipality effects move no mean.** The 2017 answers add a municipality effect on the
  traits, standardised within each stratum (origin x province; residents-weighted mean 0,
  SD sid2017_geography.EFFECT_SD), and the person-level noise gives up its variance
  (AnswerModel.cluster_var): within every register cell a trait has the 2022 mean and
  variance.
* **Same items.** The items of a comparable concept have the same categories, loadings,
  shifts, don't-know rates and routing in both waves (sid.demo.answers.ITEMS,
  sid2017_model.ITEMS).
* **Planted changes** (:data:`PLANTED_CHANGES`): shifts of a latent trait's mean (SD units
  of the trait within a cell), 2022 minus 2017, for some origin groups and generations;
  the 2017 generator subtracts them (:func:`planted_shift`).

Concepts (:data:`CONCEPTS`): ``comparable`` ones are measured identically in both waves
(language, discrimination; religiosity and citizenship on their common items); the others
are breaks (the 4-point belonging grid of 2017, the 2017 home-language category 6, the
items 2022 adds to the religiosity and citizenship indices) and are outside the claim.

Each demo writes ``trend_truth.csv`` (:func:`trend_truth`): per concept and domain
(:data:`DOMAINS`) the truth, its Monte Carlo SE and the number of simulated persons. With
40,000 simulated persons per origin group the SE is about 0.07-0.15 point (0-100 index)
per origin group, about 0.15 (up to 0.5 for the small POL and ROU second generations) per
origin x generation, up to 0.7 per origin x age band, 0.7 percentage point on dutch_home;
a difference of the two files has the error of both.
sid.demo.trend_differences.true_differences gives the true 2022 - 2017 difference per
concept and domain, simulated with common random numbers on the 2022 pseudo-population (its Monte Carlo error
is far below the truth files'): exactly 0 where nothing is planted in a domain of one
origin group, the planted effect on the 0-100 (or share) scale where something is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sid.demo.answers import TRAITS
from sid.scales.scoring import rescale, score_index, score_range
from sid.spec.questionnaire import Questionnaire


@dataclass(frozen=True)
class Change:
    """A planted change: the mean of ``trait`` is ``delta`` SD higher in 2022 than in 2017
    for the ``generations`` (0 Belgian origin, 1, 2) of the ``origins``."""

    trait: str
    origins: tuple[str, ...]
    generations: tuple[int, ...]
    delta: float


#: The planted changes, 2022 minus 2017 (the only place they are defined).
PLANTED_CHANGES: tuple[Change, ...] = (
    Change("language", ("MAR", "TUR"), (1,), 0.30),          # more Dutch at home/with friends
    Change("discrimination", ("COD",), (1, 2), 0.25),        # more experienced discrimination
    Change("citizenship", ("POL", "ROU"), (1,), -0.20),      # less trust and participation
)


@dataclass(frozen=True)
class Concept:
    """A concept of the trend: its trait, its quantity per wave (a spec index, the
    headline ``dutch_home``, or a common-item index defined by ``items``), whether it is
    measured identically in both waves, and why not (``note``)."""

    name: str
    trait: str
    quantity: Mapping[str, str]
    comparable: bool
    note: str
    items: Mapping[str, tuple[str, ...]] | None = None
    min_valid: int = 1


CONCEPTS: tuple[Concept, ...] = (
    Concept("language", "language", {"sid2022": "idx_language", "sid2017": "idx_taal"}, True,
            "the same 5 items, categories and routing"),
    Concept("discrimination", "discrimination", {"sid2022": "idx_discrimination", "sid2017": "idx_discriminatie"},
            True, "the same 6 items and categories"),
    Concept("religiosity_common", "religiosity", {"sid2022": "religiosity_common", "sid2017": "religiosity_common"},
            True, "the 3 items both waves ask (importance, prayer, attendance), min_valid 2",
            {"sid2022": ("q_rel_importance", "q_rel_prayer", "q_rel_attend"),
             "sid2017": ("v_rel_belang", "v_rel_bidden", "v_rel_bezoek")}, 2),
    Concept("citizenship_common", "citizenship", {"sid2022": "citizenship_common", "sid2017": "citizenship_common"},
            True, "the 7 items both waves ask (2022's index without q_trust_mun), min_valid 4",
            {"sid2022": ("q_vote", "q_trust_parl", "q_trust_gov", "q_trust_justice", "q_trust_police",
                         "q_assoc", "q_ident_be"),
             "sid2017": ("v_stemmen", "v_vertr_parlement", "v_vertr_regering", "v_vertr_gerecht",
                         "v_vertr_politie", "v_vereniging", "v_gevoel_belg")}, 4),
    Concept("inclusion", "inclusion", {"sid2022": "idx_inclusion", "sid2017": "idx_inclusie"}, False,
            "break: the belonging grid is 5-point in 2022, 4-point (no neutral category) in 2017"),
    Concept("religiosity", "religiosity", {"sid2022": "idx_religiosity", "sid2017": "idx_religiositeit"}, False,
            "break: the 2022 index adds q_rel_rules (4 items, min_valid 3; 2017: 3 items, min_valid 2)"),
    Concept("citizenship", "citizenship", {"sid2022": "idx_citizenship", "sid2017": "idx_burgerschap"}, False,
            "break: the 2022 index adds q_trust_mun (8 items; 2017: 7)"),
    Concept("dutch_home", "language", {"sid2022": "dutch_home", "sid2017": "nl_thuis"}, False,
            "break: the 2017 home-language item has a category 6 (Dutch and another language equally)"),
)

#: VLIM origin categories of the SID groups
VLIM = {"BEL": "BEL", "POL": "EU", "ROU": "EU", "MAR": "NEU", "TUR": "NEU", "COD": "NEU", "AFG": "NEU"}
#: The domains of trend_truth.csv: register variables (``vlim`` derived from origin);
#: a row's ``group`` holds their values joined by ":" (e.g. ``MAR:1``), ``ALL`` for all.
DOMAINS: tuple[tuple[str, ...], ...] = (
    ("all",), ("origin",), ("origin", "generation"), ("origin", "sex"), ("origin", "age_band"),
    ("vlim",), ("vlim", "generation"), ("generation",),
)
COLUMNS = ["concept", "quantity", "domain", "group", "value", "se", "n"]


def planted_shift(persons: pd.DataFrame, changes: tuple[Change, ...] = PLANTED_CHANGES) -> np.ndarray:
    """(n, 5) trait shifts (TRAITS order), 2022 minus 2017, of ``persons`` (origin, generation)."""
    out = np.zeros((len(persons), len(TRAITS)))
    origin, gen = persons["origin"].to_numpy(), persons["generation"].to_numpy()
    for c in changes:  # a few changes
        sel = np.isin(origin, c.origins) & np.isin(gen, c.generations)
        out[sel, TRAITS.index(c.trait)] += c.delta
    return out


def concept_values(answers: pd.DataFrame, h: pd.DataFrame, spec: Questionnaire, wave: str) -> pd.DataFrame:
    """Per person, one column per concept (NaN where not scored): the wave's quantity
    from ``h`` (sid.demo.truth.headline) or its common items scored as the spec scores
    indices (mean of POMP items, at least ``min_valid`` valid)."""
    missing = [float(c) for c in spec.missing_codes]
    out = {}
    for c in CONCEPTS:  # 8 concepts
        if c.items is None:
            out[c.name] = h["dutch_home" if c.name == "dutch_home" else c.quantity[wave]].to_numpy()
            continue
        items = list(c.items[wave])
        ranges = {i: (min(float(x) for x in spec.variable(i).categories),
                      max(float(x) for x in spec.variable(i).categories)) for i in items}
        x = answers[items].where(~answers[items].isin(missing))
        score, _ = score_index(x, reverse=[], item_ranges=ranges, min_valid=c.min_valid, rule="mean")
        out[c.name] = np.asarray(rescale(score, "pomp", score_range("mean", ranges, items)), dtype=float)
    return pd.DataFrame(out, index=answers.index)


def trend_info() -> dict[str, object]:
    """The planted trend and the concepts, for a demo's demo.json."""
    return {
        "planted_changes": [{"trait": c.trait, "origins": list(c.origins), "generations": list(c.generations),
                             "delta_sd_2022_minus_2017": c.delta} for c in PLANTED_CHANGES],
        "concepts": {c.name: {"quantity": dict(c.quantity), "comparable": c.comparable, "note": c.note}
                     for c in CONCEPTS},
        "true_differences": "sid.demo.trend_differences.true_differences()",
    }


def domain_keys(persons: pd.DataFrame, domain: tuple[str, ...]) -> np.ndarray:
    """Per person, the group of ``domain`` (values joined by ":"; ``ALL`` for all)."""
    if domain == ("all",):
        return np.full(len(persons), "ALL", dtype=object)
    cols = [persons["origin"].map(VLIM) if v == "vlim" else persons[v] for v in domain]
    key = cols[0].astype(str).to_numpy(dtype=object)
    for col in cols[1:]:
        key = key + ":" + col.astype(str).to_numpy(dtype=object)
    return key


def weighted_means(values: np.ndarray, weight: np.ndarray, codes: np.ndarray, k: int):
    """Weighted means per code of the valid values, their linearised SE and counts."""
    ok = ~np.isnan(values)
    w = np.where(ok, weight, 0.0)
    y = np.where(ok, values, 0.0)
    sw = np.bincount(codes, weights=w, minlength=k)
    mean = np.bincount(codes, weights=w * y, minlength=k) / np.where(sw > 0, sw, np.nan)
    resid = np.where(ok, w * (y - mean[codes]), 0.0)
    var = np.bincount(codes, weights=resid ** 2, minlength=k) / np.where(sw > 0, sw, np.nan) ** 2
    return mean, np.sqrt(var), np.bincount(codes, weights=ok.astype(float), minlength=k), resid, sw


def trend_truth(persons: pd.DataFrame, weight: np.ndarray, values: pd.DataFrame, wave: str) -> pd.DataFrame:
    """The truth per concept and domain (COLUMNS): ``values`` (:func:`concept_values`) of
    the truth's pseudo-population (sid.demo.truth.simulate_truth), weighted means with
    their Monte Carlo SE (persons are independent draws within register cells)."""
    frames = []
    for domain in DOMAINS:  # 8 domains
        codes, groups = pd.factorize(domain_keys(persons, domain), sort=True)
        for c in CONCEPTS:
            mean, se, n, _, _ = weighted_means(values[c.name].to_numpy(dtype=float), weight, codes, len(groups))
            frames.append(pd.DataFrame({"concept": c.name, "quantity": c.quantity[wave],
                                        "domain": " x ".join(domain), "group": list(groups),
                                        "value": mean, "se": se, "n": n.astype(np.int64)}))
    return pd.concat(frames, ignore_index=True)[COLUMNS]
