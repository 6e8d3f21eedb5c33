"""Several variables per estimator call (sid.estimation.multi) vs per-variable calls and R.

The list form stacks all variables in one product with the replicate weights (and one
Taylor influence matrix); every row must equal the separate call's row, bit for bit (the
same sums in the same order; 1e-12 was asked), for variables with different missing
rows, on Taylor, calibrated and replicate designs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.errors import EstimationError
from sid.estimation import estimators
from sid.estimation.design import Design

STYPE = {"E": 4421, "H": 755, "M": 1018}
MARGINS = {"stype": STYPE, "sch.wide": {"No": 1072, "Yes": 5122}}
NUMERIC = ["a_few_missing", "b_half_missing", "enroll"]
CATEGORICAL = ["s_missing", "stype", "awards"]


@pytest.fixture(scope="module")
def apiclus1(reference_dir):
    df = pd.read_csv(reference_dir / "apiclus1.csv")
    rng = np.random.default_rng(7)
    df["a_few_missing"] = df["api00"].where(rng.random(len(df)) > 0.1)
    df["b_half_missing"] = df["api99"].where(rng.random(len(df)) > 0.5)
    df["s_missing"] = df["stype"].where(rng.random(len(df)) > 0.3)
    return df


@pytest.fixture(scope="module")
def designs(apiclus1):
    d = Design(apiclus1, weight="pw", psu="dnum", fpc="fpc")
    raked = d.calibrate(MARGINS, method="raking")
    given = Design.calibrated(apiclus1.assign(w_final=raked.weights), weight="w_final", prior="pw",
                              margins=MARGINS, psu="dnum", fpc="fpc")
    return {
        "taylor": d,
        "taylor_calibrate": d.calibrate({"stype": STYPE, "api99": 3914069}, method="linear"),
        "taylor_calibrated": given,
        "JK1": d.replicate("JK1"),
        "JK1_raked": d.replicate("JK1").calibrate(MARGINS, method="raking"),
        "taylor_subset": d.subset(apiclus1["enroll"] > 300),
        "JK1_subset": d.replicate("JK1").subset(apiclus1["enroll"] > 300),
        "bootstrap": Design(apiclus1, weight="pw", strata="stype", psu="dnum").replicate(
            "bootstrap", replicates=40, seed=3),
    }


@pytest.mark.parametrize("name", ["taylor", "taylor_calibrate", "taylor_calibrated", "taylor_subset", "JK1",
                                  "JK1_raked", "JK1_subset", "bootstrap"])
@pytest.mark.parametrize("by", [None, "sch.wide", ["sch.wide", "both"]])
def test_list_of_variables_equals_per_variable_calls(designs, name, by):
    d = designs[name]
    for stat, variables in (("mean", NUMERIC), ("total", NUMERIC), ("proportion", CATEGORICAL)):
        multi = getattr(d, stat)(variables, by=by)
        separate = pd.concat([getattr(d, stat)(v, by=by) for v in variables], ignore_index=True)
        pd.testing.assert_frame_equal(multi, separate, check_exact=True)
        # The variables' missing rows differ: their counts must differ too.
        assert multi.groupby("variable", sort=False)["n"].sum().nunique() == 3


def test_korn_graubard_intervals_of_a_list_equal_per_variable_calls(designs):
    d = designs["JK1"]
    multi = d.proportion(CATEGORICAL, by="sch.wide", ci="korn-graubard")
    separate = pd.concat([d.proportion(v, by="sch.wide", ci="korn-graubard") for v in CATEGORICAL],
                         ignore_index=True)
    pd.testing.assert_frame_equal(multi, separate, check_exact=True)


def test_batches_split_wide_lists_and_keep_rows(designs, monkeypatch):
    monkeypatch.setattr(estimators, "MAX_BATCH_COLUMNS", 4)  # stype (3) + awards (2): two batches
    d = designs["bootstrap"]
    multi = d.proportion(CATEGORICAL, by="sch.wide")
    separate = pd.concat([d.proportion(v, by="sch.wide") for v in CATEGORICAL], ignore_index=True)
    pd.testing.assert_frame_equal(multi, separate, check_exact=True)


def test_list_means_match_R_svymean_and_JK1_apiclus1(reference_dir, survey_ref):
    df = pd.read_csv(reference_dir / "apiclus1.csv")
    d = Design(df, weight="pw", psu="dnum", fpc="fpc")
    raked = d.calibrate(MARGINS, method="raking").mean(["enroll", "api00"])
    ref = survey_ref["apiclus1_rake_stype_schwide"]["mean_api00"]
    assert raked.estimate[1] == pytest.approx(ref["estimate"], rel=1e-8)
    assert raked.se[1] == pytest.approx(float(np.ravel(ref["se"])[0]), rel=1e-8)
    jk = d.replicate("JK1").mean(["enroll", "api00"])
    assert jk.estimate[1] == pytest.approx(survey_ref["apiclus1_JK1_mean_api00"]["estimate"], rel=1e-8)
    assert jk.se[1] == pytest.approx(survey_ref["apiclus1_JK1_mean_api00"]["se"], rel=1e-8)


def test_list_errors_name_the_variable(designs, apiclus1):
    d = designs["JK1"]
    with pytest.raises(EstimationError, match="twice"):
        d.mean(["enroll", "enroll"])
    with pytest.raises(EstimationError, match="non-empty list"):
        d.mean([])
    with pytest.raises(EstimationError, match="'stype' is not numeric"):
        d.mean(["enroll", "stype"])
    empty = d.with_columns({"nothing": np.full(len(apiclus1), np.nan)})
    with pytest.raises(EstimationError, match="'nothing'"):
        empty.mean(["enroll", "nothing"])


def test_replicate_totals_of_all_variables_come_from_one_product(designs, monkeypatch):
    from sid.estimation import multi

    calls = []
    real = multi.group_totals

    def counting(values, g, rows, G, w):
        if np.ndim(w) == 2:
            calls.append(values.shape[1])
        return real(values, g, rows, G, w)

    monkeypatch.setattr(multi, "group_totals", counting)
    designs["JK1"].mean(NUMERIC, by="sch.wide")
    # 3 value columns + the mask of the half-missing variable (the others: cached totals).
    assert calls == [4]
