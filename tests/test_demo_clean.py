"""The demo wave through ingest and cleaning (sid.io.wave.ingest, sid.clean.stage):
the cleaning log and quality flags name exactly the defects the demo documents in
defects.csv (an end-to-end check of both sides of that contract)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.demo import SPEC_PATH, make_demo
from sid.spec.questionnaire_parse import load_questionnaire


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    from sid.clean.register import read_gross_sample
    from sid.clean.stage import clean_wave
    from sid.io.wave import ingest

    q = load_questionnaire(SPEC_PATH)
    paths = make_demo(tmp_path_factory.mktemp("demo_clean") / "wave", seed=11, scale=0.3)
    raw, meta = ingest([paths["sid2022_web.sav"], paths["sid2022_capi.sav"]])
    result = clean_wave(raw, meta, q, read_gross_sample(paths["gross_sample.csv"], q))
    defects = pd.read_csv(paths["defects.csv"], keep_default_na=False)
    return result, defects


def _pairs(df: pd.DataFrame, key: str, var: str) -> set[tuple[str, str]]:
    return set(zip(df[key], df[var], strict=True))


def test_cleaning_log_covers_exactly_the_documented_code_defects(cleaned):
    result, defects = cleaned
    log = result.log
    for rule, defect in [("invalid_code", "out_of_range"), ("routing", "routed_out"), ("duplicate", "duplicate")]:
        got = _pairs(log[log["rule"] == rule], "key", "variable")
        want = _pairs(defects[defects["defect"] == defect], "person_key", "variable")
        assert got == want and want, rule


def test_quality_flags_are_exactly_the_documented_ones(cleaned):
    result, defects = cleaned
    flags = result.flags
    keys = flags["person_key"].to_numpy()

    def doc(defect: str, variable: str | None = None) -> set[str]:
        d = defects[defects["defect"] == defect]
        if variable is not None:
            d = d[d["variable"] == variable]
        return set(d["person_key"])

    assert set(keys[flags["speeder"].to_numpy(dtype=bool)]) == doc("speeder")
    for grid in ("belong_grid", "trust_grid"):
        assert set(keys[flags[f"straightline_{grid}"].to_numpy(dtype=bool)]) == doc("straightline", grid)
    for var in ("q_birth_year", "q_sex"):
        assert set(keys[flags[f"mismatch_{var}"].to_numpy(dtype=bool)]) == doc("register_mismatch", var)
    # every interview not complete by AAPOR's thresholds is a documented break-off (late
    # break-offs, with 80 % or more of the applicable items answered, count as complete)
    not_complete = set(keys[flags["status"].to_numpy() != "complete"])
    assert not_complete and not_complete <= doc("breakoff")
    assert np.mean([k in not_complete for k in doc("breakoff")]) > 0.8
