"""A project with two waves' specs in its folders: a stage that looks for its spec there
takes the run's wave's (the questionnaire its clean stage used), else the project file's
default wave's; with neither it stops with one line naming the folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sid.errors import SpecError
from sid.fieldwork.stage import find_weighting_spec as fieldwork_spec
from sid.linkage.spec import find_spec as linkage_spec
from sid.tables.stage import find_plan
from sid.weighting.stage import find_weighting_spec

ROOT = Path(__file__).resolve().parents[1]


def _run_folder(tmp_path: Path, questionnaire: Path) -> Path:
    out = tmp_path / "run"
    out.mkdir()
    manifest = {"stages": {"clean": {"specs": [{"path": str(questionnaire), "sha256": "x"}]}}}
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


def test_the_runs_wave_chooses_among_the_projects_specs(tmp_path):
    out = _run_folder(tmp_path, ROOT / "questionnaires" / "sid2017.yaml")
    assert find_weighting_spec(ROOT, out) == ROOT / "weights" / "sid2017.yaml"
    assert fieldwork_spec(ROOT, out) == ROOT / "weights" / "sid2017.yaml"
    assert find_plan(ROOT, out) == ROOT / "reports" / "sid2017_tables.yaml"
    assert linkage_spec(ROOT, out) == ROOT / "linkage" / "sid2017.yaml"


def test_without_a_run_the_default_wave_of_the_project_file(tmp_path):
    assert find_weighting_spec(ROOT) == ROOT / "weights" / "sid2022.yaml"
    assert find_plan(ROOT, tmp_path) == ROOT / "reports" / "sid2022_tables.yaml"  # no manifest there
    assert linkage_spec(ROOT) == ROOT / "linkage" / "sid2022.yaml"


def test_without_a_project_file_or_run_several_specs_are_one_error_line(tmp_path):
    proj = tmp_path / "proj"
    shutil.copytree(ROOT / "weights", proj / "weights")
    before = {p.name: p.read_bytes() for p in (proj / "weights").iterdir()}
    with pytest.raises(SpecError) as err:
        find_weighting_spec(proj)
    msg = str(err.value)
    assert "\n" not in msg and str(proj / "weights") in msg and "2 weighting specs" in msg
    assert {p.name: p.read_bytes() for p in (proj / "weights").iterdir()} == before
