"""Loadings per group side by side, and their flags, on data with a known factor structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.errors import EstimationError
from sid.scales.comparability import POOLED, flag_loadings, loadings_by_group

ITEMS = ["a", "b", "c", "d"]


def _group(rng, n, load, name):
    f = rng.standard_normal(n)
    x = f[:, None] * load + rng.standard_normal((n, len(load))) * np.sqrt(1 - np.asarray(load) ** 2)
    frame = pd.DataFrame(x, columns=ITEMS)
    frame["origin"] = name
    return frame


def test_loadings_by_group_recover_generating_loadings_and_flag_the_changed_item():
    rng = np.random.default_rng(21)
    same = [0.8, 0.7, 0.6, 0.6]
    df = pd.concat(
        [
            _group(rng, 6000, same, "BEL"),
            _group(rng, 6000, same, "MAR"),
            _group(rng, 1500, [0.8, 0.7, 0.6, -0.5], "TUR"),  # item d works the other way
            _group(rng, 1500, [0.8, 0.1, 0.6, 0.6], "POL"),  # item b barely measures it
        ],
        ignore_index=True,
    )
    wide = loadings_by_group(df, ITEMS, "origin")
    assert list(wide.columns) == [POOLED, "BEL", "MAR", "POL", "TUR"]
    np.testing.assert_allclose(wide["BEL"], same, atol=0.05)
    np.testing.assert_allclose(wide["TUR"], [0.8, 0.7, 0.6, -0.5], atol=0.06)
    flags = flag_loadings(wide, max_diff=0.2).set_index(["item", "group"])
    assert flags.loc[("d", "TUR"), "flag"]
    assert "sign differs" in flags.loc[("d", "TUR"), "reason"]
    assert flags.loc[("b", "POL"), "flag"]
    assert "more than 0.2" in flags.loc[("b", "POL"), "reason"]
    assert not flags.loc[pd.IndexSlice[:, ["BEL", "MAR"]], "flag"].any()


def test_loadings_by_group_names_a_group_that_cannot_be_fitted():
    rng = np.random.default_rng(2)
    df = pd.concat([_group(rng, 500, [0.7] * 4, "BEL"), _group(rng, 1, [0.7] * 4, "AFG")], ignore_index=True)
    with pytest.raises(EstimationError, match="origin = 'AFG'"):
        loadings_by_group(df, ITEMS, "origin")
