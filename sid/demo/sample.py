"""Gross sample of the synthetic wave: persons drawn from the register cells, with the
background variables the register holds for respondents and non-respondents alike.

Design: stratified by origin group, equal allocation, simple random sampling without
replacement within a group (cell counts of the sample are multivariate hypergeometric),
so design weights N_h / n_h differ about 150-fold between Belgian and Afghan origin.

Benchmark regime: when a group's sample size exceeds its population (``sid demo --scale
50`` asks 125,000 Afghans of 30,000), the group is drawn *with replacement* from its
register cells (multinomial cell counts), so the asked scale is honoured; the sampled
persons are synthetic anyway. Their design weight N_h / n_h is then below 1: such a
sample is for timing, not for estimates about the population.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.demo.population import AGE_BANDS, ORIGINS, REFERENCE_YEAR

# NIS codes: the 19 Brussels municipalities, and Flemish cities where most people of
# foreign origin live (a register sample of the Flemish Region hits them most).
_BXL = np.arange(21001, 21020)
_BXL_W = np.array([12, 3, 2, 18, 5, 4, 6, 2, 8, 5, 3, 10, 6, 3, 13, 7, 2, 3, 2], float)
_VL = np.array([11002, 44021, 24062, 31005, 71016, 12025, 41002, 46021, 34022, 71022,
                23088, 13040, 71004, 71070, 73107, 46014, 36015, 42006, 23027, 35013])
_VL_W = {  # weights per origin over _VL (Belgian origin: spread; others: concentrated)
    "BEL": np.array([8, 6, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 2], float),
    "MAR": np.array([30, 6, 3, 1, 2, 10, 3, 2, 1, 2, 8, 2, 1, 1, 1, 1, 1, 1, 2, 1], float),
    "TUR": np.array([12, 15, 2, 1, 15, 1, 2, 5, 1, 3, 2, 2, 8, 8, 4, 3, 2, 1, 1, 1], float),
    "POL": np.array([18, 8, 4, 3, 2, 2, 3, 2, 3, 3, 2, 2, 2, 2, 2, 2, 3, 2, 2, 3], float),
    "ROU": np.array([25, 10, 4, 3, 2, 3, 2, 2, 2, 2, 3, 2, 1, 1, 2, 1, 2, 1, 3, 2], float),
    "COD": np.array([15, 8, 8, 2, 2, 5, 2, 2, 1, 2, 4, 1, 1, 1, 1, 1, 1, 1, 3, 1], float),
    "AFG": np.array([15, 10, 5, 4, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 3, 2, 2, 4], float),
}
# share of first generation who hold Belgian nationality now (naturalised)
_NATURALISED = {"BEL": 1.0, "MAR": 0.65, "TUR": 0.60, "POL": 0.15, "ROU": 0.08, "COD": 0.50, "AFG": 0.35}
_HEX = np.array([f"{i:02x}" for i in range(256)])


def random_keys(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` unique pseudonymous keys, 16 lower-case hex characters each, from ``rng``."""
    keys = np.empty(0, dtype="<U16")
    while keys.size < n:  # a 64-bit collision is rare: at most a second round
        b = rng.integers(0, 256, size=(n - keys.size, 8), dtype=np.uint8)
        new = np.ascontiguousarray(_HEX[b]).view("<U16").ravel()
        keys = np.concatenate([keys, new])
        _, first = np.unique(keys, return_index=True)
        keys = keys[np.sort(first)]
    return keys


