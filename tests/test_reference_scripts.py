"""The R scripts of tests/reference/r reproduce the JSON files the tests read.

All scripts run in one R process (SID_REF_OUT names the output folder; see common.R).
Skipped where R with survey, lavaan and jsonlite is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

FOLDER = Path(__file__).parent / "reference" / "r"
SCRIPTS = sorted(p.stem for p in FOLDER.glob("*.R") if p.stem != "common")
RUN_ALL = ('suppressPackageStartupMessages({library(survey); library(lavaan); library(jsonlite)}); '
           'for (s in setdiff(list.files("tests/reference/r", "[.]R$"), "common.R")) '
           'source(file.path("tests/reference/r", s), local = new.env())')


def _same(a, b, path="") -> None:
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            _same(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300, err_msg=path)
    else:
        assert a == b, path


@pytest.fixture(scope="module")
def rerun(tmp_path_factory) -> Path:
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed")
    probe = subprocess.run(["Rscript", "-e", "library(survey); library(lavaan); library(jsonlite)"],
                           capture_output=True, timeout=120)
    if probe.returncode != 0:
        pytest.skip("R lacks survey, lavaan or jsonlite")
    out = tmp_path_factory.mktemp("rref")
    run = subprocess.run(["Rscript", "-e", RUN_ALL], capture_output=True, text=True, timeout=600,
                         cwd=FOLDER.parent.parent.parent, env={**os.environ, "SID_REF_OUT": str(out)})
    assert run.returncode == 0, run.stderr[-2000:]
    return out


@pytest.mark.parametrize("name", SCRIPTS)
def test_r_script_reproduces_its_json(name, rerun):
    shipped = json.loads((FOLDER / f"{name}.json").read_text())
    _same(shipped, json.loads((rerun / f"{name}.json").read_text()))
