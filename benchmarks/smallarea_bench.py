"""Benchmark: Fay-Herriot fit + EBLUP + MSE for 300 municipalities x 10 indicators.

``python -m benchmarks.smallarea_bench [--areas 300] [--indicators 10] [--repeats 3]``

Synthetic area-level data (seeded): 3 covariates plus intercept, design variances
40 / n_i with n_i uniform 2..80 (GVF-smoothed below 10), 5 % of the areas without
sample (synthetic estimates). Times ``sid.smallarea.fay_herriot`` (REML, Prasad-Rao MSE)
over all indicators, best of ``--repeats``; prints a JSON line with the figures.

``--gvf register`` (the stage's default for sid2022) also times, per indicator, the
anticipated design variances from register counts (areas x 14 cells: 7 origin groups x
2 regions) and moments pooled per cell from 7,700 respondents
(``sid.smallarea.register_gvf``); ``--method`` REML, ML or AdjREML.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from sid.smallarea import fay_herriot
from sid.smallarea.register_gvf import anticipated_variances, group_moments


def data(areas: int, indicators: int, seed: int = 13):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(areas), rng.uniform(0, 1, (areas, 3))])
    n = rng.integers(2, 80, areas).astype(float)
    n[rng.random(areas) < 0.05] = 0
    out = []
    for _ in range(indicators):  # loop over indicators
        psi = np.where(n > 0, 40.0 / np.maximum(n, 1) * rng.uniform(0.7, 1.3, areas), np.nan)
        y = X @ rng.normal(50, 5, 4) + rng.normal(0, 2, areas) + rng.normal(0, np.sqrt(np.nan_to_num(psi)))
        out.append((np.where(n > 0, y, np.nan), psi))
    return X, n, out


def run(areas: int = 300, indicators: int = 10, repeats: int = 3, gvf: str = "loglinear",
        method: str = "REML") -> dict:
    X, n, ind = data(areas, indicators)
    codes = list(range(areas))
    rng = np.random.default_rng(14)
    cells = [f"{o}:{r}" for o in range(7) for r in (1, 2)]
    counts = pd.DataFrame(rng.integers(0, 5000, (areas, len(cells))).astype(float) + 1, columns=cells)
    resp = rng.choice(cells, 7700)
    w = rng.uniform(10, 2000, 7700)
    answers = [rng.normal(50, 15, 7700) for _ in range(indicators)]
    best = np.inf
    for _ in range(repeats):  # timing repeats
        t = time.perf_counter()
        for k, (y, psi) in enumerate(ind):
            ant = anticipated_variances(counts, group_moments(answers[k], w, resp)) if gvf == "register" else None
            fay_herriot(codes, y, psi, n, X, name=f"ind{k}", gvf_model=gvf, anticipated=ant, method=method,
                        smooth="all" if gvf == "register" else "unreliable")
        best = min(best, time.perf_counter() - t)
    return {"task": f"fay_herriot {method} fit + EBLUP + MSE, gvf {gvf}", "areas": areas, "indicators": indicators,
            "seconds_best": round(best, 4), "repeats": repeats}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.smallarea_bench")
    ap.add_argument("--areas", type=int, default=300)
    ap.add_argument("--indicators", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--gvf", default="loglinear", choices=["loglinear", "register"])
    ap.add_argument("--method", default="REML", choices=["REML", "ML", "AdjREML"])
    a = ap.parse_args(argv)
    print(json.dumps(run(a.areas, a.indicators, a.repeats, a.gvf, a.method)))


if __name__ == "__main__":
    main()
