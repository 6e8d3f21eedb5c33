"""The replicate design as R reads it: the svrepdesign call sid states (diagnostics.json,
the .sav notes) reproduces sid's SE in R's survey (skipped where R/survey are absent)."""

from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest

from sid.weighting.rsyntax import svrepdesign_call
from tests.test_tables_stage import _make_run


def test_subbootstrap_is_stated_as_r_bootstrap_with_scale_one_over_r_minus_1():
    call = svrepdesign_call("subbootstrap", 1 / 99, [1.0] * 100, False, 100)
    assert 'type = "bootstrap"' in call and "scale = 1/99" in call and "combined.weights = TRUE" in call
    assert "subbootstrap" not in call


def test_sav_notes_state_the_replicate_design(tmp_path):
    from sid.report.spss_file import wave_frame
    from sid.spec.questionnaire_parse import load_questionnaire

    s = _make_run(tmp_path)
    _, meta = wave_frame(s["run"], load_questionnaire(s["proj"] / "questionnaires" / "sid2022.yaml"))
    text = "\n".join(meta.notes)
    assert 'svrepdesign(type="bootstrap"' in text and "combined.weights=TRUE" in text and "subbootstrap" in text
    assert all(len(n.encode()) <= 80 for n in meta.notes)


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R not installed")
def test_r_svrepdesign_reproduces_sids_replicate_se(tmp_path):
    from sid.runfolder.wave import open_wave

    if subprocess.run(["Rscript", "-e", "library(survey)"], capture_output=True).returncode != 0:
        pytest.skip("R package survey not installed")
    s = _make_run(tmp_path)
    wave = open_wave(s["run"])
    sid_row = wave.mean("age").iloc[0]
    reps = pd.read_parquet(s["run"] / "weight" / "replicates.parquet")
    d = wave.data[["person_key", "age", "weight"]].merge(reps, on="person_key")
    d.to_csv(tmp_path / "d.csv", index=False)
    info = wave.diagnostics["replicates"]
    call = svrepdesign_call(info["method"], info["scale"], info["rscales"], info["mse"], reps.shape[1] - 1)
    code = (f'suppressMessages(library(survey)); d <- read.csv("{tmp_path / "d.csv"}"); des <- {call}; '
            'm <- svymean(~age, des); cat(sprintf("%.12g %.12g", coef(m), SE(m)))')
    out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, check=True).stdout.split()
    assert float(out[0]) == pytest.approx(sid_row["estimate"], rel=1e-10)
    assert float(out[1]) == pytest.approx(sid_row["se"], rel=1e-8)
