"""The synthetic geography of the SID 2017 demo: provinces, municipalities, residents per group.

Five Flemish provinces and the Brussels-Capital Region (a "province" of the design), with
their 2017 numbers of municipalities (64, 65, 70, 44, 65 and 19: 327 in all). The largest
towns carry their real NIS code, name and an approximate population aged 15-85; the other
municipalities get NIS codes of their province's arrondissements and log-normal sizes. Per
origin group, residents are spread over the municipalities of a province in proportion to
``size ** concentration x affinity x noise``: Belgian origin follows the population, the
other groups concentrate in the cities (Moroccan origin in Antwerp, Mechelen, Vilvoorde and
Molenbeek; Turkish origin in the Limburg mining towns, Ghent and Schaerbeek; Congolese
origin in Ixelles/Elsene). Synthetic orders of magnitude, not official figures.

Each municipality also has an effect on the five latent traits (sid.demo.answers), so
answers cluster within municipalities and a clustered design has a design effect above 1.
The effects a group's members get (:func:`stratum_effects`) are standardised within each
stratum (origin group x province), weighted by the group's residents: mean 0 and SD
:data:`EFFECT_SD`, so they move no group's (nor any register cell's) population mean, and
the 2017 answer model takes their variance out of the person-level noise
(``AnswerModel.cluster_var``): a trait's distribution within a cell has the mean and the
variance it has in SID 2022 (sid.demo.trend_truth).

Everything here is fixed (its own seed, :data:`WORLD_SEED`): the same register for every
``sid demo --seed``, as the register population of sid2022 is.

Province codes, west to east (so that the calibration's collapsing of sparse provinces,
which merges a category with the next one in code order, merges neighbours): 1
West-Vlaanderen, 2 Oost-Vlaanderen, 3 Antwerpen, 4 Limburg, 5 Vlaams-Brabant, 6 Brussels
Hoofdstedelijk Gewest.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

WORLD_SEED = 2017
PROVINCES = {1: "West-Vlaanderen", 2: "Oost-Vlaanderen", 3: "Antwerpen", 4: "Limburg",
             5: "Vlaams-Brabant", 6: "Brussels Hoofdstedelijk Gewest"}
BRUSSELS = 6
# province: (number of municipalities, arrondissement NIS prefixes, median size 15-85 of the others)
_PROVINCE = {1: (64, (31, 32, 33, 34, 35, 36, 37, 38), 11_000), 2: (65, (41, 42, 43, 44, 45, 46), 13_000),
             3: (70, (11, 12, 13), 14_000), 4: (44, (71, 72, 73), 11_000), 5: (65, (23, 24), 10_000),
             6: (19, (21,), 30_000)}
# named municipalities: NIS code -> (province, name, residents aged 15-85)
_NAMED = {
    31005: (1, "Brugge", 95_000), 34022: (1, "Kortrijk", 60_000), 35013: (1, "Oostende", 58_000),
    36015: (1, "Roeselare", 50_000), 33011: (1, "Ieper", 29_000), 34042: (1, "Waregem", 30_000),
    44021: (2, "Gent", 210_000), 41002: (2, "Aalst", 68_000), 46021: (2, "Sint-Niklaas", 62_000),
    42006: (2, "Dendermonde", 37_000), 46014: (2, "Lokeren", 33_000), 45041: (2, "Ronse", 21_000),
    11002: (3, "Antwerpen", 420_000), 12025: (3, "Mechelen", 70_000), 13040: (3, "Turnhout", 36_000),
    13017: (3, "Mol", 30_000), 13008: (3, "Geel", 32_000), 12021: (3, "Lier", 30_000),
    11005: (3, "Boom", 14_000), 12014: (3, "Heist-op-den-Berg", 34_000),
    71022: (4, "Hasselt", 63_000), 71016: (4, "Genk", 54_000), 71004: (4, "Beringen", 37_000),
    71070: (4, "Heusden-Zolder", 27_000), 73107: (4, "Maasmechelen", 31_000),
    71053: (4, "Sint-Truiden", 32_000), 72020: (4, "Lommel", 28_000), 73083: (4, "Tongeren", 25_000),
    24062: (5, "Leuven", 82_000), 23088: (5, "Vilvoorde", 35_000), 23016: (5, "Dilbeek", 33_000),
    23027: (5, "Halle", 32_000), 23094: (5, "Zaventem", 27_000), 23025: (5, "Grimbergen", 29_000),
    24107: (5, "Tienen", 27_000), 23047: (5, "Machelen", 12_000),
    21001: (6, "Anderlecht", 90_000), 21002: (6, "Oudergem", 26_000), 21003: (6, "Sint-Agatha-Berchem", 19_000),
    21004: (6, "Brussel", 140_000), 21005: (6, "Etterbeek", 38_000), 21006: (6, "Evere", 32_000),
    21007: (6, "Vorst", 45_000), 21008: (6, "Ganshoren", 19_000), 21009: (6, "Elsene", 72_000),
    21010: (6, "Jette", 41_000), 21011: (6, "Koekelberg", 17_000), 21012: (6, "Sint-Jans-Molenbeek", 73_000),
    21013: (6, "Sint-Gillis", 40_000), 21014: (6, "Sint-Joost-ten-Node", 21_000),
    21015: (6, "Schaarbeek", 103_000), 21016: (6, "Ukkel", 66_000), 21017: (6, "Watermaal-Bosvoorde", 20_000),
    21018: (6, "Sint-Lambrechts-Woluwe", 44_000), 21019: (6, "Sint-Pieters-Woluwe", 34_000),
}
# per origin: concentration exponent on size, and affinity of named municipalities
_CONCENTRATION = {"BEL": 1.0, "MAR": 1.45, "TUR": 1.3, "POL": 1.1, "ROU": 1.25, "COD": 1.4, "AFG": 1.2}
_AFFINITY: Mapping[str, Mapping[int, float]] = {
    "BEL": {11002: 0.7, 44021: 0.85, 21012: 0.4, 21014: 0.4, 21004: 0.6, 21015: 0.5, 21001: 0.6,
            21016: 1.6, 21018: 1.4, 21019: 1.5, 21017: 1.5, 21002: 1.4},
    "MAR": {11002: 2.5, 12025: 2.0, 23088: 3.0, 11005: 2.0, 23047: 2.0, 44021: 0.8, 21012: 3.0,
            21001: 1.6, 21015: 1.5, 21004: 1.5, 21014: 2.0, 21011: 1.5, 21013: 1.3, 21016: 0.4,
            21017: 0.3, 21019: 0.3, 21002: 0.3},
    "TUR": {71016: 5.0, 71004: 5.0, 71070: 5.0, 73107: 4.0, 44021: 3.0, 46021: 2.5, 46014: 2.0,
            21015: 3.0, 21014: 3.0, 41002: 1.5, 45041: 1.5},
    "POL": {11002: 1.2, 21013: 2.0, 21007: 1.5, 21001: 1.3, 24062: 1.2, 35013: 1.3, 36015: 1.5},
    "ROU": {21001: 2.5, 21004: 1.8, 21012: 1.5, 21007: 1.5, 11002: 1.3, 44021: 1.3, 35013: 1.2},
    "COD": {21009: 4.0, 21004: 1.8, 21015: 1.3, 21001: 1.3, 21006: 1.5, 21010: 1.5, 21011: 1.5,
            24062: 1.5, 11002: 1.2, 44021: 1.2},
}
_NOISE_SD = 0.35
# municipality effect on the latent traits (SD, standard units): language, discrimination,
# inclusion, religiosity, citizenship
EFFECT_SD = (0.25, 0.2, 0.2, 0.15, 0.15)


def municipalities() -> pd.DataFrame:
    """The municipalities: columns municipality (NIS code), name, province, size (15-85),
    ordered by province and NIS code; deterministic."""
    rng = np.random.default_rng(WORLD_SEED)
    rows = []
    for prov, (count, prefixes, median) in _PROVINCE.items():  # 6 provinces
        named = sorted(c for c, (p, _, _) in _NAMED.items() if p == prov)
        rows += [(c, _NAMED[c][1], prov, _NAMED[c][2]) for c in named]
        k = count - len(named)
        if k <= 0:
            continue
        # other municipalities: codes spread over the arrondissements, skipping named codes
        taken = set(named)
        codes, i = [], 0
        nxt = {p: 1 for p in prefixes}
        while len(codes) < k:  # a few hundred codes at most
            p = prefixes[i % len(prefixes)]
            c = p * 1000 + nxt[p]
            nxt[p] += 1
            if c not in taken:
                codes.append(c)
            i += 1
        sizes = np.rint(median * np.exp(0.6 * rng.standard_normal(k))).astype(np.int64)
        sizes = np.clip(sizes, 2_000, 80_000)
        rows += [(c, f"Gemeente {c}", prov, int(s)) for c, s in zip(codes, sizes, strict=True)]
    out = pd.DataFrame(rows, columns=["municipality", "name", "province", "size"])
    return out.sort_values(["province", "municipality"], kind="stable").reset_index(drop=True)


def trait_effects(mun: pd.DataFrame) -> np.ndarray:
    """(J, 5) municipality effects on the latent traits (rows in ``mun`` order); fixed."""
    rng = np.random.default_rng(WORLD_SEED + 1)
    return rng.standard_normal((len(mun), len(EFFECT_SD))) * np.asarray(EFFECT_SD)[None, :]


def stratum_effects(res: pd.DataFrame, mun: pd.DataFrame) -> pd.DataFrame:
    """The trait effects per stratum and municipality: columns origin, province,
    municipality and one per trait (TRAITS order: eff_0..eff_4).

    ``res``: :func:`residents`. Within a stratum the municipality's fixed effects
    (:func:`trait_effects`) are centred and scaled, weighted by the stratum's residents,
    to mean 0 and SD :data:`EFFECT_SD` exactly (0 where the stratum has one municipality).
    """
    raw = trait_effects(mun)[pd.Index(mun["municipality"]).get_indexer(res["municipality"])]
    w = res["residents"].to_numpy(dtype=float)[:, None]
    key = res["origin"].astype(str) + ":" + res["province"].astype(str)
    codes, _ = pd.factorize(key)
    sw = np.bincount(codes, weights=w[:, 0])
    mean = np.stack([np.bincount(codes, weights=w[:, 0] * raw[:, j]) for j in range(raw.shape[1])], axis=1) / sw[:, None]
    dev = raw - mean[codes]
    var = np.stack([np.bincount(codes, weights=w[:, 0] * dev[:, j] ** 2) for j in range(raw.shape[1])], axis=1) / sw[:, None]
    sd = np.sqrt(var)
    scale = np.divide(np.asarray(EFFECT_SD)[None, :], sd, out=np.zeros_like(sd), where=sd > 1e-12)
    eff = dev * scale[codes]
    out = res[["origin", "province", "municipality"]].reset_index(drop=True)
    for j in range(eff.shape[1]):  # 5 traits
        out[f"eff_{j}"] = eff[:, j]
    return out


def _largest_remainder(total: int, shares: np.ndarray) -> np.ndarray:
    """Integers summing to ``total`` in proportion to ``shares`` (Hamilton's method)."""
    raw = total * shares / shares.sum()
    base = np.floor(raw).astype(np.int64)
    rest = int(total - base.sum())
    if rest > 0:
        base[np.argsort(-(raw - base), kind="stable")[:rest]] += 1
    return base


def residents(stratum_totals: pd.DataFrame, mun: pd.DataFrame) -> pd.DataFrame:
    """Residents per origin group and municipality.

    ``stratum_totals``: columns origin, province, count (the register's residents aged
    15-85 per group and province). Returns origin, province, municipality, residents: each
    stratum's count split over its province's municipalities (largest remainder), so the
    municipalities of a stratum add up to its register count exactly.
    """
    rng = np.random.default_rng(WORLD_SEED + 2)
    size = mun["size"].to_numpy(dtype=float)
    noise = rng.standard_normal((len(_CONCENTRATION), len(mun)))
    parts = []
    for (o, prov), count in stratum_totals.groupby(["origin", "province"])["count"].sum().items():
        sel = np.flatnonzero(mun["province"].to_numpy() == prov)  # loop over the 36-42 strata
        j = list(_CONCENTRATION).index(o)
        aff = pd.Series(mun["municipality"].to_numpy()[sel]).map(_AFFINITY.get(o, {})).fillna(1.0).to_numpy()
        w = size[sel] ** _CONCENTRATION[o] * aff * np.exp(_NOISE_SD * noise[j, sel])
        parts.append(pd.DataFrame({
            "origin": o, "province": prov, "municipality": mun["municipality"].to_numpy()[sel],
            "residents": _largest_remainder(int(count), w),
        }))
    return pd.concat(parts, ignore_index=True)


_EU = ("POL", "ROU")
CLUSTERS = {"brussel": "Brusselse gemeenten", "centrumstad": "Centrumsteden (60.000 inwoners en meer)",
            "kleinstad": "Kleinere steden (20.000-60.000)", "landelijk": "Landelijke gemeenten (minder dan 20.000)"}


def municipality_covariates(res: pd.DataFrame, mun: pd.DataFrame) -> pd.DataFrame:
    """``gemeenten.csv``: one row per municipality (nis, naam as ``name``, provincie,
    cluster, cluster_name, population 15-85, aandeel_buitenlandse_herkomst,
    aandeel_niet_eu_herkomst and aandeel_<group> per foreign group) from the register's
    residents per origin group (:func:`residents`). Clusters of comparable municipalities
    are size classes (Brussels apart): a synthetic stand-in for the VRIND classification."""
    wide = res.pivot_table(index="municipality", columns="origin", values="residents", aggfunc="sum",
                           fill_value=0).reindex(mun["municipality"]).fillna(0)
    tot = wide.sum(axis=1).to_numpy(float)
    foreign = tot - wide["BEL"].to_numpy(float)
    eu = sum(wide[o].to_numpy(float) for o in _EU if o in wide.columns)
    size = tot
    cluster = np.where(mun["province"].to_numpy() == BRUSSELS, "brussel",
                       np.where(size >= 60_000, "centrumstad", np.where(size >= 20_000, "kleinstad", "landelijk")))
    out = pd.DataFrame({
        "nis": mun["municipality"].to_numpy(), "name": mun["name"].to_numpy(), "provincie": mun["province"].to_numpy(),
        "cluster": cluster, "cluster_name": pd.Series(cluster).map(CLUSTERS).to_numpy(),
        "population": tot.astype(np.int64), "aandeel_buitenlandse_herkomst": foreign / tot,
        "aandeel_niet_eu_herkomst": (foreign - eu) / tot,
        **{f"aandeel_{o.lower()}": wide[o].to_numpy(float) / tot for o in wide.columns if o != "BEL"},
    })
    return out


def municipality_register(res: pd.DataFrame) -> pd.DataFrame:
    """``gemeenten_register.csv``: register residents per municipality x origin group x
    province (nis, herkomst, provincie, count), for the small-area stage's register
    design variances."""
    out = res.rename(columns={"municipality": "nis", "origin": "herkomst", "province": "provincie",
                              "residents": "count"})
    return out[out["count"] > 0][["nis", "herkomst", "provincie", "count"]].sort_values(["nis", "herkomst"],
                                                                                        kind="stable")
