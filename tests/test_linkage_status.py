"""Issue 15's indicator base: "not applicable" apart from suppressed, column names that do
not collide (schema version 3, migrated from version 2), Dutch definitions, and a pull
rounded to each indicator's precision with a status column. On DuckDB and PostgreSQL."""

from __future__ import annotations

import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

from sid.cli import main
from sid.linkage.base import open_base, replace_wave
from sid.linkage.indicators import survey_indicators
from sid.linkage.pull import pull
from sid.linkage.schema import INDICATOR_COLUMNS, SCHEMA_VERSION
from sid.linkage.spec import load_linkage_spec
from tests.test_linkage_indicators import ROOT, respondents
from tests.test_linkage_sdmx import make_version_2_names

BANDS = [25, 35, 45, 55, 65]  # age -> the spec's age_band codes 1..6 (15-24 ... 65-85)


@pytest.fixture(scope="module")
def spec():
    return load_linkage_spec(ROOT / "linkage" / "sid2022.yaml", project=ROOT)


@pytest.fixture(scope="module")
def values(spec):
    df = respondents(2800)
    df["age_band"] = np.digitize(df["age"], BANDS) + 1  # bands that agree with the ages
    return survey_indicators(df, spec, strata="origin")


def _cells(values, code, band):
    return values[(values["indicator_code"] == code) & (values["age_band"] == band)]


def test_cells_outside_the_universe_are_not_applicable_not_suppressed(values):
    old = _cells(values, "SID_WERK_12M", "65-85")  # universe 20-64: no value can exist
    assert len(old) == 3
    assert (old["flags"] == "not_applicable").all() and (old["obs_status"] == "M").all()
    assert (old["conf_status"] == "F").all() and old["value"].isna().all() and (old["n"] == 0).all()
    # the same band of an indicator on 18-85 holds values, and small cells stay suppressed
    lang = _cells(values, "SID_TAAL_NL_THUIS", "65-85")
    assert (lang["flags"] != "not_applicable").all() and lang["value"].notna().all()
    small = values[values["flags"].str.startswith("suppressed")]
    assert len(small) and (small["obs_status"] == "Q").all() and (small["n"] > 0).all()


def test_a_band_the_universe_cuts_says_so_in_its_note(values):
    young = _cells(values, "SID_WERK_12M", "15-24")
    assert young["note"].str.contains(r"telt alleen wie in het universum valt \(20-64 jaar\): \d+ van \d+").all()
    whole = _cells(values, "SID_WERK_12M", "35-44")
    assert not whole["note"].str.contains("universum").any()
    # a universe of ages 18+ cuts the 15-24 band too; the sex breakdown is not cut (every
    # sex cell lies as much outside the 20-64 universe as the whole)
    assert _cells(values, "SID_TAAL_NL_THUIS", "15-24")["note"].str.contains(r"\(18-85 jaar\)").all()
    by_sex = values[(values["indicator_code"] == "SID_WERK_12M") & (values["sex"] != "total")]
    assert not by_sex["note"].str.contains("universum").any()


def test_not_applicable_rows_load_and_pull_with_their_status(values, spec, base_target):
    with open_base(base_target) as db:
        replace_wave(db, wave="sid2022", source_type="survey", indicators=spec.indicator_table(), values=values,
                     spec_hash="h")
        got = db.execute("SELECT obs_status, count(*) FROM indicator_values WHERE flags = 'not_applicable' "
                         "GROUP BY obs_status")
    assert got == [("M", 3)]
    table = pull(base_target, codes=["SID_WERK_12M"])
    row = table[table["age_band"] == "65-85"].iloc[0]
    assert row["BEL status"] == "niet van toepassing" and pd.isna(row["BEL value"])  # the base's language
    assert set(table["BEL status"]) <= {"", "niet van toepassing", "onderdrukt n<30", "cv>0.3"}


def test_definitions_are_dutch_and_numerators_show_labels_not_expressions():
    for wave in ("sid2022", "sid2017"):
        spec = load_linkage_spec(ROOT / "linkage" / f"{wave}.yaml", project=ROOT)
        table = spec.indicator_table()
        assert table["definition"].str.match(r"^(Aandeel|Gemiddelde) ").all(), wave
        assert not table["definition"].str.contains(r"\b(?:Share|Mean|residents)\b").any()
        shares = table[table["numerator_definition"].notna()]
        assert len(shares) == 3
        for text in pd.concat([shares["numerator_definition"], shares["denominator_definition"]]):
            assert text.startswith("Gewogen aantal inwoners") and not re.search(r"==|>=|<=|q_|v_|count_", text)


