"""Synthetic administrative (register) indicators in the shape VLIM uses.

Five indicators of the Flemish integration monitor's register side, for the Flemish
Region, 2019-2023, by origin (Belgian / EU / non-EU origin) and, for foreign origin, by
generation. Levels and gaps are loosely shaped after published VLIM figures (employment
gap of about 20 points for non-EU origin, second generation between first generation and
Belgian origin); they are synthetic, not official figures. Each value is a ratio of
synthetic counts (numerator / denominator), so the rows carry both.

Deterministic: the same seed gives the same frame, byte for byte.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from sid.io.atomic import write_text

YEARS = tuple(range(2019, 2024))
BASE_YEAR = 2019  # levels and trends are set relative to this year
WAVE = "vlim-admin-demo"
# code: (name, theme, unit, definition, numerator, denominator,
#        level by origin BEL/EU/NEU (percent), generation effect 1st/2nd, yearly trend,
#        denominator population BEL/EU/NEU)
_DEFS = {
    "ADM_WERKZAAMHEID_20_64": (
        "Werkzaamheidsgraad 20-64 jaar", "werk", "percent",
        "Employed persons aged 20-64 as a percentage of the population aged 20-64 (register, 31 December).",
        "employed persons aged 20-64", "population aged 20-64",
        (79.0, 71.0, 57.0), (-3.0, 4.0), 0.5, (3_000_000, 180_000, 420_000)),
    "ADM_WERKLOOSHEID": (
        "Werkloosheidsgraad (niet-werkende werkzoekenden)", "werk", "percent",
        "Jobseekers without work as a percentage of the active population aged 15-64.",
        "jobseekers without work aged 15-64", "active population aged 15-64",
        (3.5, 7.0, 14.0), (1.5, -1.0), -0.2, (2_900_000, 170_000, 330_000)),
    "ADM_VROEGTIJDIG_SCHOOLVERLATEN": (
        "Vroegtijdig schoolverlaten", "onderwijs", "percent",
        "Young people leaving secondary education without a qualification, as a percentage of leavers.",
        "leavers without a qualification", "leavers of secondary education",
        (5.5, 16.0, 15.0), (4.0, -2.5), -0.3, (55_000, 3_500, 12_000)),
    "ADM_SOCIALE_HUUR": (
        "Wonen in een sociale huurwoning", "wonen", "percent",
        "Persons living in a social rented dwelling as a percentage of the population.",
        "persons in social rented dwellings", "population",
        (4.0, 4.5, 13.0), (-0.5, 1.0), 0.05, (5_300_000, 330_000, 780_000)),
    "ADM_LEEFLOON": (
        "Leefloon (recht op maatschappelijke integratie)", "inkomen", "percent",
        "Persons aged 18-64 receiving the integration income (leefloon) as a percentage of that population.",
        "persons aged 18-64 receiving the integration income", "population aged 18-64",
        (0.5, 1.8, 4.5), (1.0, -0.8), 0.05, (3_200_000, 200_000, 460_000)),
}
ORIGINS = ("BEL", "EU", "NEU")
_GEN_SHARE = {"EU": 0.75, "NEU": 0.55}  # share first generation in the denominator


def admin_definitions() -> pd.DataFrame:
    """The demo register indicators: code, name, theme, definition, unit, source_type,
    numerator, denominator (columns of the base's ``indicators`` table)."""
    return pd.DataFrame([
        {"code": code, "name": d[0], "theme": d[1], "definition": d[3], "unit": d[2],
         "source_type": "register", "numerator": d[4], "denominator": d[5]}
        for code, d in _DEFS.items()
    ])


def admin_indicators(seed: int = 0, years: tuple[int, ...] = YEARS) -> pd.DataFrame:
    """Demo register values, long: indicator_code, period, geography (VLG), origin (BEL, EU,
    NEU), generation (total / first / second; Belgian origin total only), sex and age_band
    (total), value (percent), numerator, denominator (persons), flags, note. ``years``:
    the periods (default 2019-2023; the SID 2017 demo: 2013-2017)."""
    rng = np.random.default_rng(seed)
    YEARS = tuple(years)
    t = np.array(YEARS) - BASE_YEAR
    rows = []
    for code, d in _DEFS.items():  # 5 indicators: a loop over definitions, not respondents
        level, gen_eff, trend, pop = np.array(d[6]), d[7], d[8], np.array(d[9], float)
        for j, origin in enumerate(ORIGINS):
            cells = [("total", 1.0, 0.0)]
            if origin in _GEN_SHARE:
                s1 = _GEN_SHARE[origin]
                cells += [("first", s1, gen_eff[0]), ("second", 1 - s1, gen_eff[1])]
            for gen, share, eff in cells:
                den = np.round(pop[j] * share * (1 + 0.02 * t))
                pct = level[j] + eff + trend * t + rng.normal(0, 0.15, len(YEARS))
                num = np.round(den * np.clip(pct, 0.05, 99.5) / 100)
                rows.append(pd.DataFrame({
                    "indicator_code": code, "period": YEARS, "geography": "VLG", "origin": origin,
                    "generation": gen, "sex": "total", "age_band": "total",
                    "value": 100 * num / den, "numerator": num, "denominator": den,
                }))
    out = pd.concat(rows, ignore_index=True)
    out["flags"] = ""
    out["note"] = None
    return out


def write_admin_demo(out_dir: str | os.PathLike[str], seed: int = 0, wave: str = WAVE,
                     years: tuple[int, ...] = YEARS) -> list[Path]:
    """Write ``DIR/<wave>/indicators.csv`` (definitions) and ``.../values.csv`` atomically;
    ``sid link --admin DIR/vlim-admin-demo`` loads them into the base as the register wave
    ``vlim-admin-demo`` (the folder's name). Returns the paths written."""
    folder = Path(out_dir) / wave
    paths = [folder / "indicators.csv", folder / "values.csv"]
    write_text(paths[0], admin_definitions().to_csv(index=False, lineterminator="\n"))
    write_text(paths[1], admin_indicators(seed, years).to_csv(index=False, lineterminator="\n"))
    return paths
