"""The small-area stage on the demo wave (scale 0.3): estimates per municipality, the
publication rules, the indicator base at geography = NIS code, one Dutch page per
municipality; and bad input (a spec without the area variable, a missing covariates
file) as one line, exit 2, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

import sid
from sid.cli import main
from sid.demo import make_demo
from sid.pipeline.run import STAGES, RunContext
from sid.project import load_project
from sid.smallarea.stage import run_smallarea
from tests.projects import ROOT, copy_project

SEED, SCALE = 3, 0.3


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("smallarea_stage")
    data, out, proj = base / "data", base / "run", base / "proj"
    make_demo(data, seed=SEED, scale=SCALE)
    copy_project(proj)
    w = yaml.safe_load((ROOT / "weights" / "sid2022.yaml").read_text(encoding="utf-8"))
    w["calibration"]["margins"] = ["sex", "region", "generation"]
    w["trimming"] = None
    w["replicates"].update(replicates=20, redo=["nonresponse", "calibration"])
    (proj / "weights" / "sid2022.yaml").write_text(yaml.safe_dump(w, sort_keys=False), encoding="utf-8")
    spec = yaml.safe_load((proj / "smallarea" / "sid2022.yaml").read_text(encoding="utf-8"))
    spec["indicators"] = [{"code": "sid_liim_age", "variable": "age", "name": "Gemiddelde leeftijd", "unit": "jaar"}]
    spec["base"] = "base.duckdb"  # a publish target other than the linkage spec's: sid publish refuses it
    (proj / "smallarea" / "sid2022.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    project = load_project(proj)
    ctx = RunContext(project=project, wave=project.wave(), data=data, out=out, seed=SEED)
    for name, fn, _ in STAGES:
        if name in ("ingest", "clean", "fieldwork", "weight"):
            fn(ctx)
    res = run_smallarea(out, project, data)
    return {"data": data, "out": out, "proj": proj, "res": res, "spec": spec}


def test_estimates_cover_every_municipality_with_rules(run):
    e = pd.read_csv(run["out"] / "smallarea" / "estimates.csv", dtype={"nis": str})
    cov = pd.read_csv(run["data"] / "municipalities.csv", dtype={"nis": str})
    assert sorted(e["nis"]) == sorted(cov["nis"])
    assert (e["ci_low"] <= e["estimate"]).all() and (e["estimate"] <= e["ci_high"]).all()
    small = e["n"] < run["spec"]["min_n"]
    assert e.loc[small, "direct"].isna().all() and e.loc[~small, "direct"].notna().all()
    assert (e["publishable"] == (e["cv"] <= run["spec"]["max_cv"])).all()
    assert e["flemish_average"].nunique() == 1
    # the cluster average is the population-weighted mean of the cluster's publishable estimates
    c = e.merge(cov[["nis", "population"]], on="nis")
    c = c[c["publishable"]]
    first = c["cluster"].iloc[0]
    g = c[c["cluster"] == first]
    assert e.loc[e["cluster"] == first, "cluster_average"].iloc[0] == pytest.approx(
        (g["estimate"] * g["population"]).sum() / g["population"].sum())


def test_base_holds_municipality_rows_with_method_note(run):
    # the run's own base, in the stage folder; neither the spec's base nor the linkage spec's is made
    assert run["res"].db == run["out"] / "smallarea" / "base.duckdb"
    assert not (run["proj"] / "base.duckdb").exists() and not (run["proj"] / "data" / "vlim.duckdb").exists()
    diag = json.loads((run["out"] / "smallarea" / "diagnostics.json").read_text(encoding="utf-8"))
    manifest = json.loads((run["out"] / "manifest.json").read_text(encoding="utf-8"))
    assert diag["own_base"] is True and diag["run_id"] == manifest["run_id"] and diag["run_at"]
    assert any(o["path"] == "smallarea/base.duckdb" for o in manifest["stages"]["smallarea"]["outputs"])
    con = duckdb.connect(str(run["res"].db), read_only=True)
    assert con.execute("SELECT run_id, run_at IS NOT NULL FROM loads").fetchall() == [(manifest["run_id"], True)]
    try:
        rows = con.execute("SELECT geography, value, se, note, flags, wave, obs_status FROM indicator_values "
                           "WHERE indicator_code = 'sid_liim_age'").fetchdf()
    finally:
        con.close()
    e = run["res"].estimates
    region = rows[rows["geography"] == "VLG"]
    rows = rows[rows["geography"] != "VLG"]
    assert sorted(rows["geography"]) == sorted(e["nis"].astype(str))
    assert rows["note"].str.startswith("Fay-Herriot ").all() and (rows["wave"] == "sid2022-smallarea").all()
    assert set(rows["flags"]) <= {"", "not_publishable", "direct_suppressed"}
    # SDMX: model-based E, over the CV limit U; the method is the note
    assert (rows["obs_status"] == rows["flags"].map(lambda f: "U" if f == "not_publishable" else "E")).all()
    # the regional average the pages compare with: one direct row at the average's geography
    assert len(region) == 1 and region["obs_status"].iloc[0] == "A" and "directe schatting" in region["note"].iloc[0]
    assert region["value"].iloc[0] == pytest.approx(e["flemish_average"].iloc[0])


def test_flemish_average_is_the_direct_estimate_of_the_flemish_region(run):
    """The spec's average (region == 1) leaves the Brussels respondents out."""
    d = sid.open_wave(run["out"], variance="taylor").design
    e = run["res"].estimates
    vl = d.subset(d.data["region"].to_numpy() == 1).mean("age")
    assert e["flemish_average"].iloc[0] == pytest.approx(float(vl["estimate"].iloc[0]), rel=1e-12)
    assert e["flemish_average"].iloc[0] != pytest.approx(float(d.mean("age")["estimate"].iloc[0]), rel=1e-6)


