"""sid check: spec lint findings, data-against-spec findings, and the CLI's lines and exit codes."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from sid.cli import main
from sid.io.spss_meta import SpssMeta, VariableMeta
from sid.spec.check import check_data, check_spec, load_checked_questionnaire
from sid.spec.questionnaire_parse import load_questionnaire
from tests.projects import small_wave, write_project_file

CLEAN = """\
wave: w1
title: Test
key: person_key
mode_variable: mode
modes: {web: Web, capi: CAPI}
missing_codes:
  -1: {meaning: dont_know, label: "Weet niet"}
  -4: {meaning: invalid, label: "Ongeldig"}
quality:
  straightlining: {grids: [g], min_items: 2}
  register_mismatch: [{answer: q_year, register: birth_year, tolerance: 1}]
variables:
  - {name: person_key, label: Sleutel, type: text, source: register}
  - {name: birth_year, label: Geboortejaar, type: numeric, source: register, range: [1937, 2007], missing: []}
  - {name: origin, label: Herkomst, type: categorical, source: register, categories: {BEL: Belgisch, MAR: Marokkaans}}
  - {name: q_year, label: Jaar, type: numeric, range: [1937, 2007], checks: [{expr: "abs(q_year - birth_year) <= 1", message: mismatch}]}
  - {name: a1, label: A1, type: ordinal, grid: g, categories: {1: Nooit, 2: Soms, 3: Vaak}}
  - {name: a2, label: A2, type: ordinal, grid: g, categories: {1: Nooit, 2: Soms, 3: Vaak}, relevant: "a1 != 1"}
derived:
  - {name: age, label: Leeftijd, type: numeric, expr: "2022 - birth_year"}
  - {name: young, label: Jong, type: categorical, expr: "if_else(age < 30, 1, 0)", categories: {0: Nee, 1: Ja}}
themes: {inclusion: Inclusie}
indices:
  - {name: idx_a, label: A, theme: inclusion, items: [a1, a2], reverse: [a2], min_valid: 2, scale: z, reference_group: "origin == 'BEL'"}
