"""Both waves run through every stage, their reports rendered in Dutch and in English: the
session fixture ``report_waves`` (imported in conftest.py) shared by the report language and
screenshot tests (tests/test_report_language.py, tests/test_report_screenshots.py).

Each wave runs as a user runs it (``sid demo --wave W``, ``sid run --wave W``) on a copy of the
project; the English reports are ``sid report --lang en`` on a copy of the run folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sid.cli import main

ROOT = Path(__file__).resolve().parents[1]
WAVES = {"sid2022": 0.5, "sid2017": 0.5}  # wave -> demo scale
LANGS = ("nl", "en")
PROJECT_FOLDERS = ("questionnaires", "weights", "linkage", "reports", "smallarea")


def copy_project(dest: Path) -> Path:
    """The project (sid.yaml and its spec folders) copied to ``dest``."""
    for folder in PROJECT_FOLDERS:
        shutil.copytree(ROOT / folder, dest / folder)
    shutil.copy(ROOT / "sid.yaml", dest / "sid.yaml")
    return dest


@pytest.fixture(scope="session")
def report_waves(tmp_path_factory) -> dict:
    """{"project": project copy, (wave, lang): run folder with DIR/report in that language}."""
    base = tmp_path_factory.mktemp("report_waves")
    project = copy_project(base / "project")
    out: dict = {"project": project}
    for wave, scale in WAVES.items():
        data, run = base / f"data-{wave}", base / f"out-{wave}-nl"
        assert main(["demo", "--wave", wave, "--out", str(data), "--scale", str(scale)]) == 0
        assert main(["run", "--project", str(project), "--wave", wave, "--data", str(data), "--out", str(run)]) == 0
        out[(wave, "nl")] = run
        en = base / f"out-{wave}-en"
        shutil.copytree(run, en, ignore=shutil.ignore_patterns("report"))
        assert main(["report", "--project", str(project), "--wave", wave, "--out", str(en), "--lang", "en"]) == 0
        out[(wave, "en")] = en
    return out
