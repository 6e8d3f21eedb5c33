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
    from sid.tables.precision import read_csv

    return read_csv(path)


INTERNAL = Path("internal") / "tables_internal.csv"


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str)


def test_csv_and_parquet_hold_the_same_table(staged):
    pq = pd.read_parquet(staged["dir"] / "tables.parquet")
    csv = _read_csv(staged["dir"] / "tables.csv")
    assert list(csv.columns) == list(pq.columns)
    for c in pq.columns:
        if pd.api.types.is_numeric_dtype(pq[c]) and not pd.api.types.is_bool_dtype(pq[c]):
            np.testing.assert_array_equal(csv[c].to_numpy(float), pq[c].to_numpy(float), err_msg=c)
        else:
            assert (_text(csv[c]) == _text(pq[c])).all(), c


def test_index_means_by_origin_and_replicate_se_by_hand(staged):
    t = pd.read_csv(staged["dir"] / INTERNAL, keep_default_na=False, na_values=[""])
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
    share = w[c["q_lang_home"].to_numpy()[m] == 1].sum() / w.sum()
    assert nl["estimate"] == round(share, 4) and nl["unit"] == "share_0_1"  # published: 4 decimals
    assert nl["n"] == m.sum()


def test_small_group_is_suppressed_when_published_but_kept_internally(staged):
    pub = pd.read_parquet(staged["dir"] / "tables.parquet")
    internal = pd.read_csv(staged["dir"] / INTERNAL, keep_default_na=False, na_values=[""])
    afg_p, afg_i = pub[pub["by_value"] == "AFG"], internal[internal["by_value"] == "AFG"]
    assert len(afg_p) > 0 and afg_p["suppressed"].all() and afg_p["estimate"].isna().all()
    assert afg_p["se"].isna().all() and afg_p["status"].str.contains("low_n").all()
    assert afg_i["estimate"].notna().all() and afg_i["status"].str.contains("low_n").all()
    assert not (staged["dir"] / "tables_internal.csv").exists()  # not beside what may be published
    big = pub[pub["by_value"] == "BEL"]
    assert big["estimate"].notna().all() and not big["suppressed"].any()


def _rows(ws) -> list[list]:
    return [[c.value for c in r] for r in ws.iter_rows()]