"""


def load(tmp_path, text: str = CLEAN, name: str = "w1.yaml"):
    folder = tmp_path / "questionnaires"
    folder.mkdir(exist_ok=True)
    p = folder / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_questionnaire(p), p


def messages(findings, severity="error"):
    return [f"{f.where}: {f.message}" for f in findings if f.severity == severity]


def test_a_consistent_spec_has_no_findings(tmp_path):
    q, _ = load(tmp_path)
    assert check_spec(q) == []


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ('relevant: "a1 != 1"', 'relevant: "a11 != 1"', "relevant: 'a11 != 1' uses unknown variable 'a11'; did you mean 'a1'?"),
        ('relevant: "a1 != 1"', 'relevant: "age > 20"', "'age', a derived variable, computed after cleaning"),
        ('expr: "2022 - birth_year"', 'expr: "2022 - birth_yr"', "uses unknown variable 'birth_yr'"),
        ('expr: "2022 - birth_year"', 'expr: "young + 1"', "uses 'young', which is defined later (derived[1]); move age below it"),
        ('expr: "2022 - birth_year"', 'expr: "age + 1"', "age: expr refers to the variable itself"),
        ("items: [a1, a2]", "items: [a3, a2]", "item 'a3' is not a declared variable"),
        ("min_valid: 2", "min_valid: 3", "min_valid 3 is larger than the number of items (2)"),
        ("reverse: [a2]", "reverse: [a1]", None),
        ("reference_group: \"origin == 'BEL'\"", "reference_group: \"herkomst == 'BEL'\"", "uses unknown variable 'herkomst'"),
        ("grids: [g]", "grids: [h]", "w1.yaml:10: quality.straightlining: grids: no variable has grid 'h'"),
        ("answer: q_year,", "answer: q_yr,", "w1.yaml:11: quality.register_mismatch[0]: answer: 'q_yr' is not a declared variable"),
        ("{name: origin, label: Herkomst, type: categorical, source: register, categories: {BEL: Belgisch, MAR: Marokkaans}}",
         "{name: origin, label: Herkomst, type: text, source: register}", None),
        ("items: [a1, a2]", "items: [origin, a2]", "item 'origin' is text and cannot be scored"),
    ],
)
def test_spec_lint_finds_names_and_order_problems(tmp_path, old, new, expected):
    assert old in CLEAN
    q, _ = load(tmp_path, CLEAN.replace(old, new, 1))
    errors = messages(check_spec(q))
    if expected is None:
        assert errors == []
    else:
        assert any(expected in e for e in errors), errors
        assert all(e.startswith(str(tmp_path)) for e in errors)


def test_reversed_item_without_categories_or_range_is_an_error(tmp_path):
    text = CLEAN.replace("{name: a2, label: A2, type: ordinal, grid: g, categories: {1: Nooit, 2: Soms, 3: Vaak}, ",
                         "{name: a2, label: A2, type: numeric, grid: g, ")
    q, _ = load(tmp_path, text)
    errors = messages(check_spec(q))
    assert any("reversed item 'a2' has neither categories nor a range" in e for e in errors)
    assert any("numeric item without a range" in w for w in messages(check_spec(q), "warning"))


def data_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "person_key": ["a", "b", "c", "d"],
        "birth_year": [1990.0, 1950.0, 2000.0, 1980.0],
        "origin": ["BEL", "MAR", None, "BEL"],
        "q_year": [1990.0, 1950.0, -1.0, np.nan],
        "a1": [1.0, 2.0, 3.0, -1.0],
        "a2": [np.nan, 2.0, 3.0, -4.0],
        "mode": ["web", "web", "capi", "capi"],
    })


def test_clean_data_has_no_findings(tmp_path):
    q, _ = load(tmp_path)
    meta = q.to_spss_meta().subset(list(data_frame().columns))
    assert check_data(data_frame(), meta, q) == []


def test_data_findings_name_variable_codes_and_counts(tmp_path):
    q, _ = load(tmp_path)
    df = data_frame().drop(columns=["q_year", "origin"])
    df["a1"] = [1.0, 7.0, 7.0, -2.0]  # 7 not a category, -2 not a wave code
    df["birth_year"] = [1990.0, 1900.0, 2000.0, -1.0]  # 1900 outside range; -1 not missing here
    df["extra"] = 1.0
    found = check_data(df, None, q, where="w.sav")
    errors = messages(found)
    assert "w.sav: q_year: declared in " + str(tmp_path / "questionnaires" / "w1.yaml") + " but not in the data" in errors
    assert any(e.startswith("w.sav: a1: 3 row(s) hold codes outside the categories and missing codes: 7 (2), -2 (1)") for e in errors), errors
    assert any(e.startswith("w.sav: birth_year: 2 row(s) hold values outside range [1937, 2007]") for e in errors), errors
    assert messages(found, "warning") == [
        "w.sav: origin: register variable not in the data; it must be merged from the register frame",
        "w.sav: extra: in the data but not declared in " + str(tmp_path / "questionnaires" / "w1.yaml")]
    df = data_frame()
    df["origin"] = ["BEL", "XXX", None, " "]  # blank text is missing, as SPSS stores it
    assert messages(check_data(df, None, q)) == [
        "data: origin: 1 row(s) hold values outside the categories: 'XXX' (1); "
        "fix the data, or declare the codes in the spec"]


def test_data_type_and_value_label_disagreements(tmp_path):
    q, _ = load(tmp_path)
    df = data_frame()
    df["a2"] = ["x", "y", None, None]
    meta = q.to_spss_meta().subset(list(df.columns))
    meta.variables["a1"] = VariableMeta(name="a1", value_labels={1.0: "nooit ", 2.0: "Af en toe", 9.0: "Anders", -4.0: "Ongeldig"},
                                        missing_values=[-1.0], missing_ranges=[(3.0, 9.0)])
    found = check_data(df, meta, q)
    assert "data: a2: declared ordinal in the spec but holds text" in messages(found)
    warnings = messages(found, "warning")
    assert "data: a1: code 2 is labelled 'Af en toe' in the file but 'Soms' in the spec" in warnings
    assert "data: a1: the file labels code 9 ('Anders') which the spec does not declare" in warnings
    assert "data: a1: the file declares code 3 ('Vaak') user-missing, but the spec has it as a valid category" in warnings
    assert len(warnings) == 3  # "nooit " equals "Nooit" up to case and spaces


def test_cli_check_prints_one_line_per_finding_and_exits_1_on_error(tmp_path, capsys, monkeypatch):
    load(tmp_path)
    load(tmp_path, CLEAN.replace("min_valid: 2", "min_valid: 5"), name="w2.yaml")
    write_project_file(tmp_path, {w: small_wave(f"questionnaires/{w}.yaml", key="person_key", group="origin",
                                                mode="mode") for w in ("w1", "w2")})
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 1
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "w2.yaml" in lines[0]
    assert "2 spec(s): 1 error(s), 0 warning(s)" in out.err
    assert main(["check", str(tmp_path / "questionnaires" / "w1.yaml")]) == 0


def test_cli_check_reports_a_malformed_spec_and_goes_on(tmp_path, capsys):
    _, good = load(tmp_path)
    bad = tmp_path / "questionnaires" / "bad.yaml"
    bad.write_text("wave: w\ntitle: t\nkey: k\nvariables: []\nextras: 1\n", encoding="utf-8")
    assert main(["check", str(bad), str(good)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}:5: extras: unknown key")


def test_cli_check_data_against_a_sav_file(tmp_path, capsys):
    from sid.io.spss import write_spss

    q, spec = load(tmp_path)
    df = data_frame()
    df.loc[1, "a1"] = 8.0
    write_spss(df, q.to_spss_meta().subset(list(df.columns)), tmp_path / "w.sav")
    assert main(["check", str(spec), "--data", str(tmp_path / "w.sav")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"error: {tmp_path / 'w.sav'}: a1: 1 row(s) hold codes outside the categories "
                     "and missing codes: 8 (1); fix the data, or declare the codes in the spec"]


def test_cli_check_without_a_project_file_is_a_user_error(tmp_path, capsys):
    assert main(["check", "--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no project file sid.yaml" in err[0] and str(tmp_path) in err[0]


ROLE_DEFECTS = [
    # (role or data key, value, words of the one error line)
    # the questionnaire names its key too: the two disagree (the spec is read as the stages read it)
    pytest.param("key", "pseudo_id", ["w1.yaml: key is 'person_key' but the project file", "'pseudo_id'"],
                 id="key-disagrees-with-the-questionnaire"),
    pytest.param("group", "herkomst", ["roles.group", "'herkomst' is not a variable of"], id="group-not-declared"),
    pytest.param("mode_file", "cawi", ["data.fieldwork[0]", "mode 'cawi' is not one of the modes"],
                 id="fieldwork-mode-not-a-questionnaire-mode"),
]


@pytest.mark.parametrize(("role", "value", "words"), ROLE_DEFECTS)
def test_a_role_the_questionnaire_does_not_declare_is_one_error_naming_the_project_file(
        tmp_path, capsys, role, value, words):
    load(tmp_path)
    wave = small_wave("questionnaires/w1.yaml", key="person_key", group="origin", mode="mode",
                      fieldwork=[{"file": "w_web.sav", "mode": "web"}])
    if role == "mode_file":
        wave["data"]["fieldwork"][0]["mode"] = value
    else:
        wave["roles"][role] = value
    pf = write_project_file(tmp_path, {"w1": wave})
    before = pf.read_bytes()
    rc = main(["check", "--project", str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert rc == 1 and len(errors) == 1, lines
    assert str(pf) in errors[0], errors
    for w in words:
        assert w in errors[0], (w, errors[0])
    assert pf.read_bytes() == before


def test_load_with_check_raises_on_the_first_lint_error(tmp_path):
    from sid.errors import SpecError

    _, p = load(tmp_path, CLEAN.replace("items: [a1, a2]", "items: [a9, a2]"))
    with pytest.raises(SpecError, match="item 'a9' is not a declared variable"):
        load_checked_questionnaire(p)


def test_cli_check_data_in_a_run_stage_folder(tmp_path, capsys):
    q, spec = load(tmp_path)
    stage = tmp_path / "run" / "raw"
    stage.mkdir(parents=True)
    df = data_frame()
    df.to_parquet(stage / "data.parquet")
    meta = q.to_spss_meta().subset(list(df.columns))
    meta.variables["origin"].value_labels["BEL"] = "Belg"
    (stage / "meta.json").write_text(SpssMeta.to_json(meta), encoding="utf-8")
    assert main(["check", str(spec), "--data", str(stage)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"warning: {stage}: origin: code 'BEL' is labelled 'Belg' in the file but 'Belgisch' in the spec"]


def test_date_columns_are_not_compared_with_codes(tmp_path):
    import datetime as dt

    text = CLEAN.replace("derived:\n", "  - {name: int_date, label: Datum, type: date, source: paradata}\nderived:\n")
    q, _ = load(tmp_path, text)
    df = data_frame()
    df["int_date"] = [dt.date(2022, 10, 1), None, dt.date(2022, 11, 2), dt.date(2022, 12, 3)]
    assert check_data(df, None, q) == []
    df["int_date"] = pd.to_datetime(df["int_date"])
    assert check_data(df, None, q) == []


@pytest.mark.parametrize(
    "new_relevant, severity, expected",
    [
        ("a1 == 4", "warning", "'a1 == 4': 4 is not a category of 'a1' (1, 2, 3)"),
        ("a1 in [1, 5]", "warning", "5 is not a category of 'a1'"),
        ("a1 == -1", "warning", "-1 is a missing code of 'a1', which expressions see as missing; use is_code(a1, -1)"),
        ("a1 == '1'", "error", "compares numeric variable 'a1' with '1', which can never match"),
        ("origin == 1", "error", "compares text variable 'origin' with 1"),
        ("origin in ['BEL', 'TUR']", "warning", "'TUR' is not a category of 'origin'"),
        ("q_year == 1900", "warning", "1900 is outside the range of 'q_year' [1937, 2007]"),
        ("is_code(a1, 2)", "warning", "2 is not a missing code of 'a1', so is_code() is never true"),
        ("count_equal(7, a1, q_year) > 0", "warning", "7 is not a category of 'a1'"),
    ],
)
def test_spec_lint_finds_literals_that_cannot_match(tmp_path, new_relevant, severity, expected):
    q, _ = load(tmp_path, CLEAN.replace('relevant: "a1 != 1"', f'relevant: "{new_relevant}"'))
    found = messages(check_spec(q), severity)
    assert any(expected in m and ": a2: " in m for m in found), found


def test_literals_that_can_match_give_no_finding(tmp_path):
    for rel in ("a1 in [1, 2] and origin != 'MAR'", "is_code(a1, -1) or q_year >= 1990", "2 == a1"):
        q, _ = load(tmp_path, CLEAN.replace('relevant: "a1 != 1"', f'relevant: "{rel}"'))
        assert check_spec(q) == [], rel


CODES_INSIDE = """\
wave: w9
title: Test
key: person_key
missing_codes:
  97: {meaning: dont_know, label: "Weet niet"}
  98: {meaning: refused, label: "Weigert"}
  99: {meaning: no_answer, label: "Geen antwoord"}
