"""A project with two waves' specs in its folders: a stage takes the specs of its wave (the
one named, else the one the run folder's manifest records, else the project file's default
wave); a project of several waves and no default is one error line naming them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sid.errors import SpecError
from sid.project import wave_weighting
from sid.runfolder.context import resolve_wave
from tests.projects import copy_project

ROOT = Path(__file__).resolve().parents[1]


def _run_folder(tmp_path: Path, wave: str) -> Path:
    out = tmp_path / "run"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"run_id": "x", "wave": wave, "stages": {}}), encoding="utf-8")
    return out


def test_the_runs_wave_chooses_among_the_projects_specs(tmp_path):
    w = resolve_wave(ROOT, _run_folder(tmp_path, "sid2017"))
    assert w.name == "sid2017"
    assert Path(wave_weighting(w).path) == ROOT / "weights" / "sid2017.yaml"
    assert (w.tables, w.linkage, w.questionnaire) == (ROOT / "reports" / "sid2017_tables.yaml",
                                                     ROOT / "linkage" / "sid2017.yaml",
                                                     ROOT / "questionnaires" / "sid2017.yaml")
    assert resolve_wave(ROOT, tmp_path / "run", "sid2022").name == "sid2022"  # --wave wins


def test_without_a_run_the_default_wave_of_the_project_file(tmp_path):
    w = resolve_wave(ROOT, tmp_path)  # no manifest there
    assert w.name == "sid2022" and Path(wave_weighting(w).path) == ROOT / "weights" / "sid2022.yaml"
    assert w.tables == ROOT / "reports" / "sid2022_tables.yaml" and w.linkage == ROOT / "linkage" / "sid2022.yaml"


def test_several_waves_and_no_default_are_one_error_line(tmp_path):
    proj = copy_project(tmp_path / "proj")
    doc = yaml.safe_load((proj / "sid.yaml").read_text(encoding="utf-8"))
    del doc["default_wave"]
    (proj / "sid.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    before = (proj / "sid.yaml").read_bytes()
    with pytest.raises(SpecError) as err:
        resolve_wave(proj, tmp_path / "nowhere")
    msg = str(err.value)
    assert "\n" not in msg and "sid2022, sid2017" in msg and "--wave" in msg
    assert (proj / "sid.yaml").read_bytes() == before
