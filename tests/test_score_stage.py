"""sid score on a synthetic run folder: indices against a by-hand numpy computation,
reasons counted, a low-reliability group flagged, weights used when DIR/weight exists."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest

from sid.cli import main
from sid.io.atomic import atomic_dir
from sid.io.wave import read_wave, save_wave_files
from sid.spec.questionnaire_parse import load_questionnaire
from tests.projects import small_wave, write_project_file

SPEC = """\
wave: w1
title: Test
key: person_key
missing_codes:
  -1: {meaning: dont_know, label: "Weet niet"}
  -2: {meaning: no_answer, label: "Geen antwoord"}
  -4: {meaning: invalid, label: "Ongeldig"}
variables:
  - {name: person_key, label: Sleutel, type: text, source: register}
  - {name: origin, label: Herkomst, type: categorical, source: register, categories: {BEL: Belgisch, MAR: Marokkaans, TUR: Turks, POL: Pools}}
  - {name: a1, label: A1, type: ordinal, categories: {1: "1", 2: "2", 3: "3", 4: "4", 5: "5"}}
  - {name: a2, label: A2, type: ordinal, categories: {1: "1", 2: "2", 3: "3", 4: "4", 5: "5"}}
  - {name: a3, label: A3, type: ordinal, categories: {1: "1", 2: "2", 3: "3", 4: "4", 5: "5"}}
  - {name: a4, label: A4, type: ordinal, categories: {1: "1", 2: "2", 3: "3", 4: "4"}}
  - {name: b1, label: B1, type: numeric, range: [0, 10], missing: [-1]}
  - {name: b2, label: B2, type: numeric, range: [0, 10], missing: [-1]}
  - {name: b3, label: B3, type: numeric, range: [0, 10], missing: [-1]}
themes: {inclusion: Inclusie, citizenship: Burgerschap, discrimination: Discriminatie}
indices:
  - {name: idx_a, label: A, theme: inclusion, items: [a1, a2, a3, a4], reverse: [a4], min_valid: 3, scoring: mean, scale: pomp}
  - {name: idx_b, label: B, theme: citizenship, items: [b1, b2, b3], min_valid: 2, scoring: mean, scale: z, reference_group: "origin == 'BEL'", reliability_min: 0.6}
"""
EXTRA = """\
  - {name: idx_c, label: C, theme: discrimination, items: [a1, a2, a3], min_valid: 2, scoring: count, count_values: [4, 5], scale: raw}
  - {name: idx_f, label: F, theme: inclusion, items: [a1, a2, a3, a4], reverse: [a4], min_valid: 3, scoring: factor, scale: z, reference_group: "origin == 'BEL'"}
