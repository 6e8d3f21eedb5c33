"""Text columns in expressions: blanks and missing become None (checked against values
written out by hand and against Python's own str.strip), once per column per FrameEnv."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.spec.expr import parse
from sid.spec.expr_nodes import text_array, to_array
from sid.spec.frame import FrameEnv, derive
from sid.spec.questionnaire_parse import parse_questionnaire

# every character Python's str.strip() removes, below U+3001 (tab, NBSP, ideographic space...)
WHITESPACE = [chr(i) for i in range(0x3001) if chr(i).isspace()]


@pytest.mark.parametrize("kind", ["object", "str", "string", "U"])
def test_text_column_blanks_and_missing_become_none(kind):
    values = ["BEL", "", "  ", None, "MAR", "\t\n", " BEL ", "BEL"]
    expected = ["BEL", None, None, None, "MAR", None, " BEL ", "BEL"]
    if kind == "U":
        col = np.array([v if v is not None else "" for v in values])
    elif kind == "object":
        col = np.array(values, dtype=object)
    else:
        col = pd.Series(values, dtype=kind)
    out = to_array(col)
    assert out.dtype == object
    assert out.tolist() == expected
    assert all(x is None or type(x) is str for x in out)


def test_text_blanks_are_what_python_str_strip_empties():
    # each whitespace character alone, doubled, and around a letter
    vals = WHITESPACE + [c + c for c in WHITESPACE] + [c + "x" + c for c in WHITESPACE]
    out = text_array(np.array(vals, dtype=object))
    assert [x is None for x in out] == [v.strip() == "" for v in vals]
    assert [x for x in out if x is not None] == [v for v in vals if v.strip()]


def test_text_missing_forms_nan_none_and_pd_na_all_become_none():
    out = to_array(np.array(["a", np.nan, None, pd.NA, "b"], dtype=object))
    assert out.tolist() == ["a", None, None, None, "b"]
    assert to_array(pd.Series([None, None], dtype="str")).tolist() == [None, None]
    assert to_array(pd.Series([], dtype="str")).tolist() == []


def test_text_column_of_many_distinct_values_keeps_each_row():
    rng = np.random.default_rng(7)
    vals = np.array([f"k{i:06d}" for i in rng.permutation(50_000)], dtype=object)
    vals[::97] = " "
    out = to_array(pd.Series(vals, dtype="str"))
    expected = np.where(vals == " ", None, vals)
    assert out.tolist() == expected.tolist()


SPEC = {
    "wave": "t", "title": "t", "key": "id",
    "variables": [
        {"name": "id", "label": "id", "type": "text"},
        {"name": "land", "label": "Land", "type": "text"},
        {"name": "x", "label": "x", "type": "numeric", "missing": []},
    ],
    "derived": [
        {"name": "be", "label": "Belg", "type": "text",
         "expr": "if_else(land == 'BEL', 'ja', if_else(land == 'MAR', ' ', 'nee'))"},
        {"name": "be_flag", "label": "Belg (0/1)", "type": "numeric",
         "expr": "if_else(is_missing(be), -1, if_else(be == 'ja', 1, 0))"},
    ],
}


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"id": pd.Series(["a", "b", "c", "d"], dtype="str"),
                         "land": pd.Series(["BEL", " ", "MAR", "TUR"], dtype="str"),
                         "x": [1.0, 2.0, 3.0, 4.0]})


def test_frame_env_converts_a_text_column_once():
    q = parse_questionnaire(SPEC, "t.yaml")
    env = FrameEnv(_frame(), q)
    first = env["land"]
    assert first.tolist() == ["BEL", None, "MAR", "TUR"]
    assert env["land"] is first  # cached: the same array, not a second conversion
    # an evaluation reads the environment's array as is (it is not converted again)
    assert parse("land == 'BEL'").evaluate(env, 4).tolist()[0] == 1.0


def test_frame_env_extra_column_is_converted_and_reconverted_when_replaced():
    q = parse_questionnaire(SPEC, "t.yaml")
    env = FrameEnv(_frame(), q)
    env.extra["z"] = np.array(["p", " ", None, "q"], dtype=object)
    got = env["z"]
    assert got.tolist() == ["p", None, None, "q"]
    assert env["z"] is got
    env.extra["z"] = np.array(["r", "r", "", "r"], dtype=object)
    assert env["z"].tolist() == ["r", "r", None, "r"]


def test_derive_sees_a_blank_derived_text_as_missing():
    # row 2 (MAR) derives be = " " (blank): missing for the next derived variable;
    # row 1 has a blank land: land == 'BEL' is unknown, so be and be_flag are missing/-1
    q = parse_questionnaire(SPEC, "t.yaml")
    out = derive(_frame(), q)
    assert out["be_flag"].tolist() == [1.0, -1.0, -1.0, 0.0]
