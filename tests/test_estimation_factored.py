"""Replicate weights kept as factors over PSUs (sid.estimation.factored) equal the n x R array.

A Design's PSU-level replicates (bootstrap, JKn) are stored as base weights times a
(pattern x R) table; calibration refines the patterns to (PSU, cell) pairs. Every result
must equal the same design computed on the dense n x R replicate weights.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.estimation.design import Design, _Replicates
from sid.estimation.factored import FactoredWeights
from tests.clustered_wave import make_wave


@pytest.fixture(scope="module")
def wave():
    g = pd.concat([make_wave(seed=5)[0]] * 5, ignore_index=True)  # 100 persons per PSU
    g["stratum"] = g["origin"] + g["province"]
    rng = np.random.default_rng(1)
    g["y"] = rng.normal(10, 2, len(g)) + g["sex"]
    g["cat"] = rng.integers(1, 4, len(g))
    margins = {}
    for v in ("sex", "age_band"):
        t = g.groupby(["origin", v])["design_weight"].sum() * 1.1
        margins[f"origin:{v}"] = {f"{o}:{c}": float(x) for (o, c), x in t.items()}
    return g, margins


def _dense_twin(d: Design) -> Design:
    r = d._rep
    return d._derive(_rep=_Replicates(r.type, r.scale, r.rscales, r.mse, np.asarray(r.weights), r.degf))


def _results(d: Design) -> pd.DataFrame:
    return pd.concat([d.mean("y"), d.mean("y", by="origin"), d.proportion("cat", by="province"),
                      d.total("y", by="stratum")], ignore_index=True)


@pytest.mark.parametrize("kind", ["subbootstrap", "bootstrap", "JKn"])
@pytest.mark.parametrize("method", ["raking", "linear"])
def test_factored_replicates_equal_dense_replicate_weights(wave, kind, method):
    g, margins = wave
    d = Design(g, weight="design_weight", strata="stratum", psu="municipality").replicate(kind, replicates=30, seed=4)
    assert isinstance(d._rep.weights, FactoredWeights)  # 30 PSUs for 3,000 rows: factored
    dense = _dense_twin(d)
    a, b = d.calibrate(margins, method=method), dense.calibrate(margins, method=method)
    assert isinstance(a._rep.weights, FactoredWeights)
    np.testing.assert_allclose(np.asarray(a._rep.weights), b._rep.weights, rtol=1e-12, atol=0)
    ra, rb = _results(a), _results(b)
    np.testing.assert_allclose(ra["estimate"], rb["estimate"], rtol=1e-12, atol=0)
    # Replicate SEs come from differences theta_r - mean of nearly equal replicate
    # estimates (JKn: all but one PSU shared), which magnify the rounding of the sums
    # (summed per pattern here, per row there) some thousand-fold: 1e-11, not 1e-12.
    for col in ("se", "ci_low", "ci_high", "deff"):
        np.testing.assert_allclose(ra[col], rb[col], rtol=1e-11, atol=0, err_msg=col)
    assert a.degf == b.degf


def test_bounded_calibration_of_factored_replicates_equals_dense(wave):
    g, margins = wave
    d = Design(g, weight="design_weight", strata="stratum", psu="municipality").replicate("JKn")
    a = d.calibrate(margins, method="logit", bounds=(0.5, 2.0))
    b = _dense_twin(d).calibrate(margins, method="logit", bounds=(0.5, 2.0))
    np.testing.assert_allclose(np.asarray(a._rep.weights), b._rep.weights, rtol=1e-12, atol=0)


def test_every_row_its_own_psu_keeps_the_dense_array(wave):
    g, margins = wave
    d = Design(g, weight="design_weight", strata="stratum").replicate("subbootstrap", replicates=10, seed=1)
    assert isinstance(d._rep.weights, np.ndarray)
    assert isinstance(d.calibrate(margins, method="raking")._rep.weights, np.ndarray)


def test_factored_weights_rows_and_dense_agree():
    rng = np.random.default_rng(0)
    W = FactoredWeights(rng.uniform(1, 5, 50), rng.integers(0, 7, 50), rng.uniform(0, 2, (7, 4)))
    full = np.asarray(W)
    assert full.shape == W.shape == (50, 4)
    rows = np.array([3, 0, 49])
    np.testing.assert_array_equal(W[rows], full[rows])
    np.testing.assert_array_equal(W[full[:, 0] > 1], full[full[:, 0] > 1])
    np.testing.assert_allclose(W.group_sum(np.arange(50) % 3, 3), np.stack([full[np.arange(50) % 3 == k].sum(0)
                                                                             for k in range(3)]), rtol=1e-13)
