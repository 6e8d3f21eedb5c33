"""The tables stage on a small synthetic SID run folder: figures by hand (weighted means,
shares, replicate SEs with numpy), disclosure in published vs internal output, CSV =
Parquet, the Excel workbook read back with openpyxl, manifest and CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from sid.cli import main
from sid.io.wave import save_wave_files
from sid.spec.questionnaire_parse import load_questionnaire
from sid.tables.stage import run_tables
from tests.projects import sid_wave, write_project_file

ROOT = Path(__file__).resolve().parents[1]
GROUPS = {"BEL": (150, 5.0e6), "MAR": (120, 2.5e5), "TUR": (110, 2.0e5), "AFG": (12, 3.0e4)}
R = 40
PLAN = """
wave: sid2022
defaults: {min_n: 30, max_cv: 0.3, variance: replicate}
tables:
  - id: lang_idx
    theme: language
    title: Taalindex naar herkomst
    variables: [idx_language]
    by: [origin, "origin:sex", mode]
    compare_to: {origin: BEL}
  - id: lang_home
    theme: language
    title: Thuistaal naar herkomst
    variables: [q_lang_home]
    by: [origin]
    chisq: [origin]
  - id: age
    theme: citizenship
    title: Leeftijd naar geslacht
    variables: [age]
    by: [sex]
