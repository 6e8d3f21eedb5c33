"""The demo wave's respondents linked to its register extract by ``sid run``'s link stage:
link rates per origin group against counts made by hand with a pandas merge, duplicate
register keys, and discrimination experience by register employment status through the
run's design against a hand-computed weighted mean (np.average with the final weights).

The run is the pipeline's own stages (``sid.pipeline.run.STAGES``) at demo scale 0.3 on a
copy of the project whose weighting spec rakes to sex, region and generation separately
(no sex x age cells, no trimming, 20 replicates): the shipped spec's sex x age_band cells
are empty in the Afghan group at this scale, which ``sid weight`` refuses by name (the
weighting engineer is on it). The score stage is left out to keep the test fast (indices
are not needed: the discrimination measure here is the share reporting discrimination
sometimes or often, SID_DISCR_12M's condition), so the copy's linkage spec keeps the
indicators that need no index.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sid.demo import make_demo
from sid.demo.population import population_counts
from sid.demo.register_extract import CODES
from sid.demo.sample import draw_gross_sample
from sid.pipeline.run import STAGES, RunContext
from sid.project import load_project
from sid.runfolder.wave import open_wave
from tests.projects import ROOT, copy_project

SEED, SCALE = 3, 0.3
DISCR = ["q_discr_work", "q_discr_housing", "q_discr_education", "q_discr_public", "q_discr_police", "q_discr_shops"]


def _project(proj: Path, base: str | None = None) -> None:
    """The project copy (every wave's specs: sid.yaml names them; sid2022's weighting
    replaced); ``base``: a PostgreSQL URL for the linkage spec's ``base:``."""
    copy_project(proj)
    w = yaml.safe_load((ROOT / "weights" / "sid2022.yaml").read_text(encoding="utf-8"))
    w["calibration"]["margins"] = ["sex", "region", "generation"]
    w["trimming"] = None
    w["replicates"].update(replicates=20, redo=["nonresponse", "calibration"])
    (proj / "weights" / "sid2022.yaml").write_text(yaml.safe_dump(w, sort_keys=False), encoding="utf-8")
    spec_path = proj / "linkage" / "sid2022.yaml"
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    spec["indicators"] = [i for i in spec["indicators"] if not str(i.get("variable", "")).startswith("idx_")]
    if base is not None:
        spec["base"] = base
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def run(tmp_path_factory, request):
    base = tmp_path_factory.mktemp("linkage_demo")
    data, out, proj = base / "data", base / "run", base / "proj"
    make_demo(data, seed=SEED, scale=SCALE)
    url = None
    if request.param == "postgresql":
        from tests.pgserver import new_database

        url = new_database(request.getfixturevalue("pg_server"))
    _project(proj, url)
    project = load_project(proj)
    ctx = RunContext(project=project, wave=project.wave(), data=data, out=out, seed=SEED)
    for name, fn, _ in STAGES:
        if name not in ("score", "tables", "smallarea", "report"):
            fn(ctx)
    from sid.pipeline.publish import publish_run

    published = publish_run(out, proj)  # into the spec's base: the PostgreSQL URL or data/vlim.duckdb
    linked = pd.read_parquet(out / "link" / "respondents_linked.parquet")
    return {"published": published, "data": data, "out": out, "linked": linked, "base": url or proj / "data" / "vlim.duckdb",
            "register": pd.read_parquet(data / "register_extract.parquet"),
            "rates": pd.read_csv(out / "link" / "link_rates.csv", keep_default_na=False)}


def test_demo_register_extract_leaves_the_older_streams_draws_unchanged(run):
    # the gross sample is still the draw of the first of the six streams spawned before the
    # register extract had a stream of its own
    n = round(2500 * SCALE)
    expected = draw_gross_sample(population_counts(), n, np.random.default_rng(SEED).spawn(6)[0]).drop(columns=["age"])
    got = pd.read_csv(run["data"] / "gross_sample.csv", dtype={"person_key": str})
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    info = json.loads((run["data"] / "demo.json").read_text(encoding="utf-8"))
    reg, gross = run["register"], got
    assert "register_extract.parquet" in info["files"]
    assert info["sizes"]["register_extract"] == {
        "records": len(reg),
        "keys_missing": int((~gross["person_key"].isin(reg["person_key"])).sum()),
        "keys_duplicated": int(reg["person_key"].duplicated().sum()),
    }
    assert info["register_codes"] == json.loads(json.dumps(CODES))


def test_sid_run_link_stage_writes_link_rates_and_linked_respondents(run):
    manifest = json.loads((run["out"] / "manifest.json").read_text(encoding="utf-8"))
    outputs = {Path(o["path"]).name for o in manifest["stages"]["link"]["outputs"]}
    assert {"link_rates.csv", "respondents_linked.parquet", "survey_indicators.csv"} <= outputs
    inputs = {Path(i["path"]).name for i in manifest["stages"]["link"]["inputs"]}
    assert "register_extract.parquet" in inputs
    reg_cols = {f"reg_{c}" for c in CODES}
    assert reg_cols <= set(run["linked"].columns)


