"""Both demo waves run through every stage once per test session, as a user runs them
(``sid demo --wave W``, ``sid run --wave W`` on a copy of the project): the session fixtures

* ``demo_runs``: {wave: {"project", "data", "out", "inputs_unchanged"}} at the scale of
  ``WAVES``, shared by the end-to-end tests of each wave (tests/test_sid2017_run.py,
  tests/test_analyst_files.py) and the report tests: one full run per wave, not one per
  test module;
* ``report_waves``: {"project": the project copy, (wave, lang): run folder with DIR/report in
  that language}; Dutch is ``demo_runs``' run itself, English ``sid report --lang en`` on a
  copy of it (tests/test_report_language.py, tests/test_report_screenshots.py).

Tests read these run folders; a test that changes one works on a copy (shutil.copytree).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sid.cli import main
from tests.projects import copy_project

WAVES = {"sid2022": 0.5, "sid2017": 0.5}  # wave -> demo scale
LANGS = ("nl", "en")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory) -> dict:
    """{wave: {"project", "data", "out", "inputs_unchanged"}}: ``sid run`` of each demo wave."""
    base = tmp_path_factory.mktemp("demo_runs")
    project = copy_project(base / "project")
    runs: dict = {}
    for wave, scale in WAVES.items():
        data, out = base / f"data-{wave}", base / f"out-{wave}"
        assert main(["demo", "--wave", wave, "--out", str(data), "--scale", str(scale)]) == 0
        before = _files(data)
        assert main(["run", "--project", str(project), "--wave", wave, "--data", str(data), "--out", str(out)]) == 0
        runs[wave] = {"project": project, "data": data, "out": out, "inputs_unchanged": before == _files(data)}
    return runs


@pytest.fixture(scope="session")
def report_waves(demo_runs, tmp_path_factory) -> dict:
    """{"project": project copy, (wave, lang): run folder with DIR/report in that language}."""
    base = tmp_path_factory.mktemp("report_waves")
    project = demo_runs[next(iter(WAVES))]["project"]
    out: dict = {"project": project}
    for wave in WAVES:
        out[(wave, "nl")] = demo_runs[wave]["out"]
        en = base / f"out-{wave}-en"
        shutil.copytree(demo_runs[wave]["out"], en, ignore=shutil.ignore_patterns("report"))
        assert main(["report", "--project", str(project), "--wave", wave, "--out", str(en), "--lang", "en"]) == 0
        out[(wave, "en")] = en
    return out
