"""Calibration, raking and post-stratification against R's survey 4.1.1 (apiclus1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from sid.errors import ConvergenceError, WeightingError
from sid.weighting.calibration import (
    CalibrationResult,
    calibrate,
    calibration_matrix,
    poststratify,
    rake,
)

RTOL = 1e-6


@pytest.fixture(scope="module")
def apiclus1(reference_dir) -> pd.DataFrame:
    return pd.read_csv(reference_dir / "apiclus1.csv")


def _stype_margin(pop_totals: dict) -> dict:
    """R's model-matrix totals ((Intercept), stypeH, stypeM) -> one total per category."""
    h, m = pop_totals["stypeH"], pop_totals["stypeM"]
    return {"E": pop_totals["(Intercept)"] - h - m, "H": h, "M": m}


def _ref(survey_ref: dict, key: str) -> np.ndarray:
    return np.asarray(survey_ref[key]["weights"], dtype=float)


def test_calibrate_raking_matches_R_rake_stype_schwide(apiclus1, survey_ref):
    ref = survey_ref["apiclus1_rake_stype_schwide"]
    margins = {var: {row[var]: row["Freq"] for row in rows} for var, rows in ref["margins"].items()}
    X, T, names = calibration_matrix(apiclus1, margins)
    assert names == ["stype=E", "stype=H", "stype=M", "sch.wide=No", "sch.wide=Yes"]
    res = calibrate(apiclus1["pw"].to_numpy(), X, T, method="raking", names=names)
    assert isinstance(res, CalibrationResult)
    np.testing.assert_allclose(
        res.weights, _ref(survey_ref, "apiclus1_rake_stype_schwide"), rtol=RTOL
    )
    np.testing.assert_allclose(res.g, res.weights / apiclus1["pw"].to_numpy(), rtol=1e-12)
    assert res.max_abs_error < 1e-6


def test_rake_ipf_matches_R_rake_stype_schwide(apiclus1, survey_ref):
    c1, _ = pd.factorize(apiclus1["stype"], sort=True)  # E, H, M
    c2, _ = pd.factorize(apiclus1["sch.wide"], sort=True)  # No, Yes
    res = rake(
        apiclus1["pw"].to_numpy(), [c1, c2], [np.array([4421, 755, 1018]), np.array([1072, 5122])]
    )
    np.testing.assert_allclose(
        res.weights, _ref(survey_ref, "apiclus1_rake_stype_schwide"), rtol=RTOL
    )
    assert res.iterations > 1


@pytest.mark.parametrize(
    ("key", "method", "bounds"),
    [
        ("apiclus1_calibrate_raking_stype_api99", "raking", None),
        ("apiclus1_calibrate_linear_stype_api99", "linear", None),
        ("apiclus1_calibrate_logit_bounds_0.7_1.7", "logit", (0.7, 1.7)),
    ],
)
def test_calibrate_stype_api99_matches_R_calibrate(apiclus1, survey_ref, key, method, bounds):
    ref = survey_ref[key]
    margins = {"stype": _stype_margin(ref["pop_totals"]), "api99": ref["pop_totals"]["api99"]}
    X, T, names = calibration_matrix(apiclus1, margins)
    assert names[-1] == "api99"
    res = calibrate(apiclus1["pw"].to_numpy(), X, T, method=method, bounds=bounds, names=names)
    np.testing.assert_allclose(res.weights, _ref(survey_ref, key), rtol=RTOL)
    if bounds is not None:
        assert res.g.min() >= bounds[0] and res.g.max() <= bounds[1]


def test_calibrate_linear_stype_matches_R(apiclus1, survey_ref):
    ref = survey_ref["apiclus1_calibrate_linear_stype"]
    X, T, names = calibration_matrix(apiclus1, {"stype": _stype_margin(ref["pop_totals"])})
    res = calibrate(apiclus1["pw"].to_numpy(), X, T, names=names)
    np.testing.assert_allclose(
        res.weights, _ref(survey_ref, "apiclus1_calibrate_linear_stype"), rtol=RTOL
    )
    assert res.iterations == 1  # GREG has a closed form: one Newton step


