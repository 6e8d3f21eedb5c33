"""SDMX observation attributes in the base and ``sid pull --format sdmx-csv``, read back by sdmx1."""

from __future__ import annotations

import pandas as pd
import pytest

from sid.cli import main
from sid.errors import LinkageError
from sid.linkage.base import open_base, replace_wave
from sid.linkage.schema import OLD_DEFINITION_COLUMNS, SCHEMA_VERSION, SDMX_COLUMNS
from sid.linkage.sdmx import ATTRIBUTES, DIMENSIONS, MEASURE

sdmx = pytest.importorskip("sdmx", reason="sdmx1 is a test dependency (pip install sdmx1)")


def _defs(codes, unit="percent"):
    return pd.DataFrame({"code": codes, "name": "n", "theme": "taal", "definition": "d", "unit": unit})


def _load(db):
    survey = pd.DataFrame({
        "indicator_code": "S_A", "period": 2022, "geography": "VLG", "origin": ["BEL", "EU", "NEU"],
        "value": [50.5, None, 31.25], "se": [1.0, None, 12.0], "n": [400, 12, 80],
        "flags": ["", "suppressed_n<30", "cv>0.3"]})
    replace_wave(db, wave="sid2022", source_type="survey", indicators=_defs(["S_A"]), values=survey, spec_hash="h")
    register = pd.DataFrame({
        "indicator_code": "ADM_X", "period": [2021, 2022, 2022], "geography": "VLG",
        "origin": ["BEL", "BEL", "EU"], "value": [1250.0, 1300.0, 980.0], "flags": "",
        "obs_status": ["B", "E", "A"], "conf_status": ["F", "F", "C"], "unit_mult": 3, "decimals": 0})
    replace_wave(db, wave="adm", source_type="register", indicators=_defs(["ADM_X"], "persons"), values=register,
                 spec_hash="h-adm")


def _structure():
    from sdmx.model import common, v30

    dsd = v30.DataStructureDefinition(id="VLIM_INDICATORS", maintainer=common.Agency(id="SID"), version="1.0")
    for d in DIMENSIONS:
        dsd.dimensions.getdefault(d)
    dsd.measures.getdefault(MEASURE[0])
    for a in ATTRIBUTES:
        dsd.attributes.getdefault(a)
    return dsd


def test_attributes_follow_the_flags_or_the_load_and_pull_as_sdmx_csv_reads_back(base_target, tmp_path):
    with open_base(base_target) as db:
        _load(db)
        got = db.df("SELECT indicator_code, period, origin, obs_status, conf_status, unit_mult, decimals "
                    "FROM indicator_values ORDER BY indicator_code, period, origin")
    assert got.to_dict("list") == {
        "indicator_code": ["ADM_X", "ADM_X", "ADM_X", "S_A", "S_A", "S_A"],
        "period": [2021, 2022, 2022, 2022, 2022, 2022], "origin": ["BEL", "BEL", "EU", "BEL", "EU", "NEU"],
        "obs_status": ["B", "E", "A", "A", "Q", "U"], "conf_status": ["F", "F", "C", "F", "C", "F"],
        "unit_mult": [3, 3, 3, 0, 0, 0], "decimals": [0, 0, 0, 1, 1, 1]}
    out = tmp_path / "taal.csv"
    assert main(["pull", "--theme", "taal", "--db", str(base_target), "--out", str(out), "--format", "sdmx-csv"]) == 0
    msg = sdmx.read_sdmx(out, structure=_structure())
    obs = [o for ds in msg.data for o in ds.obs]
    assert len(obs) == 6
    rows = {tuple(o.dimension.values[d].value for d in DIMENSIONS):
            (o.value, *(o.attached_attribute[a].value for a in ATTRIBUTES)) for o in obs}
    assert rows[("S_A", "VLG", "EU", "total", "total", "total", "2022")] == ("", "Q", "C", "0", "1")
    assert rows[("S_A", "VLG", "NEU", "total", "total", "total", "2022")] == ("31.25", "U", "F", "0", "1")
    assert rows[("ADM_X", "VLG", "BEL", "total", "total", "total", "2021")] == ("1250", "B", "F", "3", "0")
    assert rows[("ADM_X", "VLG", "BEL", "total", "total", "total", "2022")] == ("1300", "E", "F", "3", "0")


def test_a_code_outside_the_sdmx_lists_is_refused_and_the_base_kept(base_target, tmp_path, capsys):
    with open_base(base_target) as db:
        _load(db)
        bad = pd.DataFrame({"indicator_code": "S_A", "period": 2022, "geography": "VLG", "origin": ["BEL"],
                            "value": [1.0], "flags": "", "obs_status": ["X"]})
        with pytest.raises(LinkageError) as err:
            replace_wave(db, wave="sid2022", source_type="survey", indicators=_defs(["S_A"]), values=bad,
                         spec_hash="h")
        msg = str(err.value)
        assert "\n" not in msg and "row 0: obs_status 'X' is not an SDMX code" in msg and "Q (suppressed)" in msg
        assert db.execute("SELECT count(*) FROM indicator_values WHERE wave = 'sid2022'") == [(3,)]
    xlsx = tmp_path / "x.xlsx"
    assert main(["pull", "--theme", "taal", "--db", str(base_target), "--out", str(xlsx),
                 "--format", "sdmx-csv"]) == 2
    assert ".csv" in capsys.readouterr().err and not xlsx.exists()


def make_version_2_names(db) -> None:
    """Give a base the column names of schema versions 1 and 2 (before the definition
    columns were renamed and loads.run_at added)."""
    for old, new in OLD_DEFINITION_COLUMNS.items():
        db.execute(f"ALTER TABLE indicators RENAME COLUMN {new} TO {old}")
    db.execute("ALTER TABLE loads DROP COLUMN run_at")


def test_a_version_1_base_gains_the_attribute_columns_on_opening(base_target):
    with open_base(base_target) as db:
        _load(db)
        for col in SDMX_COLUMNS:
            db.execute(f"ALTER TABLE indicator_values DROP COLUMN {col}")
        make_version_2_names(db)
        db.execute("UPDATE sid_schema SET version = 1")
    with open_base(base_target) as db:
        assert db.execute("SELECT version FROM sid_schema") == [(SCHEMA_VERSION,)]
        got = db.execute("SELECT DISTINCT obs_status, conf_status, unit_mult FROM indicator_values")
        assert got == [("A", "F", 0)]  # the defaults for the rows already there
        _load(db)  # and a load writes them again
        assert db.execute("SELECT count(DISTINCT obs_status) FROM indicator_values") == [(5,)]
