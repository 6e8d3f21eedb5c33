"""sid.io.keys.isin against pandas' own isin (the reference), on text keys with missing
values, numbers, mixed inputs and empty pools."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.io.keys import isin


@pytest.mark.parametrize("values, pool", [
    (pd.Series(["a", "b", None, "d", "é"], dtype="str"), pd.Series(["b", "é", "x"], dtype="str")),
    (pd.Series(["a", "b", None], dtype="str"), pd.Series(["a", None], dtype="str")),
    (pd.Series(["a", "b", "c"], dtype=object), ["c", "a"]),
    (pd.Index(["k1", "k2", "k3"]), pd.Index(["k3"])),
    (pd.Series(["a", "b"], dtype="str"), pd.Series([], dtype="str")),
    (pd.Series([1.0, 2.0, np.nan, 4.0]), [2.0, np.nan]),
    (pd.Series([1, 2, 3]), pd.Series(["1", "2"])),  # numbers against text: pandas says no match
    (pd.Series(["1", "x"], dtype=object), [1, "x"]),
])
def test_isin_gives_pandas_answer(values, pool):
    want = np.asarray(values.isin(pool), dtype=bool)
    got = isin(values, pool)
    assert got.dtype == bool and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_isin_of_many_text_keys_equals_pandas():
    rng = np.random.default_rng(3)
    values = pd.Series([f"K{i:07d}" for i in rng.integers(0, 20_000, 10_000)], dtype="str")
    pool = pd.Series([f"K{i:07d}" for i in range(0, 20_000, 3)], dtype="str")
    np.testing.assert_array_equal(isin(values, pool), values.isin(pool).to_numpy())