def test_indicator_and_value_columns_do_not_collide_and_a_version_2_base_is_migrated(spec, values, base_target):
    with open_base(base_target) as db:
        replace_wave(db, wave="sid2022", source_type="survey", indicators=spec.indicator_table(), values=values,
                     spec_hash="h", run_id="r1")
        joined = db.df("SELECT * FROM indicator_values v JOIN indicators i ON i.code = v.indicator_code")
        both = sorted(joined.columns[joined.columns.duplicated()])
        assert both == ["source_type", "wave"]  # provenance, the same in both; no numerator twice
        assert {"numerator", "numerator_definition", "denominator", "denominator_definition"} <= set(joined.columns)
        before = db.df("SELECT * FROM indicator_values ORDER BY indicator_code, geography, origin, generation, "
                       "sex, age_band")
        defs = db.df("SELECT * FROM indicators ORDER BY code")
        make_version_2_names(db)
        db.execute("UPDATE sid_schema SET version = 2")
    # read-only, a version-2 base is read as it is (the old names renamed in the query)
    old = pull(base_target, codes=["SID_WERK_12M"])
    assert len(old) > 0
    with open_base(base_target) as db:  # opening it for writing migrates it
        assert db.execute("SELECT version FROM sid_schema") == [(SCHEMA_VERSION,)]
        after = db.df("SELECT * FROM indicator_values ORDER BY indicator_code, geography, origin, generation, "
                      "sex, age_band")
        defs_after = db.df("SELECT * FROM indicators ORDER BY code")
        assert db.execute("SELECT run_id, run_at FROM loads") == [("r1", None)]
    pd.testing.assert_frame_equal(before[after.columns], after, check_dtype=False)
    assert list(defs_after.columns) == [*INDICATOR_COLUMNS, "wave"]
    pd.testing.assert_frame_equal(defs[defs_after.columns], defs_after, check_dtype=False)


def test_pull_is_rounded_to_each_indicators_precision(values, spec, base_target, tmp_path):
    with open_base(base_target) as db:
        replace_wave(db, wave="sid2022", source_type="survey", indicators=spec.indicator_table(), values=values,
                     spec_hash="h")
    csv, xlsx = tmp_path / "p.csv", tmp_path / "p.xlsx"
    codes = ["SID_TAAL_NL_THUIS", "SID_INCLUSIE_IDX"]
    assert main(["pull", "--codes", *codes, "--db", str(base_target), "--out", str(csv)]) == 0
    text = csv.read_text()
    got = pd.read_csv(csv, keep_default_na=False, na_values=[""])
    for code, dec in (("SID_TAAL_NL_THUIS", 1), ("SID_INCLUSIE_IDX", 2)):
        rows = got[got["indicator_code"] == code]
        assert (rows["decimals"] == dec).all()
        for col in ("BEL value", "EU ci_low", "NEU ci_high"):
            x = rows[col].dropna()
            assert len(x) and (np.abs(x * 10**dec - np.round(x * 10**dec)) < 1e-6).all(), (code, col)
    assert not re.search(r"\d\.\d{3,}", text)  # no long floats anywhere
    raw = pd.read_csv(csv, dtype=str, keep_default_na=False)
    assert raw["BEL n"].str.fullmatch(r"\d*").all() and raw["BEL n"].str.len().gt(0).any()  # whole counts, not 34.0
    assert "flags" not in got.columns and {"BEL status", "NEU n"} <= set(got.columns)
    assert main(["pull", "--codes", *codes, "--db", str(base_target), "--out", str(xlsx)]) == 0
    ws = openpyxl.load_workbook(xlsx)["indicators"]
    header = [c.value for c in ws[1]]
    col = header.index("BEL value") + 1
    formats = {ws.cell(row=i, column=header.index("indicator_code") + 1).value: ws.cell(row=i, column=col).number_format
               for i in range(2, ws.max_row + 1)}
    assert formats == {"SID_TAAL_NL_THUIS": "0.0", "SID_INCLUSIE_IDX": "0.00"}
