"""Design.glm against R survey 4.1.1's svyglm, regTermTest, predict and svypredmeans
(tests/reference/r/svyglm.R writes svyglm.json): Taylor on apistrat, two-stage apiclus2,
a domain and a raked design; replicate (JK1, bootstrap) with R's own replicate weights."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sid.errors import EstimationError
from sid.estimation.design import Design

RTOL = 1e-9  # asked: 1e-8; sid is within 4e-11 of R on every figure here
RAKE = {"stype": {"E": 4421.0, "H": 755.0, "M": 1018.0}, "sch.wide": {"No": 1072.0, "Yes": 5122.0}}


@pytest.fixture(scope="module")
def ref(reference_dir):
    return json.loads((reference_dir / "r" / "svyglm.json").read_text())


@pytest.fixture(scope="module")
def api(reference_dir):
    return {k: pd.read_csv(reference_dir / f"{k}.csv") for k in ("apistrat", "apiclus1", "apiclus2")}


def check(model, r, rtol=RTOL):
    """Every figure of ``model`` against R's ``fit_ref`` (coefficients, SEs, t, p, df,
    confint, regTermTest F and chi-square)."""
    t = model.table
    assert t.term.tolist() == r["names"]
    assert model.df == r["df"]
    for col in ("estimate", "se", "t", "p"):
        np.testing.assert_allclose(t[col], r[col], rtol=rtol, err_msg=col)
    ci = np.asarray(r["ci"], float).T  # R: a p x 2 matrix, written row by row
    np.testing.assert_allclose(t.ci_low, ci[0], rtol=rtol)
    np.testing.assert_allclose(t.ci_high, ci[1], rtol=rtol)
    w = model.wald(r["wald"]["terms"]).iloc[0]
    assert (w.ndf, w.ddf) == (r["wald"]["ndf"], r["wald"]["ddf"])
    assert w.F == pytest.approx(r["wald"]["F"], rel=rtol)
    assert w.p == pytest.approx(r["wald"]["p"], rel=rtol)
    c = model.wald(r["wald"]["terms"], df=np.inf).iloc[0]
    assert c.chisq == pytest.approx(r["wald_chisq"]["chisq"], rel=rtol)
    assert c.p == pytest.approx(r["wald_chisq"]["p"], rel=rtol)


def check_predict(model, data, r):
    p = model.predict(data.iloc[np.asarray(r["rows"]) - 1], type="link" if model.family == "gaussian" else "response")
    np.testing.assert_allclose(p.estimate, r["estimate"], rtol=RTOL)
    np.testing.assert_allclose(p.se, r["se"], rtol=RTOL)


def check_predmeans(got, r, by="stype"):
    got = got.set_index(by).loc[r["levels"]]
    np.testing.assert_allclose(got.estimate, r["estimate"], rtol=RTOL)
    np.testing.assert_allclose(got.se, r["se"], rtol=RTOL)


LOGIT_STRAT = 'I(sch.wide == "Yes") ~ ell + meals + stype'


# -- Taylor -------------------------------------------------------------------------------
def test_linear_apistrat_matches_R_svyglm_regTermTest_predict_svypredmeans(api, ref):
    d = Design(api["apistrat"], weight="pw", strata="stype", fpc="fpc")
    m = d.glm("api00 ~ ell + meals + mobility")
    r = ref["apistrat_linear"]
    check(m, r)
    assert m.method == "taylor" and "odds_ratio" not in m.table
    check_predict(m, api["apistrat"], r["predict"])
    check_predmeans(m.predmeans("stype"), r["predmeans"])


def test_logistic_apistrat_matches_R_quasibinomial_and_binomial(api, ref):
    d = Design(api["apistrat"], weight="pw", strata="stype", fpc="fpc")
    r = ref["apistrat_logit"]
    m = d.glm(LOGIT_STRAT, family="quasibinomial")
    check(m, r)
    np.testing.assert_allclose(m.table.odds_ratio, np.exp(r["estimate"]), rtol=RTOL)
    np.testing.assert_allclose(m.table.or_ci_high, np.exp(np.asarray(r["ci"]).T[1]), rtol=RTOL)
    check_predict(m, api["apistrat"], r["predict"])
    adj = d.glm('I(sch.wide == "Yes") ~ ell + meals', family="quasibinomial")
    check_predmeans(adj.predmeans("stype"), r["predmeans"])
    check(d.glm(LOGIT_STRAT, family="binomial"), ref["apistrat_binomial"])


def test_poisson_apistrat_matches_R(api, ref):
    d = Design(api["apistrat"], weight="pw", strata="stype", fpc="fpc")
    check(d.glm("enroll ~ meals + stype", family="poisson"), ref["apistrat_poisson"])


def test_domain_glm_matches_R_svyglm_on_a_subset(api, ref):
    d = Design(api["apistrat"], weight="pw", strata="stype", fpc="fpc")
    sub = d.subset((api["apistrat"].stype != "E").to_numpy())
    check(sub.glm("api00 ~ ell + meals + mobility"), ref["apistrat_domain_not_E_linear"])


def test_two_stage_apiclus2_linear_and_logistic_with_missing_covariate(api, ref):
    d = Design(api["apiclus2"], psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    m = d.glm("api00 ~ ell + meals + mobility + stype")
    check(m, ref["apiclus2_linear"])
    check_predict(m, api["apiclus2"], ref["apiclus2_linear"]["predict"])
    lg = d.glm('I(sch.wide == "Yes") ~ ell + meals + enroll', family="quasibinomial")
    assert lg.n == int(api["apiclus2"].enroll.notna().sum())
    check(lg, ref["apiclus2_logit_enroll_missing"])


def test_raked_design_glm_is_calibration_aware_as_R(api, ref):
    d = Design(api["apiclus1"], weight="pw", psu="dnum", fpc="fpc").calibrate(RAKE, method="raking")
    check(d.glm("api00 ~ ell + meals + stype"), ref["apiclus1_raked_linear"])
    check(d.glm('I(sch.wide == "Yes") ~ ell + meals', family="quasibinomial"), ref["apiclus1_raked_logit"])


# -- replicate ----------------------------------------------------------------------------
def _given(df: pd.DataFrame, r: dict, weight: str, type: str) -> Design:
    W = np.asarray(r["factors"], float) * df[weight].to_numpy()[:, None]
    return Design.from_replicate_weights(df, weight, W, scale=r["scale"], rscales=r["rscales"], type=type)


def test_jk1_replicate_glm_matches_R_apiclus1(api, ref):
    r = ref["apiclus1_jk1"]
    d = _given(api["apiclus1"], r, "pw", "JK1")
    m = d.glm("api00 ~ ell + meals + stype")
    assert m.method == "JK1" and m.replicates.shape == (15, 5)
    check(m, r["linear"])
    check(d.glm('I(sch.wide == "Yes") ~ ell + meals', family="quasibinomial"), r["logit"])
    # sid's own JK1 replicates of the same design give the same figures
    own = Design(api["apiclus1"], weight="pw", psu="dnum", fpc="fpc").replicate("JK1")
    check(own.glm("api00 ~ ell + meals + stype"), r["linear"])


def test_jk1_replicate_glm_matches_R_two_stage_apiclus2(api, ref):
    r = ref["apiclus2_jk1"]
    df = api["apiclus2"].assign(pw=r["pw"])
    d = _given(df, r, "pw", "JK1")
    check(d.glm("api00 ~ ell + meals + mobility + stype"), r["linear"])
    check(d.glm('I(sch.wide == "Yes") ~ ell + meals + enroll', family="quasibinomial"), r["logit"])


def test_bootstrap_replicate_glm_matches_R_apistrat(api, ref):
    r = ref["apistrat_boot"]
    d = _given(api["apistrat"], r, "pw", "bootstrap")
    m = d.glm("api00 ~ ell + meals + mobility")
    check(m, r["linear"])
    check_predict(m, api["apistrat"], r["linear"]["predict"])
    check(d.glm(LOGIT_STRAT, family="quasibinomial"), r["logit"])


# -- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize("formula, family, message", [
    ("api00 ell", "gaussian", "has no '~'"),
    ("api00 ~ nosuch", "gaussian", "glm: formula 'api00 ~ nosuch'"),
    ("api00 ~ ell", "gamma", "family 'gamma' is not one of"),
    ("api00 ~ ell", "binomial", "needs a response in [0, 1]"),
    ("api00 ~ ell + I(2 * ell)", "gaussian", "rank deficient"),
    ("stype ~ ell", "gaussian", "has 3 categories"),
])
def test_glm_bad_input_raises_one_line(api, formula, family, message):
    d = Design(api["apistrat"], weight="pw", strata="stype", fpc="fpc")
    with pytest.raises(EstimationError) as exc:
        d.glm(formula, family=family)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_wald_unknown_term_names_the_terms(api):
    m = Design(api["apistrat"], weight="pw", strata="stype", fpc="fpc").glm("api00 ~ ell + meals")
    with pytest.raises(EstimationError, match="wald: term 'stype' is not in the model; terms: .*ell, meals"):
        m.wald("stype")


# -- the demo wave --------------------------------------------------------------------------
DEMO_LIN = "idx_language ~ origin + factor(sex) + age + factor(region)"
DEMO_LOGIT = "dutch_home ~ origin + age + factor(sex)"


def _check_demo(model, r):
    t = model.table
    assert t.term.tolist() == r["names"] and model.df == r["df"]
    for col in ("estimate", "se", "t", "p"):
        np.testing.assert_allclose(t[col], r[col], rtol=RTOL, err_msg=col)
    w = model.wald(r["wald"]["terms"]).iloc[0]
    assert (w.ndf, w.ddf) == (r["wald"]["ndf"], r["wald"]["ddf"])
    assert (w.F, w.p) == pytest.approx((r["wald"]["F"], r["wald"]["p"]), rel=RTOL)


def test_demo_wave_glm_matches_R_taylor_and_bootstrap(reference_dir):
    """sid's demo wave (tests/reference/demo_glm.csv, 7,578 respondents in 7 strata),
    linear and logistic, Taylor and 20 bootstrap replicates drawn by R."""
    ref = json.loads((reference_dir / "r" / "svyglm_demo.json").read_text())
    demo = pd.read_csv(reference_dir / "demo_glm.csv")
    d = Design(demo, weight="weight", strata="stratum")
    _check_demo(d.glm(DEMO_LIN), ref["taylor_linear"])
    _check_demo(d.glm(DEMO_LOGIT, family="quasibinomial"), ref["taylor_logit"])
    r = ref["boot"]
    b = _given(demo, r, "weight", "bootstrap")
    _check_demo(b.glm(DEMO_LIN), r["linear"])
    _check_demo(b.glm(DEMO_LOGIT, family="quasibinomial"), r["logit"])
