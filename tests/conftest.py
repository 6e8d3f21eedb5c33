"""Shared fixtures: the reference data shipped with the tests (tests/reference, see its README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# The command line's BLAS setting (one thread unless set) before any test loads numpy:
# the tests run sid's commands in this process and should see what a user's `sid` does.
from sid.cli import blas  # noqa: F401

REFERENCE = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.fail(f"reference data not found at {REFERENCE}; run the tests from a full checkout of the repository")
    return REFERENCE


@pytest.fixture(scope="session")
def survey_ref(reference_dir: Path) -> dict:
    """Figures computed by R's survey package (survey_reference.json)."""
    return json.loads((reference_dir / "survey_reference.json").read_text())


@pytest.fixture(scope="session")
def reliability_ref(reference_dir: Path) -> dict:
    """Figures computed by R's psych and survey packages (reliability_reference.json)."""
    return json.loads((reference_dir / "reliability_reference.json").read_text())


# The throwaway PostgreSQL server and the base fixture parametrised over DuckDB/PostgreSQL.
from tests.pgserver import base_target, pg_server  # noqa: E402, F401

# Both waves through every stage, reports in Dutch and English (report language and screenshot tests).
from tests.report_waves import demo_runs, report_waves  # noqa: E402, F401

# The two demo waves run to their score stage and their trend (trend stage and page tests).
from tests.trend_runs import trend, waves  # noqa: E402, F401
