"""The analysts' files beside the .sav (sid.report.analyst_files) on both demo waves, run as
a user runs them (``sid demo``, ``sid run``): sid2022 (stratified, replicate weights) and
sid2017 (clustered PPS, calibrated Taylor tables).

* the README's R scripts, extracted from README_<wave>.md and run by Rscript on the .sav
  (haven), reproduce the named table cell: sid2022's replicate SE to 1e-8; sid2017's
  raked Taylor SE to 1e-5 against the tables (sid sweeps the raking residuals to
  convergence, R's svyrecvar 10 times) and to 1e-8 against sid with 10 sweeps; the
  uncalibrated script (what SPSS and Stata compute) to 1e-8 against sid's figure;
* the .dta read back by pyreadstat holds the .sav's values, variable and value labels;
* the codebook's frequencies are pandas counts of the clean wave's weighted respondents;
* every file is in the report stage's manifest outputs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from sid.report.analyst_files import analyst_file_names
from sid.report.analyst_readme import extract_blocks
from tests.report_waves import WAVES

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"sid2022": "person_key", "sid2017": "pseudo_id"}


@pytest.fixture(scope="module", params=list(WAVES))
def run(request, demo_runs) -> dict:
    """The session's ``sid demo`` + ``sid run`` of each wave (tests/report_waves.py)."""
    wave = request.param
    out = demo_runs[wave]["out"]
    names = analyst_file_names(wave)
    return {"wave": wave, "out": out, "report": out / "report", "names": names,
            "readme": (out / "report" / names["readme"]).read_text(encoding="utf-8")}


def _internal(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "tables" / "internal" / "tables_internal.csv", dtype=str, keep_default_na=False)


def _named_cell(run) -> pd.Series:
    """The tables_internal row the README names (table, variable, domain), read from the README."""
    m = re.search(r"Tabel `([^`]+)` .*?het gemiddelde van `([^`]+)` .*?voor `([^`]+)` = `([^`]+)`", run["readme"])
    assert m, "the README names no table cell"
    t = _internal(run["out"])
    rows = t[(t.table_id == m[1]) & (t.variable == m[2]) & (t.statistic == "mean") & (t.by_var == m[3])
             & (t.by_value == m[4])]
    assert len(rows) >= 1
    return rows.iloc[0]


def _r_available() -> str | None:
    if shutil.which("Rscript") is None:
        return "Rscript not installed"
    probe = subprocess.run(["Rscript", "-e", "library(haven); library(survey)"], capture_output=True)
    return None if probe.returncode == 0 else "R packages haven/survey not installed"


