"""Demo municipalities (covariates, clusters, truth), a small Monte Carlo of the
Fay-Herriot estimates against the municipality truth, and the 300 x 10 benchmark."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sid.demo.municipalities import load_clusters, municipality_truth
from sid.demo.population import population_counts
from sid.errors import SpecError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    from sid.demo import make_demo

    out = tmp_path_factory.mktemp("muni") / "wave"
    make_demo(out, seed=7, scale=0.2)
    return out


def test_every_sampled_municipality_has_covariates_cluster_and_truth(demo: Path):
    munis = pd.read_csv(demo / "municipalities.csv")
    sample = pd.read_csv(demo / "gross_sample.csv")
    assert set(sample["municipality"]) <= set(munis["nis"])
    assert munis["nis"].is_unique and munis["cluster"].notna().all() and len(munis) == 39
    truth = pd.read_csv(demo / "municipality_truth.csv")
    assert set(truth["nis"]) == set(munis["nis"])
    assert set(truth["quantity"]) >= {"idx_language", "dutch_home"}
    share = truth[truth["quantity"] == "dutch_home"]["value"]
    assert share.between(0, 1).all()


def test_municipality_truth_weights_cells_by_register_counts():
    pop = population_counts()
    mu = pd.DataFrame({"q": np.where(pop["origin"] == "BEL", 1.0, 0.0)})
    known = pd.DataFrame({"q": np.ones(len(pop))})
    t = municipality_truth(pop, mu, known)
    from sid.demo.municipalities import covariates

    cov = covariates(pop, np.random.default_rng(0))
    # truth of "Belgian origin = 1" is 1 - share of foreign origin
    np.testing.assert_allclose(t["value"].to_numpy(), 1 - cov["share_foreign_origin"].to_numpy())


def test_municipality_in_two_clusters_is_a_spec_error(tmp_path: Path):
    p = tmp_path / "clusters.csv"
    p.write_text("nis,cluster,cluster_name\n11002,a,A\n11002,b,B\n")
    before = p.read_bytes()
    with pytest.raises(SpecError) as e:
        load_clusters(p)
    assert "\n" not in str(e.value) and "11002" in str(e.value) and str(p) in str(e.value) and "row 3" in str(e.value)
    assert p.read_bytes() == before


def test_monte_carlo_eblup_beats_direct_and_reports_coverage_and_draws():
    from benchmarks.smallarea_mc import run

    res = run(draws=4, per_group=2000, n=400, local_sd=3.0)
    assert res["draws"] == 4 and res["municipalities"] == 39
    for q, r in res["quantities"].items():
        assert r["mean_mse_eblup"] < r["mean_mse_direct"], q
        assert 0.5 < r["coverage_95"] <= 1.0, q


def test_benchmark_300_areas_10_indicators_takes_seconds():
    from benchmarks.smallarea_bench import run

    res = run(300, 10, repeats=1)
    assert res["seconds_best"] < 10
    res = run(300, 10, repeats=1, gvf="register", method="AdjREML")  # the stage's configuration
    assert res["seconds_best"] < 10 and "register" in res["task"]
