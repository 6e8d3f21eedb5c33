"""Counts per category, svytable, svyvar and svycontrast against R survey 4.1.1
(tests/reference/r/estimators_more.R writes estimators_more.json)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import sid
from sid.errors import EstimationError
from sid.estimation.design import Design

RTOL = 1e-9


@pytest.fixture(scope="module")
def ref(reference_dir):
    return json.loads((reference_dir / "r" / "estimators_more.json").read_text())


@pytest.fixture(scope="module")
def dclus1(reference_dir):
    return Design(pd.read_csv(reference_dir / "apiclus1.csv"), weight="pw", psu="dnum", fpc="fpc")


@pytest.fixture(scope="module")
def dstrat(reference_dir):
    return Design(pd.read_csv(reference_dir / "apistrat.csv"), weight="pw", strata="stype", fpc="fpc")


def test_count_per_category_matches_R_svytotal_of_a_factor(dclus1, ref):
    r = ref["apiclus1_count_stype"]
    c = dclus1.count("stype")
    assert c.category.tolist() == ["E", "H", "M"]
    np.testing.assert_allclose(c.estimate, r["estimate"], rtol=RTOL)
    np.testing.assert_allclose(c.se, r["se"], rtol=RTOL)
    np.testing.assert_allclose(c.deff, r["deff"], rtol=RTOL)
    r = ref["apiclus1_count_stype_by_schwide"]
    b = dclus1.count("stype", by="sch.wide")
    assert b["sch.wide"].tolist() == ["No"] * 3 + ["Yes"] * 3
    np.testing.assert_allclose(b.estimate, r["estimate"], rtol=RTOL)
    np.testing.assert_allclose(b.se, r["se"], rtol=RTOL)


def test_crosstab_matches_R_svytable(dclus1, ref):
    r = ref["apiclus1_svytable"]
    t = dclus1.crosstab("sch.wide", "stype")
    assert t.index.tolist() == r["rows"] and t.columns.tolist() == r["cols"]
    np.testing.assert_allclose(t.to_numpy(), r["table"], rtol=RTOL)
    np.testing.assert_allclose(dclus1.crosstab("sch.wide", "stype", total=1000).to_numpy(),
                               r["table_ntotal_1000"], rtol=RTOL)


def test_var_matches_R_svyvar_whole_missing_and_by_domain(dclus1, ref):
    v = dclus1.var("api00").iloc[0]
    assert (v.estimate, v.se) == pytest.approx((ref["apiclus1_svyvar_api00"]["estimate"],
                                                ref["apiclus1_svyvar_api00"]["se"]), rel=RTOL)
    assert v.variable == "api00" and np.isnan(v.deff)
    v = dclus1.var("avg.ed").iloc[0]
    assert (v.estimate, v.se) == pytest.approx((ref["apiclus1_svyvar_avged_narm"]["estimate"],
                                                ref["apiclus1_svyvar_avged_narm"]["se"]), rel=RTOL)
    b = dclus1.var("api00", by="stype")
    np.testing.assert_allclose(b.estimate, ref["apiclus1_svyvar_api00_by_stype"]["estimate"], rtol=RTOL)
    np.testing.assert_allclose(b.se, ref["apiclus1_svyvar_api00_by_stype"]["se"], rtol=RTOL)


def test_contrast_of_domain_means_matches_R_svycontrast(dclus1, ref):
    r = ref["apiclus1_contrast_means_by_stype"]
    m = dclus1.mean("api00", by="stype")
    np.testing.assert_allclose(m.attrs["vcov"].matrix, r["vcov"], rtol=RTOL)
    c = sid.contrast(m, {"E_minus_H": [1, -1, 0], "avg": [1 / 3, 1 / 3, 1 / 3]})
    assert c.contrast.tolist() == ["E_minus_H", "avg"]
    np.testing.assert_allclose(c.estimate, r["estimate"], rtol=RTOL)
    np.testing.assert_allclose(c.se, r["se"], rtol=RTOL)
    # rows selected from the frame keep their covariance; labels name rows
    sub = m[m.stype != "M"]
    one = sid.contrast(sub, {0: 1.0, 1: -1.0}).iloc[0]
    assert one.se == pytest.approx(r["se"][0], rel=RTOL)


def test_contrast_of_two_means_and_of_glm_coefficients_matches_R(dstrat, ref):
    m = dstrat.mean(["api00", "api99"])
    both = sid.contrast(m, [1, -1]).iloc[0]
    assert both.estimate == pytest.approx(ref["apistrat_contrast_api00_api99"]["estimate"], rel=RTOL)
    assert np.isnan(both.se)  # covariance between variables of one call is not computed
    g = dstrat.glm("api00 ~ ell + meals")
    c = sid.contrast(g, {"ell": 1, "meals": -1}).iloc[0]
    assert c.estimate == pytest.approx(ref["apistrat_contrast_glm_ell_meals"]["estimate"], rel=RTOL)
    assert c.se == pytest.approx(ref["apistrat_contrast_glm_ell_meals"]["se"], rel=RTOL)
    assert c.df == g.df


def test_contrast_bad_input_one_line(dclus1):
    m = dclus1.mean("api00", by="stype")
    cases = [(m, [1, -1]), (m, {"Z": 1}), (m.reset_index(drop=True).assign(estimate=0.0), [1, -1, 0]),
             (pd.DataFrame({"estimate": [1.0]}), [1])]
    for frame, spec in cases:
        with pytest.raises(EstimationError) as exc:
            sid.contrast(frame, spec)
        assert str(exc.value).startswith("contrast") and "\n" not in str(exc.value)
