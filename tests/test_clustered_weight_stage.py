"""A clustered design as declared (tests/clustered_wave.py: strata origin x province, 5
municipalities per stratum, persons within them, fpc at both stages, design weights from
the gross sample) through the weight stage, sid.open_wave's Taylor design, the replicate
chain and the fieldwork rates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clustered_wave import SPEC, write_wave

import sid
from sid.cli import main
from sid.estimation.design import Design
from sid.fieldwork.stage import run_fieldwork
from sid.spec.check_weighting import check_weighting
from sid.spec.weighting import load_weighting
from sid.weighting import replicate_chain
from sid.weighting.stage import run_weight, weight_wave

KEY = "person_key"
STRATUM = "origin_province"  # the design stratum's column in weights.parquet and cases.parquet


@pytest.fixture(scope="module")
def wave(tmp_path_factory):
    p = write_wave(tmp_path_factory.mktemp("clustered"))
    _, res = run_weight(p["run"], p["proj"], p["data"])
    gross = pd.read_csv(p["data"] / "gross_sample.csv", dtype={KEY: str})
    return {**p, "res": res, "gross": gross, "frame": pd.read_csv(p["data"] / "register_population.csv")}


def _respondents(wave) -> pd.DataFrame:
    w = pd.read_parquet(wave["run"] / "weight" / "weights.parquet")
    return w.merge(wave["gross"], on=KEY, suffixes=("", "_gross"))


def test_weights_parquet_and_diagnostics_record_the_declared_strata_psus_and_fpc(wave):
    df = _respondents(wave)
    # the design stratum: named as the stratum variables joined by "_", its labels by ":"
    assert (df[STRATUM] == df["origin"] + ":" + df["province"]).all()
    assert (df["psu_1"] == df["municipality"]).all() and (df["psu_2"] == df[KEY]).all()
    np.testing.assert_array_equal(df["fpc_1"], df["n_municipalities"])
    np.testing.assert_array_equal(df["fpc_2"], df["muni_population"])
    np.testing.assert_allclose(df["design_weight"], df["design_weight_gross"], rtol=1e-15)
    diag = json.loads((wave["run"] / "weight" / "diagnostics.json").read_text())
    assert diag["design"] == {
        "key": KEY, "weight": "weight", "strata": STRATUM, "psu": ["psu_1", "psu_2"], "fpc": ["fpc_1", "fpc_2"],
        "from": {"strata": ["origin", "province"], "psu": ["municipality", KEY],
                 "fpc": ["n_municipalities", "muni_population"], "design_weight": "design_weight"}}


def test_adjustments_run_within_origin_while_the_strata_are_origin_x_province(wave):
    df = _respondents(wave)
    ch = wave["res"].chain
    assert set(ch.cal_group) == {"BEL", "MAR", "TUR"} and set(ch.stratum) >= {"BEL:ANT", "TUR:LIM"}
    for v in ("sex", "age_band", "province"):  # the frame's totals per origin group, met
        pop = wave["frame"].groupby(["origin", v])["count"].sum()
        got = df.groupby(["origin", v])["weight"].sum().reindex(pop.index)
        np.testing.assert_allclose(got, pop, rtol=1e-7)
    # weighting classes origin x sex: one factor per class, across the provinces of an origin
    assert (df.groupby(["origin", "sex"])["nonresponse_factor"].nunique() == 1).all()
    assert (df.groupby(["origin", "province", "sex"])["nonresponse_factor"].first()
            .groupby(["origin", "sex"]).nunique() == 1).all()


def test_open_wave_taylor_design_of_a_clustered_wave_has_its_psus_and_fpc(wave):
    w = sid.open_wave(wave["run"], variance="taylor")
    diag = w.diagnostics["calibration"]
    data = w.data.merge(wave["gross"][[KEY, "municipality", "n_municipalities", "muni_population"]], on=KEY)
    by_hand = Design.calibrated(data, weight="weight", prior="prior_weight", margins=diag["margins"],
                                strata=STRATUM, psu=["municipality", KEY],
                                fpc=["n_municipalities", "muni_population"])
    flat = Design.calibrated(data, weight="weight", prior="prior_weight", margins=diag["margins"],
                             strata=STRATUM)
    for by in (None, "origin", "province"):
        got, want, unclustered = (d.mean("y", by=by) for d in (w.design, by_hand, flat))
        np.testing.assert_allclose(got.estimate, want.estimate, rtol=1e-12)
        np.testing.assert_allclose(got.se, want.se, rtol=1e-12)
        assert (got.se > 1.5 * unclustered.se).all()  # the municipality effect, no longer ignored
    assert w.design.degf == 30 - 6  # PSUs - strata
    table = w.table("y", by=["origin"])  # the tables stage's route
    assert table.se.iloc[0] == pytest.approx(w.mean("y").se[0], rel=1e-12)


def _chain(wave, spec_text: str):
    path = wave["run"].parent / "variant.yaml"
    path.write_text(spec_text, encoding="utf-8")
    spec = load_weighting(path)
    res = weight_wave(wave["run"], spec, wave["data"])
    return spec, res


def test_bootstrap_multipliers_are_constant_within_psus_drawn_within_strata(wave):
    spec_text = SPEC.replace("redo: [nonresponse, calibration, trimming]", "redo: []")
    _, res = _chain(wave, spec_text)
    df = res.weights.merge(wave["gross"][[KEY, "municipality"]], on=KEY)
    reps = res.replicates.set_index(KEY).loc[df[KEY]].to_numpy(dtype=float)
    # full-sample factors except eligibility, redone per stratum: ratio = PSU factor x stratum constant
    ratio = pd.DataFrame(reps / df["weight"].to_numpy()[:, None])
    psu = [df[STRATUM], df["municipality"]]
    spread = ratio.groupby(psu).max() - ratio.groupby(psu).min()
    assert spread.to_numpy().max() < 1e-5 * ratio.to_numpy().max()
    per_psu = ratio.groupby(psu).first()
    assert ((per_psu == 0).sum() > 0).all()  # every replicate leaves whole PSUs out
    assert (per_psu.groupby(level=0).nunique() > 1).all().all()  # PSUs of a stratum differ


def test_jackknife_deletes_one_whole_psu_per_replicate_with_rscales_from_the_fpc(wave, monkeypatch):
    spec_text = SPEC.replace("method: bootstrap\n  replicates: 20", "method: jackknife\n  replicates: 30")
    spec, res = _chain(wave, spec_text)
    df = res.weights.merge(wave["gross"][[KEY, "municipality", "n_municipalities"]], on=KEY)
    reps = res.replicates.set_index(KEY).loc[df[KEY]].to_numpy(dtype=float)
    psu = df[STRATUM] + "/" + df["municipality"]
    zero = reps == 0
    assert reps.shape[1] == 30 and all(psu[zero[:, r]].nunique() == 1 for r in range(30))
    assert sorted(psu[zero[:, r]].iloc[0] for r in range(30)) == sorted(psu.unique())
    # rscales (1 - n_h/N_h)(n_h - 1)/n_h, N_h the stage-1 fpc, n_h = 5 sampled municipalities
    N = df.groupby(psu)["n_municipalities"].first()
    want = [(1 - 5 / N[psu[zero[:, r]].iloc[0]]) * 4 / 5 for r in range(30)]
    np.testing.assert_allclose(res.diagnostics["replicates"]["rscales"], want, rtol=1e-12)
    # processed by origin group (every step within origin) = processed in one block
    gross_rows = len(wave["gross"])
    monkeypatch.setattr(replicate_chain, "_blocks", lambda chain, spec: [np.arange(gross_rows)])
    one_block = weight_wave(wave["run"], spec, wave["data"]).replicates
    np.testing.assert_allclose(one_block.iloc[:, 1:].to_numpy(), res.replicates.iloc[:, 1:].to_numpy(),
                               rtol=1e-5)


def test_fieldwork_rates_per_origin_group_and_per_design_stratum(wave):
    _, res = run_fieldwork(wave["run"], wave["proj"], wave["data"])
    rates, cases = res.rates, res.cases
    un = rates[rates.basis == "unweighted"]
    assert un[un.level == "group"].group.tolist() == ["BEL", "MAR", "TUR"]
    strata = un[un.level == "design_stratum"].set_index("group")
    assert sorted(strata.index) == sorted(f"{o}:{p}" for o in ("BEL", "MAR", "TUR") for p in ("ANT", "LIM"))
    for level, col in (("group", "origin"), ("design_stratum", STRATUM)):
        rows = un[un.level == level].set_index("group")
        # RR1 = I / (I + P + R + NC + O + UH + UO), recomputed from the cases
        by = cases.groupby(col)["outcome"]
        rr1 = by.apply(lambda s: (s == "I").sum() / s.isin(["I", "P", "R", "NC", "O", "UH", "UO"]).sum())
        np.testing.assert_allclose(rows.loc[rr1.index, "RR1"], rr1, rtol=1e-12)
    # e is estimated within the reporting group and carried to its strata
    origin_e = un[un.level == "group"].set_index("group")["e"]
    for label, row in strata.iterrows():
        if row[["UH", "UO"]].sum() > 0:
            assert row["e"] == pytest.approx(origin_e[label.split(":")[0]], rel=1e-12)
    assert "within each reporting group g (origin)" in strata["e_method"].iloc[0]
    w = rates[(rates.basis != "unweighted") & (rates.level == "design_stratum")].set_index("group")
    d = wave["gross"].assign(s=wave["gross"].origin + ":" + wave["gross"].province).groupby("s")["design_weight"].sum()
    np.testing.assert_allclose(w.loc[d.index, list("I P R NC O UH UO NE".split())].sum(axis=1), d, rtol=1e-12)


def test_sid_check_accepts_the_clustered_spec_and_names_missing_psu_and_bad_fpc(wave, tmp_path):
    spec = load_weighting(wave["spec"])
    assert [f for f in check_weighting(spec, None, wave["data"]) if f.severity == "error"] == []
    data = tmp_path / "data"
    data.mkdir()
    for f in ("dispositions.csv", "register_population.csv"):
        (data / f).write_bytes((wave["data"] / f).read_bytes())
    g = wave["gross"].copy()
    g.loc[3, "n_municipalities"] = 0
    g.loc[5, "municipality"] = None
    g.to_csv(data / "gross_sample.csv", index=False)
    errors = [str(f) for f in check_weighting(spec, None, data) if f.severity == "error"]
    assert errors == [
        f"error: {data / 'gross_sample.csv'}: municipality: 1 sampled person(s) have no PSU (first: row 7); "
        "every sampled person needs the PSU of each stage",
        f"error: {data / 'gross_sample.csv'}: n_municipalities: 1 value(s) are not numbers > 0 (first: row 5: "
        "'0'); sample.fpc needs one for every sampled person",
    ]
    g.drop(columns="municipality").to_csv(data / "gross_sample.csv", index=False)
    errors = [str(f) for f in check_weighting(spec, None, data) if f.severity == "error"]
    assert errors == [f"error: {data / 'gross_sample.csv'}: column 'municipality' (spec key sample.psu) is "
                      "missing; did you mean 'n_municipalities'?"]


@pytest.mark.parametrize("case, edit, message", [
    ("fpc varies within a stratum", None,
     "sample design (psu, fpc of the gross sample): design stage 1: fpc varies within stratum"),
    ("fpc below the sampled PSUs", None,
     "sample design (psu, fpc of the gross sample): design stage 1: fpc 4 of stratum"),
    ("two strata and no group", ("  group: origin\n", ""), "2 stratum variables and no sample.group"),
    ("fpc for more stages than PSUs", ("  psu: [municipality, person_key]\n", "  psu: municipality\n"),
     "2 fpc columns for 1 sampling stage(s)"),
])
def test_a_wrong_design_stops_sid_weight_with_one_line_and_nothing_written(tmp_path, capsys, case, edit,
                                                                          message):
    p = write_wave(tmp_path, SPEC.replace(*edit) if edit else SPEC)
    gross_path = p["data"] / "gross_sample.csv"
    if case.startswith("fpc varies"):
        g = pd.read_csv(gross_path)
        g.loc[0, "n_municipalities"] += 1
        g.to_csv(gross_path, index=False)
    elif case.startswith("fpc below"):
        g = pd.read_csv(gross_path)
        g.loc[g.origin.eq("MAR") & g.province.eq("LIM"), "n_municipalities"] = 4
        g.to_csv(gross_path, index=False)
    before = {f: f.read_bytes() for f in p["data"].iterdir()}
    code = main(["weight", "--out", str(p["run"]), "--project", str(p["proj"]), "--data", str(p["data"])])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert not (p["run"] / "weight").exists() and not (p["run"] / "manifest.json").exists()
    assert {f: f.read_bytes() for f in p["data"].iterdir()} == before


def test_psu_and_fpc_may_be_one_name_or_null_in_yaml(tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text(SPEC.replace("  psu: [municipality, person_key]\n  fpc: [n_municipalities, muni_population]\n",
                                 "  psu: municipality\n  fpc: n_municipalities\n"), encoding="utf-8")
    s = load_weighting(path).sample
    assert (s.psu, s.fpc, s.group, s.reporting_group) == (("municipality",), ("n_municipalities",), "origin", "origin")
    path.write_text(SPEC.replace("  psu: [municipality, person_key]\n  fpc: [n_municipalities, muni_population]\n",
                                 "  psu: null\n  fpc: []\n"), encoding="utf-8")
    s = load_weighting(path).sample
    assert (s.psu, s.fpc, s.strata, s.stratum_column) == ((), (), ("origin", "province"), "origin_province")


def test_fieldwork_report_shows_stratum_rows_and_dispositions_per_reporting_group(wave):
    from sid.report.context import open_run
    from sid.report.fieldwork import gather_fieldwork

    run_fieldwork(wave["run"], wave["proj"], wave["data"])
    figures = gather_fieldwork(open_run(wave["run"], wave["proj"]))
    titles = [level["title"] for level in figures["sections"][0]["levels"]]
    assert titles[:2] == ["per herkomstgroep", "per ontwerpstratum"]
    strata = [r["label"] for r in figures["sections"][0]["levels"][1]["rows"]]
    # a design stratum ("BEL:ANT") by the labels of its parts
    assert "Belgisch, Antwerpen" in strata and "Turks, Limburg" in strata and "BEL:ANT" not in strata
    counts = pd.read_parquet(wave["run"] / "fieldwork" / "cases.parquet").groupby("origin").size()
    assert figures["gross_sample"] == counts.sum()
    assert len(figures["dispositions"][0]["counts"]) == 3  # one column per origin group


def test_sample_spec_built_in_code_takes_names_or_tuples_and_refuses_fpc_beyond_the_stages():
    from sid.errors import SpecError
    from sid.spec.weighting import SampleSpec

    files = dict(frame="f.csv", frame_count="count", gross_sample="g.csv", dispositions="d.csv",
                 key=KEY, disposition="disposition")
    s = SampleSpec(**files, strata="origin", frame_strata=None, psu="municipality", fpc=None)
    assert (s.strata, s.frame_strata, s.psu, s.fpc, s.reporting_group) == (
        ("origin",), ("origin",), ("municipality",), (), "origin")
    assert SampleSpec(**files, strata=("origin", "province"), frame_strata=()).reporting_group is None
    with pytest.raises(SpecError, match="2 fpc columns for 1 sampling stage"):
        SampleSpec(**files, strata=("origin",), frame_strata=(), psu="municipality", fpc=("a", "b"))
    with pytest.raises(SpecError, match="with_replacement has no finite population correction"):
        SampleSpec(**files, strata=("origin",), frame_strata=(), fpc="N", with_replacement=True)


def test_sample_spec_fpc_per_stage_may_end_in_none_but_not_skip_a_stage():
    from sid.errors import SpecError
    from sid.spec.weighting import SampleSpec

    files = dict(frame="f.csv", frame_count="count", gross_sample="g.csv", dispositions="d.csv",
                 key=KEY, disposition="disposition", strata=("origin",), frame_strata=())
    assert SampleSpec(**files, psu=("m", KEY), fpc=("N1", None)).fpc == ("N1",)
    assert SampleSpec(**files, psu=("m", KEY), fpc=(None, None)).fpc == ()
    with pytest.raises(SpecError, match="no fpc for stage 1 but one for a later stage"):
        SampleSpec(**files, psu=("m", KEY), fpc=(None, "N2"))
