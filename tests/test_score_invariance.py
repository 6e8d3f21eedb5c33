"""Multi-group CFA (sid.scales.invariance): configural loadings against statsmodels' ML
factor analysis, and exact population moments whose invariance level is known by
construction (metric: S_2 = c^2 S_1; scalar: m_2 = m_1 + kappa l)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.multivariate.factor import Factor

from sid.errors import EstimationError
from sid.scales.invariance import fit_multigroup, invariance_by_group, invariance_tests

LAM = np.array([0.8, 0.7, 0.6, 0.9, 0.5])
THETA = np.array([0.5, 0.6, 0.4, 0.3, 0.7])
TAU = np.array([3.0, 3.2, 2.8, 3.1, 3.0])


def _sigma(lam=LAM, theta=THETA, phi=1.0):
    return phi * np.outer(lam, lam) + np.diag(theta)


def _sample_moments(seed=1):
    rng = np.random.default_rng(seed)
    covs, means, ns = [], [], []
    for n, lam in ((800, LAM), (700, LAM * [1, 1, 1, 0.3, 1]), (900, LAM)):
        f = rng.normal(size=n)
        x = TAU + np.outer(f, lam) + rng.normal(size=(n, 5)) * np.sqrt(THETA)
        covs.append(np.cov(x, rowvar=False))
        means.append(x.mean(0))
        ns.append(n)
    return np.array(covs), np.array(means), np.array(ns, float)


def test_configural_loadings_match_statsmodels_ML_factor_analysis_per_group():
    covs, means, ns = _sample_moments()
    fit = fit_multigroup(covs, means, ns, "configural")
    for j in range(3):
        sd = np.sqrt(np.diag(covs[j]))
        fa = Factor(corr=covs[j] / np.outer(sd, sd), n_factor=1, method="ml", nobs=int(ns[j])).fit()
        ref = fa.loadings[:, 0] * np.sign(fa.loadings[:, 0].sum())
        np.testing.assert_allclose(fit.loadings[j] / sd, ref, atol=2e-6)
        np.testing.assert_allclose(fit.theta[j] / sd**2, fa.uniqueness, atol=2e-6)


def test_population_moments_of_a_one_factor_model_fit_exactly_at_every_level():
    # group 2: every item scaled by c = 1.5 (metric holds, factor variance c^2), its factor
    # mean shifted by kappa = 0.4 factor units of group 1 (scalar holds)
    c, kappa = 1.5, 0.4
    covs = np.array([_sigma(), c**2 * _sigma()])
    means = np.array([TAU, TAU + kappa * LAM])
    ns = np.array([500.0, 600.0])
    res = invariance_tests(covs, means, ns)
    np.testing.assert_allclose(res.table["chisq"], 0.0, atol=1e-6)
    assert list(res.table["df"]) == [2 * (15 - 10), 2 * 5 + 4, 2 * 5 + 8]
    metric, scalar = res.fits["metric"], res.fits["scalar"]
    np.testing.assert_allclose(metric.loadings[0], LAM, rtol=1e-5)
    np.testing.assert_allclose(metric.phi, [1.0, c**2], rtol=1e-5)
    np.testing.assert_allclose(scalar.kappa, [0.0, kappa], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(scalar.intercepts[0], TAU, rtol=1e-6)
    assert res.table["supported"].all() and res.verdict.startswith("scalar")


def test_different_loadings_or_intercepts_are_detected_from_population_moments():
    lam2 = LAM * [1, 1, 1, 0.2, 1]
    covs = np.array([_sigma(), _sigma(lam2)])
    ns = np.array([800.0, 800.0])
    res = invariance_tests(covs, np.array([TAU, TAU]), ns)
    assert res.table.loc[0, "chisq"] == pytest.approx(0.0, abs=1e-6)  # configural is exact
    assert res.table.loc[1, "delta_chisq"] > 50 and not res.table.loc[1, "supported"]
    assert res.verdict.startswith("configural")
    # equal loadings, one intercept shifted by 1 item SD: metric exact, scalar rejected
    res = invariance_tests(np.array([_sigma(), _sigma()]), np.array([TAU, TAU + [0, 0, 1.0, 0, 0]]), ns)
    assert res.table.loc[1, "chisq"] == pytest.approx(0.0, abs=1e-6)
    assert not res.table.loc[2, "supported"] and res.verdict.startswith("metric")


def test_invariance_by_group_reflects_reversed_items_and_needs_three_items():
    rng = np.random.default_rng(5)
    n = 600
    f = rng.normal(size=n)
    df = pd.DataFrame({f"x{i}": np.clip(np.rint(3 + f + rng.normal(size=n)), 1, 5) for i in range(3)})
    df["x3"] = np.clip(np.rint(3 - f + rng.normal(size=n)), 1, 5)  # reversed
    df["g"] = np.where(np.arange(n) < n // 2, "a", "b")
    res = invariance_by_group(df, ["x0", "x1", "x2", "x3"], "g", reverse=["x3"], item_range=(1, 5))
    assert (res.fits["configural"].loadings > 0).all()
    with pytest.raises(EstimationError, match="at least 3 items"):
        invariance_by_group(df, ["x0", "x1"], "g")


def test_releasing_the_one_non_invariant_item_removes_all_misfit_of_population_moments():
    from sid.scales.invariance import item_release_tests

    names = [f"x{i}" for i in range(5)]
    ns = np.array([800.0, 800.0])
    # item x3's loading differs: releasing it alone makes the metric model exact
    covs = np.array([_sigma(), _sigma(LAM * [1, 1, 1, 0.2, 1])])
    res = invariance_tests(covs, np.array([TAU, TAU]), ns)
    items = item_release_tests(covs, np.array([TAU, TAU]), ns, res.fits, names).set_index(["parameter", "item"])
    assert items.loc[("loading", "x3"), "share"] == pytest.approx(1.0, abs=1e-6)
    assert items.loc[("loading", "x3"), "delta_df"] == 1
    others = items.loc["loading"].drop(index="x3")
    assert (others["share"] < 0.9).all()
    # item x2's intercept differs: releasing it alone makes the scalar model exact
    covs = np.array([_sigma(), _sigma()])
    means = np.array([TAU, TAU + [0, 0, 1.0, 0, 0]])
    res = invariance_tests(covs, means, ns)
    items = item_release_tests(covs, means, ns, res.fits, names).set_index(["parameter", "item"])
    assert items.loc[("intercept", "x2"), "share"] == pytest.approx(1.0, abs=1e-6)
    assert items.loc[("intercept", "x2"), "delta_chisq"] == pytest.approx(res.table.loc[2, "chisq"], rel=1e-6)


def test_every_item_released_is_refused():
    covs = np.array([_sigma(), _sigma()])
    with pytest.raises(EstimationError, match="keep at least one"):
        fit_multigroup(covs, np.array([TAU, TAU]), [100, 100], "metric", free_loadings=range(5))


def test_an_improper_solution_is_reported_as_a_heywood_case():
    # r12 r13 / r23 = 0.8 * 0.8 / 0.5 > 1: item 1's one-factor loading would exceed 1
    r = np.array([[1.0, 0.8, 0.8, 0.4], [0.8, 1.0, 0.5, 0.3], [0.8, 0.5, 1.0, 0.3], [0.4, 0.3, 0.3, 1.0]])
    assert np.linalg.eigvalsh(r).min() > 0
    good = _sigma()[:4, :4]
    res = invariance_tests(np.array([good, r]), np.zeros((2, 4)), [500, 500], groups=["A", "B"])
    assert (1, 0) in res.fits["configural"].heywood
    assert "Heywood case" in res.table.loc[0, "note"] and "configural: B/item 1" in res.table.loc[0, "note"]