def test_register_variances_are_the_psi_of_every_sampled_area(run):
    """gvf register: psi is the anticipated variance from municipality_register.csv, for
    every sampled area (psi_smoothed), and the diagnostics are written per area."""
    from sid.smallarea.register_gvf import anticipated_variances, group_moments, register_cells
    from sid.smallarea.spec import load_smallarea_spec
    from sid.smallarea.stage import read_register_counts

    spec = load_smallarea_spec(run["proj"] / "smallarea" / "sid2022.yaml", run["proj"])
    e = run["res"].estimates
    codes = e["nis"].astype(str).unique()
    counts = read_register_counts(run["data"] / "municipality_register.csv", spec, codes)
    d = sid.open_wave(run["out"], variance="taylor").design
    cells = register_cells(d.data["stratum"], d.data["region"])
    psi, _, _ = anticipated_variances(counts, group_moments(d.data["age"], d.weights, cells))
    s = (e["n"] > 0).to_numpy()
    np.testing.assert_allclose(e.loc[s, "psi"].to_numpy(), psi[s], rtol=1e-9)
    assert e.loc[s, "psi_smoothed"].all()
    for c in ("gamma", "std_residual", "cv_direct", "cv"):
        assert e.loc[s, c].notna().any(), c


def test_report_stage_writes_one_dutch_page_per_municipality(run):
    from sid.report.stage import run_report

    _, status = run_report(run["out"], run["proj"])
    pages = sorted((run["out"] / "report" / "liim").glob("*.html"))
    assert status["liim"] == f"{len(pages)} pages"
    assert len(pages) == run["res"].estimates["nis"].nunique()
    text = pages[0].read_text(encoding="utf-8")
    assert 'lang="nl"' in text and "Gemiddelde Vlaams Gewest" in text and "Gemiddelde leeftijd" in text
    # the diagnostics are shown: shrinkage, standardised residual, CV direct vs CV model, sigma2_u
    assert all(w in text for w in ("Technische toelichting", "Gewicht directe schatting", "Gestand. residu",
                                   "CV direct", "CV model", "Variantie gemeente-effect"))
    e = run["res"].estimates
    hidden = e[~e["publishable"]]
    if len(hidden):  # a not-publishable estimate is not printed
        page = (run["out"] / "report" / "liim" / f"{hidden['nis'].iloc[0]}.html").read_text(encoding="utf-8")
        assert "niet publiceerbaar" in page


def _inputs(run) -> dict[Path, bytes]:
    files = [run["proj"] / "smallarea" / "sid2022.yaml", run["data"] / "municipalities.csv"]
    return {p: p.read_bytes() for p in files}


