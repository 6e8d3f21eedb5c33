"""Issue 12's indicator base and pull: both demo waves (sid2017 and sid2022 run folders,
each through the pipeline's own stages) published into one base, which keeps each wave's
period; ``sid pull`` returns the series, survey and register side by side, long (one row
per period) or with periods as columns (``--wide``), as CSV and Excel. On DuckDB and
PostgreSQL. The runs leave out the score stage (no indices needed) and use 20 replicates,
so the copies' linkage specs keep the indicators that need no index."""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

from sid.cli import main
from sid.linkage.pull import pull
from sid.pipeline.publish import publish_run
from sid.pipeline.run import STAGES, RunContext
from sid.project import load_project
from tests.test_linkage_demo import _project

CODE = "SID_TAAL_NL_THUIS"
WAVES = {"sid2022": 0.3, "sid2017": 0.5}  # demo scale of each wave
SKIP = ("score", "tables", "smallarea", "report")


def _fast_2017(proj) -> None:
    w = yaml.safe_load((proj / "weights" / "sid2017.yaml").read_text(encoding="utf-8"))
    w["replicates"]["replicates"] = 20
    (proj / "weights" / "sid2017.yaml").write_text(yaml.safe_dump(w, sort_keys=False), encoding="utf-8")
    path = proj / "linkage" / "sid2017.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["indicators"] = [i for i in spec["indicators"] if not str(i.get("variable", "")).startswith("idx_")]
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("series")
    proj = root / "proj"
    _project(proj)
    _fast_2017(proj)
    project = load_project(proj)
    out = {"project": proj}
    for wave, scale in WAVES.items():
        data, run = root / f"data_{wave}", root / f"run_{wave}"
        assert main(["demo", "--wave", wave, "--out", str(data), "--scale", str(scale), "--seed", "3"]) == 0
        ctx = RunContext(project=project, wave=project.wave(wave), data=data, out=run, seed=3)
        for name, fn, _ in STAGES:
            if name not in SKIP:
                fn(ctx)
        out[wave] = run
    return out


@pytest.fixture
def base(runs, base_target):
    """Both runs published into one new base (DuckDB file or PostgreSQL database)."""
    for wave in WAVES:
        res = publish_run(runs[wave], runs["project"], db=base_target, wave=wave)
        assert {c.wave for c in res.changes} >= {wave}
    return base_target


def _survey(runs, wave) -> pd.DataFrame:
    got = pd.read_csv(runs[wave] / "link" / "survey_indicators.csv", keep_default_na=False, na_values=[""])
    return got[(got["indicator_code"] == CODE) & (got["geography"] == "VLG")]


def test_the_base_keeps_each_waves_period(runs, base):
    from sid.linkage.base import open_base

    with open_base(base, read_only=True) as db:
        loads = db.execute("SELECT wave, period_min, period_max FROM loads ORDER BY wave")
    assert loads == [("sid2017", 2017, 2017), ("sid2022", 2022, 2022),
                     ("vlim-admin-2017", 2013, 2017), ("vlim-admin-demo", 2019, 2023)]


def test_pull_long_gives_a_row_per_period_with_both_waves(runs, base, tmp_path):
    table = pull(base, codes=[CODE])
    total = table[(table["geography"] == "VLG") & (table["generation"] == "total") & (table["sex"] == "total")
                  & (table["age_band"] == "total")]
    assert total["period"].tolist() == [2017, 2022]
    for wave, period in (("sid2017", 2017), ("sid2022", 2022)):
        want = _survey(runs, wave).set_index(["generation", "sex", "age_band", "origin"])
        row = total[total["period"] == period].iloc[0]
        for origin in ("BEL", "EU", "NEU"):
            w = want.loc[("total", "total", "total", origin)]
            assert row[f"{origin} value"] == pytest.approx(round(w["value"], 1), abs=1e-9)
            assert row[f"{origin} n"] == w["n"]
    out = tmp_path / "taal.csv"
    assert main(["pull", "--codes", CODE, "--db", str(base), "--out", str(out)]) == 0
    back = pd.read_csv(out)
    assert sorted(back["period"].unique()) == [2017, 2022]


