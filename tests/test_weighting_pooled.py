"""Pooled calibration (calibration.pooled): the joint system of within-group margins and
pooled margins against independent computations: raking by plain iterative proportional
fitting over all margins, linear calibration by the closed form w = d (1 + x'lambda) with
lambda from the normal equations; replicate columns checked against the margins by
bincount; the demo at scale 0.3 through `sid weight` and open_wave(taylor)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_weight_stage import ROOT, collapsed_cells, collapsed_frame_margins

from sid.cli import main
from sid.demo import make_demo
from sid.errors import SpecError, WeightingError
from sid.estimation.design import Design
from sid.estimation.replicates import bootstrap_factors
from sid.runfolder.wave import open_wave
from sid.spec.weighting import load_weighting
from sid.weighting.chain import run_chain
from sid.weighting.replicate_chain import replicate_weights
from tests.projects import copy_project

SPEC = """wave: toy
sample: {{frame: f.csv, frame_count: count, gross_sample: g.csv, dispositions: d.csv, key: k,
          disposition: disposition, strata: [stratum], frame_strata: [origin]}}
dispositions: {{COMPLETE: "1.1", REFUSAL: "2.11"}}
nonresponse: {{method: none}}
calibration:
  within: stratum
  method: {method}
  margins: [sex]
  tolerance: 1.0e-10
  max_iter: 200
  pooled: {pooled}
{extra}"""


def _spec(tmp_path, method="raking", pooled="{margins: [region:sex]}", extra=""):
    p = tmp_path / f"s{abs(hash((method, pooled, extra)))}.yaml"
    p.write_text(SPEC.format(method=method, pooled=pooled, extra=extra), encoding="utf-8")
    return load_weighting(p)


def _toy(n: dict, seed: int = 7):
    rng = np.random.default_rng(seed)
    gross = pd.DataFrame({
        "stratum": np.repeat(["A", "B"], [n["A"], n["B"]]),
        "sex": rng.integers(1, 3, n["A"] + n["B"]),
        "region": np.r_[rng.choice([1, 2, 3], n["A"], p=[0.6, 0.3, 0.1]),
                        rng.choice([1, 2, 3], n["B"], p=[0.2, 0.3, 0.5])],
    })
    cells = pd.MultiIndex.from_product([["A", "B"], [1, 2], [1, 2, 3]], names=["origin", "sex", "region"])
    frame = pd.DataFrame(index=cells).reset_index()
    frame["count"] = rng.integers(50, 400, len(frame)).astype(float)
    return gross, frame


@pytest.fixture(scope="module")
def toy():
    """Two origin groups, 40 and 60 respondents; sex and region drawn so that the groups'
    region x sex mixes differ from the population's (the pooled margins must move weights)."""
    return _toy({"A": 40, "B": 60})


