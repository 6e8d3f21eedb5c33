"""Input checks of the fieldwork stage: keys of gross sample, dispositions and survey files."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from test_fieldwork_dispositions import MAPPING

from sid.errors import DataError
from sid.fieldwork import (
    FieldworkWarning,
    build_cases,
    check_completes_match,
    check_dispositions_cover_sample,
    check_respondents_in_sample,
    check_unique_keys,
)


def _gross(keys):
    return pd.DataFrame({"person_key": keys, "origin": ["TUR"] * len(keys)})


def _disp(keys, codes, modes=None):
    return pd.DataFrame({"person_key": keys, "disposition": codes, "mode": modes or ["web"] * len(keys)})


def test_duplicate_register_keys_named_with_counts():
    gross = _gross(["a", "b", "b", "c", "c", "c"])
    with pytest.raises(DataError) as err:
        check_unique_keys(gross, "person_key", "gross sample")
    msg = str(err.value)
    assert msg.startswith("gross sample: 2 person_key value(s) occur more than once (5 rows; first: b, c)")
    with pytest.raises(DataError, match="1 row\\(s\\) have no person_key"):
        check_unique_keys(_gross(["a", None]), "person_key")
    with pytest.raises(DataError, match="no key column"):
        check_unique_keys(_gross(["a"]), key="rrn")


def test_respondents_missing_from_gross_sample_are_named():
    with pytest.raises(DataError) as err:
        check_respondents_in_sample([f"x{i}" for i in range(7)] + ["a"], ["a", "b"])
    msg = str(err.value)
    assert "7 respondent key(s) have no record in the gross sample" in msg
    assert "first: x0, x1, x2, x3, x4, ..." in msg and "\n" not in msg
    check_respondents_in_sample(["a"], ["a", "b"])  # no error


def test_dispositions_must_cover_gross_sample_exactly():
    gross = _gross(["a", "b", "c"])
    with pytest.raises(DataError, match="1 key\\(s\\) are not in the gross sample \\(first: z\\)"):
        check_dispositions_cover_sample(_disp(["a", "b", "c", "z"], [11] * 4), gross, "person_key")
    with pytest.raises(DataError, match="1 case\\(s\\) of the gross sample have no final disposition \\(first: c\\)"):
        check_dispositions_cover_sample(_disp(["a", "b"], [11] * 2), gross, "person_key")
    with pytest.raises(DataError, match="^dispositions: 1 person_key value"):
        check_dispositions_cover_sample(_disp(["a", "b", "c", "c"], [11] * 4), gross, "person_key")


def test_completes_absent_from_survey_and_survey_keys_without_interview_warn():
    gross = _gross(["a", "b", "c", "d", "e"])
    # a complete, b partial, c break-off, d refusal, e complete
    disp = _disp(["a", "b", "c", "d", "e"], [11, 12, 22, 21, 11])
    survey = ["a", "b", "c", "d"]  # e (complete) not delivered; d (refusal) has data
    with pytest.warns(FieldworkWarning) as rec:
        cases = build_cases(gross, disp, MAPPING, key="person_key", disposition="disposition", survey_keys=survey)
    texts = [str(r.message) for r in rec]
    assert len(texts) == 2
    assert texts[0].startswith("dispositions: 1 case(s) coded complete (I) are absent from the survey files (first: e)")
    assert texts[1].startswith("survey data: 1 respondent(s) have a disposition that is no interview or break-off (first: d; codes 2.11)")
    with pytest.raises(DataError, match="coded complete"):
        check_completes_match(cases, survey, "person_key", strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_completes_match(cases, ["a", "b", "c", "e"], "person_key") == []


def test_build_cases_keeps_gross_order_and_rejects_stray_respondents():
    gross = _gross(["a", "b", "c"])
    disp = _disp(["c", "a", "b"], [21, 11, 61], ["capi", "web", None])
    cases = build_cases(gross, disp, MAPPING, key="person_key", disposition="disposition")
    assert cases["person_key"].tolist() == ["a", "b", "c"]
    assert cases["outcome"].astype(str).tolist() == ["I", "NE", "R"]
    assert cases["aapor_code"].tolist() == ["1.1", "4.1", "2.11"]
    with pytest.raises(DataError, match="have no record in the gross sample"):
        build_cases(gross, disp, MAPPING, key="person_key", disposition="disposition", survey_keys=["a", "q"])
    with pytest.raises(DataError, match="also occur in the gross sample"):
        build_cases(gross, disp.assign(origin="MAR"), MAPPING, key="person_key", disposition="disposition")
