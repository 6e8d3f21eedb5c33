"""The synthetic demo wave: determinism, sizes, SPSS dictionaries against the spec,
routing and derived variables evaluated with the spec's own expressions, defects found
independently from their documentation, and bias of unweighted estimates."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from sid.cli import main
from sid.demo import SPEC_PATH, make_demo
from sid.demo.fieldwork import DISPOSITIONS, RESPONDED
from sid.io.spss import read_spss
from sid.spec.check import load_checked_questionnaire
from sid.spec.frame import FrameEnv, derive

SCALE = 0.2
SEED = 7


@pytest.fixture(scope="module")
def spec():
    return load_checked_questionnaire(SPEC_PATH)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "wave"
    paths = make_demo(out, seed=SEED, scale=SCALE)
    web, meta_web = read_spss(paths["sid2022_web.sav"])
    capi, meta_capi = read_spss(paths["sid2022_capi.sav"])
    return {
        "paths": paths,
        "web": web, "capi": capi, "meta_web": meta_web, "meta_capi": meta_capi,
        "pop": pd.read_csv(paths["register_population.csv"]),
        "sample": pd.read_csv(paths["gross_sample.csv"]),
        "disp": pd.read_csv(paths["dispositions.csv"], keep_default_na=False),
        "defects": pd.read_csv(paths["defects.csv"], keep_default_na=False),
        "truth": pd.read_csv(paths["population_truth.csv"]),
        "info": json.loads(paths["demo.json"].read_text(encoding="utf-8")),
    }


def _survey(demo) -> pd.DataFrame:
    """Both mode files stacked with a mode column (duplicates kept)."""
    return pd.concat([demo["web"].assign(mode="web"), demo["capi"].assign(mode="capi")], ignore_index=True)


def _documented(demo, defect: str) -> set[tuple[str, str]]:
    d = demo["defects"]
    d = d[d["defect"] == defect]
    return set(zip(d["person_key"], d["variable"], strict=True))


def _digest(paths) -> dict[str, str]:
    out = {}
    for name, p in paths.items():
        if p.suffix == ".sav":  # compare the data read back: file headers carry a timestamp
            df, meta = read_spss(p)
            meta.sources = []  # path and file hash (the header holds a creation time)
            out[name] = hashlib.sha256(
                pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes() + meta.to_json().encode()
            ).hexdigest()
        else:
            out[name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def test_demo_is_deterministic_from_seed(tmp_path, demo):
    again = make_demo(tmp_path / "again", seed=SEED, scale=SCALE)
    assert _digest(again) == _digest(demo["paths"])
    other = make_demo(tmp_path / "other", seed=SEED + 1, scale=SCALE)
    d_other = _digest(other)
    assert d_other["gross_sample.csv"] != _digest(demo["paths"])["gross_sample.csv"]
    assert d_other["register_population.csv"] == _digest(demo["paths"])["register_population.csv"]


def test_demo_sizes_and_design_weights(demo):
    pop, sample, disp = demo["pop"], demo["sample"], demo["disp"]
    totals = pop.groupby("origin")["count"].sum()
    assert 4.3e6 < totals["BEL"] < 4.7e6 and 2.3e5 < totals["MAR"] < 2.7e5
    assert 2.5e4 < totals["AFG"] < 3.5e4 and totals.idxmin() == "AFG"
    assert (pop.loc[pop["origin"] == "BEL", "generation"] == 0).all()
    assert (sample.groupby("stratum").size() == round(2500 * SCALE)).all()
    assert sample["person_key"].is_unique and sample["person_key"].str.fullmatch("[0-9a-f]{16}").all()
    dw = sample.groupby("stratum")["design_weight"].first()
    assert np.allclose(dw, totals.reindex(dw.index) / round(2500 * SCALE))
    assert dw["BEL"] / dw["AFG"] > 100
    # gross sample and dispositions cover the same persons, one disposition each
    assert list(disp["person_key"]) == list(sample["person_key"])
    assert set(disp["disposition"]) <= set(DISPOSITIONS)
    resp = disp["disposition"].isin(RESPONDED)
    eligible = disp["disposition"] != "NOT_ELIGIBLE"
    assert 0.40 < resp.sum() / eligible.sum() < 0.62
    rate = resp.groupby(disp["stratum"]).mean()
    assert rate["BEL"] > rate.drop("BEL").max()  # lower response in minority groups
    n_dup = len(_documented(demo, "duplicate"))
    assert len(demo["web"]) + len(demo["capi"]) == resp.sum() + n_dup
    assert set(_survey(demo)["person_key"]) == set(disp.loc[resp, "person_key"])
    # sequential mixed mode: every case has the mode of its last attempt
    assert disp["mode"].isin(["web", "capi"]).all()
    ended_by_letter = disp.loc[disp["mode"] == "web", "disposition"]
    assert set(ended_by_letter) == {"COMPLETE", "PARTIAL", "REFUSAL", "UNKNOWN", "NOT_ELIGIBLE"}
    assert (disp.loc[disp["disposition"].isin(["NONCONTACT", "LANGUAGE"]), "mode"] == "capi").all()
    assert demo["info"]["with_replacement"]["groups"] == []
    assert demo["info"]["sizes"]["respondents"] == resp.sum()


def test_sav_dictionaries_have_the_spec_labels_and_missing_codes(demo, spec):
    for meta in (demo["meta_web"], demo["meta_capi"]):
        for v in spec.variables:
            if v.source == "register" and v.name != "person_key":
                assert v.name not in meta  # register variables stay in gross_sample.csv
                continue
            m = meta[v.name]
            assert m.label == v.label
            for code, lab in v.categories.items():
                assert m.value_labels[float(code)] == lab
            for code in spec.missing_codes_for(v.name):
                assert m.is_missing_code(np.array([float(code)]))[0], (v.name, code)
                assert m.value_labels[float(code)] == spec.missing_codes[code].label
            cats = np.array([float(c) for c in v.categories])
            assert not m.is_missing_code(cats).any()
        assert meta["q_ndl_partner"].measure == "ordinal"
        assert meta["person_key"].type == "string"
    assert list(demo["web"].columns) == list(demo["capi"].columns)


def test_register_nationality_history_derives_the_sampled_origin(demo, spec):
    """The spec's derived origin/generation/age_band (Flemish definition, evaluated by
    sid.spec) reproduce the stratum and cell the sample was drawn from."""
    sample = demo["sample"]
    frame = sample.assign(q_lang_home=np.nan)
    d = derive(frame, spec)
    assert (d["origin"].to_numpy() == sample["stratum"].to_numpy()).all()
    assert (d["generation"].to_numpy() == sample["generation"].to_numpy()).all()
    assert (d["age_band"].to_numpy() == sample["age_band"].to_numpy()).all()
    # region and municipality agree (Brussels NIS codes 21xxx)
    assert ((sample["municipality"] // 1000 == 21) == (sample["region"] == 2)).all()
    # second generation born in Belgium, first generation abroad
    assert (sample.loc[sample["generation"] == 2, "birth_country"] == "BEL").all()
    assert (sample.loc[sample["generation"] == 1, "birth_country"] != "BEL").all()


def test_routing_matches_spec_relevant_except_documented_routed_out(demo, spec):
    s = _survey(demo)
    broken = {k for k, _ in _documented(demo, "breakoff")}
    s = s[~s["person_key"].isin(broken)]
    env = FrameEnv(s, spec)
    found = set()
    n_routed = 0
    for v in spec.variables:
        if v.relevant is None:
            continue
        n_routed += 1
        asked = v.relevant.holds(env, len(s))
        x = s[v.name].to_numpy()
        assert not (asked & (x == -3)).any(), v.name
        bad = ~asked & (x != -3)
        found |= set(zip(s["person_key"].to_numpy()[bad], [v.name] * int(bad.sum()), strict=True))
    assert n_routed >= 4
    assert found == _documented(demo, "routed_out") and found


def test_out_of_range_codes_are_exactly_the_documented_ones(demo, spec):
    s = _survey(demo)
    found = set()
    for v in spec.variables:
        if v.source != "questionnaire":
            continue
        x = s[v.name].to_numpy(dtype=float)
        ok = np.isnan(x) | np.isin(x, [float(c) for c in v.missing])
        if v.categories:
            ok |= np.isin(x, [float(c) for c in v.categories])
        if v.range is not None:
            ok |= (x >= v.range[0]) & (x <= v.range[1])
        found |= {(k, v.name) for k in s["person_key"].to_numpy()[~ok]}
    assert found == _documented(demo, "out_of_range") and found


def test_duplicates_speeders_straightlines_breakoffs_are_the_documented_ones(demo, spec):
    web, capi = demo["web"], demo["capi"]
    both = set(web["person_key"]) & set(capi["person_key"])
    assert {(k, "person_key") for k in both} == _documented(demo, "duplicate") and both

    sp = spec.quality.speeders
    d = web[sp.duration].to_numpy()
    fast = web["person_key"].to_numpy()[d < sp.ratio_to_median * np.median(d)]
    assert {(k, sp.duration) for k in fast} == _documented(demo, "speeder") and len(fast)

    s = _survey(demo).drop_duplicates("person_key")
    found = set()
    for g in spec.quality.straightlining.grids:
        items = [v.name for v in spec.variables if v.grid == g]
        x = s[items].to_numpy(dtype=float)
        valid = x > 0
        ref = np.max(np.where(valid, x, -np.inf), axis=1)
        line = (valid.sum(axis=1) >= spec.quality.straightlining.min_items) & np.all(~valid | (x == ref[:, None]), axis=1)
        found |= {(k, g) for k in s["person_key"].to_numpy()[line]}
    assert found == _documented(demo, "straightline") and found

    items = [v.name for v in spec.variables if v.source == "questionnaire"]
    trailing = s[items[-1]].isna()
    assert set(s.loc[trailing, "person_key"]) == {k for k, _ in _documented(demo, "breakoff")}
    partial = demo["disp"].loc[demo["disp"]["disposition"] == "PARTIAL", "person_key"]
    assert set(partial) == set(s.loc[trailing, "person_key"])


def test_register_mismatches_are_the_documented_ones(demo, spec):
    s = _survey(demo).drop_duplicates("person_key").merge(demo["sample"], on="person_key")
    found = set()
    for rule in spec.quality.register_mismatch:
        a, r = s[rule.answer].to_numpy(dtype=float), s[rule.register].to_numpy(dtype=float)
        bad = (a > 0) & (np.abs(a - r) > rule.tolerance) & (a < 1000 if rule.answer == "q_sex" else True)
        found |= {(k, rule.answer) for k in s["person_key"].to_numpy()[bad]}
    assert found == _documented(demo, "register_mismatch") and found


def test_spec_checks_hold_on_the_demo_answers(demo, spec):
    s = _survey(demo).merge(demo["sample"], on="person_key")
    env = FrameEnv(s, spec)
    for v in spec.variables:
        for c in v.checks:
            assert not c.expr.violated(env, len(s)).any(), c.message


def test_unweighted_estimates_are_biased_and_design_weights_reduce_the_bias(demo, spec):
    """Pooled over groups, the unweighted share speaking mostly Dutch at home is far from
    the population truth; weighting respondents by N_h / r_h (origin stratum) moves it
    toward the truth. Within groups, the respondents' composition differs from the
    register (Brussels residents respond less)."""
    s = _survey(demo).drop_duplicates("person_key").merge(demo["sample"], on="person_key")
    truth = demo["truth"].set_index(["origin", "quantity"])["value"]
    lang = s["q_lang_home"].to_numpy(dtype=float)
    ok = (lang > 0) & (lang < 6)
    y = (lang[ok] == 1).astype(float)
    unweighted = y.mean()
    N = demo["pop"].groupby("origin")["count"].sum()
    r = s.loc[ok, "stratum"].value_counts()
    w = (N / r).reindex(s.loc[ok, "stratum"]).to_numpy()
    weighted = np.sum(w * y) / np.sum(w)
    t = truth[("ALL", "dutch_home")]
    assert abs(unweighted - t) > 0.25
    assert abs(weighted - t) < abs(unweighted - t) / 5
    # composition: share in Brussels among respondents below the register's, per group
    pop = demo["pop"]
    bxl_pop = pop[pop["region"] == 2].groupby("origin")["count"].sum() / N
    bxl_resp = (s["region"] == 2).groupby(s["stratum"]).mean()
    assert (bxl_resp < bxl_pop.reindex(bxl_resp.index)).sum() >= 6


def test_truth_indices_differ_between_origin_groups(demo, spec):
    t = demo["truth"].pivot(index="origin", columns="quantity", values="value")
    assert set(t.index) == {"BEL", "MAR", "TUR", "POL", "ROU", "COD", "AFG", "ALL"}
    assert set(t.columns) == {ix.name for ix in spec.indices} | {"dutch_home"}
    idx = t[[ix.name for ix in spec.indices]]
    assert ((idx >= 0) & (idx <= 100)).all().all()
    assert t.loc["BEL", "dutch_home"] > 0.8 and t.drop(["BEL", "ALL"])["dutch_home"].max() < 0.4
    assert t.loc["BEL", "idx_discrimination"] < t.drop(["BEL", "ALL"])["idx_discrimination"].min()
    assert t.loc["BEL", "idx_religiosity"] < t.drop(["BEL", "ALL"])["idx_religiosity"].min()
    # the overall truth is dominated by the Belgian-origin majority
    assert abs(t.loc["ALL", "idx_language"] - t.loc["BEL", "idx_language"]) < 8


def test_indices_are_reliable_within_each_group(demo, spec):
    from sid.scales.reliability import reliability

    s = _survey(demo).drop_duplicates("person_key").merge(demo["sample"][["person_key", "stratum"]])
    for ix in spec.indices:
        items = list(ix.items)
        x = s[items].where((s[items] > 0) & (s[items] < 6))
        rng = {i: (min(spec.variable(i).categories), max(spec.variable(i).categories)) for i in items}
        for o, part in x.groupby(s["stratum"]):
            a = reliability(part, items, reverse=list(ix.reverse), item_range=rng).alpha
            assert 0.6 <= a <= 0.92, (ix.name, o, a)


def test_cli_demo_writes_the_wave_and_rejects_a_bad_scale(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "d"), "--seed", "3", "--scale", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "sid2022_web.sav" in out and (tmp_path / "d" / "defects.csv").exists()
    assert main(["demo", "--out", str(tmp_path / "e"), "--scale", "0"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("sid: error:")]
    assert len(errors) == 1 and "--scale" in errors[0]
    assert not (tmp_path / "e").exists()


@pytest.fixture(scope="module")
def demo_full(tmp_path_factory):
    """Scale 1 (about 1,000 respondents a group): within-group bias of about 2.5 points
    on the language index must stand out from sampling noise (SE about 0.4 for the mean
    over six groups)."""
    paths = make_demo(tmp_path_factory.mktemp("demo_full") / "wave", seed=SEED, scale=1.0)
    return {
        "web": read_spss(paths["sid2022_web.sav"])[0], "capi": read_spss(paths["sid2022_capi.sav"])[0],
        "pop": pd.read_csv(paths["register_population.csv"]),
        "sample": pd.read_csv(paths["gross_sample.csv"]),
        "truth": pd.read_csv(paths["population_truth.csv"]),
    }


def test_within_group_bias_on_frame_variables_is_reduced_by_cell_weighting(demo_full, spec):
    """Within origin groups, response depends on region, generation and age, and so do
    the answers: the unweighted language index of minority groups overstates the truth;
    weighting respondents to the register counts of region x generation x (age < 35)
    cells (computed here with pandas) removes most of that bias."""
    from sid.demo.truth import index_scores

    demo = demo_full
    s = _survey(demo).drop_duplicates("person_key").merge(demo["sample"], on="person_key")
    items = [v.name for v in spec.variables if v.source == "questionnaire" and v.categories]
    x = s.copy()
    for c in items:
        ok = np.isin(x[c], [float(k) for k in spec.variable(c).categories])
        x[c] = x[c].where(ok)
    y = index_scores(x, spec)["idx_language"]
    pop = demo["pop"].assign(young=lambda d: d["age_band"] <= 2)
    s["young"] = s["age_band"] <= 2
    cells = ["origin", "region", "generation", "young"]
    N_cell = pop.groupby(cells)["count"].sum()
    key = pd.MultiIndex.from_frame(s[["stratum", "region", "generation", "young"]].set_axis(cells, axis=1))
    ok = y.notna().to_numpy()
    r_cell = pd.Series(1, index=key[ok]).groupby(level=cells).sum()
    w = (N_cell.reindex(key) / r_cell.reindex(key)).to_numpy()
    truth = demo["truth"].set_index(["origin", "quantity"])["value"]
    bias_u, bias_w = [], []
    for o in ["MAR", "TUR", "POL", "ROU", "COD", "AFG"]:
        m = ok & (s["stratum"] == o).to_numpy()
        bias_u.append(y[m].mean() - truth[(o, "idx_language")])
        bias_w.append(np.sum(w[m] * y[m]) / np.sum(w[m]) - truth[(o, "idx_language")])
    assert np.mean(bias_u) > 1.5
    assert abs(np.mean(bias_w)) < np.mean(bias_u) / 2


def test_demo_refuses_a_spec_whose_items_it_does_not_generate(tmp_path):
    from sid.errors import SpecError

    text = SPEC_PATH.read_text(encoding="utf-8").replace(
        "  - name: q_ident_be\n",
        "  - name: q_extra\n    label: \"Extra\"\n    type: ordinal\n    source: questionnaire\n"
        "    categories: {1: \"Ja\", 2: \"Nee\"}\n  - name: q_ident_be\n",
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match="q_extra"):
        make_demo(tmp_path / "out", seed=1, scale=0.01, spec_path=spec)
    assert not (tmp_path / "out").exists()


def test_groups_smaller_than_the_asked_sample_are_drawn_with_replacement():
    from sid.demo.population import population_counts
    from sid.demo.sample import draw_gross_sample, with_replacement

    pop = population_counts()
    pop["count"] = pop["count"] // 1000  # AFG ~30, BEL ~4,500 residents
    totals = pop.groupby("origin")["count"].sum()
    n = 200
    small = with_replacement(pop, n)
    assert set(small) == set(totals.index[totals < n]) and "BEL" not in small and "AFG" in small
    sample = draw_gross_sample(pop, n, np.random.default_rng(1))
    assert (sample.groupby("stratum").size() == n).all()  # the asked size, in every group
    dw = sample.groupby("stratum")["design_weight"].first()
    assert np.allclose(dw, totals.reindex(dw.index) / n) and dw["AFG"] < 1 < dw["BEL"]
    # persons come from the group's register cells only, cells of an empty count never
    cells = ["origin", "generation", "sex", "age_band", "region"]
    drawn = sample.merge(pop, on=cells, how="left")
    assert (drawn["count"] > 0).all()
