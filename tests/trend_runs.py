"""The two demo waves (scale 0.3, 20 replicates) run to their score stage in one project, and
``sid trend`` over them with every default from sid.yaml: the session fixtures ``waves``
and ``trend`` (registered in conftest.py), shared by tests/test_trend_stage.py and
tests/test_trend_page.py. Tests read these folders; one that changes them works on a copy."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from sid.cli import main
from sid.demo import DEMOS
from sid.pipeline.run import STAGES, RunContext
from sid.project import load_project
from sid.trends.output import read_trend_csv
from tests.projects import copy_project

SCALE = 0.3
RUNS = {"sid2017": "r17", "sid2022": "r22"}


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def waves(tmp_path_factory):
    base = tmp_path_factory.mktemp("trend_stage")
    proj = copy_project(base / "proj")
    for wave in RUNS:  # fewer replicates: the trend's figures are checked against R elsewhere
        path = proj / "weights" / f"{wave}.yaml"
        w = yaml.safe_load(path.read_text(encoding="utf-8"))
        w["replicates"]["replicates"] = 20
        path.write_text(yaml.safe_dump(w, sort_keys=False, allow_unicode=True), encoding="utf-8")
    doc = yaml.safe_load((proj / "sid.yaml").read_text(encoding="utf-8"))
    for wave, run in RUNS.items():
        doc["waves"][wave]["run_folder"] = run
    (proj / "sid.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    project = load_project(proj)
    for wave in RUNS:
        w = project.wave(wave)
        data = base / f"data_{wave}"
        DEMOS[w.demo].make(data, seed=DEMOS[w.demo].seed, scale=SCALE)
        ctx = RunContext(project=project, wave=w, data=data, out=w.run_folder)
        for name, fn, _ in STAGES:
            if name in ("ingest", "clean", "fieldwork", "weight", "score"):
                fn(ctx)
    return {"proj": proj, "base": base, "r17": proj / "r17", "r22": proj / "r22"}


@pytest.fixture(scope="session")
def trend(waves):
    before = {k: _hashes(waves[k]) for k in ("r17", "r22")}
    assert main(["trend", "--project", str(waves["proj"])]) == 0  # every default from sid.yaml
    out = waves["proj"] / "out-trend"
    return {"out": out, "unchanged": before == {k: _hashes(waves[k]) for k in ("r17", "r22")},
            "published": read_trend_csv(out / "trend" / "trend.csv"),
            "internal": read_trend_csv(out / "trend" / "internal" / "trend_internal.csv")}
