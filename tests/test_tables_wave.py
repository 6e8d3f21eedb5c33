"""open_wave: design options read from the run folder's weight stage, against R's survey."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sid.errors import DataError, RunFolderError
from sid.io.spss_meta import SpssMeta
from sid.io.wave import save_wave_files
from sid.runfolder.wave import open_wave


def _clus1_run(tmp: Path, ref_dir: Path, survey_ref: dict, diag: dict) -> pd.DataFrame:
    """apiclus1 (one-stage cluster sample of districts) with R's linearly calibrated
    weights (calibrate(dclus1, ~stype, pop)) as the final weights and pw as the prior."""
    api = pd.read_csv(ref_dir / "apiclus1.csv")
    api["person_key"] = api["cds"].astype(str)
    clean = api[["person_key", "stype", "api00"]]
    (tmp / "clean").mkdir(parents=True)
    save_wave_files(clean, SpssMeta.from_frame(clean), tmp / "clean")
    (tmp / "weight").mkdir()
    w = np.asarray(survey_ref["apiclus1_calibrate_linear_stype"]["weights"], dtype=float)
    pd.DataFrame({"person_key": api["person_key"], "weight": w, "prior": api["pw"], "psu": api["dnum"],
                  "fpc": api["fpc"]}).to_parquet(tmp / "weight" / "weights.parquet")
    # the weight stage records the key and design columns; these tests vary the rest
    diag = {**diag, "design": {"key": "person_key", **diag.get("design", {})}}
    (tmp / "weight" / "diagnostics.json").write_text(json.dumps(diag))
    return api


def test_calibrated_taylor_design_matches_R_calibrate_linear(tmp_path, reference_dir, survey_ref):
    _clus1_run(tmp_path, reference_dir, survey_ref,
               {"design": {"fpc": "fpc"}, "calibration": {
                   "prior": "prior", "method": "linear",
                   "margins": {"stype": {"E": 6194 - 755 - 1018, "H": 755, "M": 1018}}}})
    wave = open_wave(tmp_path, variance="taylor")
    got = wave.mean("api00")
    ref = survey_ref["apiclus1_calibrate_linear_stype"]["mean_api00"]
    assert got["estimate"].iloc[0] == pytest.approx(ref["estimate"], rel=1e-10)
    assert got["se"].iloc[0] == pytest.approx(np.ravel(ref["se"])[0], rel=1e-7)


def test_without_calibration_entry_the_se_is_the_uncalibrated_one(tmp_path, reference_dir, survey_ref):
    # Same weights, no calibration info: the SE differs from R's calibrated SE (the
    # calibration is not reflected), which the module docstring states.
    _clus1_run(tmp_path, reference_dir, survey_ref, {"design": {"fpc": "fpc"}})
    se = open_wave(tmp_path, variance="taylor").mean("api00")["se"].iloc[0]
    ref = np.ravel(survey_ref["apiclus1_calibrate_linear_stype"]["mean_api00"]["se"])[0]
    assert abs(se - ref) / ref > 1e-3


def test_run_folder_errors_are_one_line(tmp_path, reference_dir, survey_ref):
    _clus1_run(tmp_path, reference_dir, survey_ref, {"calibration": {"prior": "nope", "margins": {"stype": {"E": 1}}}})
    with pytest.raises(RunFolderError, match="calibration prior weight 'nope'"):
        open_wave(tmp_path, variance="taylor")
    with pytest.raises(RunFolderError, match=r"replicates.parquet not found"):
        open_wave(tmp_path, variance="replicate")
    with pytest.raises(RunFolderError, match="variance='jk' is not one of"):
        open_wave(tmp_path, variance="jk")
    w = pd.read_parquet(tmp_path / "weight" / "weights.parquet")
    pd.concat([w, w.iloc[[0]].assign(person_key="stranger")]).to_parquet(tmp_path / "weight" / "weights.parquet")
    with pytest.raises(DataError, match="no row for respondent 'stranger'"):
        open_wave(tmp_path, variance="taylor")


def test_replicate_entry_is_required_for_replicate_variance(tmp_path, reference_dir, survey_ref):
    api = _clus1_run(tmp_path, reference_dir, survey_ref, {})
    rep = pd.DataFrame({"person_key": api["person_key"], "rep_001": api["pw"], "rep_002": api["pw"]})
    rep.to_parquet(tmp_path / "weight" / "replicates.parquet")
    with pytest.raises(RunFolderError, match="no 'replicates' entry with 'scale' and 'rscales'"):
        open_wave(tmp_path, variance="replicate")


def test_weights_that_miss_the_recorded_margins_are_refused(tmp_path, reference_dir, survey_ref):
    from sid.errors import EstimationError

    _clus1_run(tmp_path, reference_dir, survey_ref, {"design": {"fpc": "fpc"}, "calibration": {
        "prior": "prior", "margins": {"stype": {"E": 4000, "H": 755, "M": 1018}}}})
    with pytest.raises(EstimationError, match="misses margin"):
        open_wave(tmp_path, variance="taylor")


def test_the_key_comes_from_the_diagnostics_or_is_named(tmp_path, reference_dir, survey_ref):
    _clus1_run(tmp_path, reference_dir, survey_ref, {"design": {"fpc": "fpc"}})
    diag = json.loads((tmp_path / "weight" / "diagnostics.json").read_text())
    del diag["design"]["key"]
    (tmp_path / "weight" / "diagnostics.json").write_text(json.dumps(diag))
    with pytest.raises(RunFolderError, match="no design.key") as exc:
        open_wave(tmp_path, variance="taylor")
    assert "\n" not in str(exc.value)
    assert len(open_wave(tmp_path, variance="taylor", key="person_key").data) > 0


def test_weight_and_replicate_files_in_another_row_order_give_the_same_design(tmp_path, reference_dir, survey_ref):
    # open_wave aligns by key; rows in the clean wave's order take a shortcut (no hash
    # lookup, no gather), so both paths must give the same weights and SEs
    api = _clus1_run(tmp_path, reference_dir, survey_ref, {
        "replicates": {"method": "bootstrap", "scale": 0.5, "rscales": 1.0}})
    rng = np.random.default_rng(5)
    rep = pd.DataFrame({"person_key": api["person_key"],
                        **{f"rep_{r:03d}": api["pw"] * rng.uniform(0.5, 1.5, len(api)) for r in range(1, 4)}})
    rep.to_parquet(tmp_path / "weight" / "replicates.parquet")
    same = open_wave(tmp_path, variance="replicate").mean("api00", by="stype")
    order = rng.permutation(len(api))
    for f in ("weights.parquet", "replicates.parquet"):
        path = tmp_path / "weight" / f
        pd.read_parquet(path).iloc[order].reset_index(drop=True).to_parquet(path)
    shuffled = open_wave(tmp_path, variance="replicate").mean("api00", by="stype")
    pd.testing.assert_frame_equal(same, shuffled)
