"""Design weights, eligibility and non-response adjustment, diagnostics: hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.errors import WeightingError
from sid.weighting.design_weights import design_weights
from sid.weighting.diagnostics import margin_table, weight_summary
from sid.weighting.eligibility import adjust_eligibility
from sid.weighting.margins import calibration_matrix
from sid.weighting.nonresponse import propensity_adjustment, weighting_class_adjustment


def test_design_weights_are_N_over_n_per_stratum():
    res = design_weights(np.array(["A", "B", "A", "A", "B", "A"]), {"A": 1000, "B": 300})
    np.testing.assert_allclose(res.weights, [250, 150, 250, 250, 150, 250])
    np.testing.assert_allclose(res.population, [1000, 300, 1000, 1000, 300, 1000])
    np.testing.assert_allclose(res.sample_size, [4, 2, 4, 4, 2, 4])
    given = design_weights(np.array(["A", "B"]), {"A": 1000, "B": 300}, {"A": 10, "B": 3})
    np.testing.assert_allclose(given.weights, [100, 100])


@pytest.mark.parametrize(
    ("strata", "population", "message"),
    [
        (["A", "C"], {"A": 10}, "strata C have sampled units but no population size"),
        (["A"], {"A": 10, "B": 5}, "strata B have a population size but no sampled units"),
        (["A", "A", "A"], {"A": 2}, "need 0 < n_h <= N_h"),
        (["A", None], {"A": 10}, "design weights: stratum: 1 units have no value"),
    ],
)
def test_design_weight_errors(strata, population, message):
    with pytest.raises(WeightingError, match=message):
        design_weights(np.array(strata, dtype=object), population)


def test_eligibility_passes_unknowns_weight_to_eligible_in_known_share():
    w = np.array([10.0, 10.0, 10.0, 10.0, 5.0, 5.0])
    status = ["eligible", "eligible", "not_eligible", "unknown", "eligible", "unknown"]
    res = adjust_eligibility(w, status, [1, 1, 1, 1, 2, 2])
    # class 1: W_E = 20, W_NE = 10, W_U = 10 -> factor 1 + 10/30; class 2: 1 + 5/5
    np.testing.assert_allclose(res.weights, [40 / 3, 40 / 3, 0, 0, 10, 0])
    np.testing.assert_allclose(res.eligible_share.to_numpy(), [2 / 3, 1.0])
    # eligible total = W_E + e * W_U per class
    assert res.weights[:4].sum() == pytest.approx(20 + 2 / 3 * 10)


def test_eligibility_errors():
    with pytest.raises(WeightingError, match="status 'maybe' at row 1"):
        adjust_eligibility(np.ones(2), ["eligible", "maybe"], [1, 1])
    with pytest.raises(WeightingError, match="class 2 no unit has a known eligibility"):
        adjust_eligibility(np.ones(3), ["eligible", "unknown", "unknown"], [1, 2, 2])


def test_weighting_class_adjustment_is_inverse_weighted_response_rate():
    res = weighting_class_adjustment(
        np.array([2.0, 2.0, 4.0, 1.0, 1.0]), np.array([1, 0, 1, 1, 1]), ["a", "a", "a", "b", "b"]
    )
    # class a: 8 / 6 for respondents; class b: everyone responded
    np.testing.assert_allclose(res.weights, [8 / 3, 0, 16 / 3, 1, 1])
    assert res.weights.sum() == pytest.approx(10)
    with pytest.raises(WeightingError, match="class 'b' has 2 eligible units but no respondent"):
        weighting_class_adjustment(np.ones(4), np.array([1, 1, 0, 0]), ["a", "a", "b", "b"])


def _propensity_example():
    # a saturated model (one categorical frame variable): the fitted propensity in a
    # category is its weighted response rate. G1: a 3/4, b (weights 2) 4/8; G2: a 1/2, b 3/4.
    group = ["G1"] * 8 + ["G2"] * 6
    x = ["a"] * 4 + ["b"] * 4 + ["a"] * 2 + ["b"] * 4
    w = np.array([1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1], dtype=float)
    resp = np.array([1, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1, 0])
    return w, resp, pd.DataFrame({"x": x}), np.array(group)


def test_propensity_classes_in_saturated_model_invert_category_response_rates():
    w, resp, cov, group = _propensity_example()
    res = propensity_adjustment(w, resp, cov, group, n_classes=2)
    expected_p = [0.75] * 4 + [0.5] * 4 + [0.5] * 2 + [0.75] * 4
    np.testing.assert_allclose(res.propensity, expected_p, rtol=1e-6)
    assert list(res.cls) == ["G1:2"] * 4 + ["G1:1"] * 4 + ["G2:1"] * 2 + ["G2:2"] * 4
    expected_factor = np.where(resp == 1, 1 / np.array(expected_p), 0.0)
    np.testing.assert_allclose(res.factor, expected_factor, rtol=1e-9)
    # each group keeps its eligible weight
    assert res.weights[:8].sum() == pytest.approx(12) and res.weights[8:].sum() == pytest.approx(6)


def test_propensity_model_errors():
    w, resp, cov, group = _propensity_example()
    with pytest.raises(WeightingError, match="group 'G1': all units responded"):
        propensity_adjustment(w, np.where(group == "G1", 1, resp), cov, group)
    bad = cov.copy()
    bad.loc[3, "x"] = None
    with pytest.raises(WeightingError, match="frame variable 'x' is missing for 1 units"):
        propensity_adjustment(w, resp, bad, group)


def test_weight_summary_hand_computed():
    w = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 10.0])
    out = weight_summary(w, ["A"] * 4 + ["B"] * 2, trimmed=np.array([0, 0, 0, 1, 0, 0], dtype=bool))
    a, b, al = (out.set_index("group").loc[k] for k in ("A", "B", "all"))
    assert (a["n"], a["sum"], a["min"], a["max"], a["max_min_ratio"]) == (4, 10, 1, 4, 4)
    assert a["p25"] == pytest.approx(1.75) and a["p50"] == pytest.approx(2.5)
    assert a["deff_kish"] == pytest.approx(4 * 30 / 100) and a["n_eff"] == pytest.approx(100 / 30)
    assert b["deff_kish"] == pytest.approx(1.0) and b["n_eff"] == pytest.approx(2.0)
    assert al["deff_kish"] == pytest.approx(6 * 230 / 900) and al["p50"] == pytest.approx(3.5)
    assert (a["n_trimmed"], al["n_trimmed"]) == (1, 1)
    neg = weight_summary(np.array([-1.0, 2.0]))
    assert np.isnan(neg.loc[0, "max_min_ratio"]) and neg.loc[0, "n_nonpositive"] == 1


def test_margin_table_before_and_after():
    df = pd.DataFrame({"sex": [1, 1, 2], "inc": [1.0, 2.0, 3.0]})
    X, T, names = calibration_matrix(df, {"sex": {1: 4, 2: 2}, "inc": 10.0})
    out = margin_table(X, T, names, before=np.ones(3), after=np.array([2.0, 2.0, 2.0]))
    np.testing.assert_allclose(out["before"], [2, 1, 6])
    np.testing.assert_allclose(out["after"], [4, 2, 12])
    np.testing.assert_allclose(out["rel_diff_after"], [0, 0, 0.2])


def test_perfectly_separated_response_model_is_an_error():
    # in G1 every 'a' responded and every 'b' did not: the logistic MLE does not exist
    cov = pd.DataFrame({"x": ["a", "a", "b", "b", "a", "b"]})
    resp = np.array([1, 1, 0, 0, 1, 0])
    with pytest.raises(WeightingError, match="group 'G1': the logistic fit failed"):
        propensity_adjustment(np.ones(6), resp, cov, np.array(["G1"] * 6))
