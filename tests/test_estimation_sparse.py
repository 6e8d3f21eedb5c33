"""Sparse Taylor covariances (influence columns kept sparse, calibration as x - A beta)
equal the dense computation (centred n x k cluster totals, residuals formed row by row)
on the demo wave: every cell's covariance, for plain, raked and GREG-calibrated designs,
element and cluster sampling. The figures themselves are checked against R in
test_estimation_taylor.py and test_estimation_calibrated.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from sid.demo import make_demo
from sid.estimation.design import Design
from sid.estimation.estimators import categories_of, groups, numeric
from sid.estimation.linear import ratio_estimate
from sid.estimation.taylor import recvar
from sid.io.spss import read_spss


@pytest.fixture(scope="module")
def respondents(tmp_path_factory):
    paths = make_demo(tmp_path_factory.mktemp("demo") / "wave", seed=7, scale=0.2)
    gross = pd.read_csv(paths["gross_sample.csv"], dtype={"person_key": str})
    web = read_spss(paths["sid2022_web.sav"], user_missing=False)[0]
    web["person_key"] = web["person_key"].astype(str)
    web = web.drop_duplicates("person_key")[["person_key", "q_lang_home", "q_trust_parl", "q_discr_work"]]
    df = gross.merge(web, on="person_key", how="inner")
    pop = pd.read_csv(paths["register_population.csv"])
    t = pop.groupby(["origin", "sex"])["count"].sum()
    margins = {"origin:sex": {f"{o}:{int(c)}": float(n) for (o, c), n in t.items()},
               "age_band": {str(int(c)): float(n) for c, n in pop.groupby("age_band")["count"].sum().items()}}
    return df, margins


def _dense_vcov(design: Design, U: sp.spmatrix) -> np.ndarray:
    """The dense path: residualise the n x k influence array, centre n x k totals."""
    X = U.toarray()
    for resid in design._residualisers:
        X = resid(X)
    return recvar(X, design._stages, design.lonely_psu)


def _both(design: Design, Y: np.ndarray, dom: np.ndarray, by) -> tuple[np.ndarray, np.ndarray]:
    g, labels, _ = groups(design, by)
    got = []
    res = ratio_estimate(Y, np.ones_like(Y), dom, g, len(labels), design.weights,
                         variance=lambda U: (got.append(U), design._taylor_vcov(U))[1])
    return res.vcov, _dense_vcov(design, got[0])


@pytest.mark.parametrize("psu", [None, "municipality"])
def test_sparse_covariances_equal_dense_on_the_demo(respondents, psu):
    df, margins = respondents
    base = Design(df, weight="design_weight", strata="origin", psu=psu, lonely_psu="adjust")
    designs = {
        "plain": base,
        "raked": base.calibrate(margins, method="raking"),
        "greg": base.calibrate(margins, method="linear"),
    }
    for name, d in designs.items():
        y = numeric(d, "q_trust_parl")
        codes, cats = categories_of(d, "q_lang_home")
        Yp = (codes[:, None] == np.arange(cats.shape[0])[None, :]).astype(float)
        cases = [
            (np.nan_to_num(y)[:, None], ~np.isnan(y), None),
            (np.nan_to_num(y)[:, None], ~np.isnan(y), "origin"),
            (Yp, codes >= 0, ["origin", "sex"]),
        ]
        for Y, dom, by in cases:
            sparse_v, dense_v = _both(d, Y, dom, by)
            scale = np.sqrt(np.outer(np.diag(dense_v), np.diag(dense_v)))
            # Relative to each cell's variance (entries of a zero-variance cell: absolute).
            err = np.abs(sparse_v - dense_v) / np.where(scale > 0, scale, 1.0)
            assert err.max() < 1e-9, (name, by, float(err.max()))
            se_s, se_d = np.sqrt(np.diag(sparse_v)), np.sqrt(np.diag(dense_v))
            np.testing.assert_allclose(se_s, se_d, rtol=1e-10, atol=1e-12 * se_d.max(), err_msg=f"{name} {by}")


def test_block_products_equal_dense_products_by_hand():
    from sid.estimation.blocks import Blocks

    rng = np.random.default_rng(5)
    n, G, m, p = 60, 4, 3, 5
    g = rng.integers(0, G, n)
    inside = rng.uniform(size=n) < 0.8
    dense = np.zeros((n, G * m))
    for j in range(m):
        dense[inside, g[inside] * m + j] = rng.normal(size=inside.sum())
    T = sp.csr_matrix(dense)  # normal draws are never 0: every filled row keeps its m cells
    blocks = Blocks.of(T)
    assert blocks is not None and blocks.m == m
    c = rng.uniform(size=n)
    np.testing.assert_allclose(blocks.cross(c), dense.T @ (c[:, None] * dense), rtol=1e-13, atol=1e-13)
    L = sp.random(n, p, density=0.3, random_state=1, format="csr")
    np.testing.assert_allclose(blocks.left(L, c), L.toarray().T @ (c[:, None] * dense), rtol=1e-13, atol=1e-13)
    # A row spanning two groups is not a block layout: the general products are used.
    assert Blocks.of(sp.csr_matrix(np.eye(n, G * m) + np.eye(n, G * m, 1))) is None
