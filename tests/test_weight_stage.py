"""``sid weight`` on the demo wave (scale 1, ingested and cleaned): margins per origin group
recomputed from the register frame, estimates against the demo's population truth, bootstrap
SE against the calibration-aware Taylor SE, outputs and manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sid.cli import main
from sid.demo import make_demo
from sid.estimation.design import Design
from sid.estimation.replicates import replicate_variance
from tests.projects import copy_project

ROOT = Path(__file__).resolve().parents[1]
MARGINS = [("sex", "age_band"), ("region",), ("generation",)]
INDICES = ["idx_language", "idx_discrimination", "idx_inclusion", "idx_religiosity", "idx_citizenship"]


def shipped_spec(proj: Path) -> None:
    """A project holding the shipped SID spec (trimming 0.2-5 x median, sparse cells
    collapsed at 20 respondents: at scale 1 the Afghan group's old age bands)."""
    copy_project(proj)


def collapsed_frame_margins(frame: pd.DataFrame, collapsed: list[dict], vars_: tuple) -> pd.Series:
    """Population per origin and margin cell, recomputed from the register frame with the
    merges of diagnostics.json applied: cell label "1:5+6" for the cells it merges."""
    return frame.assign(cell=collapsed_cells(frame, collapsed, vars_)).groupby(["origin", "cell"])["count"].sum()


def collapsed_cells(df: pd.DataFrame, collapsed: list[dict], vars_: tuple) -> pd.Series:
    margin = ":".join(vars_)
    cell = df[list(vars_)].astype(int).astype(str).agg(":".join, axis=1)
    label = df["origin"] + "|" + cell
    merged = {}
    for c in collapsed:
        if c["margin"] == margin:
            for cat in c["categories"]:
                merged[c["group"] + "|" + (f"{c['within']}:" if c["within"] else "") + cat] = c["key"]
    return pd.Series([merged.get(k, c) for k, c in zip(label, cell, strict=True)], index=df.index)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("weight")
    data, out, proj = base / "data", base / "run", base / "proj"
    make_demo(data, scale=1)
    shipped_spec(proj)
    assert main(["ingest", *map(str, sorted(data.glob("*.sav"))), "--out", str(out)]) == 0
    assert main(["clean", "--out", str(out), "--project", str(ROOT), "--data", str(data)]) == 0
    assert main(["weight", "--out", str(out), "--project", str(proj), "--data", str(data)]) == 0
    assert main(["score", "--out", str(out), "--project", str(ROOT)]) == 0
    w = pd.read_parquet(out / "weight" / "weights.parquet")
    gross = pd.read_csv(data / "gross_sample.csv", dtype={"person_key": str})
    clean = pd.read_parquet(out / "clean" / "data.parquet")[["person_key", "dutch_home"]]
    idx = pd.read_parquet(out / "score" / "indices.parquet")
    df = (w.merge(gross.drop(columns=["stratum"]), on="person_key").merge(clean, on="person_key")
          .merge(idx[["person_key", *INDICES]], on="person_key"))
    return {"data": data, "out": out, "df": df, "w": w}


def test_weight_margins_recomputed_from_frame_hit_per_origin_group(run):
    frame = pd.read_csv(run["data"] / "register_population.csv")
    diag = json.loads((run["out"] / "weight" / "diagnostics.json").read_text())
    collapsed = diag["calibration"]["collapse"]["collapsed"]
    df = run["df"]
    for vars_ in MARGINS:
        pop = collapsed_frame_margins(frame, collapsed, vars_)
        got = (df.assign(cell=collapsed_cells(df, collapsed, vars_)).groupby(["origin", "cell"])["weight"]
               .sum().reindex(pop.index, fill_value=0.0))
        np.testing.assert_array_less(np.abs(got - pop), 1e-8 * (1 + pop))
    assert (df.groupby("origin")["weight"].sum() - frame.groupby("origin")["count"].sum()).abs().max() < 1e-4


def test_collapsed_cells_have_20_respondents_and_summed_frame_totals(run):
    """Every merge of diagnostics.json: at least 20 respondents (counted here), population the
    sum of the merged frame cells (pandas), and a cell of fewer than 20 next to every merge."""
    frame = pd.read_csv(run["data"] / "register_population.csv")
    collapsed = json.loads((run["out"] / "weight" / "diagnostics.json").read_text())["calibration"]["collapse"]["collapsed"]
    df = run["df"]
    assert collapsed, "the shipped spec collapses the Afghan group's old age bands at scale 1"
    for c in collapsed:
        sex = int(c["within"])
        ages = [int(a) for a in c["categories"]]
        f = frame[(frame.origin == c["group"]) & (frame.sex == sex) & frame.age_band.isin(ages)]
        assert c["population"] == pytest.approx(f["count"].sum())
        n = df[(df.origin == c["group"]) & (df.sex == sex)].age_band.value_counts()
        assert int(n.reindex(ages, fill_value=0).sum()) == c["respondents"] >= 20
        assert n.reindex(ages, fill_value=0).min() < 20
    margins = pd.read_csv(run["out"] / "weight" / "diagnostics_margins.csv", keep_default_na=False)
    rows = margins[margins.collapsed != ""]
    assert len(rows) == len(collapsed) and (rows.respondents >= 20).all()


def test_every_replicate_column_meets_the_collapsed_margins_recomputed_from_frame(run):
    frame = pd.read_csv(run["data"] / "register_population.csv")
    collapsed = json.loads((run["out"] / "weight" / "diagnostics.json").read_text())["calibration"]["collapse"]["collapsed"]
    reps = pd.read_parquet(run["out"] / "weight" / "replicates.parquet")
    df = run["df"].merge(reps, on="person_key")
    cols = [c for c in reps.columns if c.startswith("rep_")]
    for vars_ in MARGINS:
        pop = collapsed_frame_margins(frame, collapsed, vars_)
        got = df.assign(cell=collapsed_cells(df, collapsed, vars_)).groupby(["origin", "cell"])[cols].sum()
        got = got.reindex(pop.index, fill_value=0.0).to_numpy(dtype=float)
        rel = np.abs(got - pop.to_numpy()[:, None]) / pop.to_numpy()[:, None]
        assert rel.max() < 1e-5  # float32 storage


def _errors(run, quantity):
    """Sum over origin groups of |estimate - population truth|: (weighted, unweighted)."""
    truth = pd.read_csv(run["data"] / "population_truth.csv")
    truth = truth[truth.quantity == quantity].set_index("origin")["value"].drop("ALL")
    df = run["df"].dropna(subset=[quantity])
    weighted = df.groupby("origin").apply(lambda g: np.average(g[quantity], weights=g.weight),
                                          include_groups=False)
    unweighted = df.groupby("origin")[quantity].mean()
    assert len(truth) == 7 and set(weighted.index) == set(truth.index)
    return (weighted - truth).abs().sum(), (unweighted - truth).abs().sum()


def test_weighted_headline_estimates_closer_to_population_truth_than_unweighted(run):
    # language use drives response in the demo: weighting must fix it per quantity
    for quantity in ("dutch_home", "idx_language"):
        w, u = _errors(run, quantity)
        assert w < 0.5 * u, quantity
    # all five indices together (single indices with little non-response bias are within noise)
    errs = np.array([_errors(run, q) for q in INDICES])
    assert errs[:, 0].sum() < errs[:, 1].sum()
    # the whole population: origin groups weighted by their size, not by equal allocation
    truth = pd.read_csv(run["data"] / "population_truth.csv").set_index(["origin", "quantity"])["value"]
    df = run["df"].dropna(subset=["dutch_home"])
    overall = np.average(df.dutch_home, weights=df.weight)
    assert abs(overall - truth["ALL", "dutch_home"]) < 0.1 * abs(df.dutch_home.mean() - truth["ALL", "dutch_home"])


def test_bootstrap_se_close_to_calibrated_taylor_se(run):
    diag = json.loads((run["out"] / "weight" / "diagnostics.json").read_text())
    reps = pd.read_parquet(run["out"] / "weight" / "replicates.parquet")
    df = run["df"].assign(y=run["df"].dutch_home.fillna(0.0))
    W = reps.set_index("person_key").loc[df.person_key].to_numpy(dtype=float)
    cal = diag["calibration"]
    d = Design.calibrated(df, weight="weight", prior="prior_weight", margins=cal["margins"],
                          method=cal["method"], strata="stratum")
    r = diag["replicates"]
    for origin in ("BEL", "MAR", "AFG"):
        m = (df.origin == origin).to_numpy()
        taylor = d.subset(m).mean("y").se[0]
        thetas = (W[m] * df.y.to_numpy()[m, None]).sum(0) / W[m].sum(0)
        theta = np.average(df.y[m], weights=df.weight[m])
        boot = np.sqrt(replicate_variance(thetas[:, None], np.array([theta]), r["scale"],
                                          np.asarray(r["rscales"]), r["mse"])[0, 0])
        assert boot == pytest.approx(taylor, rel=0.25), origin


def test_weight_outputs_replicates_float32_and_manifest(run):
    out = run["out"]
    w = run["w"]
    assert list(w.columns) == ["person_key", "stratum", "design_weight", "eligibility_factor",
                               "nonresponse_factor", "prior_weight", "weight", "trimmed"]
    reps = pd.read_parquet(out / "weight" / "replicates.parquet")
    assert reps.shape == (len(w), 101) and (reps.dtypes.iloc[1:] == np.float32).all()
    assert (reps.person_key.to_numpy() == w.person_key.to_numpy()).all()
    groups = pd.read_csv(out / "weight" / "diagnostics_groups.csv")
    assert {"deff_kish", "n_eff", "n_trimmed", "iterations", "max_rel_margin_error_after"} <= set(groups.columns)
    assert (groups[groups.group != "all"].max_rel_margin_error_after.abs() < 1e-8).all()
    diag = json.loads((out / "weight" / "diagnostics.json").read_text())
    assert diag["replicates"]["scale"] == pytest.approx(1 / 99) and diag["replicates"]["method"] == "subbootstrap"
    assert "held fixed" in diag["replicates"]["description"]
    entry = json.loads((out / "manifest.json").read_text())["stages"]["weight"]
    assert entry["params"]["seed"] == 2022 and len(entry["specs"][0]["sha256"]) == 64
    assert {Path(o["path"]).name for o in entry["outputs"]} >= {"weights.parquet", "replicates.parquet"}