"""


def _make_run(root: Path) -> dict:
    rng = np.random.default_rng(7)
    origin = np.concatenate([[g] * n for g, (n, _) in GROUPS.items()])
    n = origin.shape[0]
    key = np.array([f"k{i:04d}" for i in range(n)])
    lang = rng.integers(1, 6, n).astype(float)
    lang[rng.random(n) < 0.1] = -1.0  # "weet niet": a missing code, not a category
    clean = pd.DataFrame({
        "person_key": key, "stratum": origin, "sex": rng.integers(1, 3, n).astype(float),
        "q_lang_home": lang, "origin": origin, "age": rng.integers(15, 86, n).astype(float),
        "mode": rng.choice(["web", "capi"], n),
    })
    q = load_questionnaire(ROOT / "questionnaires" / "sid2022.yaml")
    meta = q.to_spss_meta().subset(clean.columns)
    run = root / "run"
    (run / "clean").mkdir(parents=True)
    save_wave_files(clean, meta, run / "clean")
    n_h = pd.Series(origin).map(pd.Series(origin).value_counts()).to_numpy(float)
    pop = pd.Series(origin).map({g: p for g, (_, p) in GROUPS.items()}).to_numpy()
    w = pop / n_h * rng.uniform(0.6, 1.4, n)
    (run / "weight").mkdir()
    pd.DataFrame({"person_key": key, "weight": w, "stratum": origin}).to_parquet(run / "weight" / "weights.parquet")
    F = np.zeros((n, R))  # Rao-Wu bootstrap factors by hand, stratum by stratum
    for g in GROUPS:
        m = np.flatnonzero(origin == g)
        F[m] = rng.multinomial(m.size - 1, np.full(m.size, 1 / m.size), size=R).T * m.size / (m.size - 1)
    rep = pd.DataFrame(F * w[:, None], columns=[f"rep_{r + 1:03d}" for r in range(R)])
    rep.insert(0, "person_key", key)
    rep.to_parquet(run / "weight" / "replicates.parquet")
    (run / "weight" / "diagnostics.json").write_text(json.dumps(
        {"design": {"key": "person_key", "weight": "weight", "strata": "stratum"},
         "replicates": {"method": "subbootstrap", "scale": 1 / (R - 1), "rscales": 1.0, "mse": False}}))
    idx = np.where(rng.random(n) < 0.05, np.nan, rng.uniform(0, 100, n) + (origin == "BEL") * 20)
    (run / "score").mkdir()
    # indices in another row order than the weights: open_wave joins by key
    pd.DataFrame({"person_key": key, "idx_language": idx})[::-1].to_parquet(run / "score" / "indices.parquet")
    proj = root / "proj"
    (proj / "questionnaires").mkdir(parents=True)
    (proj / "reports").mkdir()
    shutil.copy(ROOT / "questionnaires" / "sid2022.yaml", proj / "questionnaires" / "sid2022.yaml")
    (proj / "reports" / "sid2022_tables.yaml").write_text(PLAN)
    write_project_file(proj, {"sid2022": sid_wave(weighting=None, linkage=None, smallarea=None)})
    return {"run": run, "proj": proj, "clean": clean, "w": w, "W": F * w[:, None], "idx": idx}


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    s = _make_run(tmp_path_factory.mktemp("tables"))
    s["dir"] = run_tables(s["run"], s["proj"])
    return s


def _read_csv(path: Path) -> pd.DataFrame:
    text = ["table_id", "theme", "title", "variable", "variable_label", "statistic", "by_var", "by_var_label",
            "by_value", "by_label", "category", "category_label", "reference", "reference_label",
            "variance_method", "flags"]
    return pd.read_csv(path, dtype={c: "str" for c in text}, keep_default_na=False, na_values={
        c: [""] for c in ["estimate", "se", "ci_low", "ci_high", "cv", "weighted_n", "deff", "df", "ndf", "p_value"]})


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str)


def test_csv_and_parquet_hold_the_same_table(staged):
    pq = pd.read_parquet(staged["dir"] / "tables.parquet")
    csv = _read_csv(staged["dir"] / "tables.csv")
    assert list(csv.columns) == list(pq.columns)
    for c in pq.columns:
        if pd.api.types.is_numeric_dtype(pq[c]) and not pd.api.types.is_bool_dtype(pq[c]):
            np.testing.assert_allclose(csv[c].to_numpy(float), pq[c].to_numpy(float), rtol=1e-14, err_msg=c)
        else:
            assert (_text(csv[c]) == _text(pq[c])).all(), c


def test_index_means_by_origin_and_replicate_se_by_hand(staged):
    t = pd.read_csv(staged["dir"] / "tables_internal.csv", keep_default_na=False, na_values=[""])
    got = t[(t["table_id"] == "lang_idx") & (t["statistic"] == "mean") & (t["by_var"] == "origin")]
    origin, w, W, y = staged["clean"]["origin"].to_numpy(), staged["w"], staged["W"], staged["idx"]
    assert set(got["by_label"]) == {"Belgisch", "Marokkaans", "Turks", "Afghaans"}
    for _, row in got.iterrows():
        m = (origin == row["by_value"]) & ~np.isnan(y)
        est = (w[m] * y[m]).sum() / w[m].sum()
        thetas = (W[m] * y[m, None]).sum(0) / W[m].sum(0)
        se = np.sqrt(((thetas - thetas.mean()) ** 2).sum() / (R - 1))
        assert row["estimate"] == pytest.approx(est, rel=1e-12)
        assert row["se"] == pytest.approx(se, rel=1e-9)
        assert row["n"] == m.sum()
        assert row["variance_method"] == "subbootstrap"


def test_shares_leave_out_missing_codes_and_carry_labels(staged):
    t = pd.read_parquet(staged["dir"] / "tables.parquet")
    got = t[(t["variable"] == "q_lang_home") & (t["statistic"] == "proportion") & (t["by_value"] == "MAR")]
    c = staged["clean"]
    m = (c["origin"] == "MAR").to_numpy() & (c["q_lang_home"] > 0).to_numpy()
    w = staged["w"][m]
    assert set(got["category"]) <= {"1", "2", "3", "4", "5"}  # no "-1"
    nl = got[got["category"] == "1"].iloc[0]
    assert nl["category_label"] == "Nederlands"
    assert nl["estimate"] == pytest.approx(w[c["q_lang_home"].to_numpy()[m] == 1].sum() / w.sum(), rel=1e-12)
    assert nl["n"] == m.sum()


def test_small_group_is_suppressed_when_published_but_kept_internally(staged):
    pub = pd.read_parquet(staged["dir"] / "tables.parquet")
    internal = pd.read_csv(staged["dir"] / "tables_internal.csv", keep_default_na=False, na_values=[""])
    afg_p, afg_i = pub[pub["by_value"] == "AFG"], internal[internal["by_value"] == "AFG"]
    assert len(afg_p) > 0 and afg_p["suppressed"].all() and afg_p["estimate"].isna().all()
    assert afg_p["se"].isna().all() and afg_p["flags"].str.contains("low_n").all()
    assert afg_i["estimate"].notna().all() and afg_i["flags"].str.contains("low_n").all()
    big = pub[pub["by_value"] == "BEL"]
    assert big["estimate"].notna().all() and not big["suppressed"].any()


def test_workbook_has_theme_sheets_labels_and_notes(staged):
    wb = load_workbook(staged["dir"] / "tables.xlsx")
    assert wb.sheetnames == ["Taalgebruik", "Burgerschap", "Toelichting"]
    ws = wb["Taalgebruik"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    header = next(r for r in rows if r[0] == "Variabele")
    col = {h: j for j, h in enumerate(header)}
    body = [r for r in rows if r[col["Statistiek"]] in ("gemiddelde", "aandeel", "verschil met referentie")]
    groups = {r[col["Groep"]] for r in body}
    assert {"Marokkaans", "Belgisch", "Turks"} <= groups and "MAR" not in groups
    assert "Nederlands" in {r[col["Categorie"]] for r in body}
    assert "Taalgebruik: Nederlands (0-100)" in {r[col["Variabele"]] for r in body}
    assert ws.freeze_panes is not None
    share = next(ws.cell(row=i + 1, column=col["Schatting"] + 1) for i, r in enumerate(rows)
                 if r[col["Statistiek"]] == "aandeel" and r[col["Schatting"]] is not None)
    assert share.number_format == "0.0%"
    afg = [r for r in body if r[col["Groep"]] == "Afghaans"]
    assert afg and all(r[col["Schatting"]] is None and "low_n" in r[col["Vlaggen"]] for r in afg)
    notes = " ".join(str(c.value) for r in wb["Toelichting"].iter_rows() for c in r if c.value)
    assert "minder dan 30 respondenten" in notes and "subbootstrap" in notes and "high_cv" in notes


def test_manifest_records_the_stage(staged):
    man = json.loads((staged["run"] / "manifest.json").read_text())
    entry = man["stages"]["tables"]
    assert {o["path"] for o in entry["outputs"]} == {
        "tables/tables.csv", "tables/tables.parquet", "tables/tables.xlsx", "tables/tables_internal.csv"}
    assert entry["params"]["variance"] == "replicate" and entry["params"]["suppressed"] > 0


def test_cli_taylor_and_one_line_error(tmp_path, capsys):
    s = _make_run(tmp_path)
    assert main(["tables", "--out", str(s["run"]), "--project", str(s["proj"]), "--variance", "taylor"]) == 0
    t = pd.read_parquet(s["run"] / "tables" / "tables.parquet")
    assert (t["variance_method"] == "taylor").all()
    shutil.rmtree(s["run"] / "weight")
    capsys.readouterr()
    assert main(["tables", "--out", str(s["run"]), "--project", str(s["proj"])]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sid: error:") and "weights.parquet not found" in err and "\n" not in err


def test_wave_table_gives_the_tidy_layout_with_meta_labels(staged):
    from sid.runfolder.wave import open_wave
    from sid.tables.build import COLUMNS

    wave = open_wave(staged["run"], variance="taylor")
    t = wave.table("q_lang_home", by=["origin", "origin:sex"], compare_to={"origin": "BEL"}, published=True)
    assert list(t.columns) == COLUMNS
    mar = t[(t["statistic"] == "proportion") & (t["by_value"] == "MAR") & (t["category"] == "1")].iloc[0]
    assert mar["by_label"] == "Marokkaans" and mar["category_label"] == "Nederlands"
    c = staged["clean"]
    m = (c["origin"] == "MAR").to_numpy() & (c["q_lang_home"] > 0).to_numpy()
    w = staged["w"][m]
    assert mar["estimate"] == pytest.approx(w[c["q_lang_home"].to_numpy()[m] == 1].sum() / w.sum(), rel=1e-12)
    assert mar["variance_method"] == "taylor"
    afg = t[t["by_value"].str.startswith("AFG")]
    assert afg["suppressed"].all() and afg["estimate"].isna().all()
    assert {"Belgisch"} == set(t.loc[t["statistic"] == "difference", "reference_label"])


def test_lonely_psu_rule_comes_from_the_plan_and_is_stated_in_every_taylor_row(tmp_path, capsys):
    s = _make_run(tmp_path)
    wpath = s["run"] / "weight" / "weights.parquet"
    weights = pd.read_parquet(wpath)
    weights.loc[0, "stratum"] = "LONE"  # a stratum with a single PSU (respondent)
    weights.to_parquet(wpath)
    plan = s["proj"] / "reports" / "sid2022_tables.yaml"
    # R's default, options(survey.lonely.psu = "fail"): one line naming the stratum
    assert main(["tables", "--out", str(s["run"]), "--project", str(s["proj"]), "--variance", "taylor"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sid: error:") and "'LONE'" in err and "lonely_psu" in err and "\n" not in err
    plan.write_text(plan.read_text().replace("defaults: {", "defaults: {lonely_psu: adjust, ", 1))
    assert main(["tables", "--out", str(s["run"]), "--project", str(s["proj"]), "--variance", "taylor"]) == 0
    t = pd.read_parquet(s["run"] / "tables" / "tables.parquet")
    assert (t["lonely_psu"] == "adjust").all()
    assert main(["tables", "--out", str(s["run"]), "--project", str(s["proj"])]) == 0
    t = pd.read_parquet(s["run"] / "tables" / "tables.parquet")
    assert (t["lonely_psu"] == "not used (replicate weights)").all()
