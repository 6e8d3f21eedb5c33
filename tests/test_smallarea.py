"""sid.smallarea: bad input and non-convergence raise one-line sid errors; GVF, arcsine,
benchmarking, synthetic estimates and the chain do what their docstrings state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sid
from sid.errors import ConvergenceError, EstimationError
from sid.smallarea import (
    benchmark,
    diagnostics,
    direct_estimates,
    fay_herriot,
    fit_fh,
    from_arcsine,
    gvf,
    smooth_variances,
    synthetic,
    to_arcsine,
)


def _data(m=60, seed=1, s2=2.0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, m)
    X = np.column_stack([np.ones(m), x])
    n = rng.integers(2, 80, m)
    psi = 40.0 / n
    y = 50 + 10 * x + rng.normal(0, np.sqrt(s2), m) + rng.normal(0, np.sqrt(psi))
    return y, psi, n, X


def test_non_convergence_is_a_one_line_convergence_error():
    y, psi, _, X = _data()
    with pytest.raises(ConvergenceError) as e:
        fit_fh(y, psi, X, method="REML", max_iter=1, name="idx_language")
    msg = str(e.value)
    assert "\n" not in msg and "idx_language" in msg and "REML" in msg and "max_iter" in msg


@pytest.mark.parametrize("change,words", [
    (lambda y, p, X: (y, np.where(np.arange(len(p)) == 3, 0.0, p), X), ["area 3", "not > 0"]),
    (lambda y, p, X: (np.where(np.arange(len(y)) == 5, np.nan, y), p, X), ["area 5", "not finite"]),
    (lambda y, p, X: (y, p[:-1], X), ["one row per area"]),
    (lambda y, p, X: (y, p, np.column_stack([X, 2 * X[:, 1]])), ["full column rank"]),
    (lambda y, p, X: (y[:2], p[:2], X[:2]), ["more areas than covariates"]),
])
def test_bad_input_is_a_one_line_estimation_error(change, words):
    y, psi, _, X = _data()
    with pytest.raises(EstimationError) as e:
        fit_fh(*change(y, psi, X), name="dutch_home")
    msg = str(e.value)
    assert "\n" not in msg and "dutch_home" in msg and all(w in msg for w in words)


def test_unknown_method_is_named():
    y, psi, _, X = _data()
    with pytest.raises(EstimationError, match="'GLS'"):
        fit_fh(y, psi, X, method="GLS")


def test_reml_recovers_sigma2_u_on_average():
    fits = [fit_fh(*_data(m=200, seed=s, s2=2.0)[:2], _data(m=200, seed=s)[3]).sigma2_u for s in range(20)]
    assert 1.6 < np.mean(fits) < 2.4


def test_gvf_loglinear_recovers_a_power_law_and_pooled_c_over_n():
    n = np.array([5, 10, 20, 40, 80, 160.0])
    psi = 30.0 / n
    np.testing.assert_allclose(gvf(psi, n, "loglinear", min_n=10), psi, rtol=1e-10)
    np.testing.assert_allclose(gvf(psi, n, "pooled", min_n=10), psi, rtol=1e-10)


def test_smooth_variances_replaces_only_unreliable_areas():
    n = np.array([1, 3, 20, 40, 80, 160])
    psi = np.array([0.0, 99.0, 1.6, 0.7, 0.4, 0.2])
    used, mask = smooth_variances(psi, n, "loglinear", min_n=10)
    assert mask.tolist() == [True, True, False, False, False, False]
    np.testing.assert_array_equal(used[2:], psi[2:])
    assert used[0] > used[1] > used[2] * 0.9  # fewer respondents, larger smoothed variance


def test_gvf_with_too_few_reliable_areas_says_what_to_do():
    with pytest.raises(EstimationError, match="lower min_n"):
        gvf([1.0, 2.0], [3, 4], min_n=10)


def test_arcsine_round_trip_and_delta_variance():
    p = np.array([0.1, 0.5, 0.9])
    psi = np.array([0.001, 0.002, 0.001])
    z, vz = to_arcsine(p, psi)
    np.testing.assert_allclose(vz, psi / (4 * p * (1 - p)))
    back, mse_p, lo, hi = from_arcsine(z, vz)
    np.testing.assert_allclose(back, p)
    np.testing.assert_allclose(mse_p, psi, rtol=1e-12)  # delta method both ways
    assert (lo < p).all() and (hi > p).all() and (lo >= 0).all() and (hi <= 1).all()


def test_arcsine_share_of_zero_needs_n_eff():
    with pytest.raises(EstimationError, match="pass n_eff"):
        to_arcsine([0.0, 0.4], [0.01, 0.01])


@pytest.mark.parametrize("method", ["ratio", "difference"])
def test_benchmarked_estimates_add_up_to_the_direct_total(method):
    theta = np.array([0.2, 0.4, 0.5])
    w = np.array([100, 300, 600])
    out = benchmark(theta, w, 0.5, method)
    assert np.sum(out * w) / w.sum() == pytest.approx(0.5)


def test_synthetic_mse_is_x_cov_x_plus_sigma2():
    y, psi, _, X = _data()
    f = fit_fh(y, psi, X)
    est, m = synthetic(f, X[:3])
    np.testing.assert_allclose(est, X[:3] @ f.beta)
    np.testing.assert_allclose(m, np.diag(X[:3] @ f.cov_beta @ X[:3].T) + f.sigma2_u)


def test_chain_gives_synthetic_estimates_to_areas_without_sample_and_benchmarks():
    y, psi, n, X = _data()
    y[:4], psi[:4], n[:4] = np.nan, np.nan, 0
    pop = np.full(len(y), 1000.0)
    frame, fit = fay_herriot([f"M{i}" for i in range(len(y))], y, psi, n, X, population=pop, total=56.0,
                             benchmark="ratio")
    assert (frame["method"].iloc[:4] == "synthetic").all() and (frame["method"].iloc[4:] == "EBLUP-REML").all()
    assert np.average(frame["estimate"], weights=pop) == pytest.approx(56.0)
    assert frame["psi_smoothed"].iloc[4:].eq(n[4:] < 10).all()
    d = diagnostics(frame, fit)
    assert d["areas_synthetic"] == 4 and d["median_cv_eblup"] < d["median_cv_direct"]


def test_chain_on_arcsine_scale_keeps_shares_in_unit_interval():
    rng = np.random.default_rng(3)
    m = 50
    x = rng.uniform(0, 1, m)
    n = rng.integers(3, 60, m)
    p_true = np.clip(0.2 + 0.5 * x + rng.normal(0, 0.05, m), 0.01, 0.99)
    y = rng.binomial(n, p_true) / n
    psi = np.where((y > 0) & (y < 1), y * (1 - y) / n, np.nan)
    frame, fit = fay_herriot(list(range(m)), y, psi, n, np.column_stack([np.ones(m), x]), transform="arcsine")
    assert frame["estimate"].between(0, 1).all() and (frame["ci_low"] <= frame["estimate"]).all()
    assert (frame["ci_high"] <= 1).all()


def test_direct_estimates_through_design_include_areas_without_sample(reference_dir: Path):
    df = pd.read_csv(reference_dir / "apistrat.csv")
    d = sid.Design(df, weight="pw", strata="stype")
    areas = sorted(df["cname"].unique()) + ["Nowhere"]
    out = direct_estimates(d, "api00", "cname", areas)
    assert out["area"].tolist() == areas
    row = out[out["area"] == "Alameda"].iloc[0]
    ref = d.mean("api00", by="cname").set_index("cname").loc["Alameda"]
    assert row["estimate"] == ref["estimate"] and row["variance"] == pytest.approx(ref["se"] ** 2)
    last = out.iloc[-1]
    assert last["n"] == 0 and np.isnan(last["estimate"])


def test_direct_estimates_unknown_area_column_is_named(reference_dir: Path):
    df = pd.read_csv(reference_dir / "apistrat.csv")
    with pytest.raises(EstimationError, match="'municipality'"):
        direct_estimates(sid.Design(df, weight="pw", strata="stype"), "api00", "municipality")
