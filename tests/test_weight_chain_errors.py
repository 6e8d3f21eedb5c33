"""Infeasible or inconsistent weighting input: sid weight stops with a WeightingError that
names the cause, the origin group and the margin, and writes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_weight_stage import shipped_spec

from sid.demo import make_demo
from sid.errors import ConvergenceError, WeightingError
from sid.weighting.stage import run_weight


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo")
    make_demo(data, scale=1)
    return data


@pytest.fixture
def case(tmp_path, demo):
    """A copy of the demo data folder, a project with the shipped SID spec, a run folder."""
    data, proj, out = tmp_path / "data", tmp_path / "proj", tmp_path / "run"
    shutil.copytree(demo, data)
    shipped_spec(proj)
    out.mkdir()
    return data, proj, out


def _spec(proj: Path, old: str, new: str) -> None:
    p = proj / "weights" / "sid2022.yaml"
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new), encoding="utf-8")


def _fails(case, error, *patterns):
    data, proj, out = case
    with pytest.raises(error) as info:
        run_weight(out, proj, data)
    for pat in patterns:
        assert pat in str(info.value), str(info.value)
    assert not (out / "weight").exists() and not (out / "manifest.json").exists()


def test_margins_whose_totals_disagree(case):
    data = case[0]
    frame = pd.read_csv(data / "register_population.csv")
    row = frame.index[frame.origin == "MAR"][0]
    frame["sex"] = frame["sex"].astype(float)
    frame.loc[row, "sex"] = np.nan  # this cell drops out of sex:age_band only
    frame.to_csv(data / "register_population.csv", index=False)
    _fails(case, WeightingError, "stratum 'MAR'", "margins disagree", "sex:age_band")


def test_population_category_without_respondents_fails_without_collapsing(case):
    data = case[0]
    frame = pd.read_csv(data / "register_population.csv")
    extra = frame[frame.origin == "TUR"].head(1).assign(region=9, count=50)
    pd.concat([frame, extra]).to_csv(data / "register_population.csv", index=False)
    _spec(case[1], "  collapse: {min_respondents: 20}", "  collapse: null")
    _fails(case, WeightingError, "stratum 'TUR'", "margin 'region'", "no respondents")


def test_population_category_without_respondents_is_collapsed_and_reported(case):
    """Region 9 (50 persons, no respondents) of TUR is merged with region 5 (the last code
    before it); the merged total is region 5's frame total + 50, by hand with pandas."""
    data, proj, out = case
    frame = pd.read_csv(data / "register_population.csv")
    extra = frame[frame.origin == "TUR"].head(1).assign(region=9, count=50)
    pd.concat([frame, extra]).to_csv(data / "register_population.csv", index=False)
    last = int(frame[frame.origin == "TUR"].region.max())
    _, res = run_weight(out, proj, data)
    merged = [c for c in res.diagnostics["calibration"]["collapse"]["collapsed"]
              if c["group"] == "TUR" and c["margin"] == "region"]
    want = frame[(frame.origin == "TUR") & (frame.region == last)]["count"].sum() + 50
    assert merged == [{"group": "TUR", "margin": "region", "within": "", "categories": [str(last), "9"],
                       "key": f"{last}+9", "respondents": merged[0]["respondents"], "population": float(want)}]
    row = res.margins[(res.margins.stratum == "TUR") & (res.margins.margin == f"region={last}+9")]
    assert row.collapsed.tolist() == [f"{last}+9"] and row.population.tolist() == [want]
    assert abs(row.after.iloc[0] - want) < 1e-6 * want


def test_margin_that_cannot_reach_min_respondents_names_group_and_margin(case):
    _spec(case[1], "collapse: {min_respondents: 20}", "collapse: {min_respondents: 5000}")
    _fails(case, WeightingError, "calibration collapse, group '", "margin 'sex:age_band' within sex 1",
           "fewer than min_respondents 5000")


def test_margin_variable_missing_for_respondents(case):
    data = case[0]
    gross = pd.read_csv(data / "gross_sample.csv", dtype={"person_key": str})
    disp = pd.read_csv(data / "dispositions.csv", dtype={"person_key": str})
    done = disp.person_key[disp.disposition == "COMPLETE"]
    rows = gross.index[gross.person_key.isin(done) & (gross.stratum == "POL")][:3]
    gross["generation"] = gross["generation"].astype(float)
    gross.loc[rows, "generation"] = np.nan
    gross.to_csv(data / "gross_sample.csv", index=False)
    _spec(case[1], "predictors: [sex, age_band, region, generation]", "predictors: [sex, age_band, region]")
    _fails(case, WeightingError, "stratum 'POL'", "margin 'generation'", "3 respondents have no value")


def test_calibration_bounds_too_tight(case):
    _spec(case[1], "method: raking\n  bounds: null", "method: logit\n  bounds: [0.99, 1.01]")
    _fails(case, WeightingError, "infeasible", "stratum '")


def test_trimming_bounds_too_tight(case):
    _spec(case[1], "ratio_to_median: 5.0", "ratio_to_median: 1.02")
    _spec(case[1], "ratio_to_median: 0.2", "ratio_to_median: 0.98")
    _fails(case, WeightingError, "trimming, stratum '", "cannot both hold")


def test_non_convergence(case):
    _spec(case[1], "max_iter: 100", "max_iter: 1")
    _fails(case, ConvergenceError, "did not converge", "stratum '", "margin error")


def test_jackknife_with_one_person_per_psu_is_refused_by_name(case):
    _spec(case[1], "method: bootstrap", "method: jackknife")
    _fails(case, WeightingError, "delete-one-PSU jackknife needs one replicate per PSU", "replicates: 100")


def test_sid_weight_cli_prints_one_line_and_exits_2(case, capsys):
    from sid.cli import main

    data, proj, out = case
    _spec(proj, "max_iter: 100", "max_iter: 1")
    (out / "manifest.json").write_text('{"run_id": null, "stages": {}}')  # the CLI wants a run folder
    assert main(["weight", "--out", str(out), "--project", str(proj), "--data", str(data)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did not converge" in err[0]
    assert not (out / "weight").exists()
