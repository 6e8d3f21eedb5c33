"""Questionnaire spec loading: dataclasses, one-line errors with file/line/key, derived
variables over a frame, the SPSS dictionary the spec implies."""

from __future__ import annotations

import datetime as dt
import textwrap

import numpy as np
import pandas as pd
import pytest

from sid.errors import ExpressionError, SpecError
from sid.spec.frame import derive, valid_view
from sid.spec.questionnaire import Derived, Variable
from sid.spec.questionnaire_parse import load_questionnaire

SPEC = """\
wave: w1
title: Test wave
reference_date: 2022-10-01
key: person_key
mode_variable: mode
modes: {web: "Web (CAWI)", capi: "Face-to-face (CAPI)"}
missing_codes:
  -1: {meaning: dont_know, label: "Weet niet"}
  -2: {meaning: no_answer, label: "Geen antwoord"}
  -4: {meaning: invalid, label: "Ongeldige code"}
completion: {complete: 0.8, partial: 0.5}
quality:
  speeders: {duration: duration_min, modes: [web], ratio_to_median: 0.35}
variables:
  - name: person_key
    label: Sleutel
    type: text
    source: register
  - name: birth_year
    label: Geboortejaar
    type: numeric
    source: register
    range: [1937, 2007]
    missing: []
  - name: origin
    label: Herkomst
    type: categorical
    source: register
    categories: {BEL: Belgisch, MAR: Marokkaans}
  - name: has_partner
    label: Heeft partner
    type: categorical
    categories: {1: Ja, 2: Nee}
  - name: q_lang_partner
    label: Taal met partner
    type: ordinal
    categories: {1: Altijd Nederlands, 2: Soms, 3: Nooit}
    missing: [-1]
    relevant: "has_partner == 1"
    checks:
      - {expr: "q_lang_partner <= 3", message: too high}
  - name: duration_min
    label: Duur
    type: numeric
    source: paradata
    range: [0, 600]
derived:
  - name: age
    label: Leeftijd
    type: numeric
    expr: "2022 - birth_year"
  - name: age_band
    label: Leeftijdsgroep
    type: ordinal
    expr: "cut(age, [15, 35, 86])"
    categories: {1: "15-34", 2: "35-85"}
  - name: dutch_partner
    label: Nederlands met partner
    type: categorical
    expr: "if_else(q_lang_partner == 1, 1, 0)"
    categories: {0: Nee, 1: Ja}
themes: {language: Taalgebruik}
indices:
  - name: idx_lang
    label: Taal
    theme: language
    items: [q_lang_partner, has_partner]
    reverse: [q_lang_partner]
    min_valid: 1
    scale: z
    reference_group: "origin == 'BEL'"
"""