def test_workbook_is_crosstabs_with_labels_formats_and_page_setup(staged):
    wb = load_workbook(staged["dir"] / "tables.xlsx")
    assert wb.sheetnames == ["Taalgebruik", "Burgerschap", "Toelichting"]
    ws = wb["Taalgebruik"]
    rows = _rows(ws)
    # the shares block: categories across (4 columns each), domains down
    title = next(i for i, r in enumerate(rows) if r[0] == "Taal die u thuis het meest spreekt: aandeel")
    cats, heads = rows[title + 1], rows[title + 2]
    assert cats[:3] == ["Indeling", "Groep", "Nederlands"] and "Frans" in cats and "1" not in cats
    assert heads[2:6] == ["Schatting", "BI onder", "BI boven", "n"]
    body = {r[1]: (i, r) for i, r in enumerate(rows[title + 3:title + 8], start=title + 3)}
    assert set(body) == {"Totaal", "Afghaans", "Belgisch", "Marokkaans", "Turks"}
    i, mar = body["Marokkaans"]
    pub = pd.read_parquet(staged["dir"] / "tables.parquet")
    want = pub[(pub["variable"] == "q_lang_home") & (pub["statistic"] == "proportion") & (pub["by_value"] == "MAR")
               & (pub["category"] == "1")].iloc[0]
    assert mar[2:6] == [want["estimate"], want["ci_low"], want["ci_high"], want["n"]]
    assert ws.cell(row=i + 1, column=3).number_format == "0.0%"
    assert body["Afghaans"][1][2] == "n<30" and body["Afghaans"][1][3] is None
    # differences: p-values below 0.001 show as "<0.001" and stay numbers
    diff = next(i for i, r in enumerate(rows) if str(r[0]).endswith("verschil met referentie Belgisch"))
    assert rows[diff + 2][2:6] == ["Verschil", "BI onder", "BI boven", "p"]
    p_cells = [ws.cell(row=k + 1, column=6) for k in range(diff + 3, diff + 6) if isinstance(rows[k][5], float)]
    assert p_cells and all(c.number_format == '[<0.001]"<0.001";0.000' for c in p_cells)
    test = next(i for i, r in enumerate(rows) if str(r[0]).startswith("Rao-Scott F-toets: Taal die u thuis"))
    assert rows[test + 1][2:6] == ["F", "vg teller", "vg noemer", "p"]
    for name in ("Taalgebruik", "Burgerschap", "Toelichting"):
        s = wb[name]
        assert s.page_setup.orientation == "landscape" and s.sheet_properties.pageSetUpPr.fitToPage
        assert s.page_setup.fitToWidth == 1 and s.page_setup.fitToHeight == 0
    assert ws.freeze_panes == "C2" and ws.print_title_cols == "$A:$B"
    notes = wb["Toelichting"]
    text = " ".join(str(c.value) for r in notes.iter_rows() for c in r if c.value)
    assert "minder dan 30 respondenten" in text and "subbootstrap" in text and "high_cv" in text
    assert "share_0_1" in text  # the precision and unit of tables.csv are stated
    for r in range(3, notes.max_row + 1):  # every wrapped note is as tall as its text
        v = str(notes.cell(row=r, column=2).value or "")
        assert notes.row_dimensions[r].height >= 15 * (len(v) // 110 + 1), r


def test_csv_is_rounded_with_units_codes_as_text_and_a_status(staged):
    raw = pd.read_csv(staged["dir"] / "tables.csv")  # as a user reads it: pandas' defaults
    assert "flags" not in raw.columns and set(raw["status"]) <= {"ok", "low_n", "high_cv", "low_n;high_cv"}
    assert raw["category"].dtype != float and {"1", "2", "-"} <= set(raw["category"].astype(str))
    assert set(raw["unit"]) == {"share_0_1", "index_points_0_100", "variable_units", "F"}
    assert set(raw.loc[raw["unit"] == "F", "statistic"]) == {"rao_scott_f"} and "chisq" not in set(raw["statistic"])
    decimals = {"share_0_1": 4, "index_points_0_100": 2, "variable_units": 2, "F": 3}
    for unit, d in decimals.items():
        v = raw.loc[raw["unit"] == unit, ["estimate", "se", "ci_low", "ci_high"]].to_numpy(float).ravel()
        v = v[~np.isnan(v)]
        assert v.size and np.allclose(v, np.round(v, d), rtol=0, atol=1e-12), unit
    text = (staged["dir"] / "tables.csv").read_text()
    assert not any(len(x.split(".")[-1]) > 4 for x in text.replace(",", " ").split() if x[:1].isdigit()
                   and "." in x and x.replace(".", "").isdigit())
    internal = pd.read_csv(staged["dir"] / INTERNAL)
    full = internal["estimate"].dropna().to_numpy(float)
    assert not np.allclose(full, np.round(full, 4))  # the internal file keeps every digit
    doc = (ROOT / "docs" / "run-folder.md").read_text()
    assert "tables/internal/tables_internal.csv" in doc and "share_0_1" in doc


def test_manifest_records_the_stage(staged):
    man = json.loads((staged["run"] / "manifest.json").read_text())
    entry = man["stages"]["tables"]
    assert {o["path"] for o in entry["outputs"]} == {
        "tables/tables.csv", "tables/tables.parquet", "tables/tables.xlsx", "tables/internal/tables_internal.csv"}
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


def test_workbook_sheets_take_the_theme_labels_of_the_spec_and_undeclared_themes_fail(tmp_path, capsys):
    """Sheet titles are the questionnaire spec's theme labels (relabel one and the sheet
    follows); a table naming a theme the spec does not declare is a one-line error with a
    suggestion, and no tables folder is written."""
    s = _make_run(tmp_path)
    qpath = s["proj"] / "questionnaires" / "sid2022.yaml"
    qpath.write_text(qpath.read_text(encoding="utf-8").replace(
        'language: "Taalgebruik"', 'language: "Taal en thuistaal"'), encoding="utf-8")
    assert main(["tables", "--out", str(s["run"]), "--project", str(s["proj"]), "--variance", "taylor"]) == 0
    assert load_workbook(s["run"] / "tables" / "tables.xlsx").sheetnames == [
        "Taal en thuistaal", "Burgerschap", "Toelichting"]
    shutil.rmtree(s["run"] / "tables")
    plan = s["proj"] / "reports" / "sid2022_tables.yaml"
    plan.write_text(PLAN.replace("theme: citizenship", "theme: citizenshp"), encoding="utf-8")
    before = plan.read_bytes()
    capsys.readouterr()
    assert main(["tables", "--out", str(s["run"]), "--project", str(s["proj"])]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sid: error:") and "\n" not in err
    assert "table 'age': theme 'citizenshp' is not declared in the questionnaire's themes" in err
    assert "did you mean 'citizenship'?" in err
    assert not (s["run"] / "tables").exists() and plan.read_bytes() == before
