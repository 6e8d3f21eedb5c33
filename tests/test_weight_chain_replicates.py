"""The vectorised replicate chain against the chain's steps re-run one replicate column at a
time with the (n,) functions (adjust_eligibility, weighting_class_adjustment, calibrate,
trim_and_recalibrate) on the design weights times one global bootstrap_factors draw."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from test_weight_stage import ROOT, collapsed_cells, collapsed_frame_margins, shipped_spec

from sid.demo import make_demo
from sid.estimation.replicates import bootstrap_factors, jkn_factors
from sid.fieldwork import build_cases
from sid.spec.weighting import load_weighting
from sid.weighting.calibration import calibrate
from sid.weighting.chain import run_chain
from sid.weighting.compress import group_codes
from sid.weighting.eligibility import ELIGIBLE, adjust_eligibility
from sid.weighting.nonresponse import weighting_class_adjustment
from sid.weighting.replicate_chain import replicate_weights
from sid.weighting.trimming import trim_and_recalibrate

ROOT_SPEC = ROOT / "weights" / "sid2022.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("reps")
    make_demo(base / "data", scale=1)
    shipped_spec(base / "proj")
    return base


def _run(data, spec_path, psu=None):
    spec = load_weighting(spec_path)
    gross = pd.read_csv(data / "gross_sample.csv", dtype={"person_key": str})
    disp = pd.read_csv(data / "dispositions.csv", dtype={"person_key": str})
    frame = pd.read_csv(data / "register_population.csv")
    cases = build_cases(gross, disp[["person_key", "disposition", "mode"]], spec.dispositions,
                        key="person_key", disposition="disposition")
    responded = cases.outcome.isin(["I", "P"]).to_numpy()
    chain = run_chain(gross, cases.outcome, responded, frame, spec)
    return spec, chain, replicate_weights(chain, spec, None if psu is None else gross[psu].to_numpy())


@pytest.fixture(scope="module")
def setup(demo):
    return _run(demo / "data", demo / "proj" / "weights" / "sid2022.yaml")


@pytest.fixture(scope="module")
def trimming_setup(demo):
    """Margins sex and region, trimming to 0.4-2.5 x median: some replicate columns of the
    Romanian group are trimmed and re-calibrated (columns 6 and 54 among them)."""
    text = (demo / "proj" / "weights" / "sid2022.yaml").read_text(encoding="utf-8")
    text = (text.replace("ratio_to_median: 5.0", "ratio_to_median: 2.5")
            .replace("ratio_to_median: 0.2", "ratio_to_median: 0.4")
            .replace("max_rounds: 10", "max_rounds: 50")
            .replace("margins: [sex:age_band, region, generation]", "margins: [sex, region]"))
    path = demo / "trim.yaml"
    path.write_text(text, encoding="utf-8")
    return _run(demo / "data", path)


def _column_by_column(spec, chain, f, trimming=True):
    d = chain.design_weight * f
    el = adjust_eligibility(d, chain.status, chain.stratum)
    e = chain.status == ELIGIBLE
    nr = weighting_class_adjustment(el.weights[e], chain.responded[e], chain.nr_class[e])
    prior = nr.weights[chain.responded[e]]
    fr = f[chain.resp]
    out = np.empty(chain.resp.size)
    trim, cal = spec.trimming, spec.calibration
    for g in chain.groups:
        w = calibrate(prior[g.rows], g.X, g.totals, method=cal.method, tol=cal.tolerance).weights
        if not trimming:
            out[g.rows] = w
            continue
        v = np.where(fr[g.rows] > 0, w / np.where(fr[g.rows] > 0, fr[g.rows], 1), 0)
        med = np.median(v[v > 0])
        drawn = fr[g.rows] > 0
        # a side the spec leaves out is unbounded (0 for a unit the replicate did not draw)
        lo = np.where(drawn, trim.lower.value * med * fr[g.rows], 0.0) if trim.lower else np.where(drawn, -np.inf, 0.0)
        hi = np.where(drawn, trim.upper.value * med * fr[g.rows], 0.0) if trim.upper else np.where(drawn, np.inf, 0.0)
        out[g.rows] = trim_and_recalibrate(w, g.X, g.totals, lower=lo, upper=hi, method=cal.method,
                                           max_rounds=trim.max_rounds, tol=cal.tolerance,
                                           redistribute="proportional").weights
    return out


def _bootstrap(spec, chain):
    strata = group_codes(chain.stratum, "s")[0]
    return bootstrap_factors(strata, np.arange(strata.size), spec.replicates.replicates,
                             np.random.default_rng(spec.replicates.seed), method="subbootstrap").factors


def _check_columns(spec, chain, reps, columns, F=None):
    F = _bootstrap(spec, chain) if F is None else F
    assert reps.weights.shape == (chain.resp.size, F.shape[1])
    for r in columns:
        np.testing.assert_allclose(reps.weights[:, r], _column_by_column(spec, chain, F[:, r]), rtol=2e-6)
    # units a replicate did not draw keep weight 0
    assert (reps.weights[F[chain.resp] == 0] == 0).all()
    return reps, F


def test_replicate_columns_equal_the_chain_rerun_column_by_column(setup):
    _check_columns(*setup, (0, 37, 99))


def test_trimmed_replicate_columns_equal_the_chain_rerun_column_by_column(trimming_setup):
    spec, chain, reps = trimming_setup
    _, F = _check_columns(spec, chain, reps, (6, 54))
    rou = chain.groups[[g.label for g in chain.groups].index("ROU")].rows
    for r in (6, 54):  # trimming changed these columns (of this seed's Rao-Wu draw)
        untrimmed = _column_by_column(spec, chain, F[:, r], trimming=False)
        assert np.abs(reps.weights[rou, r] - untrimmed[rou]).max() > 1e-3 * untrimmed[rou].max()


ONE_SIDED = {"upper": 1.8, "lower": 0.85}  # x median: tight enough to trim the demo's full sample


def _one_sided(demo, side: str):
    """The shipped spec with only the ``side`` trimming bound (ONE_SIDED), margins sex and region."""
    text = (demo / "proj" / "weights" / "sid2022.yaml").read_text(encoding="utf-8")
    drop = {"upper": "  lower: {ratio_to_median: 0.2}\n", "lower": "  upper: {ratio_to_median: 5.0}\n"}[side]
    assert drop in text
    keep = {"upper": "ratio_to_median: 5.0", "lower": "ratio_to_median: 0.2"}[side]
    text = (text.replace(drop, "").replace(keep, f"ratio_to_median: {ONE_SIDED[side]}")
            .replace("margins: [sex:age_band, region, generation]", "margins: [sex, region]"))
    path = demo / f"trim_{side}_only.yaml"
    path.write_text(text, encoding="utf-8")
    return _run(demo / "data", path)


@pytest.mark.parametrize("side", ["upper", "lower"])
def test_one_sided_trimming_in_full_sample_and_replicates(demo, side):
    """Trimming with only an upper (or only a lower) bound: the full sample is trimmed to it
    and re-calibrated, and the replicate columns redo it (once crashed on -inf * 0 as "a
    lower bound is above its upper bound"), equal to the chain rerun column by column."""
    with np.errstate(invalid="raise"):  # no inf * 0 left in the bounds
        spec, chain, reps = _one_sided(demo, side)
    assert (spec.trimming.lower if side == "upper" else spec.trimming.upper) is None
    assert "trimming" in spec.replicates.redo
    # the full sample: some weights were trimmed, and all now satisfy the one bound
    assert chain.trimmed.any()
    b = ONE_SIDED[side]
    for g in chain.groups:
        w, med = chain.weight[g.rows], np.median(chain.calibrated[g.rows])
        assert (w.max() <= b * med * (1 + 1e-6)) if side == "upper" else (w.min() >= b * med * (1 - 1e-6))
    # the replicates: finite, meet the margins; settled columns equal the column-by-column rerun
    W = reps.weights.astype(float)
    assert np.isfinite(W).all()
    for g in chain.groups:
        err = np.abs(g.X.T @ W[g.rows] - g.totals[:, None]) / (1 + g.totals[:, None])
        assert err.max() < 1e-6
    unsettled = {c for u in reps.trimming_unsettled for c in u["columns"]}
    assert all(np.isfinite(u["max_bound_excess"]) for u in reps.trimming_unsettled)
    F = _bootstrap(spec, chain)
    columns = [r for r in range(F.shape[1]) if r not in unsettled][:4]
    changed = 0
    for r in columns:
        np.testing.assert_allclose(W[:, r], _column_by_column(spec, chain, F[:, r]), rtol=2e-6)
        untrimmed = _column_by_column(spec, chain, F[:, r], trimming=False)
        changed += np.abs(W[:, r] - untrimmed).max() > 1e-3 * untrimmed.max()
    assert changed  # trimming acted in the replicates too
    assert (W[F[chain.resp] == 0] == 0).all()


def test_replicate_columns_meet_every_margin(setup):
    spec, chain, reps = setup
    W = reps.weights.astype(float)
    for g in chain.groups:
        err = np.abs(g.X.T @ W[g.rows] - g.totals[:, None]) / (1 + g.totals[:, None])
        assert err.max() < 1e-6  # float32 storage: ~1e-7 relative


def test_jackknife_over_municipalities_equals_the_chain_rerun_column_by_column(demo):
    """A clustered variant: municipalities as PSUs (39 per origin group), delete-one-PSU
    jackknife (JKn: 273 replicates, rscales (n_h - 1)/n_h, scale 1)."""
    text = (demo / "proj" / "weights" / "sid2022.yaml").read_text(encoding="utf-8")
    text = (text.replace("psu: null", "psu: municipality").replace("method: bootstrap", "method: jackknife")
            .replace("replicates: 100", "replicates: 300"))
    path = demo / "jk.yaml"
    path.write_text(text, encoding="utf-8")
    spec, chain, reps = _run(demo / "data", path, psu="municipality")
    gross = pd.read_csv(demo / "data" / "gross_sample.csv")
    F = jkn_factors(group_codes(chain.stratum, "s")[0], gross["municipality"].to_numpy()).factors
    assert reps.type == "JKn" and reps.scale == 1.0 and F.shape[1] == 273
    np.testing.assert_allclose(reps.rscales, 38 / 39)
    _check_columns(spec, chain, reps, (0, 150, 272), F)


@pytest.fixture(scope="module")
def sparse_setup(tmp_path_factory):
    """The demo at scale 0.1 (about 110 respondents per group; a handful in many sex x age
    cells) with the shipped spec: collapsing, merged propensity classes and replicate
    trimming (two columns that do not settle in 50 rounds) are exercised."""
    base = tmp_path_factory.mktemp("sparse")
    make_demo(base / "data", seed=2022, scale=0.1)
    return _run(base / "data", ROOT_SPEC)


def test_sparse_demo_replicates_meet_collapsed_margins_recomputed_from_frame(sparse_setup, tmp_path_factory):
    spec, chain, reps = sparse_setup
    assert chain.collapses and all(c.respondents >= 20 for c in chain.collapses)
    data = next(p for p in tmp_path_factory.getbasetemp().glob("sparse*/data"))
    frame = pd.read_csv(data / "register_population.csv")
    gross = pd.read_csv(data / "gross_sample.csv", dtype={"person_key": str}).iloc[chain.resp]
    df = gross.reset_index(drop=True).assign(origin=lambda d: d.stratum)
    collapsed = [c.as_dict() for c in chain.collapses]
    W = pd.DataFrame(reps.weights.astype(float))
    for vars_ in (("sex", "age_band"), ("region",), ("generation",)):
        pop = collapsed_frame_margins(frame, collapsed, vars_)
        got = W.groupby([df.origin, collapsed_cells(df, collapsed, vars_)]).sum()
        got = got.reindex(pop.index, fill_value=0.0).to_numpy()
        assert (np.abs(got - pop.to_numpy()[:, None]) / pop.to_numpy()[:, None]).max() < 1e-5


def test_unsettled_replicate_columns_reported_are_those_outside_the_trimming_bounds(sparse_setup):
    """Recompute each column's bounds by hand (0.2-5 x the group's median of w / f of the
    calibrated, untrimmed column, times f): exactly the reported columns have weights
    outside them."""
    spec, chain, reps = sparse_setup
    F = _bootstrap(spec, chain)[chain.resp]
    W = reps.weights.astype(float)
    untrimmed = replicate_weights(chain, replace(spec, trimming=None)).weights.astype(float)
    reported = {(u["group"], c) for u in reps.trimming_unsettled for c in u["columns"]}
    found = set()
    for g in chain.groups:
        f, w = F[g.rows], W[g.rows]
        v = np.where(f > 0, w / np.where(f > 0, f, 1), np.nan)
        med = np.nanmedian(np.where(f > 0, untrimmed[g.rows] / np.where(f > 0, f, 1), np.nan), axis=0)
        out = (f > 0) & ((v > 5.0 * med * (1 + 1e-5)) | (v < 0.2 * med * (1 - 1e-5)))
        found |= {(g.label, int(r)) for r in np.flatnonzero(out.any(axis=0))}
    assert found == reported and reported  # the sparse demo has columns that do not settle
    assert np.abs(W - untrimmed).max() > 0  # and trimming did act in the replicates
    assert f"{len({c for _, c in reported})} of 100 columns keep weights outside" in reps.description
