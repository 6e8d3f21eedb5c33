"""The integer-code key handling of sid.fieldwork against pandas' own set operations and joins.

build_cases, the key checks and outcome_counts work on codes from one factorisation
(sid.fieldwork.checks.factorize_keys, sid.fieldwork.rates._categorical_groups); these tests
compare them with the pandas operations they replace (Index.isin, a validated one-to-one
merge, groupby(dropna=False, sort=True, observed=True)) on random data.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from sid.fieldwork import build_cases
from sid.fieldwork.checks import FieldworkWarning, factorize_keys
from sid.fieldwork.rates import _categorical_groups, outcome_counts

MAPPING = {"C": "1.1", "P": "1.2", "R": "2.11", "N": "2.20", "U": "3.10", "E": "4.10"}


@pytest.mark.parametrize("dtype", ["str", object, "Int64"])
def test_factorize_keys_membership_matches_pandas_isin(dtype):
    rng = np.random.default_rng(7)
    pool = [str(i) for i in range(40)] if dtype != "Int64" else list(range(40))
    a = pd.Series(pd.array(list(rng.choice(pool, 60)) + [None], dtype=dtype))
    b = pd.Series(pd.array(list(rng.choice(pool, 25)), dtype=dtype))
    (ca, cb), n = factorize_keys(a, b)
    assert n == len(pd.unique(pd.concat([a.dropna(), b]).astype(object)))
    assert (ca[a.isna().to_numpy()] == -1).all()
    in_b = np.zeros(n + 1, dtype=bool)
    in_b[cb] = True
    expected = pd.Index(a.to_numpy(dtype=object)).isin(pd.Index(b.to_numpy(dtype=object)))
    expected &= a.notna().to_numpy()
    np.testing.assert_array_equal(np.append(in_b[:n], False)[ca], expected)


def test_factorize_keys_compares_mixed_types_as_python_objects():
    (ca, cb), _ = factorize_keys([1, "1", 2.0], [2, "x"])
    assert ca[0] != ca[1]  # 1 != "1"
    assert ca[2] == cb[0]  # 2.0 == 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_build_cases_equals_validated_pandas_merge(seed):
    rng = np.random.default_rng(seed)
    n = 200
    keys = np.array([f"k{i:04d}" for i in rng.permutation(10_000)[:n]], dtype=object)
    gross = pd.DataFrame({"person_key": pd.array(keys, dtype="str"),
                          "stratum": rng.choice(["BEL", "MAR", "TUR"], n)},
                         index=rng.permutation(n) + 100)
    order = rng.permutation(n)
    disp = pd.DataFrame({"person_key": pd.array(keys[order], dtype="str"),
                         "disposition": rng.choice(list(MAPPING), n),
                         "mode": pd.Categorical(rng.choice(["web", "capi", None], n))})
    survey = [k for k, d in zip(disp["person_key"], disp["disposition"], strict=True) if d in "CP"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FieldworkWarning)
        cases = build_cases(gross, disp, MAPPING, key="person_key", disposition="disposition", survey_keys=survey)
    merged = gross.merge(disp, on="person_key", how="left", validate="one_to_one", sort=False)
    pd.testing.assert_frame_equal(cases[list(merged.columns)], merged)


def test_outcome_counts_categorical_groups_match_pandas_groupby():
    rng = np.random.default_rng(3)
    for n in (0, 1, 50, 500):
        df = pd.DataFrame({
            "a": pd.Categorical(rng.choice(["x", "y", "z", None], n), categories=["z", "y", "x", "w"]),
            "b": pd.Categorical(rng.choice(["m", None, "n"], n)),
            "outcome": pd.Categorical(rng.choice(["I", "R", "NC", "NE"], n)),
        })
        for by in (["a"], ["b"], ["a", "b"], ["b", "a"]):
            gid, keys = _categorical_groups(df, by)
            grouped = df.groupby(by, dropna=False, sort=True, observed=True)
            np.testing.assert_array_equal(gid, grouped.ngroup().to_numpy())
            pd.testing.assert_frame_equal(keys, grouped.size().index.to_frame(index=False))
            counts = outcome_counts(df, by=by)
            np.testing.assert_array_equal(counts["n"].to_numpy(), grouped.size().to_numpy())


@pytest.mark.parametrize("dtype", ["str", object, "category"])
def test_text_categorical_matches_pd_categorical_of_stripped_text(dtype):
    from sid.fieldwork.table import NO_MODE, _text_categorical

    rng = np.random.default_rng(11)
    values = pd.Series(rng.choice(np.array(["web", " web", "capi ", "", " ", None, "Z"], dtype=object), 300),
                       dtype=dtype)
    text = values.astype(str).str.strip().to_numpy(dtype=object)
    blank = values.isna().to_numpy() | (text == "")
    expected = pd.Categorical(np.where(blank, NO_MODE, text))
    pd.testing.assert_extension_array_equal(_text_categorical(values, blank=NO_MODE), expected)
    present = values.dropna()
    pd.testing.assert_extension_array_equal(_text_categorical(present),
                                            pd.Categorical(present.astype(str).to_numpy()))