def _X(gross: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Cell codes of the two margins: origin x sex (0..3) and region x sex (0..5)."""
    o = (gross["stratum"] == "B").to_numpy().astype(int)
    s = gross["sex"].to_numpy() - 1
    r = gross["region"].to_numpy() - 1
    return o * 2 + s, r * 2 + s


def _totals(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    o = (frame["origin"] == "B").to_numpy().astype(int)
    s, r = frame["sex"].to_numpy() - 1, frame["region"].to_numpy() - 1
    c = frame["count"].to_numpy()
    return np.bincount(o * 2 + s, c, 4), np.bincount(r * 2 + s, c, 6)


def _ipf(d, codes, totals, sweeps=2000):
    w = d.copy()
    for _ in range(sweeps):
        for c, t in zip(codes, totals, strict=True):
            w = w * (t / np.bincount(c, w, t.size))[c]
    return w


def _run(gross, frame, spec):
    outcome = np.full(len(gross), "I", dtype=object)
    return run_chain(gross, outcome, np.ones(len(gross), bool), frame, spec)


def test_pooled_raking_equals_plain_ipf_over_group_and_pooled_margins(toy, tmp_path):
    gross, frame = toy
    ch = _run(gross, frame, _spec(tmp_path))
    codes, totals = _X(gross), _totals(frame)
    d = np.where(gross["stratum"] == "A", frame[frame.origin == "A"]["count"].sum() / 40,
                 frame[frame.origin == "B"]["count"].sum() / 60)
    np.testing.assert_allclose(ch.prior, d, rtol=1e-12)
    np.testing.assert_allclose(ch.weight, _ipf(d, codes, totals), rtol=1e-8)
    for c, t in zip(codes, totals, strict=True):  # both kinds of margins met
        np.testing.assert_allclose(np.bincount(c, ch.weight, t.size), t, rtol=1e-9)
    # the pooled step moved the weights: group-wise raking on sex alone misses region:sex
    alone = _run(gross, frame, _spec(tmp_path, pooled="false"))
    assert np.abs(np.bincount(codes[1], alone.weight, 6) - totals[1]).max() > 1.0
    assert set(ch.margins) == {"stratum:sex", "region:sex"}
    assert [c["group"] for c in ch.convergence] == ["A", "B", "(pooled)"]


def test_pooled_linear_equals_closed_form_normal_equations(toy, tmp_path):
    gross, frame = toy
    ch = _run(gross, frame, _spec(tmp_path, method="linear"))
    codes, totals = _X(gross), _totals(frame)
    X = np.hstack([np.eye(4)[codes[0]], np.eye(6)[codes[1]]])
    T = np.r_[totals[0], totals[1]]
    d = ch.prior
    # X'DX lambda = T - X'd; the system is consistent but rank-deficient (both margins sum to N)
    lam = np.linalg.lstsq(X.T @ (d[:, None] * X), T - X.T @ d, rcond=None)[0]
    np.testing.assert_allclose(ch.weight, d * (1 + X @ lam), rtol=1e-8)
    np.testing.assert_allclose(X.T @ ch.weight, T, rtol=1e-9)


def test_pooled_replicate_columns_equal_plain_ipf_of_their_bootstrap_priors(toy, tmp_path):
    gross, frame = toy
    extra = "replicates: {method: bootstrap, replicates: 12, seed: 3, redo: [calibration]}\n"
    spec = _spec(tmp_path, extra=extra)
    ch = _run(gross, frame, spec)
    W = replicate_weights(ch, spec).weights.astype(float)
    assert W.shape == (100, 12)
    # the same Rao-Wu draw (one call over all strata, seed 3): prior of column r = d * f_r
    f = bootstrap_factors(np.unique(ch.stratum, return_inverse=True)[1], np.arange(100), 12,
                          np.random.default_rng(3), method="subbootstrap").factors
    codes, totals = _X(gross), _totals(frame)
    for r in range(12):
        np.testing.assert_allclose(W[:, r], _ipf(ch.prior * f[:, r], codes, totals), rtol=1e-5, atol=1e-6)
        for c, t in zip(codes, totals, strict=True):  # both kinds of margins met
            np.testing.assert_allclose(np.bincount(c, W[:, r], t.size), t, rtol=1e-5)


def test_pooled_totals_that_disagree_with_group_totals_name_both_margins(toy, tmp_path):
    gross, frame = toy
    bad = frame.copy()
    bad["region"] = bad["region"].astype(float)
    bad.loc[0, "region"] = np.nan  # a frame cell without region: pooled region:sex lacks it
    with pytest.raises(WeightingError, match=r"pooled margin 'region:sex' disagrees with margin 'sex'.*sex=1"):
        _run(gross, bad, _spec(tmp_path))


def test_pooled_margin_variable_missing_names_the_margin(toy, tmp_path):
    gross, frame = toy
    with pytest.raises(WeightingError, match=r"pooled margin 'religion'.*frame has no column 'religion'"):
        _run(gross, frame, _spec(tmp_path, pooled="{margins: [religion]}"))
    with pytest.raises(WeightingError, match=r"pooled margin 'religion'.*not in the gross sample"):
        _run(gross, frame.assign(religion=1), _spec(tmp_path, pooled="{margins: [religion]}"))


def test_pooled_spec_forms(tmp_path):
    assert _spec(tmp_path, pooled="false").calibration.pooled is None
    p = _spec(tmp_path, pooled="{margins: [region:sex, region], method: raking}").calibration.pooled
    assert p.margin_names() == ("region:sex", "region")
    with pytest.raises(SpecError, match="pooled: true does not say"):
        _spec(tmp_path, pooled="true")
    with pytest.raises(SpecError, match="one joint calibration with one method"):
        _spec(tmp_path, pooled="{margins: [region], method: linear}")
    with pytest.raises(SpecError, match="includes the calibration group"):
        _spec(tmp_path, pooled="{margins: [stratum:sex]}")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("pooled")
    data, out, proj = base / "data", base / "run", base / "proj"
    make_demo(data, scale=0.3)
    copy_project(proj)
    text = (ROOT / "weights" / "sid2022.yaml").read_text(encoding="utf-8")
    assert "  pooled: false\n" in text
    text = text.replace("  pooled: false\n", "  pooled: {margins: [region:sex]}\n")
    text = text.replace("replicates: 100", "replicates: 20")
    (proj / "weights" / "sid2022.yaml").write_text(text, encoding="utf-8")
    assert main(["ingest", *map(str, sorted(data.glob("*.sav"))), "--out", str(out)]) == 0
    assert main(["clean", "--out", str(out), "--project", str(ROOT), "--data", str(data)]) == 0
    assert main(["weight", "--out", str(out), "--project", str(proj), "--data", str(data)]) == 0
    return data, out


def test_demo_pooled_region_sex_and_group_margins_hold_recomputed_from_frame(demo_run):
    data, out = demo_run
    frame = pd.read_csv(data / "register_population.csv")
    w = pd.read_parquet(out / "weight" / "weights.parquet")
    gross = pd.read_csv(data / "gross_sample.csv", dtype={"person_key": str})
    df = w.merge(gross.drop(columns=["stratum"]), on="person_key")
    diag = json.loads((out / "weight" / "diagnostics.json").read_text())
    collapsed = diag["calibration"]["collapse"]["collapsed"]
    assert not [c for c in collapsed if c["group"] == "(pooled)"]  # region x sex cells are large
    for vars_ in [("sex", "age_band"), ("region",), ("generation",)]:
        pop = collapsed_frame_margins(frame, collapsed, vars_)
        got = (df.assign(cell=collapsed_cells(df, collapsed, vars_)).groupby(["origin", "cell"])["weight"]
               .sum().reindex(pop.index, fill_value=0.0))
        np.testing.assert_array_less(np.abs(got - pop), 1e-7 * (1 + pop))
    pop = frame.groupby(["region", "sex"])["count"].sum()
    got = df.groupby(["region", "sex"])["weight"].sum().reindex(pop.index, fill_value=0.0)
    np.testing.assert_array_less(np.abs(got - pop), 1e-7 * (1 + pop))
    assert "region:sex" in diag["calibration"]["margins"]
    m = pd.read_csv(out / "weight" / "diagnostics_margins.csv")
    pooled = m[m["stratum"] == "(pooled)"]
    assert len(pooled) == len(pop) and (pooled["rel_diff_after"].abs() < 1e-7).all()
    reps = pd.read_parquet(out / "weight" / "replicates.parquet")
    R = reps.filter(like="rep_").to_numpy(dtype=float)
    rows = df.set_index("person_key").loc[reps["person_key"]]
    cell = rows["region"].astype(str).to_numpy() + ":" + rows["sex"].astype(str).to_numpy()
    sums = pd.DataFrame(R).groupby(cell).sum()
    want = pop.copy()
    want.index = [f"{a}:{b}" for a, b in pop.index]
    np.testing.assert_allclose(sums.loc[want.index].to_numpy(), np.repeat(want.to_numpy()[:, None], R.shape[1], 1),
                               rtol=1e-5)


def test_demo_pooled_open_wave_taylor_accepts_the_joint_margins(demo_run):
    _, out = demo_run
    wave = open_wave(out, variance="taylor")  # Design.calibrated checks the weights meet every margin
    info = wave.diagnostics["calibration"]
    assert {"stratum:sex:age_band", "stratum:region", "region:sex"} <= set(info["margins"])
    assert info["pooled"]["margins"] == ["region:sex"]
    assert wave.diagnostics["convergence"][-1]["group"] == "(pooled)"
    # GREG linearisation (Deville & Saerndal 1992): the estimated total of a calibration
    # variable has residual 0, so its Taylor SE is 0 when the pooled margins are in the
    # design's calibration model; the origin-group totals of it are not calibrated
    d = wave.design
    cell = ((d.data["region"].astype(float) == 1) & (d.data["sex"].astype(float) == 1)).astype(float)
    t = d.with_columns({"r1s1": cell}).total("r1s1")
    assert float(t["se"].iloc[0]) < 1e-6 * float(t["estimate"].iloc[0])
    # the same weights with the group margins only in the model: the cell total has an SE
    groups_only = {k: v for k, v in info["margins"].items() if k != "region:sex"}
    d2 = Design.calibrated(d.data.assign(r1s1=cell), prior="prior_weight", margins=groups_only,
                           method=info["method"], strata="stratum")
    assert float(d2.total("r1s1")["se"].iloc[0]) > 1e-3 * float(t["estimate"].iloc[0])


def test_pooled_trimming_recalibrates_the_joint_system_bounds_per_group(tmp_path):
    gross, frame = _toy({"A": 400, "B": 600})
    untrimmed = _run(gross, frame, _spec(tmp_path))
    med = pd.Series(untrimmed.weight).groupby(gross["stratum"].to_numpy()).median()
    ratio = float((pd.Series(untrimmed.weight).groupby(gross["stratum"].to_numpy()).max() / med).min()) * 0.97
    extra = f"trimming: {{upper: {{ratio_to_median: {ratio:.6f}}}, within: stratum, max_rounds: 200}}\n"
    ch = _run(gross, frame, _spec(tmp_path, extra=extra))
    assert ch.trimmed.any()
    g = gross["stratum"].to_numpy()
    bound = ratio * pd.Series(ch.calibrated).groupby(g).median().reindex(g).to_numpy()  # per group
    assert (ch.weight <= bound * (1 + 1e-6)).all()
    for c, t in zip(_X(gross), _totals(frame), strict=True):  # both kinds still met after trimming
        np.testing.assert_allclose(np.bincount(c, ch.weight, t.size), t, rtol=1e-9)
    assert all("trim_rounds" in c for c in ch.convergence)


def test_pooled_margin_value_missing_for_a_respondent_names_the_pooled_margin(toy, tmp_path):
    gross, frame = toy
    bad = gross.assign(region=gross["region"].astype(float))
    bad.loc[5, "region"] = np.nan
    with pytest.raises(WeightingError, match=r"calibration, pooled margins: margin 'region:sex'"):
        _run(bad, frame, _spec(tmp_path))
