"""Municipalities of the synthetic wave: register covariates, comparable-municipality
clusters and the population truth per municipality (for small-area estimation, LIIM).

The demo's register places every resident in one of 39 municipalities (NIS codes): the 19
of Brussels and 20 Flemish cities (sid.demo.sample). A person's municipality depends on
region and origin group only (the allocation probabilities of sid.demo.sample), so the
register count of cell c in municipality m is N_c x p(m | region_c, origin_c).

- Covariates (``municipalities.csv``): population 15-85, share of foreign origin, share
  of non-EU origin, share aged 15-24, share first generation among foreign origin (exact,
  from those counts), and an employment rate 20-64 (percent; origin mix x the demo's admin
  levels, BEL 79 / EU 71 / non-EU 57, plus municipal noise of SD 2 points: a register
  figure that is informative but not exact), and the share of each foreign origin group
  (``share_origin_mar`` ...; the demo's answers differ by origin group, so a model whose
  covariates miss the origin mix leaves composition in the area effect).
- Clusters: ``linkage/municipality_clusters.csv`` (nis, cluster, cluster_name; a CSV, not
  YAML, since a linkage/*.yaml is taken for the wave's linkage spec; after the
  VRIND/Belfius classification: central cities, smaller cities, Limburg mining towns,
  Brussels canal zone, other Brussels); each municipality's cluster is copied into the CSV.
- Truth (``municipality_truth.csv``): per municipality and headline quantity, the
  register-weighted mean of the cell means: truth_m = sum_c N_cm r_c mu_c / sum_c N_cm r_c,
  with mu_c the cell's mean and r_c its share of known values, both from a pseudo-
  population simulated with the demo's answer generator (``per_group`` persons per origin
  group). The answer model has **no municipality effect**: municipalities differ through
  their composition (origin, generation, sex, age, region) only; stated in demo.json.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sid.demo.answers import simulate_answers
from sid.demo.population import ORIGINS
from sid.demo.sample import _BXL, _BXL_W, _VL, _VL_W, persons_from_cells
from sid.demo.truth import headline
from sid.errors import SpecError
from sid.io.atomic import write_text
from sid.smallarea.clusters import load_clusters as _load_clusters
from sid.spec.questionnaire import Questionnaire

CLUSTERS_PATH = Path(__file__).resolve().parents[2] / "linkage" / "municipality_clusters.csv"
NAMES = {
    11002: "Antwerpen", 44021: "Gent", 24062: "Leuven", 31005: "Brugge", 71016: "Genk", 12025: "Mechelen",
    41002: "Aalst", 46021: "Sint-Niklaas", 34022: "Kortrijk", 71022: "Hasselt", 23088: "Vilvoorde",
    13040: "Turnhout", 71004: "Beringen", 71070: "Heusden-Zolder", 73107: "Maasmechelen", 46014: "Lokeren",
    36015: "Roeselare", 42006: "Dendermonde", 23027: "Halle", 35013: "Oostende",
    21001: "Anderlecht", 21002: "Oudergem", 21003: "Sint-Agatha-Berchem", 21004: "Brussel", 21005: "Etterbeek",
    21006: "Evere", 21007: "Vorst", 21008: "Ganshoren", 21009: "Elsene", 21010: "Jette", 21011: "Koekelberg",
    21012: "Sint-Jans-Molenbeek", 21013: "Sint-Gillis", 21014: "Sint-Joost-ten-Node", 21015: "Schaarbeek",
    21016: "Ukkel", 21017: "Watermaal-Bosvoorde", 21018: "Sint-Lambrechts-Woluwe", 21019: "Sint-Pieters-Woluwe",
}
_EU = {"POL", "ROU"}
_EMPLOYMENT = {"BEL": 79.0, "EU": 71.0, "NEU": 57.0}


def load_clusters(path: str | Path = CLUSTERS_PATH) -> dict[int, str]:
    """NIS code -> cluster code from the clusters file (:func:`sid.smallarea.clusters.load_clusters`)."""
    return _load_clusters(path)


def allocation(pop: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(codes, P): the 39 NIS codes and P[c, m] = p(municipality m | cell c), the
    probabilities the demo's sample draws municipalities with."""
    codes = np.concatenate([_VL, _BXL])
    P = np.zeros((len(pop), codes.size))
    bxl = pop["region"].to_numpy() == 2
    P[np.ix_(bxl, np.arange(_VL.size, codes.size))] = _BXL_W / _BXL_W.sum()
    origin = pop["origin"].to_numpy()
    for o in ORIGINS:  # 7 groups
        rows = np.flatnonzero(~bxl & (origin == o))
        P[np.ix_(rows, np.arange(_VL.size))] = _VL_W[o] / _VL_W[o].sum()
    return codes, P


