"""sid check on weighting specs: problems of meaning, and the spec against a data folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from sid.cli import main
from sid.spec.check_weighting import check_weighting
from sid.spec.weighting import load_weighting
from tests.projects import copy_project

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "weights" / "sid2022.yaml"


def _spec(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = SPEC.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    d = tmp_path / "proj" / "weights"
    d.mkdir(parents=True, exist_ok=True)
    p = d / "sid2022.yaml"
    p.write_text(text)
    return p


def _data(tmp_path: Path) -> Path:
    """A tiny data folder in the demo's layout (two strata, four persons)."""
    d = tmp_path / "data"
    d.mkdir()
    grid = pd.MultiIndex.from_product([["BEL", "MAR"], [1, 2], [1, 2], [1, 2]],
                                      names=["origin", "sex", "age_band", "region"]).to_frame(index=False)
    grid.insert(1, "generation", (grid["origin"] == "MAR").astype(int))
    grid.assign(count=100).to_csv(d / "register_population.csv", index=False)
    pd.DataFrame({"person_key": ["a", "b", "c", "d"], "stratum": ["BEL", "BEL", "MAR", "MAR"],
                  "generation": [0, 0, 1, 1], "sex": [1, 2, 2, 2], "age_band": [1, 2, 2, 2],
                  "region": [1, 1, 2, 2]}).to_csv(d / "gross_sample.csv", index=False)
    pd.DataFrame({"person_key": ["a", "b", "c", "d"],
                  "disposition": ["COMPLETE", "REFUSAL", "COMPLETE", "NONCONTACT"],
                  "mode": ["web", "capi", "capi", "capi"]}).to_csv(d / "dispositions.csv", index=False)
    return d


def _lines(found) -> list[str]:
    return [str(f) for f in found]


def test_sid2022_spec_has_no_findings_without_data() -> None:
    assert check_weighting(load_weighting(SPEC), ROOT) == []


def test_redo_of_a_missing_step_and_within_not_a_stratum_are_errors(tmp_path: Path) -> None:
    p = _spec(tmp_path, ("trimming:\n  upper: {ratio_to_median: 5.0}\n  lower: {ratio_to_median: 0.2}\n"
                         "  within: stratum\n  # 50 rounds", "  # 50 rounds"),
              ("  max_rounds: 50\n", ""),
              ("calibration:\n  within: stratum", "calibration:\n  within: stratun"))
    lines = _lines(check_weighting(load_weighting(p)))
    assert lines == [
        f"error: {p}: replicates.redo: 'trimming' is re-done in every replicate but the spec has "
        "no trimming step; remove it from redo",
        f"error: {p}: calibration.within: 'stratun' is not a stratum variable (stratum); "
        "did you mean 'stratum'?; groups are strata",
    ]


def test_margin_constant_within_the_calibration_group_is_a_warning(tmp_path: Path) -> None:
    p = _spec(tmp_path, ("margins: [sex:age_band, region, generation]",
                         "margins: [sex:age_band, region, origin:generation]"))
    found = check_weighting(load_weighting(p))
    assert [(f.severity, f.message) for f in found] == [
        ("warning", "calibration.margins: 'origin:generation' includes the calibration group "
                    "'stratum', which is constant within it")]


def test_wave_without_questionnaire_in_the_project_is_a_warning(tmp_path: Path) -> None:
    p = _spec(tmp_path, ("wave: sid2022", "wave: sid2023"))
    (tmp_path / "proj" / "questionnaires").mkdir()
    found = check_weighting(load_weighting(p), tmp_path / "proj")
    assert len(found) == 1 and found[0].severity == "warning" and "sid2023" in found[0].message


def test_spec_against_a_clean_data_folder_has_no_findings(tmp_path: Path) -> None:
    spec = load_weighting(_spec(tmp_path))
    # LANGUAGE, UNKNOWN, ... do not occur in the tiny data: warnings only
    found = check_weighting(spec, None, _data(tmp_path))
    assert {f.severity for f in found} == {"warning"}
    assert any("'LANGUAGE' does not occur" in f.message for f in found)