def write(tmp_path, text: str, name: str = "w1.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_spec_loads_into_frozen_dataclasses(tmp_path):
    q = load_questionnaire(write(tmp_path, SPEC))
    assert q.wave == "w1" and q.reference_date == dt.date(2022, 10, 1)
    assert q.modes == {"web": "Web (CAWI)", "capi": "Face-to-face (CAPI)"}
    v = q.variable("q_lang_partner")
    assert isinstance(v, Variable) and v.measure == "ordinal" and v.missing == (-1,)
    assert v.relevant.names == {"has_partner"} and v.checks[0].message == "too high"
    assert q.variable("has_partner").missing == (-1, -2)  # default: every code but invalid
    assert q.variable("origin").is_text
    assert q.variable("origin").missing == () and q.variable("person_key").missing == ()
    assert isinstance(q.variable("age_band"), Derived)
    assert q.indices[0].reverse == ("q_lang_partner",) and q.indices[0].scale == "z"
    assert q.quality.speeders.modes == ("web",)
    with pytest.raises(AttributeError):
        q.wave = "x"  # type: ignore[misc]
    with pytest.raises(SpecError, match="'q_lang_partne' is not declared; did you mean 'q_lang_partner'"):
        q.variable("q_lang_partne")


def test_missing_codes_for_adds_the_invalid_code_and_skips_text_and_derived(tmp_path):
    q = load_questionnaire(write(tmp_path, SPEC))
    assert q.missing_codes_for("q_lang_partner") == (-1, -4)
    assert q.missing_codes_for("has_partner") == (-1, -2, -4)
    assert q.missing_codes_for("origin") == ()
    assert q.missing_codes_for("age") == ()


EXTRA = """  - name: q_count
    label: Aantal
    type: numeric
    range: [0, 20]
    missing: []
  - name: device
    label: Toestel
    type: categorical
    source: paradata
    categories: {1: Computer, 2: Telefoon}
    missing: [-4]
  - name: reg_code
    label: Registercode
    type: categorical
    source: register
    categories: {1: A, 2: B}
"""


def test_invalid_code_applies_only_to_questionnaire_items(tmp_path):
    """The invalid code (-4, set by cleaning) is user-missing on numeric questionnaire items
    only: not on paradata or register variables (with or without explicit missing codes),
    nor on an item that says ``missing: []``; a paradata variable may list it itself. The
    SPSS dictionary declares and labels exactly these codes."""
    q = load_questionnaire(write(tmp_path, SPEC.replace("derived:\n", EXTRA + "derived:\n")))
    assert q.missing_codes_for("birth_year") == ()  # register, missing: []
    assert q.missing_codes_for("reg_code") == (-1, -2)  # register: its own codes, no -4
    assert q.missing_codes_for("duration_min") == (-1, -2)  # paradata: its own codes, no -4
    assert q.missing_codes_for("q_count") == ()  # questionnaire, missing: []
    assert q.missing_codes_for("device") == (-4,)  # paradata listing it
    assert [v.name for v in q.variables if v.takes_invalid] == ["has_partner", "q_lang_partner"]
    meta = q.to_spss_meta()
    for name in ("birth_year", "q_count"):
        assert not meta[name].has_missing and -4.0 not in meta[name].value_labels
    for name in ("reg_code", "duration_min"):
        assert meta[name].missing_values == [-1.0, -2.0] and -4.0 not in meta[name].value_labels
    assert meta["device"].missing_values == [-4.0] and meta["device"].value_labels[-4.0] == "Ongeldige code"
    assert meta["has_partner"].missing_values == [-1.0, -2.0, -4.0]


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("    categories: {1: Ja, 2: Nee}", "    categries: {1: Ja, 2: Nee}",
         r"w1\.yaml:\d+: variables\[3\]\.categries: unknown key; did you mean 'categories'\?"),
        ("    type: ordinal\n", "    type: ordinall\n",
         r"variables\[4\]\.type: 'ordinall' is not one of .*; did you mean 'ordinal'\?"),
        ("    range: [0, 600]", "    range: [600, 0]", r"variables\[5\]\.range: low 600 is above high 0"),
        ("    range: [0, 600]", "    range: 600", r"variables\[5\]\.range: expected \[low, high\]"),
        ("    missing: [-1]", "    missing: [-3]", r"variables\[4\]\.missing\[0\]: code -3 is not one of"),
        ('    relevant: "has_partner == 1"', '    relevant: "has_partner.real == 1"',
         r"w1\.yaml:\d+: variables\[4\]\.relevant: 'has_partner\.real == 1': attribute access"),
        ("  - name: age\n", "  - name: birth_year\n", r"derived\[0\]: name 'birth_year' is already used at"),
        ("  - name: age\n", "  - name: Age\n", r"'Age' is not a lower_snake_case name"),
        ("    min_valid: 1", "    min_valid: one", r"indices\[0\]\.min_valid: expected a whole number, got text 'one'"),
        ("    reverse: [q_lang_partner]", "    reverse: [q_lang]", r"'q_lang' is not one of the index's items"),
        ("completion: {complete: 0.8, partial: 0.5}", "completion: {complete: 0.4, partial: 0.5}",
         r"completion\.partial: partial \(0\.5\) is above complete \(0\.4\)"),
        ("    categories: {1: Ja, 2: Nee}", "    categories: {1: Ja, -1: Nee}", r"category code -1 is also a wave missing code"),
        ("    categories: {1: Ja, 2: Nee}", "    categories: {yes: Ja, 2: Nee}", r"code must be a number or text, got a boolean"),
        ("    scale: z\n", "    scale: z\n    scoring: count\n", r"scoring: count needs count_values"),
        ("title: Test wave\n", "", r"w1\.yaml:1: required key 'title' is missing"),
        ("  -2: {meaning: no_answer,", "  -2: {meaning: no_anwser,", r"missing_codes\.-2\.meaning: 'no_anwser' is not one of"),
        ("reference_date: 2022-10-01", "reference_date: soon", r"reference_date: expected a date YYYY-MM-DD"),
        ("    source: register\n    categories: {BEL", "    source: register\n    missing: [-1]\n    categories: {BEL",
         r"variables\[2\]\.missing: the wave's numeric missing codes do not apply to a text variable"),
        ("    theme: language", "    theme: langauge",
         r"w1\.yaml:\d+: indices\[0\]\.theme: theme 'langauge' is not declared in themes \(language\); "
         r"did you mean 'language'\?$"),
        ("    theme: language", "    theme: religiosity",
         r"indices\[0\]\.theme: theme 'religiosity' is not declared in themes \(language\); declare it under themes:"),
        ("themes: {language: Taalgebruik}\n", "",
         r"indices\[0\]\.theme: theme 'language' is not declared: the spec has no themes; add a top-level themes:"),
        ("themes: {language: Taalgebruik}", "themes: [language]", r"w1\.yaml:\d+: themes: expected a mapping of theme code: label"),
        ("themes: {language: Taalgebruik}", "themes: {Language: Taalgebruik}",
         r"themes\.Language: theme code 'Language' is not a lower_snake_case name"),
        ("themes: {language: Taalgebruik}", "themes: {language: ''}", r"themes\.language: expected the theme's label"),
    ],
)
def test_spec_errors_are_one_line_with_file_line_and_key_path(tmp_path, old, new, message):
    assert old in SPEC
    with pytest.raises(SpecError, match=message) as info:
        load_questionnaire(write(tmp_path, SPEC.replace(old, new, 1)))
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(str(tmp_path / "w1.yaml"))