def covariates(pop: pd.DataFrame, rng: np.random.Generator, clusters: dict[int, str] | None = None) -> pd.DataFrame:
    """One row per municipality: nis, name, region, cluster, population and covariates."""
    codes, P = allocation(pop)
    N = pop["count"].to_numpy(float)[:, None] * P  # cell x municipality counts
    origin = pop["origin"].to_numpy()
    tot = N.sum(axis=0)
    foreign = N[origin != "BEL"].sum(axis=0)
    eu = N[np.isin(origin, list(_EU))].sum(axis=0)
    emp = (_EMPLOYMENT["BEL"] * (tot - foreign) + _EMPLOYMENT["EU"] * eu + _EMPLOYMENT["NEU"] * (foreign - eu)) / tot
    clusters = load_clusters() if clusters is None else clusters
    missing = [int(c) for c in codes if int(c) not in clusters]
    if missing:
        raise SpecError(f"{CLUSTERS_PATH}: municipality {missing[0]} has no cluster; add it to one")
    return pd.DataFrame({
        "nis": codes, "name": [NAMES[int(c)] for c in codes],
        "region": np.where(codes // 1000 == 21, 2, 1), "cluster": [clusters[int(c)] for c in codes],
        "population": np.rint(tot).astype(np.int64),
        "share_foreign_origin": foreign / tot, "share_non_eu_origin": (foreign - eu) / tot,
        "share_aged_15_24": N[pop["age_band"].to_numpy() == 1].sum(axis=0) / tot,
        "share_first_generation": N[pop["generation"].to_numpy() == 1].sum(axis=0) / np.maximum(foreign, 1),
        "employment_rate": np.round(emp + rng.normal(0, 2.0, codes.size), 2),
        **{f"share_origin_{o.lower()}": N[origin == o].sum(axis=0) / tot for o in ORIGINS if o != "BEL"},
    })


def cell_means(pop: pd.DataFrame, spec: Questionnaire, rng: np.random.Generator,
               per_group: int = 10_000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(mu, known): per register cell (rows of ``pop``) the mean of each headline quantity
    among known values and the share of known values, from a simulated pseudo-population
    with about ``per_group`` persons per origin group (at least 20 per cell)."""
    counts = pop["count"].to_numpy(dtype=float)
    N_o = pop.groupby("origin")["count"].transform("sum").to_numpy(dtype=float)
    m = np.maximum(np.rint(per_group * counts / N_o), 20).astype(np.int64)
    h = headline(simulate_answers(persons_from_cells(pop, m, rng), rng), spec)
    cell = np.repeat(np.arange(len(pop)), m)
    known = h.notna().groupby(cell).mean()
    mu = h.groupby(cell).mean()
    return mu.reset_index(drop=True), known.reset_index(drop=True)


def municipality_truth(pop: pd.DataFrame, mu: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
    """Long frame nis, quantity, value: sum_c N_cm r_c mu_c / sum_c N_cm r_c per quantity."""
    codes, P = allocation(pop)
    N = pop["count"].to_numpy(float)[:, None] * P
    rows = []
    for q in mu.columns:  # 6 quantities
        w = N * known[q].to_numpy()[:, None]
        val = (w * np.nan_to_num(mu[q].to_numpy())[:, None]).sum(axis=0) / w.sum(axis=0)
        rows.append(pd.DataFrame({"nis": codes, "quantity": q, "value": val}))
    return pd.concat(rows, ignore_index=True)


def register_counts(pop: pd.DataFrame) -> pd.DataFrame:
    """Register counts per municipality x origin x region (nis, origin, region, count; the
    cells' counts N_c x p(m | c), rounded): the register composition of each municipality,
    for the "register" design variances of the small-area stage (sid.smallarea.register_gvf)."""
    codes, P = allocation(pop)
    N = pd.DataFrame(pop["count"].to_numpy(float)[:, None] * P, columns=codes)
    N["origin"], N["region"] = pop["origin"].to_numpy(), pop["region"].to_numpy()
    long = N.groupby(["origin", "region"]).sum().reset_index().melt(id_vars=["origin", "region"], var_name="nis",
                                                                      value_name="count")
    long = long[long["count"] > 0.5]
    long["count"] = np.rint(long["count"]).astype(np.int64)
    return long[["nis", "origin", "region", "count"]].sort_values(["nis", "origin"], kind="stable").reset_index(drop=True)


def write_municipality_demo(out_dir: str | Path, pop: pd.DataFrame, spec: Questionnaire, seed: int,
                            per_group: int = 10_000) -> list[Path]:
    """Write ``municipalities.csv``, ``municipality_truth.csv`` and ``municipality_register.csv`` into ``out_dir`` (the
    demo's temporary folder; atomic writes). Deterministic in ``seed`` (its own stream)."""
    rng = np.random.default_rng([seed, 13])
    cov = covariates(pop, rng)
    mu, known = cell_means(pop, spec, rng, per_group)
    truth = municipality_truth(pop, mu, known)
    paths = [Path(out_dir) / n for n in ("municipalities.csv", "municipality_truth.csv", "municipality_register.csv")]
    write_text(paths[0], cov.to_csv(index=False, lineterminator="\n", float_format="%.6f"))
    write_text(paths[1], truth.to_csv(index=False, lineterminator="\n", float_format="%.6f"))
    write_text(paths[2], register_counts(pop).to_csv(index=False, lineterminator="\n"))
    return paths