def test_data_folder_defects_are_errors_naming_file_and_column(tmp_path: Path) -> None:
    spec = load_weighting(_spec(tmp_path))
    d = _data(tmp_path)
    g = pd.read_csv(d / "gross_sample.csv")
    g.loc[3, "region"] = 3  # a region the frame does not have
    g.drop(columns="sex").to_csv(d / "gross_sample.csv", index=False)
    disp = pd.read_csv(d / "dispositions.csv")
    disp.loc[1, "disposition"] = "MOVED"
    disp.to_csv(d / "dispositions.csv", index=False)
    errors = [str(f) for f in check_weighting(spec, None, d) if f.severity == "error"]
    assert errors == [
        f"error: {d / 'gross_sample.csv'}: column 'sex' (spec key nonresponse.predictors) is missing",
        f"error: {d / 'gross_sample.csv'}: column 'sex' (spec key calibration.margins) is missing",
        f"error: {d / 'dispositions.csv'}: disposition: agency code 'MOVED' maps to no AAPOR code; "
        f"add it to dispositions in {spec.path}",
    ]
    g.to_csv(d / "gross_sample.csv", index=False)
    errors = [str(f) for f in check_weighting(spec, None, d) if f.severity == "error"]
    assert errors[-1] == (f"error: {d / 'gross_sample.csv'}: region: 1 cell(s) of sampled persons "
                          "have no population in register_population.csv within their stratum "
                          "(first: stratum=MAR region=3): calibration has no total for them; "
                          "recode them as the frame does")
    # a stratum of the frame without sampled persons, and a margin cell empty in the frame
    frame = pd.read_csv(d / "register_population.csv")
    frame.loc[(frame["origin"] == "BEL") & (frame["sex"] == 2), "count"] = 0
    pd.concat([frame, frame.iloc[[0]].assign(origin="TUR")]).to_csv(
        d / "register_population.csv", index=False)
    g.loc[3, "region"] = 2
    g.to_csv(d / "gross_sample.csv", index=False)
    errors = [str(f) for f in check_weighting(spec, None, d) if f.severity == "error"]
    assert errors[1:] == [
        f"error: {d / 'register_population.csv'}: stratum: strata TUR have a population but no "
        "sampled person in gross_sample.csv; design weights N_h/n_h need both",
        f"error: {d / 'gross_sample.csv'}: sex:age_band: 1 cell(s) of sampled persons have no "
        "population in register_population.csv within their stratum (first: stratum=BEL sex=2 "
        "age_band=2): calibration has no total for them; recode them as the frame does",
    ]
    (d / "register_population.csv").unlink()
    errors = [str(f) for f in check_weighting(spec, None, d) if f.severity == "error"]
    assert errors[0] == (f"error: {d / 'register_population.csv'}: file named in the weighting "
                         "spec not found in the data folder")


def test_cli_check_recognises_a_weighting_spec_by_its_folder(tmp_path: Path, capsys) -> None:
    p = _spec(tmp_path, ("  replicates: 100", "  replicates: 1"))
    assert main(["check", str(p)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith(f"error: {p}:") and "replicates.replicates" in out[0]
    good = _spec(tmp_path)
    d = _data(tmp_path)
    assert main(["check", str(good), "--data", str(d)]) == 0
    # a project: its wave's weighting spec (with the roles of sid.yaml) against the data folder
    proj = copy_project(tmp_path / "proj2")
    shutil.copy(good, proj / "weights" / "sid2022.yaml")
    assert main(["check", "--project", str(proj), "--data", str(d)]) == 0
    err = capsys.readouterr().err
    assert "1 spec(s), 1 data file: 0 error(s)" in err


def test_psu_column_the_gross_sample_lacks_is_an_error(tmp_path: Path) -> None:
    spec = load_weighting(_spec(tmp_path, ("  psu: null ", "  psu: cluster ")))
    d = _data(tmp_path)
    errors = [str(f) for f in check_weighting(spec, None, d) if f.severity == "error"]
    assert errors == [f"error: {d / 'gross_sample.csv'}: column 'cluster' (spec key sample.psu) is missing"]


def test_frame_count_below_zero_and_cell_twice_are_errors(tmp_path: Path, capsys) -> None:
    p = _spec(tmp_path)
    d = _data(tmp_path)
    path = d / "register_population.csv"
    frame = pd.read_csv(path)
    frame.loc[2, "count"] = -1
    frame.to_csv(path, index=False)
    errors = [str(f) for f in check_weighting(load_weighting(p), None, d) if f.severity == "error"]
    assert errors == [f"error: {path}: row 4: count -1 of cell (origin=BEL, generation=0, sex=1, "
                      "age_band=2, region=1) is not a count >= 0 (1 such row(s)); it enters the design "
                      "weights per origin and the margins sex:age_band, region, generation; correct "
                      "the register frame"]
    frame.loc[2, "count"] = 100
    pd.concat([frame, frame.iloc[[9]]]).to_csv(path, index=False)
    before = path.read_bytes()
    assert main(["check", str(p), "--data", str(d)]) == 1
    out = [line for line in capsys.readouterr().out.splitlines() if line.startswith("error")]
    assert out == [f"error: {path}: rows 11 and 18 hold the same cell (origin=MAR, generation=1, sex=1, "
                   "age_band=1, region=2) (1 repeated row(s)); the design weights per origin and the "
                   "margins sex:age_band, region, generation would count its population twice; keep "
                   "one row per cell"]
    assert path.read_bytes() == before


def test_stratum_code_NA_is_a_stratum_to_the_check(tmp_path: Path) -> None:
    """NA is a code (not missing) in the gross sample and the frame: the check compares it
    as the stratum NA, and names it when the frame lacks it."""
    spec = load_weighting(_spec(tmp_path))
    d = _data(tmp_path)
    g = pd.read_csv(d / "gross_sample.csv")
    g["stratum"] = g["stratum"].replace("MAR", "NA")
    g.to_csv(d / "gross_sample.csv", index=False)
    errors = [f.message for f in check_weighting(spec, None, d) if f.severity == "error"]
    assert errors[0] == ("strata NA have sampled persons but no population in register_population.csv; "
                         "design weights N_h/n_h need both")
    frame = pd.read_csv(d / "register_population.csv")
    frame["origin"] = frame["origin"].replace("MAR", "NA")
    frame.to_csv(d / "register_population.csv", index=False)
    assert [f for f in check_weighting(spec, None, d) if f.severity == "error"] == []
