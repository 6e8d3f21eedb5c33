"""Monte Carlo of the Fay-Herriot municipality estimates on the demo population.

``python -m benchmarks.smallarea_mc [--draws 200] [--per-group 20000] [--n 1100] [--local-sd 0 3]``

A finite pseudo-population is simulated once with the demo's generators (register cells
of sid.demo.population, persons with municipality by sid.demo.sample, answers by
sid.demo.answers, headline scores by sid.demo.truth.headline): ``per_group`` persons per
origin group, self-weighting within the group (weight N_h / per_group). Its municipality
means are the truth. Optionally a municipal effect u_m ~ N(0, local_sd^2) (points) is
added to the index scores (clipped to 0-100): the demo's answer model itself has none,
so without it municipalities differ by composition only (an optimistic case for a model
with composition covariates).

Each draw takes a stratified SRS of ``n`` persons per origin group (the demo wave has
about 1,100 respondents per group), direct estimates and variances per municipality by
``Design(strata="origin").mean(q, by="municipality")``, then ``sid.smallarea.fay_herriot``
with the covariates 1, share of foreign origin, share of non-EU origin (``--covariates
base``, the stage's model; ``origin``: the share of each group and Brussels) and the
design variances of ``--gvf``: ``register`` (anticipated from the pseudo-population's
counts per municipality x origin x region, moments pooled per origin x region:
sid.smallarea.register_gvf), ``weights`` (conditional on the realised sample), or the
smoothing GVFs ``deff`` / ``loglinear`` / ``pooled`` of the direct variances; ``--method``
REML (Prasad-Rao MSE), ML (Datta-Lahiri) or AdjREML (Li-Lahiri); dutch_home on the
arcsine scale unless ``--no-arcsine``. Reported per quantity, averaged over
municipalities and draws: empirical MSE of the direct estimate (areas with a respondent)
and of the EBLUP/synthetic estimate (all areas), mean estimated MSE against the empirical
MSE, coverage of the MSE-based 95 % CI, sigma2_u (mean, share of draws at 0), psi_hat and
psi used against the empirical variance of the direct estimate per area (median, min,
max), the spread of psi across draws, and the number of draws.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

import sid
from sid.demo.answers import simulate_answers
from sid.demo.municipalities import allocation, covariates
from sid.demo.population import ORIGINS, population_counts
from sid.demo.sample import persons_from_cells
from sid.demo.truth import headline
from sid.smallarea import direct_estimates, fay_herriot
from sid.smallarea.register_gvf import (
    anticipated_variances,
    group_moments,
    realised_variances,
    register_cells,
)
from sid.spec.check import load_checked_questionnaire

QUANTITIES = {"idx_language": None, "idx_inclusion": None, "dutch_home": "arcsine"}
COVARIATE_SETS = {
    "base": ["share_foreign_origin", "share_non_eu_origin"],
    "origin": ["share_origin_" + o.lower() for o in ORIGINS if o != "BEL"] + ["brussels"],
}


def pseudo_population(per_group: int, seed: int, local_sd: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(persons, municipalities, N_h): persons with origin, municipality, the quantities and
    weight; municipality covariates; population per origin group."""
    rng = np.random.default_rng([seed, 1])
    pop = population_counts()
    spec = load_checked_questionnaire(sid.demo.SPEC_PATH)
    n_cell = np.zeros(len(pop), dtype=np.int64)
    for o in ORIGINS:  # 7 groups
        rows = np.flatnonzero(pop["origin"].to_numpy() == o)
        c = pop["count"].to_numpy()[rows]
        n_cell[rows] = rng.multinomial(per_group, c / c.sum())
    persons = persons_from_cells(pop, n_cell, rng)
    h = headline(simulate_answers(persons, rng), spec)
    out = pd.DataFrame({"origin": persons["origin"].to_numpy(), "municipality": persons["municipality"].to_numpy()})
    codes, _ = allocation(pop)
    u = pd.Series(rng.normal(0, local_sd, codes.size) if local_sd > 0 else np.zeros(codes.size), index=codes)
    for q in QUANTITIES:
        v = h[q].to_numpy()
        if q.startswith("idx_") and local_sd > 0:
            v = np.clip(v + u.reindex(out["municipality"]).to_numpy(), 0, 100)
        out[q] = v
    N_h = pop.groupby("origin")["count"].sum().to_dict()
    out["weight"] = out["origin"].map(N_h).to_numpy(float) / per_group
    return out, pseudo_register(out, covariates(pop, rng)), N_h


