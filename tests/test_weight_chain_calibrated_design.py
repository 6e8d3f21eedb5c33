"""Design.calibrated (final weights given, calibration not re-solved) vs R survey 4.1.1."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.errors import EstimationError
from sid.estimation.design import Design

STYPE = {"E": 4421, "H": 755, "M": 1018}
MARGINS = {"stype": STYPE, "api99": 3914069}


@pytest.fixture(scope="module")
def apiclus1(reference_dir):
    return pd.read_csv(reference_dir / "apiclus1.csv")


def test_calibrated_with_R_raked_weights_gives_R_calibrate_raking_se_apiclus1(apiclus1, survey_ref):
    ref = survey_ref["apiclus1_calibrate_raking_stype_api99"]
    df = apiclus1.assign(weight=np.asarray(ref["weights"], dtype=float))
    d = Design.calibrated(df, weight="weight", prior="pw", margins=MARGINS, method="raking",
                          psu="dnum", fpc="fpc")
    m = d.mean("api00")
    assert m.estimate[0] == pytest.approx(ref["mean_api00"]["estimate"], rel=1e-8)
    assert m.se[0] == pytest.approx(float(np.ravel(ref["mean_api00"]["se"])[0]), rel=1e-6)
    np.testing.assert_array_equal(d.weights, df["weight"].to_numpy())


def test_calibrated_refuses_weights_that_miss_the_margins(apiclus1):
    with pytest.raises(EstimationError, match="misses margin 'stype=H'"):
        Design.calibrated(apiclus1, weight="pw", prior="pw", margins=MARGINS, psu="dnum", fpc="fpc")
    with pytest.raises(EstimationError, match="margins"):
        Design.calibrated(apiclus1, weight="pw", prior="pw", margins={}, psu="dnum")