def test_themes_are_data_of_the_spec_that_indices_refer_to(tmp_path):
    """The spec's themes: code -> label in spec order; any codes a survey chooses (not SID's
    five); a spec without indices needs no themes."""
    other = SPEC.replace("themes: {language: Taalgebruik}", 'themes: {taal: "Taal", werk: "Werk en inkomen"}')
    q = load_questionnaire(write(tmp_path, other.replace("    theme: language", "    theme: werk")))
    assert q.themes == {"taal": "Taal", "werk": "Werk en inkomen"} and list(q.themes) == ["taal", "werk"]
    assert q.indices[0].theme == "werk" and q.theme_label("werk") == "Werk en inkomen"
    assert q.theme_label("onbekend") == "onbekend"
    bare = SPEC.replace("themes: {language: Taalgebruik}\n", "")
    bare = bare[: bare.index("indices:")]
    assert load_questionnaire(write(tmp_path, bare, "w2.yaml")).themes == {}


def test_shipped_spec_declares_the_themes_of_its_indices_and_table_plan():
    from pathlib import Path

    from sid.tables.plan import load_plan

    root = Path(__file__).resolve().parents[1]
    q = load_questionnaire(root / "questionnaires" / "sid2022.yaml")
    assert q.themes == {"language": "Taalgebruik", "discrimination": "Discriminatie",
                        "inclusion": "Sociale inclusie", "religiosity": "Religiositeit", "citizenship": "Burgerschap"}
    assert {ix.theme for ix in q.indices} == set(q.themes)
    assert {t.theme for t in load_plan(root / "reports" / "sid2022_tables.yaml").tables} <= set(q.themes)


def test_yaml_syntax_errors_and_duplicate_keys_name_the_line(tmp_path):
    bad = write(tmp_path, "wave: w1\nvariables:\n  - name: a\n   label: x\n")
    with pytest.raises(SpecError, match=r"w1\.yaml:4: YAML error"):
        load_questionnaire(bad)
    dup = write(tmp_path, "wave: w1\ntitle: a\ntitle: b\n")
    with pytest.raises(SpecError, match=r"w1\.yaml:3: YAML error: duplicate key 'title'"):
        load_questionnaire(dup)
    with pytest.raises(SpecError, match="spec file not found"):
        load_questionnaire(tmp_path / "nope.yaml")
    with pytest.raises(SpecError, match="expected a questionnaire spec"):
        load_questionnaire(write(tmp_path, "- just a list\n"))
    with pytest.raises(SpecError, match="python/object"):
        load_questionnaire(write(tmp_path, "wave: !!python/object/apply:os.system ['true']\n"))


def test_the_error_line_is_the_offending_key(tmp_path):
    lines = SPEC.splitlines()
    target = next(i for i, line in enumerate(lines) if "categories: {1: Ja, 2: Nee}" in line)
    with pytest.raises(SpecError, match=rf"w1\.yaml:{target + 1}: variables\[3\]\.categries"):
        load_questionnaire(write(tmp_path, SPEC.replace("categories: {1: Ja, 2: Nee}", "categries: {}")))


