"""The synthetic SID 2017 wave (sid demo --wave sid2017): files and shapes, the SPSS
dictionaries read back with sid.read_spss (one file a .zsav), the clustered PPS design
(expected hits and inclusion probabilities add up per stratum), the 2017 names and codes,
defects found independently from their documentation, and the specs passing sid check."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sid
from sid.cli import main
from sid.demo import DEMOS
from sid.demo.sid2017 import DESIGN, SPEC_PATH, make_sid2017
from sid.demo.sid2017_model import N_PER_GROUP, ORIGINS
from sid.spec.check import load_checked_questionnaire
from sid.spec.frame import FrameEnv, derive

SCALE = 0.3
SEED = 11
ROOT = Path(__file__).resolve().parents[1]
MODE_FILES = {"cawi": "sid2017_web.sav", "capi": "sid2017_capi.sav", "papi": "sid2017_papier.zsav"}
NA, DK, NO_ANSWER = 99.0, 97.0, 98.0


@pytest.fixture(scope="module")
def spec():
    return load_checked_questionnaire(SPEC_PATH)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo2017") / "wave"
    paths = make_sid2017(out, seed=SEED, scale=SCALE)
    files = {m: sid.read_spss(paths[f]) for m, f in MODE_FILES.items()}
    key = {"pseudo_id": str}
    return {
        "dir": out, "paths": paths, "files": files,
        "pop": pd.read_csv(paths["register_populatie.csv"]),
        "psu": pd.read_csv(paths["steekproefkader_gemeenten.csv"]),
        "sample": pd.read_csv(paths["bruto_steekproef.csv"], dtype=key),
        "disp": pd.read_csv(paths["disposities.csv"], dtype=key),
        "defects": pd.read_csv(paths["defects.csv"], dtype=key, keep_default_na=False),
        "truth": pd.read_csv(paths["population_truth.csv"]),
        "info": json.loads(paths["demo.json"].read_text(encoding="utf-8")),
    }


def _survey(demo) -> pd.DataFrame:
    """The three mode files stacked with their mode (duplicates kept)."""
    return pd.concat([df.assign(modus=m) for m, (df, _) in demo["files"].items()], ignore_index=True)


def _documented(demo, defect: str) -> set[tuple[str, str]]:
    d = demo["defects"]
    d = d[d["defect"] == defect]
    return set(zip(d["pseudo_id"], d["variable"], strict=True))


def _digest(paths) -> dict[str, str]:
    out = {}
    for name, p in paths.items():
        if p.suffix in (".sav", ".zsav"):  # file headers carry a creation time
            df, meta = sid.read_spss(p)
            meta.sources = []
            out[name] = hashlib.sha256(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes()
                                       + meta.to_json().encode()).hexdigest()
        else:
            out[name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def test_every_file_is_written_and_the_wave_is_deterministic(tmp_path, demo):
    assert all(p.is_file() for p in demo["paths"].values())
    again = make_sid2017(tmp_path / "again", seed=SEED, scale=SCALE)
    assert _digest(again) == _digest(demo["paths"])
    other = _digest(make_sid2017(tmp_path / "other", seed=SEED + 1, scale=SCALE))
    mine = _digest(demo["paths"])
    assert other["bruto_steekproef.csv"] != mine["bruto_steekproef.csv"]
    # the register (population, municipalities) does not depend on the seed
    assert other["register_populatie.csv"] == mine["register_populatie.csv"]
    assert DEMOS["sid2017"][0] is make_sid2017


def test_sizes_groups_strata_and_modes(demo):
    pop, sample, disp, info = demo["pop"], demo["sample"], demo["disp"], demo["info"]
    assert set(pop["herkomst"]) == set(ORIGINS) and "AFG" not in set(sample["steekproefgroep"])
    assert set(pop["provincie"]) == set(range(1, 7))
    assert ((pop["provincie"] == 6) == (pop["gewest"] == 2)).all()
    strata = sample.groupby(["steekproefgroep", "provincie"])
    assert strata.ngroups == 36 == info["sizes"]["strata"]
    # each group about its allocation (rounding of points, at least 2 points a stratum)
    per_group = sample["steekproefgroep"].value_counts()
    for g, n in N_PER_GROUP.items():
        assert abs(per_group[g] - n * SCALE) <= 6 * DESIGN.take, g
    assert len(sample) == DESIGN.take * info["sizes"]["sampling_points"]
    assert sample["pseudo_id"].is_unique and sample["pseudo_id"].str.fullmatch("[0-9a-f]{16}").all()
    assert list(disp["pseudo_id"]) == list(sample["pseudo_id"])
    assert set(disp["dispositie"]) <= {11, 12, 21, 22, 23, 31, 41}
    assert set(disp["modus"]) == {"cawi", "papi", "capi"}
    resp = disp["dispositie"].isin([11, 12])
    n_dup = len(_documented(demo, "duplicate"))
    assert sum(len(df) for df, _ in demo["files"].values()) == resp.sum() + n_dup
    assert set(_survey(demo)["pseudo_id"]) == set(disp.loc[resp, "pseudo_id"])
    modes = _survey(demo).drop_duplicates("pseudo_id", keep="first")
    merged = modes.merge(disp, on="pseudo_id", suffixes=("", "_disp"))
    assert (merged["modus"] == merged["modus_disp"]).all()
    # about 750 completes a group at scale 1, so about 225 here
    complete = disp.loc[resp].merge(sample[["pseudo_id", "steekproefgroep"]])["steekproefgroep"].value_counts()
    assert complete.between(150, 320).all(), complete.to_dict()


def test_spss_dictionaries_read_back_and_the_zsav(demo, spec):
    paper = demo["paths"]["sid2017_papier.zsav"]
    assert paper.read_bytes()[:4] == b"$FL3"  # zlib-compressed SPSS (.zsav)
    assert demo["paths"]["sid2017_web.sav"].read_bytes()[:4] == b"$FL2"
    expected = spec.to_spss_meta()
    columns = None
    for mode, (df, meta) in demo["files"].items():
        assert set(df.columns) == set(meta.variables)
        names = {"pseudo_id", "datum_interview", "duur_min"} | {
            v.name for v in spec.variables if v.source == "questionnaire"}
        assert set(df.columns) == names, mode
        for name in df.columns:
            m, e = meta[name], expected.variables[name]
            assert (m.label, m.type, m.value_labels) == (e.label, e.type, e.value_labels), (mode, name)
            for code in spec.missing_codes_for(name):
                assert m.is_missing_code(np.array([float(code)]))[0], (mode, name, code)
            cats = np.array([float(c) for c in spec.variable(name).categories], dtype=float)
            if cats.size:
                assert not m.is_missing_code(cats).any(), name
        columns = list(df.columns) if columns is None else columns
    # the paper file has no duration and another variable order; the text and date items
    web, paper_df = demo["files"]["cawi"][0], demo["files"]["papi"][0]
    assert paper_df["duur_min"].isna().all() and web["duur_min"].notna().all()
    assert list(paper_df.columns)[-1] == "duur_min" != list(web.columns)[-1]
    assert demo["files"]["cawi"][1]["v_taal_thuis_anders"].type == "string"
    assert demo["files"]["cawi"][1]["v_datum_aankomst"].format == "EDATE10"  # read back as datetime.date
    arrival = pd.to_datetime(web["v_datum_aankomst"].dropna())
    assert arrival.max() <= pd.Timestamp("2017-07-01") and arrival.min() >= pd.Timestamp("1932-01-01")
    assert demo["files"]["cawi"][1]["v_thuis_be"].value_labels[4.0] == "Helemaal akkoord"


def test_pps_expected_hits_and_inclusion_probabilities_add_up_per_stratum(demo):
    psu, sample = demo["psu"], demo["sample"]
    by = psu.groupby(["herkomst", "provincie"])
    # stage 1: expected hits of the frame's municipalities add up to the stratum's points
    hits = by["verwachte_trekkingen"].sum()
    points = by["punten_stratum"].first()
    assert np.allclose(hits, points, rtol=0, atol=1e-9)
    assert (by["trekkingen"].sum() == points).all() and (points >= 2).all()
    assert (psu.loc[psu["in_kader"] == 0, "verwachte_trekkingen"] == 0).all()
    assert np.allclose(psu["kans_gemeente"], np.minimum(psu["verwachte_trekkingen"], 1.0))
    # overall: the covered residents' inclusion probabilities add up to the expected sample
    # size of the stratum, which is the sample size drawn
    pi = sample.groupby(["steekproefgroep", "provincie"])["inclusiekans"].first()
    pi.index.names = ["herkomst", "provincie"]
    covered = psu[psu["in_kader"] == 1].groupby(["herkomst", "provincie"])["personen"].sum()
    n_h = sample.groupby(["steekproefgroep", "provincie"]).size()
    n_h.index.names = ["herkomst", "provincie"]
    assert np.allclose(covered * pi, n_h.reindex(covered.index), rtol=1e-12)
    assert np.allclose(n_h.reindex(points.index), DESIGN.take * points)
    # per person: pi = first-stage x conditional; design weight 1/pi, constant in a stratum,
    # adding up to the covered residents
    assert np.allclose(sample["inclusiekans"], sample["kans_gemeente"] * sample["kans_persoon"], rtol=1e-8)
    assert np.allclose(sample["ontwerpgewicht"] * sample["inclusiekans"], 1.0, rtol=1e-8)
    w = sample.groupby(["steekproefgroep", "provincie"])["ontwerpgewicht"]
    assert (w.nunique() == 1).all()
    assert np.allclose(w.sum(), sample.groupby(["steekproefgroep", "provincie"])["personen_kader"].first(), rtol=1e-8)
    # every covered municipality's residents are those of the frame; points nest in
    # municipalities and strata; a municipality lies in its stratum's province
    pts = sample.groupby("steekproefpunt")
    assert (pts["gemeente"].nunique() == 1).all() and (pts["steekproefgroep"].nunique() == 1).all()
    assert (pts.size() == DESIGN.take).all()
    hit = psu[psu["trekkingen"] > 0]
    per_mun = sample.groupby(["steekproefgroep", "gemeente"])["steekproefpunt"].nunique()
    assert (per_mun.reindex(list(zip(hit["herkomst"], hit["gemeente"], strict=True))).to_numpy()
            == hit["trekkingen"].to_numpy()).all()
    assert ((sample["gemeente"] // 1000 == 21) == (sample["provincie"] == 6)).all()
    # the strata's residents are the register's; coverage below 1 only for small groups
    reg = demo["pop"].groupby(["herkomst", "provincie"])["aantal"].sum()
    assert (by["personen"].sum() == reg.reindex(by["personen"].sum().index)).all()
    cov = demo["info"]["design"]["coverage_per_group"]
    assert cov["BEL"] == 1.0 and min(cov.values()) > 0.85


def test_the_register_history_derives_the_sampled_group(demo, spec):
    sample = demo["sample"]
    d = derive(sample.assign(v_taal_thuis=np.nan), spec)
    assert (d["herkomst"].to_numpy() == sample["steekproefgroep"].to_numpy()).all()
    assert (d["generatie"].to_numpy() == sample["generatie"].to_numpy()).all()
    assert (d["leeftijdsgroep"].to_numpy() == sample["leeftijdsgroep"].to_numpy()).all()


def test_2017_codes_missing_codes_and_changed_categories(demo, spec):
    s = _survey(demo)
    items = [v.name for v in spec.variables if v.source == "questionnaire" and not v.is_text and v.type != "date"]
    x = s[items].to_numpy(dtype=float)
    assert not np.isin(x, [-1.0, -2.0, -3.0, -4.0]).any()
    for code in (DK, NO_ANSWER, NA):
        assert (x == code).any(), code
    assert (s["v_taal_thuis"] == 6).any()  # the extra category of 2017
    grid = s[["v_thuis_be", "v_thuis_vl", "v_thuis_gemeente", "v_buitenstaander"]].to_numpy()
    assert not (grid == 5).any()  # 4-point scale, no neutral category (out of range: 0, 6, 7, 95)
    assert set(s["v_geslacht"].dropna()) <= {1.0, 2.0, NO_ANSWER}


def test_routing_and_the_text_and_date_items(demo, spec):
    s = _survey(demo).merge(demo["sample"], on="pseudo_id")
    broken = {k for k, _ in _documented(demo, "breakoff")}
    s = s[~s["pseudo_id"].isin(broken)].reset_index(drop=True)
    env = FrameEnv(s, spec)
    found = set()
    for v in spec.variables:
        if v.relevant is None:
            continue
        asked = v.relevant.holds(env, len(s))
        if v.is_text:
            given = s[v.name].fillna("").str.strip().ne("").to_numpy()
            assert not (given & ~asked).any() and given.any()
            continue
        if v.type == "date":
            given = s[v.name].notna().to_numpy()
            assert not (given & ~asked).any() and 0.9 < given[asked].mean() < 1.0
            continue
        x = s[v.name].to_numpy(dtype=float)
        assert not (asked & (x == NA)).any(), v.name
        bad = ~asked & (x != NA)
        found |= set(zip(s["pseudo_id"].to_numpy()[bad], [v.name] * int(bad.sum()), strict=True))
    assert found == _documented(demo, "routed_out") and found
    paper = demo["defects"][demo["defects"]["detail"].str.startswith("paper questionnaire")]
    assert len(paper) >= 3 and (paper["modus"] == "papi").all()
    assert not demo["defects"]["detail"].str.contains("q_").any()  # the 2017 names throughout


def test_out_of_range_duplicates_speeders_straightlines_breakoffs_are_documented(demo, spec):
    s = _survey(demo)
    found = set()
    for v in spec.variables:
        if v.source != "questionnaire" or v.is_text or v.type == "date":
            continue
        x = s[v.name].to_numpy(dtype=float)
        ok = np.isnan(x) | np.isin(x, [float(c) for c in v.missing])
        ok |= np.isin(x, [float(c) for c in v.categories]) if v.categories else (x >= v.range[0]) & (x <= v.range[1])
        found |= {(k, v.name) for k in s["pseudo_id"].to_numpy()[~ok]}
    assert found == _documented(demo, "out_of_range") and found

    web, capi = demo["files"]["cawi"][0], demo["files"]["capi"][0]
    both = set(web["pseudo_id"]) & set(capi["pseudo_id"])
    assert {(k, "pseudo_id") for k in both} == _documented(demo, "duplicate") and both
    sp = spec.quality.speeders
    d = web[sp.duration].to_numpy()
    fast = web["pseudo_id"].to_numpy()[d < sp.ratio_to_median * np.median(d)]
    assert {(k, sp.duration) for k in fast} == _documented(demo, "speeder") and len(fast)

    u = s.drop_duplicates("pseudo_id")
    found = set()
    for g in spec.quality.straightlining.grids:
        items = [v.name for v in spec.variables if v.grid == g]
        x = u[items].to_numpy(dtype=float)
        valid = np.isin(x, [float(c) for c in spec.variable(items[0]).categories])
        ref = np.max(np.where(valid, x, -np.inf), axis=1)
        line = (valid.sum(axis=1) >= spec.quality.straightlining.min_items) & np.all(~valid | (x == ref[:, None]), axis=1)
        found |= {(k, g) for k in u["pseudo_id"].to_numpy()[line]}
    assert found == _documented(demo, "straightline") and found

    last = [v.name for v in spec.variables if v.source == "questionnaire"][-1]
    trailing = u[last].isna()
    partial = demo["disp"].loc[demo["disp"]["dispositie"] == 12, "pseudo_id"]
    assert set(u.loc[trailing, "pseudo_id"]) == set(partial) == {k for k, _ in _documented(demo, "breakoff")}


def test_register_mismatches_and_checks(demo, spec):
    s = _survey(demo).drop_duplicates("pseudo_id").merge(demo["sample"], on="pseudo_id")
    found = set()
    for rule in spec.quality.register_mismatch:
        a, r = s[rule.answer].to_numpy(dtype=float), s[rule.register].to_numpy(dtype=float)
        valid = (a != NO_ANSWER) & (a > 0)
        bad = valid & (np.abs(a - r) > rule.tolerance)
        found |= {(k, rule.answer) for k in s["pseudo_id"].to_numpy()[bad]}
    assert found == _documented(demo, "register_mismatch") and found
    mismatch = {k for k, _ in found}
    ok = s[~s["pseudo_id"].isin(mismatch)].reset_index(drop=True)
    env = FrameEnv(ok, spec)
    for v in spec.variables:
        for c in v.checks:
            assert not c.expr.violated(env, len(ok)).any(), c.message


def test_truth_and_clustering(demo, spec):
    t = demo["truth"].pivot(index="herkomst", columns="quantity", values="value")
    assert set(t.index) == set(ORIGINS) | {"ALL"}
    assert set(t.columns) == {ix.name for ix in spec.indices} | {"nl_thuis"}
    assert t.loc["BEL", "nl_thuis"] > 0.75 and t.drop(["BEL", "ALL"])["nl_thuis"].max() < 0.4
    assert t.loc["BEL", "idx_religiositeit"] < t.drop(["BEL", "ALL"])["idx_religiositeit"].min()
    # answers cluster within sampling points: the design effect of a language mean is above 1
    s = _survey(demo).drop_duplicates("pseudo_id").merge(demo["sample"], on="pseudo_id")
    items = ["v_ndl_thuis", "v_ndl_vrienden"]
    s["ndl"] = s[items].where(s[items] <= 5).mean(axis=1)
    s = s[s["ndl"].notna() & (s["steekproefgroep"] != "BEL")].copy()
    s["stratum"] = s["steekproefgroep"] + ":" + s["provincie"].astype(str)
    d = sid.Design(s, weight="ontwerpgewicht", strata="stratum", psu="steekproefpunt")
    assert float(d.mean("ndl")["deff"].iloc[0]) > 1.1


def test_the_specs_pass_sid_check(demo, capsys):
    assert main(["check", "--project", str(ROOT)]) == 0
    # 4 specs per wave and the harmonisation spec of the trend (sid.yaml trends:)
    assert "9 spec(s): 0 error(s), 0 warning(s)" in capsys.readouterr().err
    assert main(["check", "--project", str(ROOT), str(ROOT / "weights" / "sid2017.yaml"),
                 "--data", str(demo["dir"])]) == 0
    capsys.readouterr()
    # each mode file against the questionnaire: the only errors are the injected codes out
    # of range, on exactly the documented variables of that file
    d = demo["defects"]
    for mode, f in MODE_FILES.items():
        assert main(["check", "--project", str(ROOT), str(SPEC_PATH), "--data", str(demo["dir"] / f)]) == 1
        errors = [line for line in capsys.readouterr().out.splitlines() if line.startswith("error:")]
        named = {line.split(": ")[2] for line in errors}
        assert all("codes outside the categories" in line for line in errors)
        assert named == set(d.loc[(d["defect"] == "out_of_range") & (d["modus"] == mode), "variable"]), mode


def test_cli_writes_the_2017_demo_and_names_an_unknown_wave(tmp_path, capsys):
    assert main(["demo", "--wave", "sid2017", "--out", str(tmp_path / "d"), "--seed", "3", "--scale", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "sid2017_papier.zsav" in out and (tmp_path / "d" / "disposities.csv").exists()
    assert main(["demo", "--wave", "sid2016", "--out", str(tmp_path / "e")]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("sid: error:")]
    assert len(errors) == 1 and "sid2016" in errors[0] and "sid2017" in errors[0]
    assert not (tmp_path / "e").exists()
    assert main(["demo", "--wave", "sid2017", "--out", str(tmp_path / "f"), "--scale", "-1"]) == 2
    assert not (tmp_path / "f").exists()
