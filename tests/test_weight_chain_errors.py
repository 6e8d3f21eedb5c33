"""Infeasible or inconsistent weighting input: sid weight stops with a WeightingError that
names the cause, the origin group and the margin, and writes nothing. Hostile input
(register counts < 0, a frame cell twice, a PSU column the gross sample lacks) is refused
by name; a stratum coded NA is a stratum."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_weight_stage import shipped_spec

from sid.cli import main
from sid.demo import make_demo
from sid.errors import ConvergenceError, DataError, WeightingError
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
    data, proj, out = case
    _spec(proj, "max_iter: 100", "max_iter: 1")
    assert main(["weight", "--out", str(out), "--project", str(proj), "--data", str(data)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did not converge" in err[0]
    assert not (out / "weight").exists()


# ----------------------------------------------------------------- hostile input (issue 16)
def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _cli_fails(case, capsys, error, *patterns):
    """run_weight raises ``error``; ``sid weight`` exits 2 with one line holding every
    pattern; the data folder and the spec are byte-identical; nothing is written."""
    data, proj, out = case
    before = _digest(data), _digest(proj)
    _fails(case, error, *patterns)
    assert main(["weight", "--out", str(out), "--project", str(proj), "--data", str(data)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sid: error: "), err
    for pat in patterns:
        assert pat in err[0], err[0]
    assert (_digest(data), _digest(proj)) == before
    assert not (out / "weight").exists() and not (out / "manifest.json").exists()
    assert list(out.iterdir()) == []


def _frame_cell(frame: pd.DataFrame, row: int) -> str:
    cols = [c for c in frame.columns if c != "count"]
    return "(" + ", ".join(f"{c}={frame[c].iloc[row]}" for c in cols) + ")"


@pytest.mark.parametrize("bad", ["-40", "NA", ""])
def test_frame_count_not_a_count_is_refused_naming_file_row_cell_and_margins(case, capsys, bad):
    """A negative (or missing, or text) register count lowered the population total of its
    stratum and of every margin it is in; sid weight alone took it."""
    path = case[0] / "register_population.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    frame = pd.read_csv(path)
    row = int(frame.index[frame.origin == "TUR"][3])
    head, _, _ = lines[row + 1].rstrip("\n").rpartition(",")
    lines[row + 1] = f"{head},{bad}\n"
    path.write_text("".join(lines), encoding="utf-8")
    shown = "(empty)" if bad == "" else repr(bad) if bad == "NA" else bad
    _cli_fails(case, capsys, WeightingError, f"{path}: row {row + 2}: count {shown} of cell "
               f"{_frame_cell(frame, row)} is not a count >= 0",
               "margins sex:age_band, region, generation", "correct the register frame")


def test_frame_cell_given_twice_is_refused_naming_both_rows_and_the_cell(case, capsys):
    """A cell on two rows doubled its population in the design weights and every margin."""
    path = case[0] / "register_population.csv"
    frame = pd.read_csv(path)
    row = int(frame.index[frame.origin == "ROU"][5])
    pd.concat([frame, frame.iloc[[row]]]).to_csv(path, index=False)
    _cli_fails(case, capsys, WeightingError, f"{path}: rows {row + 2} and {len(frame) + 2} hold the "
               f"same cell {_frame_cell(frame, row)}", "margins sex:age_band, region, generation",
               "keep one row per cell")


def test_psu_column_the_gross_sample_lacks_is_a_data_error_not_a_key_error(case, capsys):
    _spec(case[1], "  psu: null ", "  psu: cluster ")
    _cli_fails(case, capsys, DataError, f"{case[0] / 'gross_sample.csv'}: no PSU column 'cluster' "
               "(weighting spec key sample.psu", "set psu: null")


def test_psu_without_a_value_is_refused_naming_the_row(case, capsys):
    path = case[0] / "gross_sample.csv"
    gross = pd.read_csv(path, dtype={"person_key": str})
    gross["cluster"] = np.arange(len(gross)) // 2
    gross["cluster"] = gross["cluster"].astype("Int64")
    gross.loc[17, "cluster"] = pd.NA
    gross.to_csv(path, index=False)
    _spec(case[1], "  psu: null ", "  psu: cluster ")
    _cli_fails(case, capsys, DataError, f"{path}: row 19: no PSU ('cluster'; 1 such rows)")


def test_stratum_code_NA_is_a_stratum_not_missing(case):
    """Polish origin coded NA (as a code, e.g. Namibia's ISO code) in the gross sample, the
    dispositions and the frame: the weight stage weights it like any group, and its weights
    sum to its register total (pandas' default reader made it missing)."""
    data, proj, out = case
    for name, col in (("gross_sample.csv", "stratum"), ("dispositions.csv", "stratum"),
                      ("register_population.csv", "origin")):
        df = pd.read_csv(data / name, dtype=str, keep_default_na=False)
        df[col] = df[col].replace("POL", "NA")
        df.to_csv(data / name, index=False)
    _, res = run_weight(out, proj, data)
    frame = pd.read_csv(data / "register_population.csv", keep_default_na=False)
    got = res.weights.groupby("stratum")["weight"].sum()
    assert "NA" in got.index and got.isna().sum() == 0
    want = frame.groupby("origin")["count"].sum()
    assert np.allclose(got.sort_index().to_numpy(), want.sort_index().to_numpy(), rtol=1e-6)
