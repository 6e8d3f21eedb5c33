"""Register extract of the synthetic wave: socio-economic register variables per sampled
person, by the pseudonymous person key, for linking respondents to the register.

Shaped after what the Crossroads Bank for Social Security (KSZ/BCSS, Datawarehouse
arbeidsmarkt en sociale bescherming) and VLIM's register side hold per person at a
reference date (31 December 2022): socio-economic position, monthly wage band, integration
income (leefloon), social housing, highest diploma. Levels and gaps are loosely shaped
after published VLIM figures (employment 20-64 about 79 % Belgian, 71 % EU, 57 % non-EU
origin; second generation between first generation and Belgian origin; leefloon and social
housing several times more frequent for non-EU origin; a diploma obtained abroad often
unknown to the register); synthetic, not official figures. Pooled with the design
weights, the levels per VLIM category agree with the demo's register indicators for 2022
(sid.demo.admin: employment 20-64, unemployment, leefloon, social housing) within a few
points.

Linkage realism (what ``sid link --register`` reports on): persons who died or emigrated
between sampling and extraction are missing from the extract (``MISSING_RATE``, higher for
recent EU migration), and ``DUPLICATE_RATE`` of the keys appear twice with a redrawn
socio-economic position (an extraction error: two records for one key). Rows are sorted by
key, as extracts are delivered, so the file order reveals nothing of the sample's.

Columns and codes (:data:`CODES`): ``person_key``; ``employment_status`` 1 werkend,
2 werkloos (niet-werkend werkzoekend), 3 inactief, 4 student, 5 gepensioneerd;
``wage_band`` (gross monthly wage of employed persons, EUR) 0 geen loon (niet werkend),
1 < 2,000, 2 2,000-2,499, 3 2,500-2,999, 4 3,000-3,999, 5 >= 4,000; ``leefloon`` 0/1;
``social_housing`` 0/1; ``diploma`` 1 laag (at most lower secondary), 2 midden (upper
secondary), 3 hoog (higher education), missing (NaN) where the register does not know it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.demo.population import ORIGINS, REFERENCE_YEAR
from sid.errors import SidError

CODES: dict[str, dict[int, str]] = {
    "employment_status": {1: "werkend", 2: "werkloos (niet-werkend werkzoekend)", 3: "inactief",
                          4: "student", 5: "gepensioneerd"},
    "wage_band": {0: "geen loon (niet werkend)", 1: "< 2.000 EUR", 2: "2.000-2.499 EUR", 3: "2.500-2.999 EUR",
                  4: "3.000-3.999 EUR", 5: ">= 4.000 EUR"},
    "leefloon": {0: "nee", 1: "ja (recht op maatschappelijke integratie)"},
    "social_housing": {0: "nee", 1: "ja (sociale huurwoning)"},
    "diploma": {1: "laag (hoogstens lager secundair)", 2: "midden (hoger secundair)", 3: "hoog (hoger onderwijs)"},
}
WERKEND, WERKLOOS, INACTIEF, STUDENT, PENSIOEN = 1, 2, 3, 4, 5
MISSING_RATE = 0.01  # base share of keys missing from the extract (deaths, emigration)
DUPLICATE_RATE = 0.003  # share of keys delivered twice (extraction error)

# per origin (ORIGINS order: BEL MAR TUR POL ROU COD AFG)
# diploma of the first generation: P(laag), P(midden) (rest hoog); Belgian origin in row 0
_DIPLOMA_G1 = np.array([[0.22, 0.40], [0.55, 0.30], [0.60, 0.28], [0.25, 0.50], [0.35, 0.45],
                        [0.35, 0.35], [0.60, 0.25]])
_DIPLOMA_G2 = np.array([[0.22, 0.40], [0.30, 0.45], [0.33, 0.45], [0.20, 0.45], [0.25, 0.45],
                        [0.22, 0.40], [0.35, 0.45]])
_UNKNOWN_G1 = np.array([0.02, 0.35, 0.30, 0.40, 0.45, 0.35, 0.55])  # diploma obtained abroad
_EMPLOY_LOGIT = np.array([2.5, 1.2, 1.25, 1.8, 1.7, 1.1, 0.7])  # at age 25-54, middle diploma
_UNEMPLOYED_SHARE = np.array([0.22, 0.30, 0.28, 0.22, 0.22, 0.32, 0.38])  # of the non-employed
_WAGE_SHIFT = np.array([0.0, -0.35, -0.3, -0.4, -0.45, -0.3, -0.6])  # latent wage, SD units
_LEEFLOON_LOGIT = np.array([-4.2, -3.0, -3.1, -3.6, -3.2, -2.8, -2.0])  # non-employed aged 18-64
_SOCIAL_HOUSING = np.array([0.04, 0.12, 0.10, 0.03, 0.03, 0.12, 0.10])
_EMIGRATION = np.array([0.0, 0.005, 0.005, 0.03, 0.04, 0.01, 0.015])  # first generation, on top


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _pick(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One column index per row of ``probs`` (rows sum to 1) from uniforms ``u``."""
    return (u[:, None] > np.cumsum(probs, axis=1)[:, :-1]).sum(axis=1)


