"""Chain steps on the scale-1 demo recomputed by hand with pandas group sums: eligibility
and weighting-class factors, absolute trimming bound with re-calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_weight_stage import collapsed_cells, collapsed_frame_margins, shipped_spec

from sid.demo import make_demo
from sid.fieldwork import build_cases
from sid.spec.weighting import load_weighting
from sid.weighting.chain import run_chain


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("steps")
    make_demo(base / "data", scale=1)
    shipped_spec(base / "proj")
    data = base / "data"
    gross = pd.read_csv(data / "gross_sample.csv", dtype={"person_key": str})
    disp = pd.read_csv(data / "dispositions.csv", dtype={"person_key": str})
    frame = pd.read_csv(data / "register_population.csv")
    return base, gross, disp, frame


def _chain(demo, old_new=()):
    base, gross, disp, frame = demo
    text = (base / "proj" / "weights" / "sid2022.yaml").read_text(encoding="utf-8")
    for old, new in old_new:
        assert old in text
        text = text.replace(old, new)
    path = base / f"s{abs(hash(text))}.yaml"
    path.write_text(text, encoding="utf-8")
    spec = load_weighting(path)
    cases = build_cases(gross, disp[["person_key", "disposition", "mode"]], spec.dispositions,
                        key="person_key", disposition="disposition")
    responded = cases.outcome.isin(["I", "P"]).to_numpy()
    return cases, responded, frame, run_chain(gross, cases.outcome, responded, frame, spec)


def test_eligibility_and_weighting_class_factors_match_group_sums(demo):
    cases, responded, frame, ch = _chain(demo, [
        ("method: propensity_classes", "method: weighting_classes"),
        ("predictors: [sex, age_band, region, generation]\n  classes: 5\n  min_respondents: 20", "predictors: [sex]")])
    df = cases.assign(d=frame.groupby("origin")["count"].sum().reindex(cases.stratum).to_numpy()
                      / cases.groupby("stratum")["stratum"].transform("size").to_numpy())
    np.testing.assert_allclose(ch.design_weight, df.d, rtol=1e-12)
    elig = df.outcome.isin(["I", "P", "R", "NC", "O"])
    unknown = df.outcome.isin(["UH", "UO"])
    known = df.d.where(~unknown, 0).groupby(df.stratum).transform("sum")
    e_factor = np.where(elig, 1 + df.d.where(unknown, 0).groupby(df.stratum).transform("sum") / known, 0)
    np.testing.assert_allclose(ch.eligibility_factor, e_factor, rtol=1e-12)
    we = df.d * e_factor
    cls = [df.stratum, df.sex]
    nr = we.groupby(cls).transform("sum") / we.where(responded, 0).groupby(cls).transform("sum")
    np.testing.assert_allclose(ch.nonresponse_factor, np.where(responded & elig, nr, 0), rtol=1e-12)
    np.testing.assert_allclose(ch.prior, (we * nr).to_numpy()[ch.resp], rtol=1e-12)


def test_absolute_upper_bound_trims_and_recalibrates(demo):
    cases, responded, frame, ch = _chain(demo, [
        ("upper: {ratio_to_median: 5.0}", "upper: {absolute: 4000}"),
        ("redo: [nonresponse, calibration, trimming]", "redo: [nonresponse, calibration]")])
    bel = ch.cal_group == "BEL"
    assert ch.calibrated[bel].max() > 4000 and ch.trimmed[bel].any() and not ch.trimmed[~bel].any()
    assert ch.weight.max() <= 4000 * (1 + 1e-6)
    g = cases.iloc[ch.resp].assign(w=ch.weight, origin=lambda d: d.stratum)
    collapsed = [c.as_dict() for c in ch.collapses]  # the full sample's merges, applied to the frame
    for vars_ in (("sex", "age_band"), ("region",), ("generation",)):
        pop = collapsed_frame_margins(frame, collapsed, vars_)
        got = g.assign(cell=collapsed_cells(g, collapsed, vars_)).groupby(["origin", "cell"])["w"].sum()
        np.testing.assert_allclose(got.reindex(pop.index), pop, rtol=1e-8)