def _run_r(block: str, cwd: Path) -> tuple[float, float]:
    code = block + '\ncat(sprintf("%.17g", uitkomst), "\\n")\n'
    res = subprocess.run(["Rscript", "-e", code], cwd=cwd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    est, se = res.stdout.split()[-2:]
    return float(est), float(se)


def test_the_readme_names_the_cell_and_gives_sids_unrounded_figures(run):
    row = _named_cell(run)
    text = run["readme"]
    assert f"schatting **{float(row.estimate):.10g}**" in text
    assert f"standaardfout **{float(row.se):.10g}**" in text
    assert "```r" in text and "```spss" in text and "```stata" in text
    assert run["names"]["sav"] in text and run["names"]["dta"] in text


def test_readme_r_syntax_on_the_sav_reproduces_the_table_cell_and_its_se(run):
    """sid2022: svrepdesign on the .sav's replicate weights = the table's replicate SE to
    1e-8. sid2017: svydesign(ids=~psu_1+psu_2, strata, weights=prior) + rake() on the
    margins = the table's Taylor SE to 1e-5 (R sweeps the raking residuals 10 times, sid to
    convergence) and sid's 10-sweep SE to 1e-8."""
    why = _r_available()
    if why:
        pytest.skip(why)
    row = _named_cell(run)
    blocks = extract_blocks(run["readme"], "r")
    assert len(blocks) == 2
    est, se = _run_r(blocks[0], run["report"])
    assert est == pytest.approx(float(row.estimate), rel=1e-10)
    if row.variance_method == "taylor":
        import sid
        from sid.estimation.design import Design

        assert se == pytest.approx(float(row.se), rel=1e-5)
        wave = sid.open_wave(run["out"], variance="taylor")
        diag = wave.diagnostics
        design = Design.calibrated(wave.data, weight="weight", prior=diag["calibration"]["prior"],
                                   margins=diag["calibration"]["margins"], method="raking",
                                   strata=diag["design"]["strata"], psu=diag["design"]["psu"], rake_sweeps=10)
        got = design.mean(row.variable, by=row.by_var)
        got = got[got[row.by_var].astype(str) == row.by_value].iloc[0]
        assert se == pytest.approx(float(got.se), rel=1e-8)
    else:
        assert se == pytest.approx(float(row.se), rel=1e-8)


def test_readme_r_syntax_without_calibration_gives_the_figure_stated_for_spss_and_stata(run):
    why = _r_available()
    if why:
        pytest.skip(why)
    est, se = _run_r(extract_blocks(run["readme"], "r")[1], run["report"])
    m = re.search(r"Dit geeft schatting ([0-9.e+-]+) en standaardfout ([0-9.e+-]+)\.", run["readme"])
    assert m
    assert est == pytest.approx(float(m[1]), rel=1e-9)
    assert se == pytest.approx(float(m[2]), rel=1e-8)


def test_the_dta_holds_the_savs_values_and_labels(run):
    sav, msav = pyreadstat.read_sav(str(run["report"] / run["names"]["sav"]), user_missing=True)
    dta, mdta = pyreadstat.read_dta(str(run["report"] / run["names"]["dta"]), user_missing=True)
    assert list(dta.columns) == list(sav.columns)  # the demo waves' names fit Stata as they are
    assert len(dta) == len(sav)
    letters = dict(re.findall(r"([0-9.-]+) → `\.([a-z])`", run["readme"]))
    code_of = {v: float(k) for k, v in letters.items()}
    assert code_of, "the README states the missing codes' letters"
    for c in sav.columns:
        a, b = sav[c], dta[c]
        if pd.api.types.is_numeric_dtype(a.dtype):
            bb = b.map(lambda v: code_of.get(v, v) if isinstance(v, str) else v) if b.dtype == object else b
            np.testing.assert_allclose(pd.to_numeric(bb).to_numpy(float), a.to_numpy(float), rtol=0, atol=0,
                                       equal_nan=True, err_msg=c)
        elif pd.api.types.is_datetime64_any_dtype(b.dtype):  # SPSS dates: Stata %tc date-times
            na = pd.Timestamp(0)
            assert (b.fillna(na) == pd.to_datetime(a).fillna(na)).all(), c
        else:
            assert (b.fillna("").astype(str).to_numpy() == a.fillna("").astype(str).to_numpy()).all(), c
    labels_sav = dict(zip(msav.column_names, msav.column_labels, strict=True))
    labels_dta = dict(zip(mdta.column_names, mdta.column_labels, strict=True))
    assert labels_dta == labels_sav
    n_checked = 0
    for var, vl in msav.variable_value_labels.items():
        if not all(isinstance(k, float | int) for k in vl):
            continue  # text codes: Stata labels numbers only (the README lists them)
        want = {}
        for k, text in vl.items():
            key = next((x for x, code in code_of.items() if code == float(k)), None)
            declared = any(r["lo"] <= float(k) <= r["hi"] for r in msav.missing_ranges.get(var, []))
            want[key if key is not None and declared else int(k)] = text
        got = mdta.variable_value_labels.get(var, {})
        assert {str(k): v for k, v in got.items()} == {str(k): v for k, v in want.items()}, var
        n_checked += 1
    assert n_checked > 10


def test_codebook_frequencies_are_pandas_counts_of_the_weighted_clean_records(run):
    from sid.spec.questionnaire_parse import load_questionnaire

    out, wave = run["out"], run["wave"]
    key = KEYS[wave]
    clean = pd.read_parquet(out / "clean" / "data.parquet")
    w = pd.read_parquet(out / "weight" / "weights.parquet")[[key, "weight"]]
    d = clean.merge(w, on=key, how="inner")
    book = pd.read_excel(out / "report" / run["names"]["xlsx"], sheet_name="Codeboek", dtype={"Code": str})
    q = load_questionnaire(ROOT / "questionnaires" / f"{wave}.yaml")
    cat_vars = [v for v in q.variables if v.categories and v.name in d.columns]
    assert len(cat_vars) > 10
    for v in cat_vars:
        rows = book[(book.Variabele == v.name) & (book.Rij == "categorie")]
        s = d[v.name]
        codes = s.map(lambda x: str(int(x)) if isinstance(x, float) and x.is_integer() else str(x))
        counts = codes[s.notna()].value_counts()
        weighted = d["weight"][s.notna()].groupby(codes[s.notna()]).sum()
        for code, n, nw in zip(rows.Code.astype(str), rows.Aantal, rows["Aantal gewogen"], strict=True):
            assert n == counts.get(code, 0), (v.name, code)
            assert nw == pytest.approx(weighted.get(code, 0.0), rel=1e-12, abs=1e-9), (v.name, code)
    # the sum of a variable's rows is the file's rows
    per_var = book.groupby("Variabele", sort=False)["Aantal"].sum()
    assert (per_var == len(d)).all(), per_var[per_var != len(d)]
    html = (out / "report" / run["names"]["html"]).read_text(encoding="utf-8")
    for v in cat_vars:
        assert f'id="{v.name}"' in html


def test_codebook_xlsx_is_a_data_dictionary_with_a_frozen_header_and_number_formats(run):
    from openpyxl import load_workbook

    wb = load_workbook(run["report"] / run["names"]["xlsx"])
    ws = wb["Codeboek"]
    assert ws.freeze_panes == "C2"
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Variabele", "Label", "Bron"]
    fmt = {h: ws.cell(row=2, column=j + 1).number_format for j, h in enumerate(header)}
    assert fmt["Aantal"] == "#,##0" and fmt["% van alle"] == "0.0%" and fmt["Aantal gewogen"] == "#,##0.0"
    assert ws.auto_filter.ref.startswith("A1:")
    assert "Toelichting" in wb.sheetnames


def test_the_analysts_files_are_in_the_manifests_outputs(run):
    manifest = json.loads((run["out"] / "manifest.json").read_text(encoding="utf-8"))
    outputs = {Path(o["path"]).name: o["sha256"] for o in manifest["stages"]["report"]["outputs"]}
    from sid.io.hashing import sha256_file

    for name in run["names"].values():
        assert outputs[name] == sha256_file(run["report"] / name), name
    assert not [p for p in run["report"].iterdir() if p.name.startswith(".")]  # no temporary left