def _status(o: np.ndarray, g1: np.ndarray, g2: np.ndarray, age: np.ndarray, female: np.ndarray,
            bxl: np.ndarray, diploma: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Socio-economic position 1..5 from background and diploma; ``u``: (n,) uniforms."""
    # in education: nearly all under 18, most until 21, few after 25 (first generation less)
    p_student = np.select([age < 18, age < 22, age < 25, age < 30], [0.93, 0.65, 0.30, 0.06], 0.0)
    p_student = p_student * np.where(g1 & (age >= 18), 0.6, 1.0) * np.where(diploma == 3, 1.3, 1.0)
    # retirement from 60 (some earlier); migrants of the first generation without a full
    # career are more often registered as inactive than retired after 65
    p_retired = np.select([age >= 65, age >= 60, age >= 55], [np.where(g1, 0.78, 0.93), 0.45, 0.07], 0.0)
    p_student = np.minimum(p_student, 0.97)
    p_retired = np.minimum(p_retired, 0.97 - p_student)
    # employment among the rest: origin level, second generation closer to Belgian origin,
    # diploma, a larger gender gap for first-generation non-EU migrants, Brussels lower
    eta = (_EMPLOY_LOGIT[o] + 0.45 * g2 + 0.7 * (diploma == 3) - 0.8 * (diploma == 1)
           - 0.35 * female - 0.7 * (female & g1 & np.isin(o, [1, 2, 6])) - 0.35 * bxl
           - 0.5 * (age < 25) - 0.6 * (age >= 55))
    p_emp = _expit(eta)
    rest = 1.0 - p_student - p_retired
    share_unemp = _UNEMPLOYED_SHARE[o]
    probs = np.column_stack([rest * p_emp, rest * (1.0 - p_emp) * share_unemp,
                             rest * (1.0 - p_emp) * (1.0 - share_unemp), p_student, p_retired])
    return 1 + _pick(probs, u)


def register_extract(gross_sample: pd.DataFrame, rng: np.random.Generator,
                     reference_year: int = REFERENCE_YEAR) -> pd.DataFrame:
    """Register variables for the persons of ``gross_sample`` (module docstring for codes).

    ``gross_sample`` needs person_key, origin, generation (0/1/2), sex (1/2), birth_year and
    region (1 Vlaams Gewest, 2 Brussels), as :func:`sid.demo.sample.draw_gross_sample` gives.
    Deterministic from ``rng``; vectorised. Returns one row per present record, sorted by
    key: a few keys missing and a few duplicated (see ``MISSING_RATE``, ``DUPLICATE_RATE``).
    ``reference_year``: the year of the extract's reference date (31 December), for ages.
    """
    n = len(gross_sample)
    o = pd.Categorical(gross_sample["origin"], categories=ORIGINS).codes.astype(np.int64)
    if (o < 0).any():
        bad = gross_sample["origin"].to_numpy()[np.flatnonzero(o < 0)[0]]
        raise SidError(f"register_extract: origin {bad!r} is not one of {ORIGINS}")
    gen = gross_sample["generation"].to_numpy()
    g1, g2 = gen == 1, gen == 2
    age = reference_year - gross_sample["birth_year"].to_numpy().astype(np.int64)
    female = gross_sample["sex"].to_numpy() == 2
    bxl = gross_sample["region"].to_numpy() == 2
    u = rng.random((n, 6))  # one block of uniforms: each column feeds one variable

    # highest diploma: by origin and generation; older cohorts less often higher education
    p = np.where(g1[:, None], _DIPLOMA_G1[o], _DIPLOMA_G2[o])
    older = np.clip((age - 45) / 40.0, 0.0, 1.0)  # shift towards laag from age 45 on
    p_low = np.clip(p[:, 0] + 0.25 * older, 0.0, 0.95)
    p_mid = p[:, 1] * (1.0 - p_low) / (1.0 - p[:, 0])
    diploma = 1 + (u[:, 0] > p_low) + (u[:, 0] > p_low + p_mid)
    diploma = np.where(age < 18, 1, diploma)  # still at school: no diploma beyond lower secondary
    status = _status(o, g1, g2, age, female, bxl, diploma, u[:, 1])

    # wage of the employed: a normal latent (log-wage) value cut at the band limits
    z = (rng.standard_normal(n) + _WAGE_SHIFT[o] + 0.9 * (diploma == 3) - 0.6 * (diploma == 1)
         - 0.45 * female + 0.5 * np.clip((age - 25) / 20.0, 0.0, 1.0) + 0.2 * g2)
    band = 1 + np.searchsorted(np.array([-0.7, -0.1, 0.4, 1.2]), z)
    wage_band = np.where(status == WERKEND, band, 0)

    working_age = (age >= 18) & (age <= 64)
    eta = (_LEEFLOON_LOGIT[o] + 0.9 * (status == WERKLOOS) - 0.8 * (status == STUDENT)
           + 0.5 * (diploma == 1) + 0.4 * g1 - 0.3 * g2 * (o > 0))
    p_leef = np.where(working_age & ~np.isin(status, [WERKEND, PENSIOEN]), _expit(eta), 0.002 * working_age)
    leefloon = (u[:, 2] < p_leef).astype(np.int8)

    p_soc = (_SOCIAL_HOUSING[o] * (1.0 + 1.2 * leefloon + 0.6 * (status == WERKLOOS))
             * np.where(diploma == 3, 0.4, 1.0) * np.where(bxl, 1.3, 1.0))
    social = (u[:, 3] < np.clip(p_soc, 0.0, 0.8)).astype(np.int8)

    diploma_reg = diploma.astype(float)
    unknown = u[:, 4] < np.where(g1, _UNKNOWN_G1[o], 0.02 + 0.03 * (age >= 65))
    diploma_reg[unknown] = np.nan

    extract = pd.DataFrame({
        "person_key": gross_sample["person_key"].to_numpy(),
        "employment_status": status.astype(np.int8),
        "wage_band": wage_band.astype(np.int8),
        "leefloon": leefloon,
        "social_housing": social,
        "diploma": diploma_reg,
    })
    # linkage realism: deaths (older persons) and emigration (recent EU migration) remove
    # records; a few keys come twice with a redrawn socio-economic position
    p_gone = MISSING_RATE * (0.5 + np.clip((age - 60) / 10.0, 0.0, 2.0)) + _EMIGRATION[o] * g1
    keep = u[:, 5] >= p_gone
    n_dup = max(2, int(round(DUPLICATE_RATE * n)))
    d = np.sort(rng.choice(np.flatnonzero(keep), size=min(n_dup, int(keep.sum())), replace=False))
    twin = extract.iloc[d].copy()
    other = _status(o[d], g1[d], g2[d], age[d], female[d], bxl[d], diploma[d], rng.random(len(d)))
    twin["employment_status"] = other.astype(np.int8)
    twin["wage_band"] = np.where(other == WERKEND, band[d], 0).astype(np.int8)
    out = pd.concat([extract[keep], twin], ignore_index=True)
    return out.sort_values("person_key", kind="stable").reset_index(drop=True)
