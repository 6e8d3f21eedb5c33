"""Shared fixtures: the reference data beside the checkout (../shared/reference)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REFERENCE = SHARED / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.fail(f"reference data not found at {REFERENCE}: tests need ../shared beside the checkout")
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