def persons_from_cells(pop: pd.DataFrame, n_cell: np.ndarray, rng: np.random.Generator, *,
                       reference_year: int = REFERENCE_YEAR, municipalities: bool = True,
                       carry: tuple[str, ...] = ()) -> pd.DataFrame:
    """Expand ``n_cell[i]`` persons of cell ``pop.iloc[i]`` with register attributes.

    Columns: stratum, origin, generation, sex, birth_year, age, age_band, region,
    municipality, birth_country, nat_current, nat_birth, nat_father, nat_mother.
    Nationality history is consistent with the Flemish origin definition: deriving the
    origin (father if not BEL, else mother, else own) gives back the cell's origin.
    ``reference_year``: the year ages refer to (birth_year = reference_year - age).
    ``municipalities=False`` leaves municipality out (a clustered design draws it first:
    sid.demo.clustered); ``carry``: further columns of the cells copied onto the persons
    (after the others).
    """
    idx = np.repeat(np.arange(len(pop)), n_cell)
    cells = pop.iloc[idx].reset_index(drop=True)
    n = len(cells)
    origin = cells["origin"].to_numpy(dtype=object)
    gen = cells["generation"].to_numpy()
    band = cells["age_band"].to_numpy()
    lo = np.array([a for a, _ in AGE_BANDS])[band - 1]
    hi = np.array([b for _, b in AGE_BANDS])[band - 1]
    age = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(int)
    region = cells["region"].to_numpy()

    municipality = np.empty(n, dtype=np.int64)
    if municipalities:
        bxl = region == 2
        municipality[bxl] = rng.choice(_BXL, size=int(bxl.sum()), p=_BXL_W / _BXL_W.sum())
        for o in ORIGINS:  # loop over 7 groups
            m = (~bxl) & (origin == o)
            municipality[m] = rng.choice(_VL, size=int(m.sum()), p=_VL_W[o] / _VL_W[o].sum())

    bel = origin == "BEL"
    g1, g2 = gen == 1, gen == 2
    birth_country = np.where(g1, origin, "BEL").astype(object)
    # second generation: 25 % have a Belgian(-born) father and a foreign-born mother
    father_bel = g2 & (rng.random(n) < 0.25)
    nat_father = np.where(bel | father_bel, "BEL", origin).astype(object)
    # first generation: 10 % of mothers of another (here: Belgian) nationality at birth
    mother_bel = ~father_bel & ~bel & (rng.random(n) < 0.10)
    nat_mother = np.where(bel | mother_bel, "BEL", origin).astype(object)
    # second generation: nationality at birth Belgian for most (ius soli / a Belgian parent)
    nat_birth = np.where(bel | (g2 & (father_bel | (rng.random(n) < 0.6))), "BEL", origin).astype(object)
    natur = pd.Series(origin, dtype=object).map(_NATURALISED).to_numpy(dtype=float)
    # naturalisation more likely after longer stay (older first generation)
    p_nat = np.clip(natur * (0.5 + age / 60.0), 0, 0.95)
    belgian_now = bel | g2 & (rng.random(n) < 0.95) | g1 & (rng.random(n) < p_nat)
    nat_current = np.where(belgian_now | (nat_birth == "BEL"), "BEL", origin).astype(object)

    out = pd.DataFrame({
        "stratum": origin,
        "origin": origin,
        "generation": gen,
        "sex": cells["sex"].to_numpy(),
        "birth_year": reference_year - age,
        "age": age,
        "age_band": band,
        "region": region,
        "municipality": municipality,
        "birth_country": birth_country,
        "nat_current": nat_current,
        "nat_birth": nat_birth,
        "nat_father": nat_father,
        "nat_mother": nat_mother,
    })
    if not municipalities:
        out = out.drop(columns="municipality")
    for c in carry:
        out[c] = cells[c].to_numpy()
    return out


def with_replacement(pop: pd.DataFrame, n_per_group: int) -> list[str]:
    """Origin groups that :func:`draw_gross_sample` draws with replacement (N_h < n)."""
    totals = pop.groupby("origin")["count"].sum()
    return [o for o in ORIGINS if totals[o] < n_per_group]


def draw_gross_sample(pop: pd.DataFrame, n_per_group: int, rng: np.random.Generator) -> pd.DataFrame:
    """SRS of ``n_per_group`` persons within each origin group of ``pop``.

    Without replacement; with replacement in a group whose population is smaller than
    ``n_per_group`` (benchmark regime, see the module docstring). Returns
    :func:`persons_from_cells` columns plus ``person_key`` (first column) and
    ``design_weight`` (N_h / n_h), rows shuffled within the file.
    """
    n_cell = np.zeros(len(pop), dtype=np.int64)
    for o in ORIGINS:  # loop over 7 strata
        rows = np.flatnonzero(pop["origin"].to_numpy() == o)
        counts = pop["count"].to_numpy()[rows]
        if n_per_group <= counts.sum():
            n_cell[rows] = rng.multivariate_hypergeometric(counts, n_per_group)
        else:
            n_cell[rows] = rng.multinomial(n_per_group, counts / counts.sum())
    persons = persons_from_cells(pop, n_cell, rng)
    n_h = persons.groupby("stratum")["stratum"].transform("size").to_numpy()
    N_h = pop.groupby("origin")["count"].sum()
    persons["design_weight"] = N_h.reindex(persons["stratum"]).to_numpy() / n_h
    persons.insert(0, "person_key", random_keys(len(persons), rng))
    return persons.iloc[rng.permutation(len(persons))].reset_index(drop=True)
