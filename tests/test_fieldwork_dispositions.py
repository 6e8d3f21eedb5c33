"""Agency codes -> AAPOR final disposition codes (AAPOR Standard Definitions 2023 code tables)."""

from __future__ import annotations

import pandas as pd
import pytest

from sid.errors import DataError, SpecError
from sid.fieldwork import aapor_class, map_dispositions, validate_mapping

# An agency's codes as a SID fieldwork agency might report them, mapped in the spec.
MAPPING = {
    11: "1.1",  # volledig interview
    12: "1.2",  # gedeeltelijk interview
    21: "2.11",  # weigering
    22: "2.12",  # afgebroken (web)
    31: "2.21",  # geen contact na 4 bezoeken
    41: "2.32",  # ziek / niet in staat
    42: "2.33",  # taalprobleem
    51: "3.19",  # niets ontvangen, adres onzeker
    52: "3.90",  # andere onbekende
    61: 4.1,  # verhuisd buiten Vlaanderen (YAML float)
}


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("1.1", "I"), ("1.12", "I"), ("1.2", "P"), ("2.1", "R"), ("2.111", "R"), ("2.12", "R"),
        ("2.2", "NC"), ("2.24", "NC"), ("2.3", "O"), ("2.33", "O"), ("3.1", "UH"), ("3.19", "UH"),
        ("3.2", "UO"), ("3.3", "UO"), ("3.90", "UO"), ("4", "NE"), ("4.10", "NE"), ("4.70", "NE"),
        (2.33, "O"), (3.9, "UO"), (4, "NE"),
    ],
)  # fmt: skip
def test_aapor_class_follows_aapor_code_chapters(code, cls):
    assert aapor_class(code) == cls


@pytest.mark.parametrize("code", ["1", "1.0", "2.0", "3", "3.0", "2"])
def test_aapor_class_rejects_codes_too_coarse_to_classify(code):
    with pytest.raises(SpecError, match="too coarse"):
        aapor_class(code)


@pytest.mark.parametrize("code", ["5.1", "1.3", "2.4", "2.9", "refusal", "", "2..1", True, None])
def test_aapor_class_rejects_codes_outside_the_scheme(code):
    with pytest.raises(SpecError):
        aapor_class(code)


def test_validate_mapping_names_spec_key_and_agency_code():
    with pytest.raises(SpecError, match=r"fieldwork\.dispositions\.77.*'2\.4'"):
        validate_mapping({11: "1.1", 77: "2.4"}, spec_key="fieldwork.dispositions")
    with pytest.raises(SpecError, match="twice"):
        validate_mapping({11: "1.1", "11": "1.1"})
    with pytest.raises(SpecError, match="non-empty"):
        validate_mapping({})
    assert validate_mapping(MAPPING)["61"] == "4.1"


def test_map_dispositions_classifies_each_case_and_matches_float_codes():
    # SPSS stores agency codes as floats; the spec's YAML keys are ints.
    codes = pd.Series([11.0, 22.0, 42.0, 51.0, 61.0, 11.0], index=[10, 11, 12, 13, 14, 15])
    out = map_dispositions(codes, MAPPING)
    assert out.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert out["aapor_code"].tolist() == ["1.1", "2.12", "2.33", "3.19", "4.1", "1.1"]
    assert out["outcome"].astype(str).tolist() == ["I", "R", "O", "UH", "NE", "I"]


def test_map_dispositions_labels_as_agency_codes():
    codes = pd.Series(["Complete ", "Refusal", "Complete"])
    out = map_dispositions(codes, {"Complete": "1.1", "Refusal": "2.11"})
    assert out["outcome"].astype(str).tolist() == ["I", "R", "I"]


def test_map_dispositions_unmapped_code_names_code_count_and_spec_key():
    codes = pd.Series([11, 99, 99, 11, 98])
    with pytest.raises(DataError) as err:
        map_dispositions(codes, MAPPING, spec_key="fieldwork.dispositions", source="dispositions.csv")
    msg = str(err.value)
    assert "99 (2 cases)" in msg and "98 (1 case)" in msg
    assert "fieldwork.dispositions" in msg and "dispositions.csv" in msg and "\n" not in msg


def test_map_dispositions_missing_code_is_a_data_error():
    with pytest.raises(DataError, match="1 case\\(s\\) have no disposition"):
        map_dispositions(pd.Series([11, None]), MAPPING)