def pseudo_register(persons: pd.DataFrame, munis: pd.DataFrame) -> pd.DataFrame:
    """The composition covariates of ``munis`` recomputed on the pseudo-population itself
    (weighted shares of each origin group per municipality): the finite population the
    draws come from is the "register" here. The demo register's expected shares differ
    from it (in Brussels every municipality has the register share 0.48 foreign, while the
    pseudo-population, ~20,000 persons per group at weights up to 200, places a handful of
    heavy Belgian-origin persons in each), and that difference, not a municipal effect,
    was most of the fitted sigma2_u before (issue 13)."""
    w = persons.pivot_table(index="municipality", columns="origin", values="weight", aggfunc="sum", fill_value=0.0)
    w = w.reindex(munis["nis"]).fillna(0.0)
    tot = w.sum(axis=1).to_numpy()
    out = munis.copy()
    for o in w.columns:
        if o != "BEL":
            out[f"share_origin_{o.lower()}"] = w[o].to_numpy() / tot
    out["share_foreign_origin"] = 1 - w["BEL"].to_numpy() / tot
    eu = sum(w[o].to_numpy() for o in ("POL", "ROU") if o in w.columns)
    out["share_non_eu_origin"] = out["share_foreign_origin"] - eu / tot
    return out


def truth(persons: pd.DataFrame, codes: np.ndarray) -> pd.DataFrame:
    """Finite-population mean per municipality (rows: codes) of each quantity."""
    cols = {}
    for q in QUANTITIES:
        ok = persons[q].notna()
        g = persons[ok].assign(wy=lambda d, q=q: d["weight"] * d[q]).groupby("municipality")[["wy", "weight"]].sum()
        cols[q] = (g["wy"] / g["weight"]).reindex(codes).to_numpy()
    return pd.DataFrame(cols, index=codes)