"""
GROUPS = ("BEL", "MAR", "TUR")


def _wave(n_per_group: int = 400, seed: int = 7, b_missing: float = 0.04) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_per_group * len(GROUPS)
    origin = np.repeat(GROUPS, n_per_group)
    f = rng.normal(size=n)
    a = np.column_stack([np.clip(np.rint(3 + 1.1 * f + rng.normal(scale=0.8, size=n)), 1, 5) for _ in range(3)])
    a4 = np.clip(np.rint(2.5 - 0.9 * f + rng.normal(scale=0.7, size=n)), 1, 4)  # reversed, 1-4
    a = np.column_stack([a, a4])
    # missing codes and system missing; some respondents lose two or more items
    a[rng.random(a.shape) < 0.08] = -1
    a[rng.random(a.shape) < 0.05] = -2
    a[rng.random(a.shape) < 0.03] = np.nan
    g = rng.normal(size=n)
    b = np.column_stack([np.clip(np.rint(5 + 2 * g + rng.normal(scale=1.2, size=n)), 0, 10) for _ in range(3)])
    tur = origin == "TUR"  # pure noise in one group: its reliability must be flagged
    b[tur] = rng.integers(0, 11, size=(tur.sum(), 3))
    b[rng.random(b.shape) < b_missing] = -1
    df = pd.DataFrame({"person_key": [f"p{i:05d}" for i in range(n)], "origin": origin})
    for j in range(4):
        df[f"a{j + 1}"] = a[:, j]
    for j in range(3):
        df[f"b{j + 1}"] = b[:, j]
    df["person_key"] = df["person_key"].astype("str")
    df["origin"] = df["origin"].astype("str")
    return df


def _write_run(tmp_path, df, extra: str = "", group: str = "origin", text: str = SPEC):
    project = tmp_path / "project"
    (project / "questionnaires").mkdir(parents=True)
    spec = project / "questionnaires" / "w1.yaml"
    spec.write_text(textwrap.dedent(text) + extra, encoding="utf-8")
    write_project_file(project, {"w1": small_wave("questionnaires/w1.yaml", key="person_key", group=group)})
    q = load_questionnaire(spec)
    out = tmp_path / "run"
    with atomic_dir(out / "clean") as tmp:
        save_wave_files(df, q.to_spss_meta(), tmp)
    return project, out, df


@pytest.fixture()
def run_folder(tmp_path):
    return _write_run(tmp_path, _wave())


def _valid(x: np.ndarray, codes) -> np.ndarray:
    return np.where(np.isin(x, codes), np.nan, x)


def _weights(df: pd.DataFrame, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.2, 5.0, len(df)) * np.where(df["origin"] == "BEL", 30.0, 1.0)


def _weighted_alpha(x: np.ndarray, w: np.ndarray) -> float:
    """svycralpha by hand on complete cases: weighted covariances (sum w) * m/(m-1)."""
    keep = ~np.isnan(x).any(axis=1)
    x, w = x[keep], w[keep]
    xc = x - (w[:, None] * x).sum(0) / w.sum()
    c = (w[:, None] * xc).T @ xc / w.sum() * len(x) / (len(x) - 1)
    k = x.shape[1]
    return k / (k - 1) * (1 - np.trace(c) / c.sum())


def test_pomp_index_with_reversed_item_equals_numpy_by_hand(run_folder):
    project, out, df = run_folder
    assert main(["score", "--out", str(out), "--project", str(project)]) == 0
    got = pd.read_parquet(out / "score" / "indices.parquet")
    a = _valid(df[["a1", "a2", "a3", "a4"]].to_numpy(float), [-1, -2, -4])
    a[:, 3] = 1 + 4 - a[:, 3]  # reflected within its own range 1-4, not the 1-5 of the others
    n_valid = (~np.isnan(a)).sum(1)
    lo, hi = np.array([1.0, 1, 1, 1]), np.array([5.0, 5, 5, 4])
    ok = ~np.isnan(a)
    # POMP of the mean of the valid items, on the range of the items answered
    with np.errstate(invalid="ignore"):
        pomp = 100 * np.where(ok, a - lo, 0).sum(1) / np.where(ok, hi - lo, 0).sum(1)
    expected = np.where(n_valid >= 3, pomp, np.nan)
    assert list(got["person_key"]) == list(df["person_key"])
    np.testing.assert_allclose(got["idx_a"].to_numpy(), expected, rtol=1e-12, equal_nan=True)
    assert np.nanmin(got["idx_a"]) == 0 and np.nanmax(got["idx_a"]) == 100
    full = n_valid == 4  # on complete answers: POMP of the mean on the mean of the ranges
    mean = a[full].mean(1)
    np.testing.assert_allclose(got["idx_a"][full], 100 * (mean - 1) / (4.75 - 1), rtol=1e-12)
    assert (got["idx_a_reason"].notna() == np.isnan(expected)).all()


def test_missing_index_reasons_are_counted_per_group(run_folder):
    project, out, df = run_folder
    main(["score", "--out", str(out), "--project", str(project)])
    reasons = pd.read_csv(out / "score" / "reasons.csv")
    a = _valid(df[["a1", "a2", "a3", "a4"]].to_numpy(float), [-1, -2, -4])
    too_few = (~np.isnan(a)).sum(1) < 3
    assert too_few.sum() > 20  # the fixture does produce respondents below k of n
    r = reasons[(reasons["index"] == "idx_a") & (reasons["reason"] == "too few valid items")]
    by_group = dict(zip(r["group"], r["count"], strict=True))
    assert by_group["(all)"] == too_few.sum()
    for g in GROUPS:
        assert by_group[g] == too_few[df["origin"].to_numpy() == g].sum()
    scored = reasons[(reasons["index"] == "idx_a") & (reasons["reason"] == "(scored)")]
    assert dict(zip(scored["group"], scored["count"], strict=True))["(all)"] == (~too_few).sum()


def test_low_reliability_group_is_flagged_unweighted_without_weight_folder(run_folder):
    project, out, df = run_folder
    main(["score", "--out", str(out), "--project", str(project)])
    rel = pd.read_csv(out / "score" / "reliability.csv")
    b = rel[rel["index"] == "idx_b"].set_index("group")
    assert b.loc["TUR", "flag"] and "< 0.6" in b.loc["TUR", "reason"]
    assert not b.loc["BEL", "flag"] and not b.loc["MAR", "flag"]
    assert set(rel["weighted"]) == {"no"}
    np.testing.assert_allclose(b["alpha"], b["alpha_unweighted"])
    summary = json.loads((out / "score" / "summary.json").read_text())
    assert summary["weighted"] is False and "unweighted" in summary["note"]
    assert summary["indices"]["idx_b"]["low_reliability_groups"] == ["TUR"]
    assert "idx_b" in summary["flagged"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"]["score"]["params"]["weighted"] is False


def test_weights_are_used_when_present_alpha_and_z_match_numpy_by_hand(tmp_path):
    # b items without missing answers: pairwise = complete cases, so alpha is exact
    project, out, df = _write_run(tmp_path, _wave(b_missing=0.0))
    w = _weights(df)
    with atomic_dir(out / "weight") as tmp:
        pd.DataFrame({"person_key": df["person_key"][::-1], "weight": w[::-1]}).to_parquet(tmp / "weights.parquet")
    main(["score", "--out", str(out), "--project", str(project)])
    rel = pd.read_csv(out / "score" / "reliability.csv")
    b = rel[rel["index"] == "idx_b"].set_index("group")
    assert set(rel["weighted"]) == {"yes"}
    x = _valid(df[["b1", "b2", "b3"]].to_numpy(float), [-1])
    bel = df["origin"].to_numpy() == "BEL"
    assert b.loc["(all)", "alpha"] == pytest.approx(_weighted_alpha(x, w), rel=1e-10)
    assert b.loc["BEL", "alpha"] == pytest.approx(_weighted_alpha(x[bel], w[bel]), rel=1e-10)
    assert b.loc["(all)", "alpha_unweighted"] == pytest.approx(_weighted_alpha(x, np.ones(len(x))), rel=1e-10)
    assert b.loc["(all)", "alpha"] != pytest.approx(b.loc["(all)", "alpha_unweighted"], abs=1e-4)
    # z: weighted mean 0 and weighted SD 1 in the reference group (BEL), by hand
    got = pd.read_parquet(out / "score" / "indices.parquet")
    n_valid = (~np.isnan(x)).sum(1)
    raw = np.where(n_valid >= 2, np.nanmean(np.where(n_valid[:, None] >= 2, x, 0), axis=1), np.nan)
    ref = (df["origin"].to_numpy() == "BEL") & ~np.isnan(raw)
    m = np.sum(w[ref] * raw[ref]) / w[ref].sum()
    sd = np.sqrt(np.sum(w[ref] * (raw[ref] - m) ** 2) / w[ref].sum() * ref.sum() / (ref.sum() - 1))
    np.testing.assert_allclose(got["idx_b"].to_numpy(), (raw - m) / sd, rtol=1e-10, equal_nan=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert any(i["path"].endswith("weights.parquet") for i in manifest["stages"]["score"]["inputs"])


def test_outputs_item_table_loadings_side_by_side_and_invariance(run_folder):
    project, out, df = run_folder
    main(["score", "--out", str(out), "--project", str(project)])
    items = pd.read_csv(out / "score" / "items.csv")
    assert set(items["group"]) == {"(all)", *GROUPS}
    assert {"item_rest_r", "alpha_if_dropped", "loading"} <= set(items.columns)
    loads = pd.read_csv(out / "score" / "loadings.csv")
    assert {"(pooled)", *GROUPS, "flag", "reason"} <= set(loads.columns)
    lb = loads[loads["index"] == "idx_b"]
    assert lb["flag"].all() and lb["reason"].str.contains("TUR").all()
    inv = pd.read_csv(out / "score" / "invariance.csv")
    assert list(inv.loc[inv["index"] == "idx_a", "model"]) == ["configural", "metric", "scalar"]
    inv_items = pd.read_csv(out / "score" / "invariance_items.csv")
    a = inv_items[inv_items["index"] == "idx_a"]
    assert sorted(a["item"].unique()) == ["a1", "a2", "a3", "a4"] and set(a["parameter"]) == {"loading", "intercept"}
    summary = json.loads((out / "score" / "summary.json").read_text())
    b = summary["indices"]["idx_b"]  # pure noise in TUR: not even metric invariance, flagged
    assert b["invariance_level"] == "configural" and b["flagged"]
    assert any("scalar invariance not supported" in f for f in b["flags"])
    read_wave(out / "clean")  # the clean folder is left as it was


def test_score_without_clean_folder_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "questionnaires").mkdir()
    (tmp_path / "questionnaires" / "w1.yaml").write_text(textwrap.dedent(SPEC), encoding="utf-8")
    write_project_file(tmp_path, {"w1": small_wave("questionnaires/w1.yaml", key="person_key", group="origin")})
    assert main(["score", "--out", str(tmp_path / "run"), "--project", str(tmp_path)]) != 0
    err = capsys.readouterr().err
    assert err.startswith("sid: error:") and "clean" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "score").exists()


def test_clean_records_without_weight_are_not_scored_and_their_reason_is_counted(run_folder):
    project, out, df = run_folder
    w = _weights(df)
    dropped = np.arange(len(df)) % 50 == 0  # e.g. partial interviews the weight stage left out
    with atomic_dir(out / "weight") as tmp:
        pd.DataFrame({"person_key": df["person_key"][~dropped], "weight": w[~dropped]}).to_parquet(
            tmp / "weights.parquet")
    assert main(["score", "--out", str(out), "--project", str(project)]) == 0
    got = pd.read_parquet(out / "score" / "indices.parquet")
    assert len(got) == len(df) and got.loc[dropped, "idx_a"].isna().all()
    assert got.loc[dropped, "idx_a_reason"].str.startswith("no weight").all()
    reasons = pd.read_csv(out / "score" / "reasons.csv")
    r = reasons[(reasons["index"] == "idx_b") & (reasons["group"] == "(all)")].set_index("reason")["count"]
    assert r[r.index.str.startswith("no weight")].iloc[0] == dropped.sum()
    # z reference from the weighted respondents only
    x = _valid(df[["b1", "b2", "b3"]].to_numpy(float), [-1])
    n_valid = (~np.isnan(x)).sum(1)
    raw = np.where(n_valid >= 2, np.nanmean(np.where(n_valid[:, None] >= 2, x, 0), axis=1), np.nan)
    ref = (df["origin"].to_numpy() == "BEL") & ~np.isnan(raw) & ~dropped
    m = np.sum(w[ref] * raw[ref]) / w[ref].sum()
    sd = np.sqrt(np.sum(w[ref] * (raw[ref] - m) ** 2) / w[ref].sum() * ref.sum() / (ref.sum() - 1))
    np.testing.assert_allclose(got["idx_b"][~dropped], ((raw - m) / sd)[~dropped], rtol=1e-10, equal_nan=True)


def test_a_weight_without_clean_record_is_an_error_and_nothing_is_written(run_folder, capsys):
    project, out, df = run_folder
    keys = [*df["person_key"], "ghost"]
    with atomic_dir(out / "weight") as tmp:
        pd.DataFrame({"person_key": keys, "weight": 1.0}).to_parquet(tmp / "weights.parquet")
    assert main(["score", "--out", str(out), "--project", str(project)]) != 0
    assert "'ghost' has a weight but no clean record" in capsys.readouterr().err
    assert not (out / "score").exists()


def test_a_group_too_small_to_assess_is_flagged_not_dropped_and_the_others_still_scored(tmp_path):
    df = _wave()
    tiny = df.iloc[:2].assign(person_key=["x1", "x2"], origin="POL")
    project, out, df = _write_run(tmp_path, pd.concat([df, tiny], ignore_index=True))
    assert main(["score", "--out", str(out), "--project", str(project)]) == 0
    rel = pd.read_csv(out / "score" / "reliability.csv").set_index(["index", "group"])
    assert rel.loc[("idx_a", "POL"), "flag"] and "not computable" in rel.loc[("idx_a", "POL"), "reason"]
    assert not rel.loc[("idx_a", "BEL"), "flag"]
    loads = pd.read_csv(out / "score" / "loadings.csv")
    assert loads.loc[loads["index"] == "idx_a", "reason"].str.contains("POL: not computable").all()
    summary = json.loads((out / "score" / "summary.json").read_text())
    assert "POL left out" in summary["indices"]["idx_a"]["invariance"]
    assert summary["indices"]["idx_a"]["invariance_level"] in ("configural", "metric", "scalar")


def test_count_and_factor_indices_are_scored_and_assessed(tmp_path):
    project, out, df = _write_run(tmp_path, _wave(), extra=EXTRA)
    assert main(["score", "--out", str(out), "--project", str(project)]) == 0
    got = pd.read_parquet(out / "score" / "indices.parquet")
    a = _valid(df[["a1", "a2", "a3"]].to_numpy(float), [-1, -2, -4])
    n_valid = (~np.isnan(a)).sum(1)
    expected = np.where(n_valid >= 2, np.isin(a, [4, 5]).sum(1), np.nan)
    np.testing.assert_array_equal(got["idx_c"].to_numpy(), expected)
    ref = (df["origin"] == "BEL").to_numpy() & got["idx_f"].notna().to_numpy()
    assert got["idx_f"][ref].mean() == pytest.approx(0.0, abs=1e-10)
    assert got["idx_f"][ref].std() == pytest.approx(1.0, rel=1e-10)
    # the factor score rises with the scale: reversed a4 enters reflected
    assert np.corrcoef(got["idx_f"][got["idx_a"].notna() & got["idx_f"].notna()],
                       got["idx_a"][got["idx_a"].notna() & got["idx_f"].notna()])[0, 1] > 0.9
    summary = json.loads((out / "score" / "summary.json").read_text())
    c = summary["indices"]["idx_c"]
    assert c["invariance"].startswith("not fitted") and c["notes"][0].startswith("measurement invariance not tested")
    rel = pd.read_csv(out / "score" / "reliability.csv")
    assert set(rel.loc[rel["index"] == "idx_c", "group"]) == {"(all)", *GROUPS}


def test_the_group_is_the_projects_reporting_group_whatever_its_name(tmp_path, capsys):
    # a survey whose group variable is not called origin: roles.group names it
    df = _wave().rename(columns={"origin": "herkomst"})
    project, out, _ = _write_run(tmp_path, df, group="herkomst", text=SPEC.replace("origin", "herkomst"))
    assert main(["score", "--out", str(out), "--project", str(project)]) == 0
    rel = pd.read_csv(out / "score" / "reliability.csv")
    assert set(rel["group"]) == {"(all)", *GROUPS}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"]["score"]["params"]["group"] == "herkomst"


def test_a_group_role_the_clean_wave_lacks_is_one_line_naming_the_role(tmp_path, capsys):
    project, out, df = _write_run(tmp_path, _wave(), group="herkomst")
    before = (out / "clean" / "data.parquet").read_bytes()
    assert main(["score", "--out", str(out), "--project", str(project)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no reporting-group variable 'herkomst' (roles.group of wave w1" in err[0]
    assert not (out / "score").exists() and (out / "clean" / "data.parquet").read_bytes() == before