def test_poststratify_matches_R_postStratify_stype(apiclus1, survey_ref):
    cells, _ = pd.factorize(apiclus1["stype"], sort=True)
    res = poststratify(apiclus1["pw"].to_numpy(), cells, [4421, 755, 1018])
    np.testing.assert_allclose(
        res.weights, _ref(survey_ref, "apiclus1_poststratify_stype"), rtol=RTOL
    )


def test_replicate_columns_each_match_R_raking(apiclus1, survey_ref):
    """Raking is invariant to rescaling d: every column of (n, R) must give R's weights."""
    pw = apiclus1["pw"].to_numpy()
    D = np.column_stack([pw, 3.0 * pw, 0.5 * pw])
    margins = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1072, "Yes": 5122}}
    X, T, names = calibration_matrix(apiclus1, margins)
    ref = _ref(survey_ref, "apiclus1_rake_stype_schwide")
    res = calibrate(D, X, T, method="raking", names=names)
    assert res.weights.shape == D.shape
    for r in range(3):
        np.testing.assert_allclose(res.weights[:, r], ref, rtol=RTOL)
    c1, _ = pd.factorize(apiclus1["stype"], sort=True)
    c2, _ = pd.factorize(apiclus1["sch.wide"], sort=True)
    ipf = rake(D, [c1, c2], [np.array([4421, 755, 1018]), np.array([1072, 5122])])
    np.testing.assert_allclose(ipf.weights, np.column_stack([ref] * 3), rtol=RTOL)


def test_zero_weight_rows_keep_zero_weight_in_replicates(apiclus1, survey_ref):
    """A JK1-style column with a dropped cluster: its rows stay 0, the rest meet the margins."""
    pw = apiclus1["pw"].to_numpy()
    dropped = (apiclus1["dnum"] == apiclus1["dnum"].iloc[0]).to_numpy()
    D = np.column_stack([pw, np.where(dropped, 0.0, pw * 15 / 14)])
    margins = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1072, "Yes": 5122}}
    X, T, names = calibration_matrix(apiclus1, margins)
    res = calibrate(D, X, T, method="raking", names=names)
    assert (res.weights[dropped, 1] == 0).all()
    np.testing.assert_allclose(X.T @ res.weights[:, 1], T, rtol=1e-9)


# --- calibration_matrix input errors -------------------------------------------------------


def test_interaction_margin_tuple_and_text_keys_give_cell_indicators():
    df = pd.DataFrame({"sex": [1, 1, 2, 2, 2], "band": [1, 2, 1, 2, 2]})
    t = {(1, 1): 10, (1, 2): 20, (2, 1): 30, (2, 2): 40}
    X1, T1, n1 = calibration_matrix(df, {"sex:band": t})
    X2, T2, n2 = calibration_matrix(df, {"sex:band": {f"{a}:{b}": v for (a, b), v in t.items()}})
    expected = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1]])
    np.testing.assert_array_equal(X1.toarray(), expected)
    np.testing.assert_array_equal(X2.toarray(), expected)
    np.testing.assert_array_equal(T1, [10, 20, 30, 40])
    assert n1 == n2 == ["sex:band=1:1", "sex:band=1:2", "sex:band=2:1", "sex:band=2:2"]


@pytest.mark.parametrize(
    ("df", "margins", "message"),
    [
        (pd.DataFrame({"a": [1, 2]}), {"sex": {1: 1, 2: 1}}, "'sex' is not in the data"),
        (
            pd.DataFrame({"sex": [1.0, 2.0, np.nan]}),
            {"sex": {1: 5, 2: 5}},
            "margin 'sex': 1 respondents have no value",
        ),
        (
            pd.DataFrame({"sex": [1, 2, 3]}),
            {"sex": {1: 5, 2: 5}},
            "categories 3 that the margin lacks",
        ),
        (
            pd.DataFrame({"sex": [1, 1, 2]}),
            {"sex": {1: 5, 2: 5, 9: 1}},
            "category 9 has no respondents",
        ),
        (
            pd.DataFrame({"sex": [1, 2], "age": [1, 2]}),
            {"sex": {1: 5, 2: 5}, "age": {1: 5, 2: 6}},
            "margins disagree: 'sex' sums to 10 but 'age' sums to 11",
        ),
        (pd.DataFrame({"sex": [1, 2]}), {"sex": {1: 5, 2: -1}}, "finite number >= 0"),
        (pd.DataFrame({"sex": ["a", "b"]}), {"sex": 10.0}, "'sex' is not numeric"),
    ],
)
def test_calibration_matrix_rejects_bad_margins(df, margins, message):
    with pytest.raises(WeightingError, match=message):
        calibration_matrix(df, margins)


