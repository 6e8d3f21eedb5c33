"""Collapsing of sparse calibration cells and propensity classes on hand-made examples:
merged blocks, keys and population totals worked out by hand; union keys of the calibration
matrix against indicator sums; raking to collapsed margins meets the hand-summed totals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.errors import WeightingError
from sid.weighting.collapse import collapse_group, merge_blocks, merge_propensity_classes
from sid.weighting.ipf import rake
from sid.weighting.margins import calibration_matrix


def test_merge_blocks_by_hand():
    # 5 < 20: merged with the next (25) -> 30; then the last (3) with the previous
    assert merge_blocks([30, 5, 25, 3], 20) == [[0], [1, 2, 3]]
    assert merge_blocks([2, 3, 30], 20) == [[0, 1, 2]]
    assert merge_blocks([25, 30], 20) == [[0], [1]]
    assert merge_blocks([30, 0, 30], 20) == [[0], [1, 2]]
    with pytest.raises(WeightingError, match="19 respondents in all, fewer than min_respondents 20"):
        merge_blocks([9, 10], 20)


def _respondents(counts: dict[tuple[int, int], int]) -> pd.DataFrame:
    rows = [(s, a) for (s, a), n in counts.items() for _ in range(n)]
    return pd.DataFrame(rows, columns=["sex", "age_band"])


def test_collapse_interaction_along_last_variable_within_first_by_hand():
    # sex 1: age bands 1..4 with 30, 25, 4, 6 respondents: band 3 merges with the next (4) -> 10,
    # still < 20; that block is the last -> merged with the previous (band 2): "2+3+4" (35).
    # sex 2: 40, 2, 30, 1 -> "2+3" (32), then band 4 (1) is the last -> merged with "2+3":
    # "2+3+4" (33).
    df = _respondents({(1, 1): 30, (1, 2): 25, (1, 3): 4, (1, 4): 6,
                       (2, 1): 40, (2, 2): 2, (2, 3): 30, (2, 4): 1})
    pop = {"1:1": 1000.0, "1:2": 800.0, "1:3": 300.0, "1:4": 200.0,
           "2:1": 1100.0, "2:2": 90.0, "2:3": 700.0, "2:4": 50.0}
    age = {"1": 2100.0, "2": 890.0, "3": 1000.0, "4": 250.0}  # age_band margin alone
    out, rec = collapse_group(df, {"sex:age_band": pop, "age_band": age}, 20, "AFG")
    assert out["sex:age_band"] == {"1:1": 1000.0, "1:2+3+4": 1300.0, "2:1": 1100.0, "2:2+3+4": 840.0}
    # age_band alone: 70, 27, 34, 7 respondents -> band 4 (7), the last, merged with band 3 (41)
    assert out["age_band"] == {"1": 2100.0, "2": 890.0, "3+4": 1250.0}
    assert [(r.margin, r.within, r.categories, r.respondents, r.population) for r in rec] == [
        ("sex:age_band", "1", ("2", "3", "4"), 35, 1300.0),
        ("sex:age_band", "2", ("2", "3", "4"), 33, 840.0),
        ("age_band", "", ("3", "4"), 41, 1250.0)]


def test_collapse_uses_numeric_code_order_and_keeps_empty_population_cells():
    df = pd.DataFrame({"region": [10] * 25 + [9] * 3 + [2] * 30})
    out, rec = collapse_group(df, {"region": {"2": 500.0, "9": 40.0, "10": 600.0, "11": 0.0}}, 20, "BEL")
    # numeric order 2, 9, 10: 9 (3) merges with the next code 10; the empty cell 11 stays
    assert out["region"] == {"2": 500.0, "9+10": 640.0, "11": 0.0}
    assert rec[0].key == "9+10" and rec[0].respondents == 28


def test_collapse_that_cannot_reach_k_names_group_and_margin():
    df = _respondents({(1, 1): 5, (1, 2): 6, (2, 1): 30, (2, 2): 30})
    pop = {"1:1": 10.0, "1:2": 10.0, "2:1": 10.0, "2:2": 10.0}
    with pytest.raises(WeightingError, match="group 'POL', margin 'sex:age_band' within sex 1: 11 respondents"):
        collapse_group(df, {"sex:age_band": pop}, 20, "POL")


def test_union_key_column_is_the_sum_of_the_merged_indicators():
    df = _respondents({(1, 1): 3, (1, 2): 2, (1, 3): 4, (2, 1): 5, (2, 3): 1})
    X, T, names = calibration_matrix(df, {"sex:age_band": {"1:1": 10, "1:2+3": 20, "2:1+2+3": 30}})
    assert names == ["sex:age_band=1:1", "sex:age_band=1:2+3", "sex:age_band=2:1+2+3"]
    s, a = df.sex.to_numpy(), df.age_band.to_numpy()
    want = np.column_stack([(s == 1) & (a == 1), (s == 1) & (a > 1), s == 2]).astype(float)
    np.testing.assert_array_equal(X.toarray(), want)
    np.testing.assert_array_equal(T, [10, 20, 30])


def test_raking_to_collapsed_margins_meets_the_hand_summed_totals():
    rng = np.random.default_rng(1)
    df = _respondents({(1, 1): 30, (1, 2): 25, (1, 3): 4, (2, 1): 40, (2, 2): 22, (2, 3): 3})
    df["region"] = rng.integers(1, 3, len(df))
    pop = {"1:1": 1000.0, "1:2": 800.0, "1:3": 300.0, "2:1": 1100.0, "2:2": 700.0, "2:3": 100.0}
    reg = {"1": 2000.0, "2": 2000.0}
    out, _ = collapse_group(df, {"sex:age_band": pop, "region": reg}, 20, "G")
    X, T, names = calibration_matrix(df, out)
    w = rake(np.ones(len(df)), [X[:, :4].indices, X[:, 4:].tocsr().indices - 0], [T[:4], T[4:]], tol=1e-10,
             max_iter=100, names=["sex:age_band", "region"]).weights
    got = df.assign(w=w)
    assert got[(got.sex == 1) & (got.age_band >= 2)].w.sum() == pytest.approx(800 + 300)
    assert got[(got.sex == 2) & (got.age_band >= 2)].w.sum() == pytest.approx(700 + 100)
    assert got[got.region == 1].w.sum() == pytest.approx(2000)


def test_propensity_classes_merged_with_adjacent_by_hand():
    cls = np.array(["A:1"] * 10 + ["A:2"] * 30 + ["A:3"] * 40 + ["B:1"] * 30 + ["B:2"] * 30)
    # respondents: A:1 2, A:2 25, A:3 30; B:1 21, B:2 20
    resp = np.concatenate([np.arange(10) < 2, np.arange(30) < 25, np.arange(40) < 30,
                           np.arange(30) < 21, np.arange(30) < 20])
    new, rec = merge_propensity_classes(cls, resp, 20)
    assert set(new[:40]) == {"A:1+2"} and set(new[40:80]) == {"A:3"} and set(new[80:]) <= {"B:1", "B:2"}
    assert rec == [{"group": "A", "classes": ["1", "2"], "key": "A:1+2", "respondents": 27}]
