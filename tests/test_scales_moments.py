"""Masked item moments against pandas (pairwise) and numpy (weighted) computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.errors import EstimationError
from sid.scales.factor import fit_one_factor, omega_total
from sid.scales.moments import item_moments


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    rng = np.random.default_rng(11)
    x = rng.integers(1, 7, size=(5_000, 4)).astype(float) + rng.standard_normal((5_000, 1))
    x[rng.random(x.shape) < 0.15] = np.nan
    return x


def test_pairwise_cov_and_cor_match_pandas_pairwise(data):
    mom = item_moments(data, missing="pairwise")
    frame = pd.DataFrame(data)
    np.testing.assert_allclose(mom.cov, frame.cov().to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(mom.pair_cor, frame.corr().to_numpy(), rtol=1e-10)
    np.testing.assert_array_equal(np.diag(mom.n_pair), (~np.isnan(data)).sum(axis=0))


def test_complete_case_weighted_cov_matches_numpy_aweights(data):
    rng = np.random.default_rng(5)
    w = rng.uniform(0.5, 30, size=len(data))
    mom = item_moments(data, weight=w, missing="complete")
    keep = ~np.isnan(data).any(axis=1)
    m = keep.sum()
    biased = np.cov(data[keep], rowvar=False, aweights=w[keep], bias=True)  # sum w dx dy / sum w
    np.testing.assert_allclose(mom.cov, biased * m / (m - 1), rtol=1e-10)
    assert mom.n == m


def test_pairwise_weighted_entry_matches_direct_weighted_formula(data):
    rng = np.random.default_rng(6)
    w = rng.uniform(0.5, 30, size=len(data))
    mom = item_moments(data, weight=w)
    both = ~np.isnan(data[:, 0]) & ~np.isnan(data[:, 2])
    a, b, ww = data[both, 0], data[both, 2], w[both]
    ma, mb = np.average(a, weights=ww), np.average(b, weights=ww)
    m = both.sum()
    expected = np.sum(ww * (a - ma) * (b - mb)) / ww.sum() * m / (m - 1)
    assert mom.cov[0, 2] == pytest.approx(expected, rel=1e-10)


def test_minres_recovers_exact_one_factor_structure_and_omega_formula():
    lam = np.array([0.9, 0.7, 0.5, 0.3, -0.4])
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    model = fit_one_factor(r)
    sign = np.sign(model.loadings[0])
    np.testing.assert_allclose(model.loadings * sign, lam, atol=1e-9)
    assert model.rmsr < 1e-9
    # McDonald: omega = (sum |l|)^2 / ((sum |l|)^2 + sum(1 - l^2)) for a one-factor model
    expected = np.abs(lam).sum() ** 2 / (np.abs(lam).sum() ** 2 + np.sum(1 - lam**2))
    assert omega_total(r, model) == pytest.approx(expected, rel=1e-9)


def test_moments_refuse_items_without_common_respondents():
    x = np.array([[1.0, np.nan], [2.0, np.nan], [np.nan, 1.0], [np.nan, 3.0]])
    with pytest.raises(EstimationError, match="fewer than two respondents answered both"):
        item_moments(x, names=["a", "b"])


def test_moments_refuse_an_item_nobody_answered():
    x = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, np.nan]])
    with pytest.raises(EstimationError, match="item b: 0 valid answer"):
        item_moments(x, names=["a", "b"])


def test_heywood_case_is_reported_when_a_loading_hits_the_uniqueness_bound():
    # r_ab r_ac / r_bc = 0.9 * 0.9 / 0.6 > 1: the exact one-factor loading of a exceeds 1
    r = np.array([[1.0, 0.9, 0.9], [0.9, 1.0, 0.6], [0.9, 0.6, 1.0]])
    model = fit_one_factor(r)
    assert model.heywood[0] and not model.heywood[1:].any()
    assert model.loadings[0] == pytest.approx(np.sqrt(0.995))
