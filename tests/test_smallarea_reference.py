"""Fay-Herriot fits against an independent implementation: the R script
tests/reference/r/fay_herriot.R (written from Rao & Molina 2015, ch. 6, with the explicit
m x m projection P) on its 40-area data set, and samplics' EblupAreaModel when installed."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sid.smallarea import eblup, fit_fh, gamma, mse, synthetic

CASES = [("REML", "y", "REML"), ("ML", "y", "ML"), ("flat_REML", "y_flat", "REML"), ("flat_ML", "y_flat", "ML")]
TOL = 1e-6


@pytest.fixture(scope="module")
def data(reference_dir: Path) -> tuple[pd.DataFrame, np.ndarray, dict]:
    d = pd.read_csv(reference_dir / "r" / "fay_herriot.csv")
    ref = json.loads((reference_dir / "r" / "fay_herriot.json").read_text())
    return d, np.column_stack([np.ones(len(d)), d["x1"], d["x2"]]), ref


def _fit(data, key, col, method):
    d, X, ref = data
    return fit_fh(d[col], d["psi"], X, method=method), d, X, ref[key]


@pytest.mark.parametrize("key,col,method", CASES)
def test_sigma2_u_and_beta_match_r(data, key, col, method):
    f, _, _, r = _fit(data, key, col, method)
    assert f.sigma2_u == pytest.approx(r["sigma2_u"], abs=TOL)
    np.testing.assert_allclose(f.beta, r["beta"], atol=TOL, rtol=0)
    assert f.iterations == r["iterations"]


@pytest.mark.parametrize("key,col,method", CASES)
def test_eblup_and_gamma_match_r(data, key, col, method):
    f, d, X, r = _fit(data, key, col, method)
    np.testing.assert_allclose(eblup(f, d[col], d["psi"], X), r["eblup"], atol=TOL, rtol=0)
    np.testing.assert_allclose(gamma(f, d["psi"]), r["gamma"], atol=TOL, rtol=0)


@pytest.mark.parametrize("key,col,method", CASES)
def test_mse_prasad_rao_and_datta_lahiri_match_r(data, key, col, method):
    f, d, X, r = _fit(data, key, col, method)
    np.testing.assert_allclose(mse(f, d["psi"], X), r["mse"], atol=TOL, rtol=0)
    np.testing.assert_allclose(synthetic(f, X)[1], r["synthetic_mse"], atol=TOL, rtol=0)


def test_flat_data_truncate_sigma2_u_at_zero(data):
    f, d, X, r = _fit(data, "flat_REML", "y_flat", "REML")
    assert r["sigma2_u"] == 0 and f.sigma2_u == 0 and f.truncated
    # sigma2_u = 0: the EBLUP is the synthetic estimate x'beta
    np.testing.assert_allclose(eblup(f, d["y_flat"], d["psi"], X), X @ f.beta, atol=1e-12)


def test_ml_mse_exceeds_its_prasad_rao_part_by_the_bias_term(data):
    """Datta-Lahiri adds -b_ML (1 - gamma)^2 > 0 to g1 + g2 + 2 g3 (b_ML < 0)."""
    f, d, X, r = _fit(data, "ML", "y", "ML")
    pr = np.array(r["g1"]) + np.array(r["g2"]) + 2 * np.array(r["g3"])
    assert (mse(f, d["psi"], X) > pr).all()


# REML only: samplics 0.6's ML Fisher scoring stops after 2 steps with "precision 0" at
# sigma2_u = 1.1469 (start 0.001) or 1.1645 (start 1), where the ML score is still 0.054;
# the ML maximiser (sid, the R script and a bounded 1-D optimiser of the ML likelihood agree)
# is 1.16543.
@pytest.mark.parametrize("method", ["REML"])
def test_matches_samplics_eblup_area_model(data, method):
    pytest.importorskip("samplics")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from samplics.sae import EblupAreaModel
        from samplics.utils.types import FitMethod
        d, X, _ = data
        m = EblupAreaModel(method=FitMethod(method))
        m.fit(yhat=d["y"].to_numpy(), X=X[:, 1:], area=d["area"].to_numpy(),
              error_std=np.sqrt(d["psi"].to_numpy()), tol=1e-12, maxiter=200)
        m.predict(X=X[:, 1:], area=d["area"].to_numpy())
    f = fit_fh(d["y"], d["psi"], X, method=method)
    assert f.sigma2_u == pytest.approx(m.re_std ** 2, abs=TOL)
    np.testing.assert_allclose(f.beta, m.fixed_effects, atol=TOL, rtol=0)
    np.testing.assert_allclose(eblup(f, d["y"], d["psi"], X), [m.area_est[a] for a in d["area"]], atol=TOL, rtol=0)
    np.testing.assert_allclose(mse(f, d["psi"], X), [m.area_mse[a] for a in d["area"]], atol=TOL, rtol=0)
