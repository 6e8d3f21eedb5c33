"""Raw national register numbers at ingest: refused in any column (numeric F11.0 or free
text, plain or formatted) with one line naming file, variable and case and the number
masked, nothing written and the inputs untouched; pseudonymised where the questionnaire
declares ``identifier: pseudonymise``; no false alarm on the demo wave."""

from __future__ import annotations

import hashlib
import hmac
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sid.cli import main
from sid.errors import LinkageError, SpecError
from sid.io.pseudonym import nrn_mask
from sid.io.spss import read_spss, write_spss
from sid.io.spss_meta import SpssMeta, VariableMeta
from sid.io.wave import ingest, read_wave
from sid.spec.questionnaire_parse import load_questionnaire

KEY = "k" * 40


def make_nrn(yy: int, mm: int, dd: int, seq: int, born_2000_or_later: bool = False) -> str:
    """A valid NRN by the published rule (cc = 97 - body mod 97; body prefixed with 2 from 2000)."""
    body = int(f"{yy:02d}{mm:02d}{dd:02d}{seq:03d}")
    cc = 97 - ((2_000_000_000 + body) if born_2000_or_later else body) % 97
    return f"{body:09d}{cc:02d}"


NRN_1985 = make_nrn(85, 7, 30, 33)  # 85073003328
NRN_2005 = make_nrn(5, 3, 1, 12, born_2000_or_later=True)  # 10 digits once stored as a number
FORMATTED = f"{NRN_1985[:2]}.{NRN_1985[2:4]}.{NRN_1985[4:6]}-{NRN_1985[6:9]}.{NRN_1985[9:]}"
SPACED = f"{NRN_1985[:6]} {NRN_1985[6:9]} {NRN_1985[9:]}"
NOT_NRN = NRN_1985[:9] + f"{(int(NRN_1985[9:]) + 1) % 100:02d}"  # check digits off by one


def _frame(rrn: list, note: list[str]) -> tuple[pd.DataFrame, SpssMeta]:
    df = pd.DataFrame({
        "person_key": pd.Series(["72859bd106059a91", "300c3adf1b044d60", "cba40de03f0fe4d3", "0123456789abcdef"],
                                dtype="str"),
        "rrn": pd.Series(rrn, dtype="float64"),
        "q_note": pd.Series(note, dtype="str"),
        "q_age": [34.0, 51.0, 19.0, 77.0],
    })
    meta = SpssMeta(variables={
        "person_key": VariableMeta("person_key", label="Sleutel", type="string", format="A16"),
        "rrn": VariableMeta("rrn", label="Rijksregisternummer", type="numeric", format="F11.0"),
        "q_note": VariableMeta("q_note", label="Opmerking", type="string", format="A60"),
        "q_age": VariableMeta("q_age", label="Leeftijd", type="numeric", format="F3.0"),
    })
    return df, meta


CLEAN_RRN = [np.nan, 12.0, 2007.0, np.nan]
CLEAN_NOTE = ["geen", "tel 0471 23 45 67", f"referentie {NOT_NRN}", "sinds 2015 in Gent, 3 kinderen"]


def _files(tmp_path: Path, rrn: list | None = None, note: list[str] | None = None) -> dict[str, Path]:
    """A web file with the given columns and a clean capi file, written as SPSS .sav."""
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    out = {}
    for mode, (r, n) in {"web": (rrn or CLEAN_RRN, note or CLEAN_NOTE), "capi": (CLEAN_RRN, CLEAN_NOTE)}.items():
        df, meta = _frame(r, n)
        out[mode] = folder / f"w_{mode}.sav"
        write_spss(df, meta, out[mode])
    return out


def _spec(tmp_path: Path, identifier: bool) -> Path:
    p = tmp_path / "questionnaires" / "w.yaml"
    p.parent.mkdir(exist_ok=True)
    ident = ", identifier: pseudonymise" if identifier else ""
    p.write_text(textwrap.dedent(f"""\
        wave: w
        title: Test
        key: person_key
        variables:
          - {{name: person_key, label: Sleutel, type: text, source: register}}
          - {{name: rrn, label: Rijksregisternummer, type: text{ident}}}
          - {{name: q_note, label: Opmerking, type: text}}
          - {{name: q_age, label: Leeftijd, type: numeric, range: [15, 85]}}
        """), encoding="utf-8")
    return p


CASES = {
    # variable, case (1-based), masked form shown, the web file's columns
    "numeric_1985": ("rrn", 2, "*" * 11, dict(rrn=[np.nan, float(NRN_1985), 3.0, np.nan])),
    "numeric_2005_leading_zero": ("rrn", 4, "*" * 11, dict(rrn=[np.nan, 12.0, 3.0, float(NRN_2005)])),
    "text_formatted": ("q_note", 3, "**.**.**-***.**", dict(note=["geen", "x", f"mijn nummer: {FORMATTED}.", "y"])),
    "text_spaced": ("q_note", 1, "****** *** **", dict(note=[f"rr {SPACED}", "x", "z", "y"])),
    "text_whole_value": ("q_note", 4, "*" * 11, dict(note=["a", "b", "c", NRN_2005])),
}


