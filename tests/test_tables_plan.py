"""The table plan loader: the project's plan, defaults, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sid.errors import SpecError
from sid.spec.questionnaire_parse import load_questionnaire
from sid.tables.labels import Labels
from sid.tables.plan import Defaults, check_plan, load_plan, parse_plan

ROOT = Path(__file__).resolve().parents[1]

GOOD = """
wave: w
tables:
  - id: t
    theme: language
    title: T
    variables: [x]
    by: [a, "a:b"]
    compare_to: {a: BEL}
    chisq: [a]
"""


def test_project_plan_covers_five_themes_and_names_only_spec_variables():
    plan = load_plan(ROOT / "reports" / "sid2022_tables.yaml")
    q = load_questionnaire(ROOT / "questionnaires" / "sid2022.yaml")
    labels = Labels.from_questionnaire(q)
    assert {t.theme for t in plan.tables} == {"language", "discrimination", "inclusion", "religiosity",
                                              "citizenship"}
    assert {ix.name for ix in q.indices} <= {v for t in plan.tables for v in t.variables}
    assert "dutch_home" in plan.names()
    assert plan.names() <= set(labels.kinds)
    check_plan(plan, labels.kinds, plan.names())  # every name known: no error
    assert plan.defaults.min_n == 30 and plan.defaults.variance in ("taylor", "replicate")


def test_defaults_and_crossings_are_parsed():
    plan = parse_plan(GOOD)
    assert plan.defaults == Defaults()
    t = plan.tables[0]
    assert t.by == (("a",), ("a", "b"))
    assert t.compare_to == {"a": "BEL"} and t.chisq == ("a",)
    assert t.statistics is None and t.overall is True


@pytest.mark.parametrize(("text", "message"), [
    (GOOD.replace("theme: language", "theme: language\n    colour: red"), "tables[0].colour: unknown key"),
    (GOOD.replace("    title: T\n", ""), "required key 'title' is missing"),
    (GOOD.replace('"a:b"', '"a:"'), "tables[0].by[1]: 'a:' is not a domain"),
    (GOOD.replace('"a:b"', '"a:a"'), "crosses a variable with itself"),
    (GOOD.replace("{a: BEL}", "{b: BEL}"), "tables[0].compare_to.b: unknown key"),
    (GOOD.replace("chisq: [a]", "chisq: [c]"), "tables[0].chisq[0]: 'c' is not a single-variable domain"),
    (GOOD.replace("variables: [x]", "variables: []"), "the table has no variables"),
    (GOOD.replace("wave: w", "wave: w\ndefaults: {variance: jackknife}"),
     "defaults.variance: 'jackknife' is not one of taylor, replicate"),
    (GOOD.replace("wave: w", "wave: w\ndefaults: {min_n: -1}"), "defaults.min_n: -1 is below the minimum 0"),
    (GOOD.replace("wave: w", "wave: w\ndefaults: {mni_n: 5}"), "did you mean 'min_n'"),
    (GOOD.replace("chisq: [a]", "statistics: [mode]"), "tables[0].statistics[0]: 'mode' is not one of"),
    (GOOD + GOOD.split("tables:\n")[1], "table id 't' is already used"),
    ("wave: w\ntables: []\n", "the plan has no tables"),
])
def test_plan_errors_are_one_line_with_file_and_key(text, message):
    with pytest.raises(SpecError) as exc:
        parse_plan(text, where="plan.yaml")
    msg = str(exc.value)
    assert message in msg
    assert "\n" not in msg and msg.startswith("plan.yaml")


def test_plan_error_names_the_line(tmp_path):
    p = tmp_path / "w_tables.yaml"
    p.write_text(GOOD.replace('"a:b"', '"a:"'))
    with pytest.raises(SpecError, match=r"w_tables.yaml:8: tables\[0\]\.by\[1\]"):
        load_plan(p)


def test_check_plan_names_unknown_and_absent_variables():
    plan = parse_plan(GOOD)
    with pytest.raises(SpecError, match=r"table 't': 'x' is not a variable"):
        check_plan(plan, {"a": "categorical", "b": "categorical"}, ["a", "b"])
    kinds = {"x": "categorical", "a": "categorical", "b": "categorical"}
    with pytest.raises(SpecError, match=r"'x' is not in the opened wave"):
        check_plan(plan, kinds, ["a", "b"])


def test_check_plan_wants_categorical_domains_and_chisq_variables():
    plan = parse_plan(GOOD)
    with pytest.raises(SpecError, match=r"domain variable 'b' is numeric, not categorical"):
        check_plan(plan, {"x": "categorical", "a": "categorical", "b": "numeric"}, ["x", "a", "b"])
    with pytest.raises(SpecError, match=r"chisq tests categorical variables, and 'x' is index"):
        check_plan(plan, {"x": "index", "a": "categorical", "b": "categorical"}, ["x", "a", "b"])


def test_compare_to_accepts_a_crossing_of_by():
    plan = parse_plan(GOOD.replace("{a: BEL}", '{"a:b": "BEL:0"}'))
    assert plan.tables[0].compare_to == {"a:b": "BEL:0"}