def test_sid_run_loads_its_own_base_and_publish_takes_it_to_the_spec_base(run):
    from sid.linkage.base import open_base

    loaded = pd.read_csv(run["out"] / "link" / "survey_indicators.csv")
    own = run["out"] / "link" / "base.duckdb"
    assert json.loads((run["out"] / "link" / "load.json").read_text())["db"] == str(own)
    for base in (own, run["base"]):
        with open_base(base, read_only=True) as db:
            got = dict(db.execute("SELECT wave, count(*) FROM indicator_values GROUP BY wave"))
            runs = db.execute("SELECT DISTINCT run_id FROM indicator_values")
        assert got["sid2022"] == len(loaded) > 0 and got["vlim-admin-demo"] > 0  # the demo's register set too
        assert len(runs) == 1
    assert str(run["published"].db) == str(run["base"])
    assert {c.wave for c in run["published"].changes} == {"sid2022", "vlim-admin-demo"}


def _hand_status(linked: pd.DataFrame, register: pd.DataFrame) -> pd.Series:
    """Link status by a pandas merge with an indicator, independent of link_register."""
    resp = linked[["person_key", "origin"]]
    per_key = register.groupby("person_key").size().rename("records").reset_index()
    m = resp.merge(per_key, on="person_key", how="left", indicator=True, validate="many_to_one")
    dup = (m["records"] > 1) | m["person_key"].duplicated(keep=False)
    return pd.Series(np.where(dup, "duplicate", np.where(m["_merge"] == "both", "linked", "unlinked")),
                     index=linked.index)


def test_link_rates_per_origin_group_equal_pandas_merge_counts(run):
    linked, rates = run["linked"], run["rates"].set_index("origin")
    status = _hand_status(linked, run["register"])
    assert (linked["link_status"] == status).all()
    hand = pd.crosstab(linked["origin"], status)
    for o in hand.index:
        for s in ("linked", "unlinked", "duplicate"):
            assert rates.loc[o, s] == (hand.loc[o, s] if s in hand.columns else 0), (o, s)
        assert rates.loc[o, "n"] == hand.loc[o].sum()
        assert rates.loc[o, "link_rate"] == pytest.approx(hand.loc[o, "linked"] / hand.loc[o].sum(), rel=1e-12)
    assert rates.loc["all", "n"] == len(linked) and rates.loc["all", "linked"] == (status == "linked").sum()
    # the demo's realism: some respondents are not in the extract (deaths, emigration)
    assert rates.loc["all", "unlinked"] > 0 and 0.95 < rates.loc["all", "link_rate"] < 1.0


def test_duplicate_register_keys_reported_and_left_unlinked(run):
    linked, register = run["linked"], run["register"]
    twice = set(register.loc[register["person_key"].duplicated(), "person_key"])
    assert len(twice) >= 2
    dup = linked["link_status"] == "duplicate"
    assert dup.sum() > 0  # this seed puts duplicated register keys on respondents
    assert set(linked.loc[dup, "person_key"]) == twice & set(linked["person_key"])
    assert linked.loc[dup, [f"reg_{c}" for c in CODES]].isna().all().all()
    assert run["rates"].set_index("origin").loc["all", "duplicate"] == dup.sum()
    # a linked respondent carries exactly its register record
    once = register.drop_duplicates("person_key", keep=False)
    ok = linked[linked["link_status"] == "linked"].merge(once, on="person_key", validate="one_to_one")
    assert len(ok) == (linked["link_status"] == "linked").sum()
    for c in CODES:
        np.testing.assert_array_equal(ok[f"reg_{c}"].to_numpy(float), ok[c].to_numpy(float))


def test_discrimination_by_register_employment_status_matches_hand_weighted_mean(run):
    wave = open_wave(run["out"])  # the weight stage's final weights and replicate design
    linked = run["linked"]
    assert (linked["person_key"].to_numpy() == wave.data["person_key"].to_numpy()).all()
    items = wave.data[DISCR].to_numpy(dtype=float)  # missing codes are NaN in the wave's view
    valid = (~np.isnan(items)).sum(axis=1)
    discr = np.where(valid >= 4, (items >= 3).any(axis=1).astype(float), np.nan)
    d = wave.design.with_columns({"discr_any": discr, "reg_employment_status": linked["reg_employment_status"]})
    est = d.mean("discr_any", by="reg_employment_status").set_index("reg_employment_status")
    w = wave.data["weight"].to_numpy()
    status = linked["reg_employment_status"].to_numpy(dtype=float)
    assert set(est.index) == set(CODES["employment_status"])
    for s in CODES["employment_status"]:
        m = (status == s) & ~np.isnan(discr)
        assert est.loc[s, "n"] == m.sum()
        assert est.loc[s, "estimate"] == pytest.approx(np.average(discr[m], weights=w[m]), rel=1e-12)
        assert est.loc[s, "se"] > 0
