"""Index scoring and rescaling: R's psych scoreItems, hand-computed cases, and definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.errors import DataError, EstimationError, SpecError
from sid.scales.scoring import REASON_TOO_FEW, reflect, rescale, score_index, score_range

NAN = np.nan


def test_mean_scores_match_R_psych_scoreItems_impute_none_bfi(reference_dir, reliability_ref):
    ref = reliability_ref["bfi_scale_scores_mean_of_available_items"]
    bfi = pd.read_csv(reference_dir / "bfi.csv")
    for name, keys in ref["keys"].items():
        items = [k.lstrip("-") for k in keys]
        reverse = [k[1:] for k in keys if k.startswith("-")]
        score, reason = score_index(
            bfi[items], reverse=reverse, item_ranges=(ref["item_min"], ref["item_max"]), min_valid=1, rule="mean"
        )
        assert score.mean() == pytest.approx(ref["mean_score"][name], rel=1e-12), name
        assert reason.isna().sum() == score.notna().sum()
        if name == "agree":
            np.testing.assert_allclose(score.iloc[:5].to_numpy(), ref["first5_agree"], rtol=1e-12)


def test_reflect_within_each_items_own_range_hand_computed():
    assert reflect(1, 1, 5) == 5
    assert reflect(0, 0, 10) == 10
    items = pd.DataFrame({"a": [1.0, 2.0], "b": [0.0, 10.0]})
    score, _ = score_index(
        items, reverse=["a", "b"], item_ranges={"a": (1, 5), "b": (0, 10)}, min_valid=2, rule="mean"
    )
    # a' = 6 - a, b' = 10 - b: (5 + 10)/2 and (4 + 0)/2
    np.testing.assert_allclose(score, [7.5, 2.0])


def test_k_of_n_rule_mean_sum_count_hand_computed():
    items = pd.DataFrame(
        {"q1": [1, 2, NAN, NAN], "q2": [3, NAN, NAN, 1], "q3": [2, 2, 4, NAN]}, index=[10, 11, 12, 13]
    )
    mean, why = score_index(items, min_valid=2, rule="mean")
    np.testing.assert_allclose(mean, [2.0, 2.0, NAN, NAN])
    assert list(why.isna()) == [True, True, False, False]
    assert (why.dropna() == REASON_TOO_FEW).all()
    assert list(mean.index) == [10, 11, 12, 13]
    total, _ = score_index(items, min_valid=2, rule="sum")  # prorated: mean x 3 items
    np.testing.assert_allclose(total, [6.0, 6.0, NAN, NAN])
    full, _ = score_index(items, min_valid=3, rule="sum")
    np.testing.assert_allclose(full, [6.0, NAN, NAN, NAN])
    count, why = score_index(items, min_valid=1, rule="count", count_values=[1, 2])
    np.testing.assert_allclose(count, [2.0, 2.0, 0.0, 1.0])
    assert why.isna().all()


def test_missing_never_enters_a_score_and_out_of_range_codes_are_refused():
    items = pd.DataFrame({"q1": [1.0, -1.0], "q2": [3.0, 2.0]})
    with pytest.raises(DataError, match=r"item q1, row 1: value -1 outside its range"):
        score_index(items, item_ranges=(1, 5), min_valid=1)
    with pytest.raises(SpecError, match="reversed item needs"):
        score_index(items, reverse=["q1"], min_valid=1)
    with pytest.raises(SpecError, match="min_valid"):
        score_index(items, min_valid=3)
    with pytest.raises(SpecError, match="count_values"):
        score_index(items, min_valid=1, rule="count")
    with pytest.raises(SpecError, match="scoring"):
        score_index(items, min_valid=1, rule="median")


def test_factor_scores_regression_have_variance_l_Rinv_l_and_track_the_mean():
    # Thurstone's regression scores z R^-1 l have variance l' R^-1 l (the squared
    # multiple correlation of the factor on the items): a property, not sid's output.
    rng = np.random.default_rng(3)
    n, load = 20_000, np.array([0.8, 0.7, 0.6, 0.5])
    f = rng.standard_normal(n)
    x = f[:, None] * load + rng.standard_normal((n, 4)) * np.sqrt(1 - load**2)
    items = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    score, why = score_index(items, min_valid=4, rule="factor")
    r = np.corrcoef(x, rowvar=False)
    from sid.scales.factor import fit_one_factor

    lam = fit_one_factor(r).loadings
    np.testing.assert_allclose(lam, load, atol=0.03)
    assert score.var() == pytest.approx(lam @ np.linalg.solve(r, lam), rel=1e-6)
    assert np.corrcoef(score, f)[0, 1] > 0.85
    # a respondent missing an item is scored from the others (k-of-n allows it)
    items.iloc[0, 0] = NAN
    score2, why2 = score_index(items, min_valid=3, rule="factor")
    assert np.isfinite(score2.iloc[0]) and why2.isna().all()


def test_pomp_and_z_rescaling_hand_computed():
    s = pd.Series([1.0, 3.0, 5.0, NAN])
    np.testing.assert_allclose(rescale(s, "pomp", score_range=(1, 5)), [0, 50, 100, NAN])
    assert score_range("mean", {"a": (1, 5), "b": (0, 4)}, ["a", "b"]) == (0.5, 4.5)
    assert score_range("sum", {"a": (1, 5), "b": (0, 4)}, ["a", "b"]) == (1, 9)
    assert score_range("count", {}, ["a", "b", "c"]) == (0, 3)
    # z against a weighted reference group: reference {1 (w 1), 3 (w 3)}:
    # mean 2.5, variance (1*2.25 + 3*0.25)/4 * 2/1 = 1.5
    score = np.array([1.0, 3.0, 5.0, NAN])
    ref = np.array([True, True, False, True])
    w = np.array([1.0, 3.0, 2.0, 1.0])
    z = rescale(score, "z", reference_mask=ref, weight=w)
    np.testing.assert_allclose(z, (score - 2.5) / np.sqrt(1.5))
    # unweighted: ordinary mean and n-1 standard deviation of the reference group
    z0 = rescale(score, "z", reference_mask=ref)
    np.testing.assert_allclose(z0, (score - 2.0) / np.std([1.0, 3.0], ddof=1))


def test_rescale_refuses_unstated_reference_or_range():
    with pytest.raises(SpecError, match="reference group"):
        rescale(np.array([1.0, 2.0]), "z")
    with pytest.raises(SpecError, match="score_range"):
        rescale(np.array([1.0, 2.0]), "pomp")
    with pytest.raises(EstimationError, match="reference group"):
        rescale(np.array([1.0, 2.0]), "z", reference_mask=np.array([True, False]))
    with pytest.raises(SpecError, match="no fixed score range"):
        score_range("factor", {}, ["a"])
