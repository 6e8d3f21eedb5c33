"""The indicator base: schema, wave reloads in one transaction, conflicts, locked and bad files."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import numpy as np
import pandas as pd
import pytest

from sid.demo.admin import admin_definitions, admin_indicators
from sid.errors import LinkageError
from sid.linkage.base import Load, drop_wave, open_base, replace_wave, replace_waves
from sid.linkage.schema import SCHEMA_VERSION, TABLES


def survey_defs(codes=("S_A", "S_B")) -> pd.DataFrame:
    return pd.DataFrame({"code": list(codes), "name": ["a", "b"][: len(codes)], "theme": "taal",
                         "definition": "test indicator", "unit": "percent"})


def survey_values(period: int, value: float, codes=("S_A", "S_B")) -> pd.DataFrame:
    rows = [{"indicator_code": c, "period": period, "geography": "VLG", "origin": o, "value": value,
             "se": 1.0, "ci_low": value - 2, "ci_high": value + 2, "n": 100, "flags": ""}
            for c in codes for o in ("BEL", "EU", "NEU")]
    return pd.DataFrame(rows)


ORDER = "ORDER BY indicator_code, period, geography, origin, generation, sex, age_band"


def counts(con) -> dict:
    return dict(con.execute("SELECT wave, count(*) FROM indicator_values GROUP BY wave"))


@pytest.fixture
def base(base_target):
    con = open_base(base_target)
    replace_wave(con, wave="admin", source_type="register", indicators=admin_definitions(),
                 values=admin_indicators(0), spec_hash="h-admin")
    replace_wave(con, wave="sid2017", source_type="survey", indicators=survey_defs(),
                 values=survey_values(2017, 40.0), spec_hash="h2017", run_id="r0")
    replace_wave(con, wave="sid2022", source_type="survey", indicators=survey_defs(),
                 values=survey_values(2022, 50.0), spec_hash="h2022", run_id="r1")
    yield con
    con.close()


def test_schema_is_created_with_sid_tables_and_version(tmp_path):
    con = open_base(tmp_path / "new" / "vlim.duckdb")
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables")}
    assert set(TABLES) <= tables
    assert con.execute("SELECT version FROM sid_schema") == [(SCHEMA_VERSION,)]
    cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                      "WHERE table_name = 'indicator_values'")}
    assert {"se", "ci_low", "n", "flags", "wave", "run_id", "spec_hash", "loaded_at", "origin"} <= cols
    con.close()
    con = open_base(tmp_path / "new" / "vlim.duckdb")  # reopening keeps one version row
    assert con.execute("SELECT count(*) FROM sid_schema") == [(1,)]
    con.close()


def test_reload_replaces_only_that_waves_rows(base):
    before = counts(base)
    admin_before = base.df("SELECT * FROM indicator_values WHERE wave = 'admin' " + ORDER)
    res = replace_wave(base, wave="sid2022", source_type="survey", indicators=survey_defs(),
                       values=survey_values(2022, 55.0), spec_hash="h2022b", run_id="r2")
    assert res == {"deleted": 6, "inserted": 6}
    assert counts(base) == before
    vals = base.execute("SELECT DISTINCT value, run_id, spec_hash FROM indicator_values WHERE wave = 'sid2022'")
    assert vals == [(55.0, "r2", "h2022b")]
    assert base.execute("SELECT DISTINCT value FROM indicator_values WHERE wave = 'sid2017'") == [(40.0,)]
    admin_after = base.df("SELECT * FROM indicator_values WHERE wave = 'admin' " + ORDER)
    pd.testing.assert_frame_equal(admin_before, admin_after)


def test_failure_inside_the_transaction_leaves_the_base_as_it_was(base):
    before = base.df("SELECT * FROM indicator_values " + ORDER)
    bad_defs = survey_defs()
    bad_defs.loc[0, "name"] = None  # violates NOT NULL only when inserted, after the DELETE
    with pytest.raises(LinkageError, match="left as it was"):
        replace_wave(base, wave="sid2022", source_type="survey", indicators=bad_defs,
                     values=survey_values(2022, 99.0), spec_hash="h", run_id="r3")
    pd.testing.assert_frame_equal(before, base.df("SELECT * FROM indicator_values " + ORDER))


def test_several_loads_are_all_or_nothing(base):
    before = counts(base)
    good = Load("sid2022", "survey", survey_defs(), survey_values(2022, 60.0), "h")
    clash = Load("other", "survey", survey_defs(), survey_values(2017, 1.0), "hx")  # period of sid2017
    with pytest.raises(LinkageError, match="period 2017 is already in the base from wave 'sid2017'"):
        replace_waves(base, [good, clash])
    assert counts(base) == before
    assert base.execute("SELECT DISTINCT value FROM indicator_values WHERE wave = 'sid2022'") == [(50.0,)]


def test_overlapping_period_from_another_spec_is_refused(base):
    with pytest.raises(LinkageError, match=r"S_A period 2022 is already in the base from wave 'sid2022' \(spec h2022\)"):
        replace_wave(base, wave="sid2022-alt", source_type="survey", indicators=survey_defs(),
                     values=survey_values(2022, 1.0), spec_hash="other")


def test_register_code_reused_as_survey_indicator_is_refused(base):
    defs = survey_defs(("ADM_LEEFLOON",))
    with pytest.raises(LinkageError, match="'ADM_LEEFLOON' is already in the base as a register indicator"):
        replace_wave(base, wave="sid2030", source_type="survey", indicators=defs,
                     values=survey_values(2030, 1.0, ("ADM_LEEFLOON",)), spec_hash="h")


def test_values_without_definition_or_duplicate_cells_are_refused(base):
    with pytest.raises(LinkageError, match="'S_B' have no definition"):
        replace_wave(base, wave="sid2022", source_type="survey", indicators=survey_defs(("S_A",)),
                     values=survey_values(2022, 1.0), spec_hash="h")
    vals = pd.concat([survey_values(2022, 1.0)] * 2)
    with pytest.raises(LinkageError, match="two rows for indicator_code=S_A, period=2022"):
        replace_wave(base, wave="sid2022", source_type="survey", indicators=survey_defs(), values=vals, spec_hash="h")


def test_drop_wave_removes_only_that_wave(base):
    assert drop_wave(base, "sid2017") == 6
    assert set(counts(base)) == {"admin", "sid2022"}
    with pytest.raises(LinkageError, match="'sid2017' is not in the indicator base"):
        drop_wave(base, "sid2017")


def test_locked_base_gives_one_clear_line(tmp_path):
    path = tmp_path / "vlim.duckdb"
    open_base(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, duckdb
            con = duckdb.connect({str(path)!r})
            print("ready", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(LinkageError, match=rf"indicator base is locked by process {holder.pid}") as exc:
            open_base(path)
        assert "\n" not in str(exc.value)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_unwritable_location_and_foreign_files_are_refused(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(LinkageError, match="cannot create the folder of the indicator base"):
        open_base(blocker / "vlim.duckdb")
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(np.random.default_rng(0).bytes(8192))
    with pytest.raises(LinkageError, match="junk.duckdb: "):
        open_base(junk)
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    with pytest.raises(LinkageError, match="a DuckDB file sid did not create"):
        open_base(other)
    with pytest.raises(LinkageError, match="indicator base not found"):
        open_base(tmp_path / "absent.duckdb", read_only=True)