def test_pull_wide_puts_periods_as_columns_survey_and_register_side_by_side(runs, base, tmp_path):
    table = pull(base, theme="werk", wide=True)
    periods = sorted({int(c.split()[0]) for c in table.columns if c.endswith(" value")})
    assert periods == [2013, 2014, 2015, 2016, 2017, 2019, 2020, 2021, 2022, 2023]
    total = table[(table["geography"] == "VLG") & (table["generation"] == "total") & (table["sex"] == "total")
                  & (table["age_band"] == "total")]
    neu = total[total["origin"] == "NEU"]
    assert neu["source_type"].tolist()[-1] == "survey" and "register" in set(neu["source_type"])
    survey = neu[neu["source_type"] == "survey"].iloc[0]
    assert pd.notna(survey["2017 value"]) and pd.notna(survey["2022 value"]) and pd.isna(survey["2019 value"])
    want = {w: _survey_werk(runs, w) for w in WAVES}
    assert survey["2017 value"] == pytest.approx(round(want["sid2017"], 1), abs=1e-9)
    assert survey["2022 value"] == pytest.approx(round(want["sid2022"], 1), abs=1e-9)
    register = neu[neu["source_type"] == "register"]
    assert register[[f"{p} value" for p in (2013, 2017, 2019, 2023)]].notna().all().all()
    # the rows of one origin category are together: register above survey
    origins = total["origin"].tolist()
    assert origins == sorted(origins, key=["BEL", "EU", "NEU"].index)
    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"werk.{suffix}"
        assert main(["pull", "--theme", "werk", "--wide", "--db", str(base), "--out", str(out)]) == 0
    back = pd.read_csv(tmp_path / "werk.csv")
    assert {"2017 value", "2022 value", "2023 status", "origin"} <= set(back.columns) and "period" not in back
    ws = openpyxl.load_workbook(tmp_path / "werk.xlsx")["indicators"]
    header = [c.value for c in ws[1]]
    assert header == list(table.columns)
    assert ws.max_row == len(table) + 1


def _survey_werk(runs, wave) -> float:
    got = pd.read_csv(runs[wave] / "link" / "survey_indicators.csv", keep_default_na=False, na_values=[""])
    row = got[(got["indicator_code"] == "SID_WERK_12M") & (got["geography"] == "VLG") & (got["origin"] == "NEU")
              & (got["generation"] == "total") & (got["sex"] == "total") & (got["age_band"] == "total")]
    return float(row["value"].iloc[0])


def test_each_run_keeps_its_own_base_and_the_project_base_is_untouched(runs):
    for wave in WAVES:
        load = json.loads((runs[wave] / "link" / "load.json").read_text())
        assert load["own_base"] is True and load["db"].endswith("link/base.duckdb")
    assert not (runs["project"] / "data" / "vlim.duckdb").exists()
    assert np.isfinite(_survey_werk(runs, "sid2017"))


def test_both_waves_mark_ages_outside_the_universe_not_applicable(base):
    """SID_WERK_12M is defined on ages 20-64: its band 65-85 is "not applicable" (not
    suppressed) in 2017 and 2022 alike, and its band 15-24 says it holds 20-24 only."""
    table = pull(base, codes=["SID_WERK_12M"])
    vlg = table[table["geography"] == "VLG"]
    old = vlg[vlg["age_band"] == "65-85"]
    assert old["period"].tolist() == [2017, 2022]
    for origin in ("BEL", "EU", "NEU"):
        assert (old[f"{origin} status"] == "niet van toepassing").all() and old[f"{origin} value"].isna().all()
    young = vlg[vlg["age_band"] == "15-24"]
    assert young["period"].tolist() == [2017, 2022]
    assert young["notes"].str.contains(r"telt alleen wie in het universum valt \(20-64 jaar\)").all()
    mid = vlg[vlg["age_band"] == "35-44"]
    assert not mid["notes"].fillna("").str.contains("universum").any()
