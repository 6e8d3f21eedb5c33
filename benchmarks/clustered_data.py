"""Synthetic clustered wave for the clustered benchmark (generalises tests/clustered_wave.py).

``make(n, strata, psus, seed)``: ``strata`` design strata ``origin`` (codes S1..), each
with ``psus`` sampled PSUs (``psu`` 1..psus within the stratum, as R's ``nest=TRUE``);
respondents spread unevenly over the PSUs (Dirichlet shares), design weights
(M_h / m_h)(N_hi / n_hi) constant within a PSU and varying 20-fold between strata;
``sex`` (2), ``age_band`` (5) per person; ``region`` (4 per stratum) a PSU attribute
(PSUs are municipalities); y1-y3 with a PSU effect and ``yes`` 0/1, y3 5 % missing.
Population margins origin x sex, origin x age_band, origin x region: each stratum's
population split by its own shares, so the margins of a stratum sum to the same total
and the design weights are some 10 % off them (raking has work to do).
Everything is vectorised; the default n = 350,000 takes about a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.data import CACHE, CachedData

MARGINS = ("sex", "age_band", "region")
LEVELS = {"sex": 2, "age_band": 5, "region": 4}
Y_VARS = ("y1", "y2", "y3", "yes")
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ClusteredData(CachedData):
    """Respondents (pandas), margins {"origin:sex": {"S1:1": N, ...}, ...}, cache folder."""

    respondents: pd.DataFrame
    margins: dict[str, dict[str, float]]
    folder: Path


def make(n: int = 350_000, strata: int = 7, psus: int = 60, seed: int = 18) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(respondents, margins frame with columns margin, category, peer_variable, total)."""
    rng = np.random.default_rng(seed)
    P = strata * psus
    share = rng.dirichlet(np.full(P, 4.0))
    n_psu = np.maximum(rng.multinomial(n - 2 * P, share) + 2, 2)  # >= 2 respondents per PSU
    psu_id = np.repeat(np.arange(P), n_psu)
    h_of_psu = np.arange(P) // psus
    M_h = rng.integers(150, 600, size=strata)  # PSUs in the stratum's population
    N_hi = n_psu * rng.uniform(5.0, 100.0, size=strata)[h_of_psu] * rng.uniform(0.7, 1.3, size=P)
    dw_psu = (M_h[h_of_psu] / psus) * (N_hi / n_psu)
    j = np.arange(P) % psus  # PSU within its stratum; the first four cover every region
    region_psu = np.where(j < LEVELS["region"], j, rng.integers(0, LEVELS["region"], size=P))
    effect = rng.normal(0.0, 4.0, size=P)
    h = h_of_psu[psu_id]
    sex = rng.integers(1, 3, size=n)
    age = np.minimum(rng.geometric(0.3, size=n), LEVELS["age_band"])
    y1 = 50 + effect[psu_id] + 2.0 * sex - 1.5 * age + rng.normal(0, 8, size=n)
    y2 = np.exp(rng.normal(1.0 + 0.05 * age + 0.1 * effect[psu_id], 0.5))
    y3 = np.where(rng.random(n) < 0.05, np.nan, 10 * h + rng.normal(0, 3, size=n))
    yes = (rng.random(n) < 1 / (1 + np.exp(-(effect[psu_id] / 4 + 0.3 * (sex - 1.5))))).astype(float)
    labels = np.array([f"S{k + 1}" for k in range(strata)])
    df = pd.DataFrame({
        "origin": labels[h], "psu": psu_id % psus + 1, "sex": sex, "age_band": age,
        "region": region_psu[psu_id] + 1, "design_weight": dw_psu[psu_id],
        "y1": y1, "y2": y2, "y3": y3, "yes": yes,
    })
    for v in MARGINS:  # interaction codes for peers without interaction margins
        df[f"origin_{v}"] = df["origin"] + ":" + df[v].astype(str)
    rows = []
    for k, o in enumerate(labels):
        m = h == k
        N_h = df["design_weight"].to_numpy()[m].sum() * rng.uniform(0.9, 1.1)
        for v in MARGINS:
            w = np.bincount(df[v].to_numpy()[m] - 1, weights=df["design_weight"].to_numpy()[m],
                            minlength=LEVELS[v])
            tilt = w * rng.uniform(0.85, 1.15, size=LEVELS[v])
            for c in np.flatnonzero(w > 0):
                rows.append({"margin": f"origin:{v}", "category": f"{o}:{c + 1}", "peer_variable": f"origin_{v}",
                             "total": float(N_h * tilt[c] / tilt[w > 0].sum())})
    return df, pd.DataFrame(rows)


def load(n: int = 350_000, strata: int = 7, psus: int = 60, seed: int = 18, log=print) -> ClusteredData:
    """Build (first time, with a CSV for R) or read the clustered data set."""
    folder = CACHE / f"clustered_n{n}_h{strata}_p{psus}_s{seed}"
    stamp = folder / "bench.json"
    if not (stamp.exists() and json.loads(stamp.read_text()).get("format") == FORMAT_VERSION):
        log(f"  generating the clustered data set (n={n:,}) ...")
        folder.mkdir(parents=True, exist_ok=True)
        df, marg = make(n, strata, psus, seed)
        df.to_parquet(folder / "respondents.parquet", index=False)
        df.to_csv(folder / "respondents.csv", index=False)
        marg.to_csv(folder / "margins.csv", index=False)
        stamp.write_text(json.dumps({"format": FORMAT_VERSION, "n": n, "strata": strata, "psus": psus, "seed": seed}))
    df = pd.read_parquet(folder / "respondents.parquet")
    marg = pd.read_csv(folder / "margins.csv")
    margins: dict[str, dict[str, float]] = {}
    for row in marg.itertuples(index=False):  # a few dozen margin cells, not respondents
        margins.setdefault(row.margin, {})[row.category] = float(row.total)
    return ClusteredData(df, margins, folder)