def run(draws: int = 200, per_group: int = 20_000, n: int = 1100, local_sd: float = 0.0, seed: int = 13,
        gvf_model: str = "register", smooth: str = "all", covariates: str = "base", method: str = "REML",
        arcsine: bool = True) -> dict:
    """The Monte Carlo; returns the figures per quantity (see the module docstring)."""
    t0 = time.perf_counter()
    persons, munis, N_h = pseudo_population(per_group, seed, local_sd)
    codes = munis["nis"].to_numpy()
    munis["brussels"] = (munis["region"] == 2).astype(float)
    X = np.column_stack([np.ones(len(munis))] + [munis[c].to_numpy() for c in COVARIATE_SETS[covariates]])
    true = truth(persons, codes)
    groups = {o: np.flatnonzero(persons["origin"].to_numpy() == o) for o in ORIGINS}
    region = pd.Series(munis["region"].to_numpy(), index=codes)
    persons["cell"] = register_cells(persons["origin"], region.reindex(persons["municipality"]).to_numpy())  # origin x region
    counts = persons.pivot_table(index="municipality", columns="cell", values="weight", aggfunc="sum",
                                 fill_value=0.0).reindex(codes).fillna(0.0)  # the register: N_hi
    rng = np.random.default_rng([seed, 2])
    keys = ("se_dir", "n_dir", "se_fh", "mse_est", "cover", "dir_sum", "dir_sq", "psi_hat", "psi_used", "psi_used2")
    transforms = {q: (None if q == "dutch_home" and not arcsine else t) for q, t in QUANTITIES.items()}
    acc = {q: {k: np.zeros(len(codes)) for k in keys} for q in QUANTITIES}
    sigma2 = {q: [] for q in QUANTITIES}
    for _ in range(draws):  # loop over Monte Carlo draws
        idx = np.concatenate([rng.choice(groups[o], size=n, replace=False) for o in ORIGINS])
        s = persons.iloc[idx].reset_index(drop=True)
        s["design_weight"] = s["origin"].map(N_h).to_numpy(float) / n
        d = sid.Design(s, weight="design_weight", strata="origin")
        for q, tr in transforms.items():
            de = direct_estimates(d, q, "municipality", areas=codes)
            ant = None
            if gvf_model in ("register", "weights"):
                mom = group_moments(s[q], s["design_weight"], s["cell"])
                ant = (anticipated_variances(counts, mom, q) if gvf_model == "register" else
                       realised_variances(s["municipality"], s[q], s["design_weight"], s["cell"], mom, codes, q))
            frame, fit = fay_herriot(codes, de["estimate"], de["variance"], de["n"], X, transform=tr, name=q,
                                     gvf_model=gvf_model, smooth=smooth, deff=de["deff"], tol=1e-8, max_iter=1000,
                                     method=method, anticipated=ant)
            t = true[q].to_numpy()
            a = acc[q]
            has = de["n"].to_numpy() > 0
            y = de["estimate"].to_numpy()
            a["se_dir"][has] += (y[has] - t[has]) ** 2
            a["n_dir"][has] += 1
            a["dir_sum"][has] += y[has]
            a["dir_sq"][has] += y[has] ** 2
            a["psi_hat"][has] += de["variance"].to_numpy()[has]
            if tr is None:  # psi on the arcsine scale is not comparable with the share's variance
                a["psi_used"][has] += frame["psi"].to_numpy()[has]
            elif ant is not None:
                a["psi_used"][has] += ant[0][has]
            a["psi_used2"][has] += (frame["psi"].to_numpy()[has] if tr is None else
                                    (ant[0][has] if ant is not None else 0.0)) ** 2
            e = frame["estimate"].to_numpy()
            a["se_fh"] += (e - t) ** 2
            a["mse_est"] += frame["mse"].to_numpy()
            a["cover"] += (frame["ci_low"].to_numpy() <= t) & (t <= frame["ci_high"].to_numpy())
            sigma2[q].append(fit.sigma2_u)
    res = {"arcsine": arcsine, "draws": draws, "per_group": per_group, "n_per_group": n, "local_sd": local_sd, "method": method,
           "gvf_model": gvf_model, "smooth": smooth, "covariates": COVARIATE_SETS[covariates],
           "municipalities": int(len(codes)), "seconds": round(time.perf_counter() - t0, 1), "quantities": {}}
    for q, a in acc.items():
        dir_mse = a["se_dir"] / np.maximum(a["n_dir"], 1)
        always = a["n_dir"] == draws  # areas with a respondent in every draw: a fair comparison
        fh_mse = a["se_fh"] / draws
        k = np.maximum(a["n_dir"], 2)
        var_dir = (a["dir_sq"] - a["dir_sum"] ** 2 / k) / (k - 1)  # empirical variance of the direct estimate
        ratio_hat = (a["psi_hat"] / k / var_dir)[always]
        ratio_used = (a["psi_used"] / k / var_dir)[always]
        res["quantities"][q] = {
            "scale": "arcsine back-transformed share" if transforms[q] else ("share" if q == "dutch_home" else "0-100"),
            "areas_compared": int(always.sum()),
            "mean_mse_direct": float(dir_mse[always].mean()),
            "mean_mse_eblup": float(fh_mse[always].mean()),
            "mean_mse_eblup_all_areas": float(fh_mse.mean()),
            "mean_estimated_mse": float((a["mse_est"] / draws).mean()),
            "coverage_95": float((a["cover"] / draws).mean()),
            "coverage_95_min_area": float((a["cover"] / draws).min()),
            "mean_sigma2_u": float(np.mean(sigma2[q])),
            **({"psi_used_over_var_direct": {"median": float(np.median(ratio_used)), "min": float(ratio_used.min()),
                                             "max": float(ratio_used.max())}}
               if transforms[q] is None or gvf_model == "register" else {}),
            "share_sigma2_u_zero": float(np.mean(np.array(sigma2[q]) == 0)),
            "psi_used_cv_across_draws_median": float(np.median(
                np.sqrt(np.maximum(a["psi_used2"] / k - (a["psi_used"] / k) ** 2, 0))[always] / (a["psi_used"] / k)[always])),
            "psi_hat_over_var_direct": {"median": float(np.median(ratio_hat)), "min": float(ratio_hat.min()),
                                        "max": float(ratio_hat.max())},
            "mean_estimated_over_empirical_mse": float((a["mse_est"] / draws).mean() / fh_mse.mean()),
        }
    return res


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.smallarea_mc", description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--per-group", type=int, default=20_000)
    ap.add_argument("--n", type=int, default=1100)
    ap.add_argument("--local-sd", type=float, nargs="+", default=[0.0, 3.0])
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--gvf", default="register", choices=["loglinear", "pooled", "deff", "register", "weights"])
    ap.add_argument("--method", default="REML", choices=["REML", "ML", "AdjREML"])
    ap.add_argument("--no-arcsine", action="store_true", help="fit dutch_home on the share scale")
    ap.add_argument("--smooth", default="all", choices=["unreliable", "all"])
    ap.add_argument("--covariates", default="base", choices=sorted(COVARIATE_SETS))
    a = ap.parse_args(argv)
    out = [run(a.draws, a.per_group, a.n, sd, a.seed, a.gvf, a.smooth, a.covariates, a.method, not a.no_arcsine)
           for sd in a.local_sd]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
