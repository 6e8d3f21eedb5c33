"""sid.smallarea.register_gvf (design variances from the register composition and from the
realised weights), the safeguarded Fisher scoring and the adjusted REML (Li-Lahiri)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.errors import EstimationError
from sid.smallarea import fay_herriot, fit_fh
from sid.smallarea.fh import _score_info
from sid.smallarea.register_gvf import (
    anticipated_variances,
    group_moments,
    realised_variances,
    register_cells,
)


def _population(seed=5):
    """3 strata (means 20, 50, 80; SDs 5, 10, 15) over 4 areas with different mixes."""
    rng = np.random.default_rng(seed)
    N = np.array([[3000, 200, 100], [500, 1500, 800], [100, 100, 2500], [2000, 2000, 2000]])
    rows = [(a, h) for a in range(4) for h in range(3) for _ in range(N[a, h])]
    pop = pd.DataFrame(rows, columns=["area", "h"])
    pop["y"] = np.array([20.0, 50, 80])[pop["h"]] + np.array([5.0, 10, 15])[pop["h"]] * rng.standard_normal(len(pop))
    return pop, N


def test_anticipated_variance_is_the_repeated_sampling_variance_of_the_area_mean():
    """Stratified SRS of 150 per stratum, 600 draws: the formula's psi_i (register counts,
    pooled moments) against the empirical variance of the weighted area mean."""
    pop, N = _population()
    rng = np.random.default_rng(1)
    Nh = N.sum(axis=0)
    idx = [np.flatnonzero(pop["h"].to_numpy() == h) for h in range(3)]
    est, psi = [], []
    for _ in range(600):  # Monte Carlo draws
        s = pop.iloc[np.concatenate([rng.choice(i, 150, replace=False) for i in idx])]
        w = Nh[s["h"].to_numpy()] / 150.0
        g = pd.DataFrame({"a": s["area"].to_numpy(), "wy": w * s["y"].to_numpy(), "w": w}).groupby("a").sum()
        est.append((g["wy"] / g["w"]).reindex(range(4)).to_numpy())
        p, m, k = anticipated_variances(pd.DataFrame(N, columns=["0", "1", "2"]),
                                        group_moments(s["y"], w, s["h"].astype(str)))
        psi.append(p)
    ratio = np.mean(psi, axis=0) / np.var(est, axis=0, ddof=1)
    assert np.all((ratio > 0.88) & (ratio < 1.15)), ratio  # ~1 + f_h (no fpc), 600 draws: +-8 %
    # the composition term matters: without it area 3 (an even mix) would be far too small
    s2 = np.array([25.0, 100, 225])
    no_mix = (N * (Nh / 150.0) * s2).sum(axis=1) / N.sum(axis=1) ** 2
    assert no_mix[3] < 0.5 * np.var(est, axis=0, ddof=1)[3]


def test_anticipated_k_is_one_over_n_under_simple_random_sampling():
    mom = pd.DataFrame({"mu": [0.3], "s2": [0.21], "r": [10.0], "n": [100]}, index=["A"])
    psi, m, k = anticipated_variances(pd.DataFrame({"A": [500.0, 2000.0]}), mom)
    np.testing.assert_allclose(k, [10 / 500, 10 / 2000])  # expected respondents 50 and 200
    np.testing.assert_allclose(psi, 0.21 * k)
    np.testing.assert_allclose(m, 0.3)


def test_realised_variance_is_pooled_s2_times_sum_w2_over_sum_w_squared():
    y = np.array([1.0, 3, 5, 2, 4, np.nan])
    w = np.array([1.0, 1, 2, 3, 3, 1])
    cells = np.array(["a", "a", "a", "b", "b", "b"])
    mom = group_moments(y, w, cells)
    area = np.array([7, 7, 8, 8, 8, 7])
    psi, m, k = realised_variances(area, y, w, cells, mom, [7, 8, 9])
    s2a, s2b = mom.loc["a", "s2"], mom.loc["b", "s2"]
    assert psi[0] == pytest.approx((1 * s2a + 1 * s2a) / 2 ** 2)
    assert psi[1] == pytest.approx((4 * s2a + 9 * s2b + 9 * s2b) / 8 ** 2)
    assert k[1] == pytest.approx(22 / 64) and np.isnan(psi[2])
    # weighted moments: mu_a = (1 + 3 + 10) / 4, s2 with n / (n - 1)
    assert mom.loc["a", "mu"] == pytest.approx(3.5)
    assert mom.loc["a", "s2"] == pytest.approx((2.5 ** 2 + 0.5 ** 2 + 2 * 1.5 ** 2) / 4 * 3 / 2)


def test_cells_read_from_data_and_from_a_counts_file_agree():
    assert list(register_cells(pd.Series([1.0, 2.0]), ["BEL", "MAR"])) == list(register_cells(["1", "2"], ["BEL", "MAR"]))
    assert list(register_cells(["BEL"], [1])) == ["BEL:1"]


def test_a_group_without_respondents_is_a_one_line_error_naming_it():
    mom = pd.DataFrame({"mu": [1.0], "s2": [1.0], "r": [1.0], "n": [5]}, index=["BEL:1"])
    with pytest.raises(EstimationError) as e:
        anticipated_variances(pd.DataFrame({"BEL:1": [10.0], "AFG:1": [3.0]}), mom, "idx_language")
    assert "\n" not in str(e.value) and "'AFG:1'" in str(e.value) and "idx_language" in str(e.value)


def test_register_gvf_without_variances_and_a_zero_variance_are_one_line_errors():
    y, n, X = np.array([1.0, 2, 3, 4]), np.array([5, 5, 5, 5]), np.column_stack([np.ones(4), [0, 1, 0, 1.0]])
    with pytest.raises(EstimationError, match="needs the anticipated variances"):
        fay_herriot(list("abcd"), y, np.ones(4), n, X, gvf_model="register")
    zero = (np.array([1.0, 0, 1, 1]), np.ones(4), np.ones(4))
    with pytest.raises(EstimationError) as e:
        fay_herriot(list("abcd"), y, np.ones(4), n, X, gvf_model="weights", anticipated=zero, name="nl_thuis")
    assert "\n" not in str(e.value) and "'b'" in str(e.value) and "arcsine" in str(e.value)


# plain Fisher scoring cycles between 0 and ~0.46 on these 12 areas (found by search)
_Y = np.array([50.4, 53.72, 44.86, 47.49, 46.16, 53.3, 55.39, 47.72, 51.91, 53.01, 53.91, 51.37])
_PSI = np.array([8.49, 12.46, 14.42, 12.59, 8.94, 9.12, 13.1, 18.4, 1.44, 2.25, 15.35, 9.46])
_X = np.column_stack([np.ones(12), [0.4204, 0.9259, 0.2739, 0.06, 0.3105, 0.7182, 0.781, 0.5387, 0.3117, 0.9163,
                                    0.9281, 0.4365]])


def _plain_fisher_converges(y, psi, X, steps=300):
    s2 = float(np.median(psi))
    for _ in range(steps):  # the former algorithm, for contrast
        score, info = _score_info(y, psi, X, s2, "REML")
        new = max(0.0, s2 + score / info)
        if abs(new - s2) <= 1e-10 * max(1.0, new):
            return True
        s2 = new
    return False


def test_reml_converges_where_plain_fisher_scoring_cycles():
    if _plain_fisher_converges(_Y, _PSI, _X):
        pytest.skip("plain Fisher scoring converges on this data here: the case does not cycle")
    fit = fit_fh(_Y, _PSI, _X, method="REML")
    score, _ = _score_info(_Y, _PSI, _X, fit.sigma2_u, "REML")
    assert fit.sigma2_u > 0 and abs(score) < 1e-6


def test_adjusted_reml_is_positive_where_reml_truncates():
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(30), rng.uniform(0, 1, 30)])
    psi = np.full(30, 4.0)
    y = X @ [10.0, 2.0] + rng.normal(0, 1, 30)  # sampling errors smaller than psi: REML gives 0
    assert fit_fh(y, psi, X, method="REML").sigma2_u == 0.0
    adj = fit_fh(y, psi, X, method="AdjREML")
    score, _ = _score_info(y, psi, X, adj.sigma2_u, "AdjREML")
    assert adj.sigma2_u > 0 and not adj.truncated and abs(score) < 1e-6
