"""A second survey, not SID (tests/buurt_survey.py), runs through `sid check` and `sid run`
with no renames: its group is `wijk`, its key `resp_id`, one fieldwork file carries the
mode, it has no linkage spec and themes of its own."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from buurt_survey import POP, write_buurt_project

from sid.cli import main


@pytest.fixture(scope="module")
def buurt(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("buurt")
    project, data, out = root / "project", root / "data", root / "run"
    write_buurt_project(project, data)
    before = {p: p.read_bytes() for p in data.iterdir()}
    code = main(["run", "--project", str(project), "--data", str(data), "--out", str(out)])
    return {"project": project, "data": data, "out": out, "code": code, "before": before}


def test_sid_check_accepts_the_second_survey(tmp_path, capsys) -> None:
    project, data = tmp_path / "p", tmp_path / "d"
    write_buurt_project(project, data)
    assert main(["check", "--project", str(project)]) == 0, capsys.readouterr()


def test_sid_run_runs_the_second_survey_end_to_end(buurt) -> None:
    assert buurt["code"] == 0
    out = buurt["out"]
    for stage in ("raw", "clean", "fieldwork", "weight", "score", "tables", "report"):
        assert (out / stage).is_dir(), stage
    manifest = json.loads((out / "manifest.json").read_text())
    assert "link" not in manifest["stages"]  # no linkage spec: no link stage


def test_second_survey_inputs_are_untouched(buurt) -> None:
    assert {p: p.read_bytes() for p in buurt["data"].iterdir()} == buurt["before"]


def test_second_survey_mode_comes_from_the_file_variable(buurt) -> None:
    raw = pd.read_parquet(buurt["out"] / "raw" / "data.parquet")
    assert set(raw["kanaal"]) == {"web", "papier"}
    assert "mode" not in raw.columns


def test_second_survey_weights_meet_the_register_margins_per_district(buurt) -> None:
    # margins recomputed from bevolking.csv with pandas, independent of sid's weighting code
    frame = pd.read_csv(buurt["data"] / "bevolking.csv")
    gross = pd.read_csv(buurt["data"] / "steekproef.csv")
    w = pd.read_parquet(buurt["out"] / "weight" / "weights.parquet")
    wcol = "weight" if "weight" in w.columns else "final_weight"
    joined = w[["resp_id", wcol]].merge(gross, on="resp_id", how="left", validate="one_to_one")
    for margin in ("geslacht", "leeftijdsgroep"):
        got = joined.groupby(["wijk", margin])[wcol].sum()
        want = frame.groupby(["wijk", margin])["aantal"].sum()
        np.testing.assert_allclose(got.sort_index().to_numpy(), want.sort_index().to_numpy(), rtol=1e-7)
    totals = joined.groupby("wijk")[wcol].sum()
    for wijk, n in POP.items():
        assert abs(totals[wijk] / n - 1) < 0.01  # rounding of the frame cells only


def test_second_survey_tables_by_district_equal_weighted_means_of_the_scores(buurt) -> None:
    out = buurt["out"]
    tables = pd.read_csv(out / "tables" / "tables.csv", dtype={"by_value": str})
    rows = tables[(tables["table_id"] == "leefbaar") & (tables["by_var"] == "wijk")
                  & (tables["statistic"] == "mean")].set_index("by_value")
    assert set(rows.index) == {"N", "O", "Z", "W"}
    scores = pd.read_parquet(out / "score" / "indices.parquet")
    w = pd.read_parquet(out / "weight" / "weights.parquet")
    wcol = "weight" if "weight" in w.columns else "final_weight"
    gross = pd.read_csv(buurt["data"] / "steekproef.csv")
    d = scores.merge(w[["resp_id", wcol]], on="resp_id").merge(gross[["resp_id", "wijk"]], on="resp_id")
    d = d[d["idx_leefbaar"].notna()]
    want = d.groupby("wijk").apply(lambda g: np.average(g["idx_leefbaar"], weights=g[wcol]),
                                   include_groups=False)
    np.testing.assert_allclose(rows.loc[want.index, "estimate"].to_numpy(float), want.to_numpy(), rtol=1e-9)
    assert (rows["se"] > 0).all()


def test_second_survey_reports_name_its_own_group_and_themes(buurt) -> None:
    html = "".join(p.read_text(encoding="utf-8") for p in (buurt["out"] / "report").glob("*.html"))
    assert "Noord" in html and "Leefbaarheid" in html
    assert "herkomst" not in html.lower()
