"""Design-based Taylor estimates vs R survey 4.1.1 (tests/reference/survey_reference.json)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.errors import EstimationError
from sid.estimation.design import Design

RTOL = 1e-8  # R figures are matched far below the 1e-6 asked


@pytest.fixture(scope="module")
def apistrat(reference_dir):
    return pd.read_csv(reference_dir / "apistrat.csv")


@pytest.fixture(scope="module")
def apiclus1(reference_dir):
    return pd.read_csv(reference_dir / "apiclus1.csv")


@pytest.fixture(scope="module")
def apiclus2(reference_dir):
    return pd.read_csv(reference_dir / "apiclus2.csv")


@pytest.fixture(scope="module")
def dstrat(apistrat):
    return Design(apistrat, weight="pw", strata="stype", fpc="fpc")


@pytest.fixture(scope="module")
def dclus1(apiclus1):
    return Design(apiclus1, weight="pw", psu="dnum", fpc="fpc")


def _se(entry):
    se = entry["se"]
    return float(np.ravel(se)[0])


def test_mean_and_total_match_R_svymean_svytotal_apistrat(dstrat, survey_ref):
    m = dstrat.mean("api00")
    ref = survey_ref["apistrat_mean_api00"]
    assert m.estimate[0] == pytest.approx(ref["estimate"], rel=RTOL)
    assert m.se[0] == pytest.approx(_se(ref), rel=RTOL)
    t = dstrat.total("enroll")
    ref = survey_ref["apistrat_total_enroll"]
    assert t.estimate[0] == pytest.approx(ref["estimate"], rel=RTOL)
    assert t.se[0] == pytest.approx(_se(ref), rel=RTOL)
    assert m.df[0] == 197  # 200 PSUs - 3 strata, R's degf
    assert m.method[0] == "taylor" and m.lonely_psu[0] == "fail"


def test_mean_by_stype_matches_R_svyby_apistrat(dstrat, survey_ref):
    ref = survey_ref["apistrat_mean_api00_by_stype"]
    m = dstrat.mean("api00", by="stype")
    assert list(m.stype) == ref["stype"]
    np.testing.assert_allclose(m.estimate, ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(m.se, ref["se"], rtol=RTOL)
    assert m.n.tolist() == [100, 50, 50]


def test_ratio_matches_R_svyratio_apistrat(dstrat, survey_ref):
    ref = survey_ref["apistrat_ratio_api00_api99"]
    r = dstrat.ratio("api00", "api99")
    assert r.estimate[0] == pytest.approx(ref["estimate"], rel=RTOL)
    assert r.se[0] == pytest.approx(ref["se"], rel=RTOL)


def test_proportion_logit_ci_matches_R_svyciprop_apistrat(dstrat, survey_ref):
    ref = survey_ref["apistrat_prop_schwide_yes_logit"]
    p = dstrat.proportion("sch.wide")
    yes = p[p.category == "Yes"].iloc[0]
    assert yes.estimate == pytest.approx(ref["estimate"], rel=RTOL)
    assert yes.ci_low == pytest.approx(ref["ci"][0], rel=RTOL)
    assert yes.ci_high == pytest.approx(ref["ci"][1], rel=RTOL)
    assert p.estimate.sum() == pytest.approx(1.0)


def test_korn_graubard_interval_is_wider_than_logit_and_contains_estimate(dstrat):
    lg = dstrat.proportion("sch.wide", ci="logit")
    kg = dstrat.proportion("sch.wide", ci="korn-graubard")
    assert (kg.ci_low < kg.estimate).all() and (kg.estimate < kg.ci_high).all()
    assert ((kg.ci_high - kg.ci_low) > (lg.ci_high - lg.ci_low) * 0.95).all()
    with pytest.raises(EstimationError, match="ci="):
        dstrat.proportion("sch.wide", ci="exact")


def test_cluster_mean_total_with_and_without_fpc_match_R_apiclus1(apiclus1, dclus1, survey_ref):
    m = dclus1.mean("api00")
    assert m.estimate[0] == pytest.approx(survey_ref["apiclus1_mean_api00"]["estimate"], rel=RTOL)
    assert m.se[0] == pytest.approx(_se(survey_ref["apiclus1_mean_api00"]), rel=RTOL)
    nofpc = Design(apiclus1, weight="pw", psu="dnum").mean("api00")
    assert nofpc.se[0] == pytest.approx(_se(survey_ref["apiclus1_mean_api00_nofpc"]), rel=RTOL)
    t = dclus1.total("enroll")
    assert t.estimate[0] == pytest.approx(survey_ref["apiclus1_total_enroll"]["estimate"], rel=RTOL)
    assert t.se[0] == pytest.approx(_se(survey_ref["apiclus1_total_enroll"]), rel=RTOL)
    assert m.df[0] == 14


def test_design_effect_matches_R_svymean_deff_apiclus1(dclus1, survey_ref):
    assert dclus1.mean("api00").deff[0] == pytest.approx(survey_ref["apiclus1_mean_api00_deff"], rel=RTOL)


def test_two_stage_mean_matches_R_apiclus2_with_fpc1_fpc2(apiclus2, survey_ref):
    d = Design(apiclus2, psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])  # weights from fpc, as R
    m = d.mean("api00")
    ref = survey_ref["apiclus2_mean_api00"]
    assert m.estimate[0] == pytest.approx(ref["estimate"], rel=RTOL)
    assert m.se[0] == pytest.approx(_se(ref), rel=RTOL)
    one_stage = Design(apiclus2, weight="pw", psu="dnum", fpc="fpc1").mean("api00")
    assert one_stage.se[0] < m.se[0]  # the second stage adds variance


def test_missing_values_are_a_domain_not_dropped_rows(apistrat, dstrat):
    df = apistrat.copy()
    df.loc[df.index[:10], "api00"] = np.nan
    d = Design(df, weight="pw", strata="stype", fpc="fpc")
    with_nan = d.mean("api00")
    as_domain = dstrat.subset(df.api00.notna().to_numpy()).mean("api00")
    assert with_nan.estimate[0] == pytest.approx(as_domain.estimate[0], rel=1e-12)
    assert with_nan.se[0] == pytest.approx(as_domain.se[0], rel=1e-12)
    assert with_nan.n[0] == 190
    # Dropping the rows instead would shrink the design: the SE differs.
    dropped = Design(df[df.api00.notna()], weight="pw", strata="stype", fpc="fpc").mean("api00")
    assert dropped.estimate[0] == pytest.approx(with_nan.estimate[0])


def test_domain_subset_equals_by_group_estimate(dstrat, apistrat):
    by = dstrat.mean("api00", by="stype")
    sub = dstrat.subset((apistrat.stype == "H").to_numpy()).mean("api00")
    assert sub.se[0] == pytest.approx(by.se[1], rel=1e-12)


def test_compare_domains_matches_independent_strata_variance(dstrat):
    by = dstrat.mean("api00", by="stype")
    c = dstrat.compare("api00", by="stype", reference="E")
    assert list(c.stype) == ["H", "M"]
    se_h = np.hypot(by.se[0], by.se[1])  # strata are sampled independently: covariance 0
    assert c.se[0] == pytest.approx(se_h, rel=1e-12)
    assert c.difference[0] == pytest.approx(by.estimate[1] - by.estimate[0])
    assert 0 < c.p[0] < 0.05


def test_lonely_psu_rules(apistrat):
    first_h = apistrat.index[apistrat.stype == "H"][:1]
    df = apistrat[(apistrat.stype != "H") | apistrat.index.isin(first_h)]  # H keeps one school
    with pytest.raises(EstimationError, match="only one PSU"):
        Design(df, weight="pw", strata="stype").mean("api00")
    remove = Design(df, weight="pw", strata="stype", lonely_psu="remove").mean("api00")
    adjust = Design(df, weight="pw", strata="stype", lonely_psu="adjust").mean("api00")
    assert adjust.se[0] > remove.se[0]
    assert remove.lonely_psu[0] == "remove"


def test_bad_input_raises_sid_errors(apistrat):
    with pytest.raises(EstimationError, match="not in the data"):
        Design(apistrat, weight="nope")
    d = Design(apistrat, weight="pw", strata="stype")
    with pytest.raises(EstimationError, match="not numeric"):
        d.mean("stype")
    with pytest.raises(EstimationError, match="lonely_psu"):
        Design(apistrat, weight="pw", lonely_psu="average")