def test_publish_refuses_a_smallarea_base_other_than_the_linkage_bases(run, capsys, tmp_path):
    own = run["out"] / "smallarea" / "base.duckdb"
    before = own.read_bytes()
    code = main(["publish", str(run["out"]), "--project", str(run["proj"])])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("sid: error: ")
    assert "sid2022.yaml: base: " in err and "linkage spec's base" in err
    assert own.read_bytes() == before
    assert not (run["proj"] / "base.duckdb").exists() and not (run["proj"] / "data" / "vlim.duckdb").exists()
    # --db names the shared base: the small-area wave alone (no link stage ran) goes there
    assert main(["publish", str(run["out"]), "--project", str(run["proj"]), "--db", str(tmp_path / "b.duckdb")]) == 0
    assert "sid2022-smallarea -> " in capsys.readouterr().err
    con = duckdb.connect(str(tmp_path / "b.duckdb"), read_only=True)
    try:
        assert [w for (w,) in con.execute("SELECT wave FROM loads").fetchall()] == ["sid2022-smallarea"]
    finally:
        con.close()


def test_smallarea_with_db_loads_that_base_directly(run, tmp_path):
    db = tmp_path / "direct.duckdb"
    res = run_smallarea(run["out"], run["proj"], run["data"], db=db)
    assert res.db == db and res.counts["sid2022-smallarea"]["inserted"] > 0
    assert not (run["out"] / "smallarea" / "base.duckdb").exists()
    with pytest.raises(sid.errors.LinkageError, match="no indicator base of its own"):
        from sid.pipeline.publish import publish_run

        publish_run(run["out"], run["proj"], db=tmp_path / "b2.duckdb")
    run_smallarea(run["out"], run["proj"], run["data"])  # the module's other tests read the run's own base


def test_spec_without_area_is_one_line_exit_2(run, capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({k: v for k, v in run["spec"].items() if k != "area"}), encoding="utf-8")
    before = _inputs(run)
    listing = sorted(p.name for p in run["out"].iterdir())
    code = main(["smallarea", "--out", str(run["out"]), "--project", str(run["proj"]), "--data", str(run["data"]),
                 "--spec", str(bad)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "area" in err and str(bad) in err
    assert _inputs(run) == before and sorted(p.name for p in run["out"].iterdir()) == listing


def test_missing_covariates_file_names_it(run, capsys, tmp_path):
    code = main(["smallarea", "--out", str(run["out"]), "--project", str(run["proj"]), "--data", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "municipalities.csv" in err and "--data" in err


def test_missing_register_counts_file_is_one_line_exit_2(run, capsys, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "municipalities.csv").write_bytes((run["data"] / "municipalities.csv").read_bytes())
    listing = sorted(p.name for p in run["out"].iterdir())
    stamp = (run["out"] / "smallarea" / "estimates.csv").read_bytes()
    code = main(["smallarea", "--out", str(run["out"]), "--project", str(run["proj"]), "--data", str(data)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "municipality_register.csv" in err and "register_counts" in err
    assert sorted(p.name for p in run["out"].iterdir()) == listing
    assert (run["out"] / "smallarea" / "estimates.csv").read_bytes() == stamp


@pytest.mark.parametrize("change,words", [
    ({"register_counts": None}, ["gvf register", "register_counts"]),
    ({"variance_cells": None}, ["variance_cells"]),
    ({"variance_cells": ["stratum"], "register_counts": {"file": "x.csv", "columns": {"origin": "o"}}},
     ["'origin'", "variance_cells"]),
    ({"average": {"code": "VLG", "name": "Vlaams Gewest"}}, ["condition"]),
])
def test_bad_variance_spec_is_one_line_exit_2(run, capsys, tmp_path, change, words):
    spec = {**run["spec"], **change}
    spec = {k: v for k, v in spec.items() if v is not None}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(spec), encoding="utf-8")
    before = _inputs(run)
    code = main(["smallarea", "--out", str(run["out"]), "--project", str(run["proj"]), "--data", str(run["data"]),
                 "--spec", str(bad)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and str(bad) in err and all(w in err for w in words), err
    assert _inputs(run) == before


def test_project_wave_without_smallarea_skips_the_stage():
    from sid.pipeline.run import _needs_smallarea

    w = load_project(ROOT).wave()
    assert _needs_smallarea(w) is None
    assert "small-area" in _needs_smallarea(type(w)(**{**w.__dict__, "smallarea": None}))
