"""Make clustered_sample.csv and clustered_population.csv (seeded; run from anywhere).

A small two-stage stratified sample in the shape of the SID 2017 wave: strata origin x
province (3 x 2), municipalities drawn by simple random sampling within each stratum
(stage 1, ``psu1``; ``fpc1`` the number of municipalities of the stratum), persons drawn
within each municipality (stage 2, ``id``; ``fpc2`` the municipality's population), design
weight ``w`` = (M_h / m_h) (N_hi / n_hi). ``y`` has a municipality effect (so clustering
matters), ``z`` is 0/1. clustered_population.csv: population counts per origin x sex x
age, the calibration margins (origin:sex, origin:age) that clustered_taylor.R and
tests/test_clustered_design.py rake to.

    python tests/reference/r/make_clustered_sample.py   # rewrites both files
    Rscript tests/reference/r/clustered_taylor.R        # rewrites clustered_taylor.json
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ORIGINS = {"BEL": 0.0, "MAR": -6.0, "TUR": -3.0}
PROVINCES = ("ANT", "LIM")


def make(seed: int = 2017) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    rows = []
    pid = 0
    for origin, effect in ORIGINS.items():
        for province in PROVINCES:
            M = int(rng.integers(12, 21))  # municipalities of the stratum
            m = int(rng.integers(3, 6))    # drawn
            for muni in np.sort(rng.choice(M, size=m, replace=False)) + 1:
                N = int(rng.integers(300, 901))  # persons of the municipality
                n = int(rng.integers(8, 15))     # drawn
                u = rng.normal(0.0, 5.0)         # municipality effect
                for _ in range(n):
                    pid += 1
                    sex = int(rng.integers(1, 3))
                    age = int(rng.choice([1, 2, 3], p=[0.35, 0.4, 0.25]))
                    y = 50 + effect + u + 2.0 * (sex == 2) + 3.0 * (age - 2) + rng.normal(0.0, 8.0)
                    z = int(rng.random() < 1 / (1 + np.exp(-(u / 5 + 0.3 * (age - 2)))))
                    rows.append({"id": pid, "origin": origin, "province": province,
                                 "stratum": f"{origin}:{province}", "psu1": int(muni), "fpc1": M,
                                 "fpc2": N, "w": (M / m) * (N / n), "sex": sex, "age": age,
                                 "y": round(float(y), 3), "z": z})
    df = pd.DataFrame(rows)
    # population: the weighted sample's origin x sex x age table, perturbed (calibration moves weights)
    cells = df.groupby(["origin", "sex", "age"])["w"].sum()
    counts = np.round(cells.to_numpy() * rng.uniform(0.8, 1.25, size=cells.shape[0]))
    pop = cells.reset_index()[["origin", "sex", "age"]].assign(count=counts.astype(int))
    return df, pop


if __name__ == "__main__":
    sample, population = make()
    sample.to_csv(HERE / "clustered_sample.csv", index=False)
    population.to_csv(HERE / "clustered_population.csv", index=False)
    print(f"{len(sample)} respondents, {sample.groupby('stratum').psu1.nunique().sum()} PSUs")
