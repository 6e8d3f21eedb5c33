"""Trimming against R's survey::trimWeights and hand-computed examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.errors import ConvergenceError, WeightingError
from sid.weighting.calibration import calibration_matrix
from sid.weighting.trimming import trim_and_recalibrate, trim_weights

MARGINS = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1072, "Yes": 5122}}


@pytest.fixture(scope="module")
def apiclus1(reference_dir) -> pd.DataFrame:
    return pd.read_csv(reference_dir / "apiclus1.csv")


def test_trim_raked_weights_20_40_matches_R_trimWeights(survey_ref):
    raked = np.asarray(survey_ref["apiclus1_rake_stype_schwide"]["weights"])
    ref = np.asarray(survey_ref["apiclus1_rake_then_trim_20_40"]["weights"])
    res = trim_weights(raked, lower=20, upper=40)
    np.testing.assert_allclose(res.weights, ref, rtol=1e-6)
    np.testing.assert_array_equal(res.trimmed, raked > 40)
    assert res.rounds == 1


def test_strict_trimming_hand_computed():
    # 10 -> 4, excess 6 shared equally by four: 1 + 1.5 = 2.5
    res = trim_weights(np.array([1.0, 1.0, 1.0, 1.0, 10.0]), upper=4, strict=True)
    np.testing.assert_allclose(res.weights, [2.5, 2.5, 2.5, 2.5, 4.0])
    # [1, 3.5, 10, 1], upper 4: round 1 gives [3, 5.5, 4, 3]; round 2 trims 5.5 (excess 1.5,
    # +0.5 to the three others, the one at the bound included, as R does) ...
    res = trim_weights(np.array([1.0, 3.5, 10.0, 1.0]), upper=4, strict=True)
    assert res.weights.max() <= 4.0 and res.rounds > 2
    assert res.weights.sum() == pytest.approx(15.5, rel=1e-12)
    np.testing.assert_array_equal(res.trimmed, [False, True, True, False])


def test_proportional_and_median_relative_trimming_hand_computed():
    # 10 -> 5; the excess 5 is shared in proportion to 1, 1, 2: factor 1 + 5/4 = 2.25
    res = trim_weights(np.array([1.0, 1.0, 2.0, 10.0]), upper=5, redistribute="proportional")
    np.testing.assert_allclose(res.weights, [2.25, 2.25, 4.5, 5.0])
    # median 3, upper 2 x median = 6: 20 -> 6, excess 14 shared equally by four (+3.5)
    res = trim_weights(np.array([1.0, 2.0, 3.0, 4.0, 20.0]), upper=2, relative_to="median")
    np.testing.assert_allclose(res.weights, [4.5, 5.5, 6.5, 7.5, 6.0])


def test_median_relative_trimming_within_groups_hand_computed():
    # A: median 2.5, upper 5: 20 -> 5, excess 15, +5 each; B: median 10, upper 20:
    # 100 -> 20, excess 80, +80/3 each; each group keeps its sum
    w = np.array([1.0, 2.0, 3.0, 20.0, 10.0, 10.0, 10.0, 100.0])
    res = trim_weights(w, upper=2, relative_to="median", groups=["A"] * 4 + ["B"] * 4)
    b = 10 + 80 / 3
    np.testing.assert_allclose(res.weights, [6, 7, 8, 5, b, b, b, 20])


def test_trim_replicate_columns_independently_hand_computed():
    w = np.array([[1.0, 1.0], [1.0, 2.0], [10.0, 1.0]])
    res = trim_weights(w, upper=4)
    np.testing.assert_allclose(res.weights, [[4.0, 1.0], [4.0, 2.0], [4.0, 1.0]])


def test_trimming_errors():
    with pytest.raises(WeightingError, match="lower 5 must be below upper 2"):
        trim_weights(np.ones(3), lower=5, upper=2)
    with pytest.raises(WeightingError, match="cannot hold"):
        trim_weights(np.array([2.0, 2.0, 3.9, 12.0]), upper=4, strict=True)
    with pytest.raises(WeightingError, match="every weight of a group lies outside"):
        trim_weights(np.array([10.0, 12.0]), upper=4)
    with pytest.raises(ConvergenceError, match="after 2 rounds"):
        trim_weights(np.array([1.0, 3.5, 10.0, 1.0]), upper=4, strict=True, max_rounds=2)


def test_trim_and_recalibrate_meets_margins_and_bounds(apiclus1, survey_ref):
    raked = np.asarray(survey_ref["apiclus1_rake_stype_schwide"]["weights"])
    X, T, names = calibration_matrix(apiclus1, MARGINS)
    res = trim_and_recalibrate(raked, X, T, lower=20, upper=55, method="raking", names=names)
    w = res.weights
    assert w.max() <= 55 * (1 + 1e-6) and w.min() >= 20
    for var, margin in MARGINS.items():
        sums = pd.Series(w).groupby(apiclus1[var].to_numpy()).sum()
        for cat, total in margin.items():
            assert sums[cat] == pytest.approx(total, rel=1e-9)
    assert res.trimmed.any() and res.rounds > 1


def test_trim_and_recalibrate_infeasible_bounds_raise(apiclus1, survey_ref):
    # sch.wide = No: 23 schools must carry 1072, i.e. 46.6 on average, above 45
    raked = np.asarray(survey_ref["apiclus1_rake_stype_schwide"]["weights"])
    X, T, names = calibration_matrix(apiclus1, MARGINS)
    assert (apiclus1["sch.wide"] == "No").sum() == 23
    with pytest.raises(WeightingError, match=r"trimming to \[20, 45\] .* cannot both hold"):
        trim_and_recalibrate(raked, X, T, lower=20, upper=45, names=names)


def test_trim_and_recalibrate_upper_only_infeasible_names_the_one_bound(apiclus1, survey_ref):
    """An upper bound alone, as arrays with no lower bound (-inf): the LP diagnosis names it
    "at most 45", not a range from -inf."""
    raked = np.asarray(survey_ref["apiclus1_rake_stype_schwide"]["weights"])
    X, T, names = calibration_matrix(apiclus1, MARGINS)
    lower, upper = np.full(raked.size, -np.inf), np.full(raked.size, 45.0)
    with pytest.raises(WeightingError, match=r"^trimming to at most 45 and calibrating .* cannot both hold"):
        trim_and_recalibrate(raked, X, T, lower=lower, upper=upper, names=names)
    res = trim_and_recalibrate(raked, X, T, lower=lower, upper=np.full(raked.size, 55.0), names=names)
    assert res.weights.max() <= 55 * (1 + 1e-6) and res.trimmed.any()


def test_trimming_described_in_words_names_only_the_given_sides():
    from sid.report.weighting import method_in_words

    def text(trim):
        return next(s for s in method_in_words({"trimming": trim}) if s.startswith("Trimmen"))

    upper = text({"upper": {"ratio_to_median": 5.0}, "within": "stratum", "max_rounds": 50})
    assert "boven 5 × de mediaan worden" in upper and "onder" not in upper and "–" not in upper
    lower = text({"lower": {"absolute": 20}, "max_rounds": 10})
    assert "gewichten onder 20 worden" in lower and "boven" not in lower
    both = text({"upper": {"ratio_to_median": 5.0}, "lower": {"ratio_to_median": 0.2}, "max_rounds": 50})
    assert "boven 5 × de mediaan en onder 0.2 × de mediaan" in both
