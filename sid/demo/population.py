"""Register population of the synthetic SID 2022 wave: residents aged 15-85 per cell.

A cell is origin group x generation x sex x age band x region. Sizes and shapes are
plausible for the Flemish Region and Brussels around 2022 (orders of magnitude from
Statbel / Statistiek Vlaanderen herkomst tables; not official figures): Belgian origin
about 4.5 million, Moroccan about 250,000 down to Afghan about 30,000; Brussels much more
important for Moroccan and Congolese origin; Afghan origin young, male and mostly first
generation; Polish and Romanian origin mostly first generation aged 25-54.

Codes: ``generation`` 0 = Belgian origin (no migration background, a category of its
own), 1 = first generation (born abroad), 2 = second generation (born in Belgium);
``sex`` 1 man, 2 woman; ``age_band`` 1..6 = 15-24, 25-34, 35-44, 45-54, 55-64, 65-85;
``region`` 1 Vlaams Gewest, 2 Brussels Hoofdstedelijk Gewest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

ORIGINS = ("BEL", "MAR", "TUR", "POL", "ROU", "COD", "AFG")
AGE_BANDS = ((15, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 85))
AGE_LABELS = ("15-24", "25-34", "35-44", "45-54", "55-64", "65-85")
REFERENCE_YEAR = 2022

# origin: (total 15-85, share second generation, Brussels share gen 1, gen 2)
_SIZE = {
    "BEL": (4_500_000, 0.0, 0.055, 0.055),
    "MAR": (250_000, 0.55, 0.50, 0.40),
    "TUR": (120_000, 0.50, 0.28, 0.22),
    "POL": (80_000, 0.12, 0.28, 0.22),
    "ROU": (90_000, 0.08, 0.42, 0.35),
    "COD": (35_000, 0.40, 0.58, 0.50),
    "AFG": (30_000, 0.12, 0.22, 0.18),
}
# age distribution over the six bands: Belgian origin / first generation per origin
_AGE = {
    "BEL": (0.11, 0.13, 0.14, 0.15, 0.16, 0.31),
    "MAR": (0.05, 0.15, 0.22, 0.22, 0.16, 0.20),
    "TUR": (0.05, 0.15, 0.20, 0.22, 0.18, 0.20),
    "POL": (0.06, 0.25, 0.32, 0.20, 0.10, 0.07),
    "ROU": (0.10, 0.32, 0.30, 0.18, 0.07, 0.03),
    "COD": (0.08, 0.17, 0.25, 0.23, 0.15, 0.12),
    "AFG": (0.35, 0.33, 0.18, 0.08, 0.04, 0.02),
}
# second generation is young; recent migrations (POL, ROU, AFG) even more so
_AGE_GEN2 = {
    "default": (0.38, 0.30, 0.18, 0.09, 0.04, 0.01),
    "POL": (0.60, 0.25, 0.10, 0.03, 0.01, 0.01),
    "ROU": (0.62, 0.25, 0.09, 0.02, 0.01, 0.01),
    "AFG": (0.84, 0.12, 0.02, 0.01, 0.005, 0.005),
}
# share of men, gen 1 / gen 2 (Belgian origin: both entries used for generation 0)
_MALE = {
    "BEL": (0.495, 0.495), "MAR": (0.50, 0.51), "TUR": (0.51, 0.51), "POL": (0.45, 0.50),
    "ROU": (0.53, 0.51), "COD": (0.46, 0.49), "AFG": (0.62, 0.52),
}


@dataclass(frozen=True)
class PopulationModel:
    """The shape of a wave's register population (a demo wave's config, one per wave).

    ``size``: origin -> (total aged 15-85, share second generation); ``age`` and
    ``age_gen2`` (key ``default`` for origins not listed): shares of the six age bands of
    the first (Belgian origin: the only) and the second generation; ``male``: origin ->
    share of men (gen 1, gen 2); ``area`` names the geographic column of the cells
    (``region`` or ``province``) with codes ``area_codes`` and, per origin, the shares of
    the areas for the first and the second generation (``area_shares``).
    """

    origins: tuple[str, ...]
    size: Mapping[str, tuple[float, float]]
    age: Mapping[str, tuple[float, ...]]
    age_gen2: Mapping[str, tuple[float, ...]]
    male: Mapping[str, tuple[float, float]]
    area: str
    area_codes: tuple[int, ...]
    area_shares: Mapping[str, tuple[tuple[float, ...], tuple[float, ...]]]
    reference_year: int


#: SID 2022: regions (1 Vlaams Gewest, 2 Brussels) with the Brussels share per generation
SID2022 = PopulationModel(
    origins=ORIGINS,
    size={o: (total, g2) for o, (total, g2, _, _) in _SIZE.items()},
    age=_AGE, age_gen2=_AGE_GEN2, male=_MALE, area="region", area_codes=(1, 2),
    area_shares={o: ((1.0 - b1, b1), (1.0 - b2, b2)) for o, (_, _, b1, b2) in _SIZE.items()},
    reference_year=REFERENCE_YEAR,
)


def population_counts(model: PopulationModel = SID2022) -> pd.DataFrame:
    """Register counts per cell: columns origin, generation, sex, age_band, <area>, count.

    Counts are persons (integers); every cell of a foreign-origin group exists for both
    generations (some small), Belgian origin has generation 0 only. ``<area>`` is
    ``model.area`` (SID 2022: region).
    """
    parts = []
    areas = np.asarray(model.area_codes)
    for o in model.origins:  # loop over the origin groups
        total, g2 = model.size[o]
        shares = model.area_shares[o]
        gens = [(0, 1.0, shares[0], model.age[o])] if o == "BEL" else [
            (1, 1.0 - g2, shares[0], model.age[o]),
            (2, g2, shares[1], model.age_gen2.get(o, model.age_gen2["default"])),
        ]
        for gen, p_gen, p_area, age in gens:
            p_age = np.asarray(age, float) / np.sum(age)
            male = model.male[o][0 if gen <= 1 else 1]
            p_sex = np.array([male, 1.0 - male])
            p_reg = np.asarray(p_area, float)  # shares as given (they sum to 1)
            # outer product sex x age x area
            p = p_sex[:, None, None] * p_age[None, :, None] * p_reg[None, None, :]
            sex, band, reg = np.meshgrid([1, 2], np.arange(1, 7), areas, indexing="ij")
            parts.append(pd.DataFrame({
                "origin": o,
                "generation": gen,
                "sex": sex.ravel(),
                "age_band": band.ravel(),
                model.area: reg.ravel(),
                "count": np.maximum(np.rint(total * p_gen * p.ravel()), 1).astype(np.int64),
            }))
    return pd.concat(parts, ignore_index=True)
