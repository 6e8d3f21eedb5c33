"""Replicate factors (JK1, JKn, Rao-Wu bootstrap), domains and design options."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.errors import EstimationError
from sid.estimation.design import Design
from sid.estimation.replicates import (
    bootstrap_factors,
    jk1_factors,
    jkn_factors,
    replicate_variance,
)

RTOL = 1e-8  # R figures are matched far below the 1e-6 asked


@pytest.fixture(scope="module")
def apistrat(reference_dir):
    return pd.read_csv(reference_dir / "apistrat.csv")


def test_jk1_factors_follow_R_jk1weights_definition():
    psu = np.array([3, 3, 1, 2, 2, 2])
    rf = jk1_factors(psu, fpc=np.full(6, 30))
    assert rf.factors.shape == (6, 3)
    # Each replicate zeroes one PSU and scales the other two by 3/2.
    for r in range(3):
        zero = rf.factors[:, r] == 0
        assert np.unique(psu[zero]).size == 1
        np.testing.assert_allclose(rf.factors[~zero, r], 1.5)
    assert rf.scale == pytest.approx((30 - 3) / 30 * 2 / 3)
    np.testing.assert_array_equal(rf.rscales, 1.0)


def test_jkn_factors_rscales_and_within_stratum_scaling():
    strata = np.array(["a"] * 4 + ["b"] * 6)
    psu = np.array([1, 1, 2, 3, 1, 2, 3, 3, 4, 4])  # 3 PSUs in a, 4 in b (labels reused)
    pop = np.where(strata == "a", 6, 40)
    rf = jkn_factors(strata, psu, fpc=pop)
    assert rf.factors.shape == (10, 7)
    assert rf.scale == 1.0
    assert sorted(np.round(rf.rscales, 12)) == sorted(
        [round((1 - 3 / 6) * 2 / 3, 12)] * 3 + [round((1 - 4 / 40) * 3 / 4, 12)] * 4
    )
    for r in range(7):
        col = rf.factors[:, r]
        hit = strata[col == 0][0]
        other = strata != hit
        np.testing.assert_allclose(col[other], 1.0)
        n_h = 3 if hit == "a" else 4
        np.testing.assert_allclose(col[(strata == hit) & (col != 0)], n_h / (n_h - 1))


def test_jkn_lonely_stratum_fails_or_is_removed():
    strata = np.array(["a", "a", "b"])
    psu = np.array([1, 2, 3])
    with pytest.raises(EstimationError, match="only one PSU"):
        jkn_factors(strata, psu)
    assert jkn_factors(strata, psu, lonely_psu="remove").factors.shape == (3, 2)


def test_rao_wu_bootstrap_factors_sum_to_stratum_psu_count():
    strata = np.repeat([0, 1], [40, 60])
    psu = np.arange(100) // 2  # 20 and 30 PSUs of two rows
    rf = bootstrap_factors(strata, psu, replicates=25, rng=np.random.default_rng(3))
    first = np.unique(psu, return_index=True)[1]
    per_psu = rf.factors[first]
    # n_h - 1 draws times n_h / (n_h - 1): every replicate totals n_h per stratum.
    np.testing.assert_allclose(per_psu[:20].sum(axis=0), 20)
    np.testing.assert_allclose(per_psu[20:].sum(axis=0), 30)
    np.testing.assert_allclose(rf.factors[0], rf.factors[1])  # rows of one PSU move together
    assert rf.scale == pytest.approx(1 / 24)


def test_rao_wu_multiplicities_follow_the_multinomial_of_R_subbootweights():
    # R's subbootweights: per stratum and replicate, n_h - 1 PSUs drawn with replacement
    # (a multinomial(n_h - 1, 1/n_h)); factor = times drawn * n_h / (n_h - 1).
    rng = np.random.default_rng(11)
    sizes = [2, 3, 5, 5, 8]  # two strata of one size: drawn in one call
    strata = np.repeat(np.array(["e", "a", "d", "b", "c"]), [2 * k for k in sizes])
    psu = np.concatenate([np.repeat(np.arange(k) * 7 + 1, 2) for k in sizes])  # labels reused
    order = rng.permutation(strata.size)  # rows out of stratum order
    strata, psu = strata[order], psu[order]
    R = 4000
    rf = bootstrap_factors(strata, psu, replicates=R, rng=np.random.default_rng(5))
    assert rf.factors.shape == (strata.size, R)
    for s, k in zip(["e", "a", "d", "b", "c"], sizes, strict=True):
        rows = np.flatnonzero(strata == s)
        _, first = np.unique(psu[rows], return_index=True)
        times = rf.factors[rows[first]] * (k - 1) / k  # (k PSUs, R)
        np.testing.assert_allclose(times, np.round(times), atol=1e-12)
        np.testing.assert_allclose(times.sum(axis=0), k - 1)  # n_h - 1 draws per replicate
        p = 1.0 / k
        mean, var = (k - 1) * p, (k - 1) * p * (1 - p)
        # every PSU: mean (n_h - 1)/n_h, multinomial variance, within 5 standard errors
        assert np.all(np.abs(times.mean(axis=1) - mean) < 5 * np.sqrt(var / R))
        assert np.all(np.abs(times.var(axis=1) / var - 1) < 5 * np.sqrt(2 / R) + 0.05)
        if k > 2:
            cov = np.cov(times)[0, 1]
            assert abs(cov + (k - 1) * p * p) < 5 * var / np.sqrt(R)
        for psu_label in np.unique(psu[rows]):  # rows of one PSU move together
            same = rows[psu[rows] == psu_label]
            np.testing.assert_array_equal(rf.factors[same[0]], rf.factors[same[1]])
    # replicates are independent: no correlation of a PSU's draws between replicates
    col = rf.factors[np.flatnonzero(strata == "c")[0]]
    assert abs(np.corrcoef(col[:-1], col[1:])[0, 1]) < 5 / np.sqrt(R)


def test_canty_davison_bootstrap_draws_n_h_psus():
    strata = np.repeat([0, 1], [6, 10])
    psu = np.arange(16)
    R = 3000
    rf = bootstrap_factors(strata, psu, replicates=R, rng=np.random.default_rng(2), method="bootstrap")
    np.testing.assert_allclose(rf.factors[:6].sum(axis=0), 6)
    np.testing.assert_allclose(rf.factors[6:].sum(axis=0), 10)
    assert np.all(np.abs(rf.factors.mean(axis=1) - 1) < 5 * np.sqrt((1 - 1 / 6) / R))
    nbar = 1 / np.mean([1 / 6, 1 / 10])
    assert rf.scale == pytest.approx(nbar / ((nbar - 1) * (R - 1)))


def test_replicate_variance_mse_versus_centred():
    thetas = np.array([[1.0], [2.0], [3.0]])
    assert replicate_variance(thetas, np.array([2.0]), 0.5, np.ones(3))[0, 0] == pytest.approx(1.0)
    assert replicate_variance(thetas, np.array([1.0]), 0.5, np.ones(3), mse=True)[0, 0] == pytest.approx(2.5)


def test_fpc_as_sampling_fraction_matches_R_apistrat(apistrat, survey_ref):
    df = apistrat.assign(frac=1 / apistrat.pw)
    m = Design(df, weight="pw", strata="stype", fpc="frac").mean("api00")
    assert m.se[0] == pytest.approx(float(np.ravel(survey_ref["apistrat_mean_api00"]["se"])[0]), rel=RTOL)


def test_crossed_by_variables_equal_their_domain_subsets(apistrat):
    d = Design(apistrat, weight="pw", strata="stype", fpc="fpc")
    by = d.mean("api00", by=["stype", "sch.wide"])
    assert len(by) == 6 and list(by.columns[:3]) == ["stype", "sch.wide", "variable"]
    row = by[(by.stype == "M") & (by["sch.wide"] == "No")].iloc[0]
    mask = ((apistrat.stype == "M") & (apistrat["sch.wide"] == "No")).to_numpy()
    sub = d.subset(mask).mean("api00").iloc[0]
    assert row.estimate == pytest.approx(sub.estimate, rel=1e-12)
    assert row.se == pytest.approx(sub.se, rel=1e-12)
    assert row.n == mask.sum()


def test_proportion_by_group_equals_mean_of_indicator(apistrat):
    d = Design(apistrat.assign(yes=(apistrat["sch.wide"] == "Yes").astype(float)),
               weight="pw", strata="stype", fpc="fpc")
    p = d.proportion("sch.wide", by="stype")
    m = d.mean("yes", by="stype")
    yes = p[p.category == "Yes"].reset_index(drop=True)
    np.testing.assert_allclose(yes.estimate, m.estimate, rtol=1e-12)
    np.testing.assert_allclose(yes.se, m.se, rtol=1e-12)
    np.testing.assert_allclose(yes.deff, m.deff, rtol=1e-12)


def test_calibrated_replicate_design_meets_margins_in_every_replicate(reference_dir):
    c1 = pd.read_csv(reference_dir / "apiclus1.csv")
    d = Design(c1, weight="pw", psu="dnum", fpc="fpc").replicate("JK1")
    dc = d.calibrate({"stype": {"E": 4421, "H": 755, "M": 1018}, "api99": 3914069}, method="linear")
    rw = dc._rep.weights
    is_e = (c1.stype == "E").to_numpy()
    np.testing.assert_allclose(rw[is_e].sum(axis=0), 4421, rtol=1e-8)
    np.testing.assert_allclose((rw * c1.api99.to_numpy()[:, None]).sum(axis=0), 3914069, rtol=1e-8)
    assert dc.mean("api00").method[0] == "JK1"


def test_bootstrap_draws_on_blocks_of_strata_equal_one_draw_on_all():
    # sid.weighting.replicate_chain draws stratum blocks one after another with one
    # generator: the factors must equal those of one call over all strata
    strata = np.repeat([0, 1, 2, 3], [5, 9, 2, 7])
    psu = np.arange(strata.size)
    whole = bootstrap_factors(strata, psu, replicates=30, rng=np.random.default_rng(8)).factors
    rng = np.random.default_rng(8)
    parts = [bootstrap_factors(strata[rows], psu[rows], replicates=30, rng=rng).factors
             for rows in (strata <= 1, strata >= 2)]
    np.testing.assert_array_equal(np.vstack(parts), whole)