# --- calibrate: infeasible and non-converging problems ------------------------------------


def test_bounds_too_tight_raise_weighting_error(apiclus1):
    X, T, names = calibration_matrix(
        apiclus1, {"stype": {"E": 4421, "H": 755, "M": 1018}, "api99": 3914069}
    )
    with pytest.raises(
        WeightingError, match=r"infeasible: no weights with g = w/d in \(0.99, 1.01\)"
    ):
        calibrate(apiclus1["pw"].to_numpy(), X, T, method="logit", bounds=(0.99, 1.01), names=names)
    with pytest.raises(WeightingError, match="infeasible"):
        calibrate(
            apiclus1["pw"].to_numpy(), X, T, method="linear", bounds=(0.95, 1.05), names=names
        )


def test_raking_to_totals_needing_negative_weights_is_infeasible():
    X = sp.csr_matrix(np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]]))
    with pytest.raises(WeightingError, match="infeasible.*g > 0"):
        calibrate(np.ones(3), X, [3.0, 0.0], method="raking", names=["n", "x"])


def test_aliased_categories_with_contradicting_totals_are_named():
    # 'region=1' and 'urban=1' cover exactly the same respondents, with different totals
    df = pd.DataFrame({"region": [1, 1, 2, 2], "urban": [1, 1, 0, 0]})
    X, T, names = calibration_matrix(df, {"region": {1: 40, 2: 60}, "urban": {1: 50, 0: 50}})
    with pytest.raises(WeightingError, match="aliased margins: categories .*'region=1'.*'urban=1'"):
        calibrate(np.ones(4), X, T, names=names)


def test_non_convergence_raises_with_iterations_and_error(apiclus1):
    X, T, names = calibration_matrix(
        apiclus1, {"stype": {"E": 4421, "H": 755, "M": 1018}, "api99": 3914069}
    )
    with pytest.raises(
        ConvergenceError, match=r"did not converge in 1 iterations: largest margin error"
    ):
        calibrate(apiclus1["pw"].to_numpy(), X, T, method="raking", max_iter=1, names=names)
    c, _ = pd.factorize(apiclus1["stype"], sort=True)
    s, _ = pd.factorize(apiclus1["sch.wide"], sort=True)
    with pytest.raises(ConvergenceError, match="raking did not converge in 1 iterations"):
        rake(
            apiclus1["pw"].to_numpy(),
            [c, s],
            [np.array([4421, 755, 1018]), np.array([1072, 5122])],
            max_iter=1,
        )


def test_margin_without_weighted_respondents_in_a_replicate_is_named():
    df = pd.DataFrame({"sex": [1, 1, 2, 2]})
    X, T, names = calibration_matrix(df, {"sex": {1: 10, 2: 10}})
    D = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    with pytest.raises(WeightingError, match=r"'sex=2' \(replicate column 1\).*no respondent"):
        calibrate(D, X, T, names=names)
    with pytest.raises(WeightingError, match="cell 1: population total 10 but no respondents"):
        poststratify(D, np.array([0, 0, 1, 1]), [10, 10])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "logit"}, "'logit' needs bounds"),
        ({"method": "ratio"}, "method 'ratio' is unknown"),
        ({"method": "linear", "bounds": (1.2, 2.0)}, "need L <= 1 <= U"),
    ],
)
def test_bad_method_or_bounds_raise(kwargs, message):
    X = sp.csr_matrix(np.ones((3, 1)))
    with pytest.raises(WeightingError, match=message):
        calibrate(np.ones(3), X, [6.0], **kwargs)