@pytest.mark.parametrize("case", list(CASES))
def test_cli_ingest_refuses_a_raw_nrn_naming_file_variable_case_masked(tmp_path, capsys, case):
    variable, row, shape, cols = CASES[case]
    files = _files(tmp_path, **cols)
    before = {p: p.read_bytes() for p in files.values()}
    out = tmp_path / "run"
    rc = main(["ingest", f"web={files['web']}", f"capi={files['capi']}", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    msg = err[-1]
    assert msg.startswith(f"sid: error: {files['web']}: variable {variable}: 1 raw national register number(s), "
                          f"first in case {row} ({shape}); ")
    assert "--spec" in msg and "identifier: pseudonymise" in msg
    for digits in (NRN_1985, NRN_2005, FORMATTED, SPACED, NRN_1985[:6], NRN_2005[1:7]):
        assert digits not in msg
    assert not out.exists()
    assert {p: p.read_bytes() for p in files.values()} == before


def test_ingest_names_the_spec_when_it_does_not_declare_the_variable(tmp_path):
    files = _files(tmp_path, rrn=[float(NRN_1985), 1.0, 2.0, 3.0])
    q = load_questionnaire(_spec(tmp_path, identifier=False))
    with pytest.raises(LinkageError) as info:
        ingest(files, questionnaire=q)
    msg = str(info.value)
    assert "\n" not in msg and f"declare it 'identifier: pseudonymise' in {q.path}" in msg


def test_ordinary_values_are_no_false_alarm(tmp_path):
    files = _files(tmp_path)  # phone number, wrong check digits, hex keys, years, small codes
    df, _ = ingest(files)
    assert len(df) == 8


def test_declared_identifier_is_pseudonymised_at_ingest(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SID_PSEUDONYM_KEY", KEY)
    files = _files(tmp_path, rrn=[float(NRN_1985), np.nan, float(NRN_2005), 3.0])
    before = {p: p.read_bytes() for p in files.values()}
    spec = _spec(tmp_path, identifier=True)
    out = tmp_path / "run"
    assert main(["ingest", f"web={files['web']}", f"capi={files['capi']}", "--out", str(out),
                 "--spec", str(spec)]) == 0
    df, meta = read_wave(out / "raw")
    expected = [hmac.new(KEY.encode(), f"{int(x):011d}".encode(), hashlib.sha256).hexdigest()
                for x in (float(NRN_1985), float(NRN_2005))]
    assert df["rrn"].iloc[0] == expected[0] and df["rrn"].iloc[2] == expected[1]
    assert pd.isna(df["rrn"].iloc[1])
    assert meta.variables["rrn"].type == "string" and meta.variables["rrn"].format == "A64"
    for c in df.columns:  # no raw number left anywhere in raw/
        assert not nrn_mask(df[c]).any(), c
    assert NRN_1985.encode() not in (out / "raw" / "data.parquet").read_bytes()
    assert {p: p.read_bytes() for p in files.values()} == before
    back, _ = read_spss(files["web"])  # the input still holds the raw number
    assert back["rrn"].iloc[0] == float(NRN_1985)


def test_declared_identifier_without_a_key_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SID_PSEUDONYM_KEY", raising=False)
    files = _files(tmp_path, rrn=[float(NRN_1985), 1.0, 2.0, 3.0])
    out = tmp_path / "run"
    rc = main(["ingest", str(files["web"]), str(files["capi"]), "--out", str(out),
               "--spec", str(_spec(tmp_path, identifier=True))])
    msg = capsys.readouterr().err.strip().splitlines()[-1]
    assert rc == 2 and "no pseudonymisation key" in msg and "rrn" in msg
    assert not out.exists()


def test_an_identifier_must_be_declared_text(tmp_path):
    p = _spec(tmp_path, identifier=True)
    p.write_text(p.read_text(encoding="utf-8").replace(
        "type: text, identifier", "type: numeric, identifier"), encoding="utf-8")
    with pytest.raises(SpecError, match=r"w\.yaml:6: variables\[1\]\.identifier: an identifier is replaced"):
        load_questionnaire(p)


def test_sid_run_ingest_uses_the_projects_questionnaire(tmp_path, monkeypatch):
    from sid.pipeline.run import RunContext, _ingest
    from sid.project import load_project
    from tests.projects import small_wave, write_project_file

    monkeypatch.setenv("SID_PSEUDONYM_KEY", KEY)
    files = _files(tmp_path, rrn=[float(NRN_1985), 1.0, 2.0, 3.0])
    _spec(tmp_path, identifier=True)
    fieldwork = [{"file": "w_capi.sav", "mode": "capi"}, {"file": "w_web.sav", "mode": "web"}]
    write_project_file(tmp_path, {"w": small_wave("questionnaires/w.yaml", key="person_key", group="q_note",
                                                  mode="mode", fieldwork=fieldwork)})
    proj = load_project(tmp_path)
    ctx = RunContext(project=proj, wave=proj.wave(), data=files["web"].parent, out=tmp_path / "run")
    _ingest(ctx)
    df, _ = read_wave(tmp_path / "run" / "raw")
    keys = df["rrn"].dropna()
    assert len(keys) == 6 and keys.str.fullmatch("[0-9a-f]{64}").all()  # capi, web: 2 + 4 numbers


def test_the_demo_wave_has_no_false_alarm(tmp_path):
    from sid.demo import make_demo

    paths = make_demo(tmp_path / "demo", seed=2022, scale=1.0)  # as `sid demo` makes it
    waves = sorted(p for p in paths.values() if Path(p).suffix == ".sav")
    assert len(waves) == 2
    df, _ = ingest(waves)
    assert len(df) > 5000
