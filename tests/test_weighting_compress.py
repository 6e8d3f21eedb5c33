"""Sparse helpers of calibration: distinct rows, independent columns, margin codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from sid.errors import WeightingError
from sid.weighting.compress import unique_rows
from sid.weighting.feasibility import independent_columns
from sid.weighting.margins import calibration_matrix, categorical_codes


def test_unique_rows_match_a_brute_force_set_of_rows():
    rng = np.random.default_rng(4)
    for _ in range(50):
        n, p = int(rng.integers(1, 80)), int(rng.integers(1, 9))
        dense = rng.integers(-1, 2, (n, p)) * rng.choice([1.0, 0.5, -0.0, 1e-300], (n, p))
        Xu, inverse = unique_rows(sp.csr_matrix(dense))
        distinct = {tuple(r) for r in dense + 0.0}
        assert Xu.shape == (len(distinct), p)
        np.testing.assert_array_equal(Xu.toarray()[inverse], dense + 0.0)


def test_unique_rows_of_many_margins_recode_the_key_instead_of_overflowing():
    rng = np.random.default_rng(1)
    n, m, k = 5000, 12, 40  # 41^12 > 2^62: the key must be re-coded on the way
    cols = rng.integers(0, k, (n, m)) + np.arange(m) * k
    cols[1::2] = cols[::2][: n // 2]  # every odd row repeats the even row before it
    X = sp.csr_matrix((np.ones(n * m), cols.ravel(), np.arange(0, n * m + 1, m)), shape=(n, m * k))
    Xu, inverse = unique_rows(X)
    assert Xu.shape[0] == len({tuple(r) for r in cols})
    np.testing.assert_array_equal(Xu[inverse].toarray(), X.toarray())


def test_independent_columns_set_aside_the_later_duplicate_in_margin_order():
    # two full margins (sex, age) each sum to N: one of the 5 columns is redundant, and it
    # is the last one (age=3 = sex=1 + sex=2 - age=1 - age=2)
    df = pd.DataFrame({"sex": [1, 1, 2, 2, 1, 2], "age": [1, 2, 3, 1, 2, 3]})
    X, T, names = calibration_matrix(df, {"sex": {1: 30, 2: 30}, "age": {1: 20, 2: 20, 3: 20}})
    Xu, inverse = unique_rows(X)
    counts = np.bincount(inverse).astype(float)
    keep = independent_columns(Xu, counts, T, names, 1e-10)
    np.testing.assert_array_equal(keep, [0, 1, 2, 3])
    # urban=1 covers the rows of age=1 (urban=0 those of age 2 and 3): with agreeing
    # totals urban=0 and urban=1 are set aside, with contradicting ones the first
    # dependency (urban=0 = age=2 + age=3) is named
    df["urban"] = (df["age"] == 1).astype(int)
    m = {"age": {1: 20, 2: 20, 3: 20}, "urban": {0: 40, 1: 20}}
    X, T, names = calibration_matrix(df, m)
    Xu, inverse = unique_rows(X)
    keep = independent_columns(Xu, np.bincount(inverse).astype(float), T, names, 1e-10)
    np.testing.assert_array_equal(keep, [0, 1, 2])
    m["urban"] = {0: 41, 1: 19}
    X, T, names = calibration_matrix(df, m)
    Xu, inverse = unique_rows(X)
    with pytest.raises(WeightingError, match="aliased margins: categories 'age=2', 'age=3', 'urban=0'"):
        independent_columns(Xu, np.bincount(inverse).astype(float), T, names, 1e-10)


def test_categorical_codes_equal_the_codes_of_each_margin_built_alone():
    df = pd.DataFrame({"g": ["b", "a", "c", "a", "b"], "s": [2, 1, 1, 2, 2]})
    margins = {"g:s": {"a:1": 1, "a:2": 1, "b:2": 2, "c:1": 1}, "s": {1: 2, 2: 3}, "g": {"a": 2, "b": 2, "c": 1}}
    X, _, _ = calibration_matrix(df, margins)
    got = categorical_codes(X, len(margins))
    for (k, v), codes in zip(margins.items(), got, strict=True):
        np.testing.assert_array_equal(codes, calibration_matrix(df, {k: v})[0].indices)
    X, _, _ = calibration_matrix(df.assign(x=[1.0, 0.0, 2.0, 1.0, 1.0]), {"g": margins["g"], "x": 5.0})
    with pytest.raises(WeightingError, match="categorical margins only"):
        categorical_codes(X, 2)
