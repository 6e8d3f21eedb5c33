"""Design.from_replicate_weights and Design.with_columns vs R survey 4.1.1 and by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.errors import EstimationError
from sid.estimation.design import Design

RTOL = 1e-8


@pytest.fixture(scope="module")
def apiclus1(reference_dir):
    return pd.read_csv(reference_dir / "apiclus1.csv")


@pytest.fixture(scope="module")
def apistrat(reference_dir):
    return pd.read_csv(reference_dir / "apistrat.csv")


def _jk1_by_hand(df: pd.DataFrame) -> tuple[np.ndarray, float]:
    """JK1 replicate weights of a one-stage cluster sample: PSU r deleted, the others'
    weights times n/(n-1); R's scale (n-1)/n times the fpc factor 1 - n/N (as.svrepdesign
    of a design with fpc, which the reference used)."""
    psus = np.unique(df["dnum"])
    n = psus.shape[0]
    w = df["pw"].to_numpy(float)
    W = np.where(df["dnum"].to_numpy()[:, None] == psus[None, :], 0.0, w[:, None] * n / (n - 1))
    N = float(df["fpc"].iloc[0])
    return W, (n - 1) / n * (1 - n / N)


def test_given_jk1_weights_match_R_as_svrepdesign_JK1_apiclus1(apiclus1, survey_ref):
    ref = survey_ref["apiclus1_JK1_mean_api00"]
    W, scale = _jk1_by_hand(apiclus1)
    d = Design.from_replicate_weights(apiclus1, "pw", W, scale=scale, type="JK1")
    m = d.mean("api00")
    assert m.estimate[0] == pytest.approx(ref["estimate"], rel=RTOL)
    assert m.se[0] == pytest.approx(ref["se"], rel=RTOL)
    assert m.method[0] == "JK1" and m.df[0] == 14  # rank 15 replicates - 1, R's degf
    # The same weights given as column names.
    cols = [f"rep{r}" for r in range(W.shape[1])]
    df = pd.concat([apiclus1, pd.DataFrame(W, columns=cols)], axis=1)
    m2 = Design.from_replicate_weights(df, "pw", cols, scale=scale, type="JK1").mean("api00")
    assert m2.se[0] == pytest.approx(ref["se"], rel=RTOL)


def test_given_replicates_variance_with_mse_and_rscales_by_hand(apistrat):
    rng = np.random.default_rng(3)
    w = apistrat["pw"].to_numpy(float)
    W = w[:, None] * rng.uniform(0.3, 1.7, (len(apistrat), 12))
    rscales = rng.uniform(0.5, 1.5, 12)
    y = apistrat["api00"].to_numpy(float)
    theta = (w @ y) / w.sum()
    thetas = (W.T @ y) / W.sum(axis=0)
    for mse, centre in ((False, thetas.mean()), (True, theta)):
        d = Design.from_replicate_weights(apistrat, "pw", W, scale=0.25, rscales=rscales, mse=mse)
        m = d.mean("api00")
        want = np.sqrt(0.25 * np.sum(rscales * (thetas - centre) ** 2))
        assert m.estimate[0] == pytest.approx(theta, rel=1e-12)
        assert m.se[0] == pytest.approx(want, rel=1e-10)
        assert m.method[0] == "bootstrap" and m.df[0] == 11


@pytest.mark.parametrize("kwargs, message", [
    ({"replicate_weights": np.ones((5, 3)), "scale": 1.0}, "shape"),
    ({"replicate_weights": "negative", "scale": 1.0}, "negative in row 4"),
    ({"replicate_weights": "ok", "scale": 0.0}, "scale"),
    ({"replicate_weights": "ok", "scale": 1.0, "rscales": [1.0, 2.0]}, "rscales"),
    ({"replicate_weights": "ok", "scale": 1.0, "type": "jackknife"}, "type"),
    ({"replicate_weights": ["pw", "nope"], "scale": 1.0}, "'nope'"),
    ({"replicate_weights": np.ones((200, 1)), "scale": 1.0}, "at least 2"),
])
def test_given_replicates_refuse_bad_input_by_name(apistrat, kwargs, message):
    W = np.tile(apistrat["pw"].to_numpy(float)[:, None], (1, 4))
    if isinstance(kwargs["replicate_weights"], str):
        if kwargs["replicate_weights"] == "negative":
            W[4, 2] = -1.0
        kwargs = {**kwargs, "replicate_weights": W}
    with pytest.raises(EstimationError, match=message):
        Design.from_replicate_weights(apistrat, "pw", **kwargs)


def test_with_columns_keeps_design_and_matches_R_svymean_apistrat(apistrat, survey_ref):
    d = Design(apistrat, weight="pw", strata="stype", fpc="fpc")
    ref = survey_ref["apistrat_mean_api00"]
    # Positional alignment: the DataFrame's own index is ignored.
    extra = pd.DataFrame({"score": apistrat["api00"].to_numpy()}, index=np.arange(len(apistrat))[::-1])
    m = d.with_columns(extra).mean("score")
    assert m.estimate[0] == pytest.approx(ref["estimate"], rel=RTOL)
    assert m.se[0] == pytest.approx(float(np.ravel(ref["se"])[0]), rel=RTOL)
    assert m.df[0] == 197
    assert "score" not in d.data.columns  # the original design is unchanged


def test_with_columns_keeps_calibration_and_replicates_R_apiclus1(apiclus1, survey_ref):
    margins = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1072, "Yes": 5122}}
    dclus1 = Design(apiclus1, weight="pw", psu="dnum", fpc="fpc")
    score = {"score": apiclus1["api00"].to_numpy()}
    raked = dclus1.calibrate(margins, method="raking").with_columns(score).mean("score")
    ref = survey_ref["apiclus1_rake_stype_schwide"]["mean_api00"]
    assert raked.estimate[0] == pytest.approx(ref["estimate"], rel=RTOL)
    assert raked.se[0] == pytest.approx(float(np.ravel(ref["se"])[0]), rel=RTOL)
    rep = dclus1.replicate("JK1").calibrate(margins, method="raking").with_columns(score).mean("score")
    ref = survey_ref["apiclus1_JK1_raked_mean_api00"]
    assert rep.se[0] == pytest.approx(ref["se"], rel=RTOL) and rep.method[0] == "JK1"


def test_with_columns_replaced_by_variable_regroups_and_design_columns_are_protected(apistrat):
    d = Design(apistrat, weight="pw", strata="stype", fpc="fpc")
    first = d.mean("api00", by="sch.wide")
    assert list(first["sch.wide"]) == ["No", "Yes"]
    flipped = np.where(apistrat["sch.wide"] == "Yes", "No", "Yes")
    again = d.with_columns({"sch.wide": flipped}).mean("api00", by="sch.wide")
    # Groups are recomputed from the new column, not taken from the cache of the old one.
    np.testing.assert_allclose(again["estimate"].to_numpy(), first["estimate"].to_numpy()[::-1], rtol=1e-12)
    with pytest.raises(EstimationError, match="'pw' is a design column"):
        d.with_columns({"pw": np.ones(len(apistrat))})
    with pytest.raises(EstimationError, match="shape"):
        d.with_columns({"z": np.ones(3)})


def test_given_replicates_domain_means_with_missing_values_by_hand(apistrat):
    """Replicate means by group of a variable with missing values (the denominators come
    from cached group totals of the replicate weights minus the rows left out)."""
    rng = np.random.default_rng(11)
    w = apistrat["pw"].to_numpy(float)
    W = w[:, None] * rng.uniform(0.5, 1.5, (len(apistrat), 20))
    y = apistrat["api00"].to_numpy(float).copy()
    y[rng.uniform(size=y.shape[0]) < 0.05] = np.nan
    d = Design.from_replicate_weights(apistrat.assign(y=y), "pw", W, scale=1 / 19)
    for _ in range(2):  # the second call reads the cached totals
        m = d.mean("y", by="stype")
        for row in m.itertuples():
            keep = (apistrat["stype"].to_numpy() == row.stype) & ~np.isnan(y)
            theta = (w[keep] @ y[keep]) / w[keep].sum()
            thetas = (W[keep].T @ y[keep]) / W[keep].sum(axis=0)
            assert row.estimate == pytest.approx(theta, rel=1e-12)
            assert row.se == pytest.approx(np.sqrt(np.sum((thetas - thetas.mean()) ** 2) / 19), rel=1e-9)