def test_derive_evaluates_in_order_over_the_valid_view(tmp_path):
    q = load_questionnaire(write(tmp_path, SPEC))
    df = pd.DataFrame({
        "person_key": ["a", "b", "c", "d"],
        "birth_year": [1990.0, 1950.0, np.nan, 2000.0],
        "origin": ["BEL", "MAR", None, "BEL"],
        "has_partner": [1.0, 1.0, 2.0, -1.0],
        "q_lang_partner": [1.0, 3.0, np.nan, -1.0],
    }, index=[10, 11, 12, 13])
    out = derive(df, q)
    assert list(out.columns) == ["age", "age_band", "dutch_partner"]
    assert list(out.index) == [10, 11, 12, 13]
    # by hand: ages 32, 72, missing (no register birth year), 22; bands [15,35) -> 1, [35,86) -> 2
    assert out["age"].tolist()[:2] == [32.0, 72.0] and np.isnan(out["age"].iloc[2])
    assert out["age_band"].fillna(0).tolist() == [1.0, 2.0, 0.0, 1.0]
    # -1 (dont_know) is missing in the valid view, so dutch_partner is missing, not 0
    assert out["dutch_partner"].fillna(9).tolist() == [1.0, 0.0, 9.0, 9.0]
    vv = valid_view(df, q)
    assert np.isnan(vv["has_partner"].iloc[3]) and df["has_partner"].iloc[3] == -1.0


def test_derive_names_a_variable_missing_from_the_data(tmp_path):
    q = load_questionnaire(write(tmp_path, SPEC))
    with pytest.raises(ExpressionError, match=r"derived\[0\]\.expr: '2022 - birth_year': variable 'birth_year' is not in the data"):
        derive(pd.DataFrame({"x": [1.0]}), q)


def test_spss_meta_from_the_spec_survives_a_write_read_round_trip(tmp_path):
    from sid.io.spss import read_spss, write_spss

    q = load_questionnaire(write(tmp_path, SPEC))
    meta = q.to_spss_meta()
    v = meta.variables["has_partner"]
    assert v.label == "Heeft partner" and v.measure == "nominal"
    assert v.value_labels == {1.0: "Ja", 2.0: "Nee", -1.0: "Weet niet", -2.0: "Geen antwoord",
                              -4.0: "Ongeldige code"}
    assert sorted(v.missing_values) == [-4.0, -2.0, -1.0]
    assert meta.variables["origin"].type == "string"
    assert meta.variables["mode"].value_labels == {"web": "Web (CAWI)", "capi": "Face-to-face (CAPI)"}
    df = pd.DataFrame({
        "person_key": ["a", "b"], "birth_year": [1990.0, 1950.0], "origin": ["BEL", "MAR"],
        "has_partner": [1.0, -2.0], "q_lang_partner": [2.0, -4.0], "duration_min": [12.5, 30.0],
        "mode": ["web", "capi"],
    })
    cols = list(df.columns)
    write_spss(df, meta.subset(cols), tmp_path / "w.sav")
    back, bmeta = read_spss(tmp_path / "w.sav")
    assert bmeta.variables["q_lang_partner"].value_labels[-4.0] == "Ongeldige code"
    assert bmeta.variables["q_lang_partner"].measure == "ordinal"
    assert bmeta.valid_view(back)["has_partner"].isna().tolist() == [False, True]


def test_four_missing_codes_become_one_spss_range(tmp_path):
    spec = SPEC.replace('  -4: {meaning: invalid, label: "Ongeldige code"}',
                        '  -3: {meaning: not_applicable, label: "NVT"}\n'
                        '  -4: {meaning: invalid, label: "Ongeldige code"}')
    q = load_questionnaire(write(tmp_path, spec))
    v = q.to_spss_meta().variables["has_partner"]
    assert v.missing_ranges == [(-4.0, -1.0)] and v.missing_values == []


def test_routing_over_a_frame_uses_the_valid_view_and_raw_codes(tmp_path):
    from sid.spec.expr import parse
    from sid.spec.frame import expression_env

    q = load_questionnaire(write(tmp_path, SPEC))
    df = pd.DataFrame({"has_partner": [1.0, 2.0, -1.0, np.nan], "q_lang_partner": [1.0, -1.0, -4.0, 2.0]})
    valid, raw = expression_env(df, q)
    asked = q.variable("q_lang_partner").relevant.holds(valid, len(df), codes=raw)
    assert asked.tolist() == [True, False, False, False]  # -1 (dont_know) and NaN: not asked
    dk = parse("is_code(q_lang_partner, -1) or is_code(q_lang_partner, -4)")
    assert dk.holds(valid, 4, codes=raw).tolist() == [False, True, True, False]
    assert "q_lang_partner" in q and "nope" not in q


def test_a_loaded_spec_pickles_and_evaluates_the_same_after(tmp_path):
    import pickle

    q = load_questionnaire(write(tmp_path, SPEC))
    q2 = pickle.loads(pickle.dumps(q))
    assert q2 == q
    df = pd.DataFrame({"birth_year": [1990.0, 1950.0], "q_lang_partner": [1.0, 2.0]})
    pd.testing.assert_frame_equal(derive(df, q2), derive(df, q))