def test_negative_or_missing_input_weights_raise():
    X = sp.csr_matrix(np.ones((3, 1)))
    with pytest.raises(WeightingError, match="negative"):
        calibrate(np.array([1.0, -1.0, 1.0]), X, [6.0])
    with pytest.raises(WeightingError, match="missing or infinite"):
        calibrate(np.array([1.0, np.nan, 1.0]), X, [6.0])


def test_rake_rejects_disagreeing_margins_and_uncovered_cells():
    w = np.ones(4)
    with pytest.raises(WeightingError, match="margins disagree"):
        rake(
            w,
            [np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])],
            [np.array([5, 5]), np.array([5, 6])],
        )
    with pytest.raises(
        WeightingError, match="respondents in cell 2, which has no population total"
    ):
        rake(w, [np.array([0, 1, 2, 1])], [np.array([5, 5])])


@pytest.mark.parametrize("method", ["linear", "raking"])
def test_bounded_linear_and_raking_meet_margins_within_bounds(apiclus1, method):
    # unbounded, R's g ranges over 0.42-1.83 (linear) and 0.53-1.99 (raking): (0.7, 1.7) binds
    X, T, names = calibration_matrix(
        apiclus1, {"stype": {"E": 4421, "H": 755, "M": 1018}, "api99": 3914069}
    )
    res = calibrate(apiclus1["pw"].to_numpy(), X, T, method=method, bounds=(0.7, 1.7), names=names)
    assert res.g.min() >= 0.7 - 1e-12 and res.g.max() <= 1.7 + 1e-12
    assert res.g.min() == pytest.approx(0.7) and res.g.max() == pytest.approx(1.7)
    by_stype = pd.Series(res.weights).groupby(apiclus1["stype"].to_numpy()).sum()
    np.testing.assert_allclose(by_stype[["E", "H", "M"]], [4421, 755, 1018], rtol=1e-10)
    assert (res.weights * apiclus1["api99"]).sum() == pytest.approx(3914069, rel=1e-10)


def test_bounds_that_cannot_lift_a_category_to_its_total_are_infeasible(apiclus1):
    # 14 high schools of weight 33.847 must carry 755: g = 1.593 on average, above 1.5
    pw = apiclus1["pw"].to_numpy()
    assert 755 / (pw[apiclus1["stype"] == "H"].sum()) == pytest.approx(1.5934, rel=1e-4)
    X, T, names = calibration_matrix(apiclus1, {"stype": {"E": 4421, "H": 755, "M": 1018}})
    for method in ("linear", "raking", "logit"):
        with pytest.raises(WeightingError, match="infeasible"):
            calibrate(pw, X, T, method=method, bounds=(0.75, 1.5), names=names)
    res = calibrate(pw, X, T, method="raking", bounds=(0.75, 1.6), names=names)
    np.testing.assert_allclose(X.T @ res.weights, T, rtol=1e-10)


def test_dense_matrix_input_and_default_names():
    X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    res = calibrate(np.ones(3), X, [6.0, 3.0])
    # GREG by hand: g = 1 + x'lambda, X'X = [[3, 2], [2, 2]], X'X lambda = T - X'1 = (3, 1)
    # -> lambda = (2, -1.5), g = (3, 1.5, 1.5)
    np.testing.assert_allclose(res.weights, [3.0, 1.5, 1.5])
    with pytest.raises(WeightingError, match="'column 1'"):
        calibrate(np.array([1.0, 0.0, 0.0]), X, [6.0, 3.0])


def test_zero_total_categories_without_respondents_are_left_out_and_with_respondents_rejected():
    df = pd.DataFrame({"sex": [1, 2, 1]})
    X, T, names = calibration_matrix(df, {"sex": {1: 6, 2: 3, 3: 0}})
    assert names == ["sex=1", "sex=2"] and list(T) == [6, 3]
    with pytest.raises(WeightingError, match="category 2 has population total 0 but 1 respondents"):
        calibration_matrix(df, {"sex": {1: 6, 2: 0}})