variables:
  - {name: person_key, label: Sleutel, type: text, source: register}
  - {name: q_age, label: Leeftijd, type: numeric, range: [0, 120]}
  - {name: q_kids, label: Kinderen, type: numeric, range: [0, 20]}
  - {name: q_score, label: Score, type: ordinal, categories: {1: laag, 2: hoog}, range: [1, 97], missing: [97, 99]}
"""


def test_missing_codes_inside_an_items_range_are_a_warning_naming_line_variable_codes_range(tmp_path, capsys):
    q, path = load(tmp_path, CODES_INSIDE, name="w9.yaml")
    found = check_spec(q)
    assert messages(found) == []
    warnings = messages(found, "warning")
    assert warnings == [
        f"{path}:10: variables[1]: q_age: missing codes 97 ('Weet niet'), 98 ('Weigert'), 99 ('Geen antwoord') "
        "lie inside the valid range [0, 120], so such an answer would count as missing; give the codes values "
        "outside the range, narrow the range, or leave them out of the item's missing",
        f"{path}:12: variables[3]: q_score: missing code 97 ('Weet niet') lies inside the valid range [1, 97], "
        "so such an answer would count as missing; give the codes values outside the range, narrow the range, "
        "or leave them out of the item's missing",
    ]  # q_kids [0, 20] holds no code: no warning
    before = path.read_bytes()
    assert main(["check", str(path)]) == 0  # warnings only
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert len(lines) == 2 and all(line.startswith(f"warning: {path}:1") for line in lines)
    assert "0 error(s), 2 warning(s)" in out.err
    assert path.read_bytes() == before


def test_category_equal_to_a_missing_code_is_an_error_of_sid_check(tmp_path, capsys):
    text = CODES_INSIDE.replace("categories: {1: laag, 2: hoog}, range: [1, 97]", "categories: {1: laag, 98: hoog}")
    folder = tmp_path / "questionnaires"
    folder.mkdir()
    path = folder / "w9.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["check", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"error: {path}:12: variables[3].categories: category code 98 is also a wave missing code (Weigert)"]


def test_cli_check_names_an_index_theme_the_spec_does_not_declare(tmp_path, capsys):
    (tmp_path / "questionnaires").mkdir()
    path = tmp_path / "questionnaires" / "w1.yaml"
    path.write_text(CLEAN.replace("theme: inclusion, items", "theme: inclusoin, items"), encoding="utf-8")
    before = path.read_bytes()
    assert main(["check", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"error: {path}:24: indices[0].theme: theme 'inclusoin' is not declared in themes "
                     "(inclusion); did you mean 'inclusion'?"]
    assert path.read_bytes() == before
