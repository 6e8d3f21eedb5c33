"""The report machinery without a run: StrictUndefined and autoescape in the project's
templates, number formats, SVG charts cut to self-contained inline SVG."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import jinja2
import pytest

from sid.errors import SpecError
from sid.report.charts import ci_chart, weight_histograms
from sid.report.provenance import provenance
from sid.report.render import (
    BUILTIN_TEMPLATES,
    environment,
    fmt_as,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_pct,
    render,
    template_files,
)

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = BUILTIN_TEMPLATES


def _provenance() -> dict:
    manifest = {"run_id": "abc123", "stages": {"clean": {
        "inputs": [{"path": "raw/data.parquet", "sha256": "f" * 64}], "specs": [],
        "versions": {"sid": "9.9.9", "numpy": "2"}, "started": "2026-01-01T00:00:00Z", "seconds": 1.5}}}
    return provenance(manifest, ["ingest", "clean"])


def test_a_project_template_naming_an_undefined_variable_is_a_spec_error_naming_the_file(tmp_path):
    shutil.copy(TEMPLATES / "base.html.j2", tmp_path / "base.html.j2")
    (tmp_path / "bad.html.j2").write_text('{% extends "base.html.j2" %}{% block content %}{{ nowhere }}{% endblock %}')
    env = environment(tmp_path)
    ctx = {"report_title": "t", "survey_title": "s", "wave": "w", "nav": [], "provenance": _provenance()}
    with pytest.raises(SpecError, match=r"bad\.html\.j2: 'nowhere' is undefined; this template may use nav, "):
        render(env, "bad.html.j2", ctx)
    (tmp_path / "syntax.html.j2").write_text("{% if %}")
    with pytest.raises(SpecError, match=r"syntax\.html\.j2:1: template syntax error"):
        render(env, "syntax.html.j2", ctx)


def test_one_of_sids_own_templates_lacking_a_value_raises_jinjas_error():
    """In sid's own templates a missing value is a bug in sid: jinja2's error, not a user's."""
    env = environment(TEMPLATES)
    with pytest.raises(jinja2.UndefinedError):
        render(env, "index.html.j2", {"report_title": "t", "survey_title": "s", "wave": "w", "nav": [],
                                      "provenance": _provenance()})


def test_the_index_template_without_one_of_its_values_raises():
    env = environment(TEMPLATES)
    ctx = {"report_title": "t", "survey_title": "s", "wave": "w", "nav": [], "provenance": _provenance(),
           "reports": [{"file": "x.html", "title": "X", "stage": "clean", "written": True}]}
    page = render(env, "index.html.j2", ctx)
    assert 'href="x.html"' in page and "f" * 64 in page and "9.9.9" in page
    ctx["reports"] = [{"file": "x.html", "title": "X", "written": True}]  # no "stage"
    with pytest.raises(jinja2.UndefinedError):
        render(env, "index.html.j2", ctx)


def test_labels_are_escaped():
    env = environment(TEMPLATES)
    ctx = {"report_title": "<script>alert(1)</script>", "survey_title": "A & B", "wave": "w", "nav": [],
           "provenance": _provenance(), "reports": []}
    page = render(env, "index.html.j2", ctx)
    assert "<script>" not in page and "&lt;script&gt;" in page and "A &amp; B" in page


def test_a_project_without_templates_gets_sids_and_one_of_its_own_overrides_it(tmp_path):
    # a new project needs no templates; one it has replaces sid's of that name only
    ctx = {"report_title": "t", "survey_title": "s", "wave": "w", "nav": [], "provenance": _provenance(),
           "reports": []}
    assert "<html" in render(environment(tmp_path), "index.html.j2", ctx)
    assert all(p.parent == BUILTIN_TEMPLATES for p in template_files(tmp_path))
    (tmp_path / "index.html.j2").write_text('{% extends "base.html.j2" %}{% block content %}OWN{% endblock %}')
    page = render(environment(tmp_path), "index.html.j2", ctx)
    assert "OWN" in page and "<html" in page  # the project's index, sid's base
    files = template_files(tmp_path)
    assert tmp_path / "index.html.j2" in files and BUILTIN_TEMPLATES / "base.html.j2" in files


def test_a_templates_folder_that_is_not_there_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError, match="report templates folder not found"):
        environment(tmp_path / "nowhere")


def test_number_formats():
    assert fmt_num(1234.567, 1) == "1\u2009234.6"
    assert fmt_int(5250.4) == "5\u2009250"
    assert fmt_pct(0.43960125) == "44.0"
    assert fmt_p(0.0004) == "<0.001" and fmt_p(0.0123) == "0.012"
    assert fmt_num(float("nan")) == "–" and fmt_int(None) == "–"
    assert fmt_num(-0.0001, 2) == "0.00" and fmt_pct(-1e-17, 2) == "0.00" and fmt_num(-0.5, 1) == "-0.5"
    assert fmt_as(2247.08, "auto") == "2\u2009247" and fmt_as(23.71, "auto") == "23.7" and fmt_as(2.5, "auto") == "2.50"


def test_charts_are_self_contained_svg_with_their_own_ids():
    a = ci_chart(["Totaal", "Belgisch", "Pools"], [50.0, 60.0, 40.0], [48.0, 55.0, 35.0], [52.0, 65.0, 45.0],
                 xlabel="index", prefix="one", reference="Totaal")
    b = weight_histograms({"Belgisch": [1.0, 2.0, 2.5, 3.0], "Pools": [10.0, 12.0, 30.0]}, prefix="two")
    for svg in (a, b):
        assert svg.startswith("<svg") and svg.endswith("</svg>")
        assert "http" not in svg and "<metadata" not in svg and "<?xml" not in svg
    ids_a = set(re.findall(r' id="([^"]+)"', a))
    ids_b = set(re.findall(r' id="([^"]+)"', b))
    assert ids_a and all(i.startswith("one-") for i in ids_a) and all(i.startswith("two-") for i in ids_b)
    for ref in re.findall(r'(?:href="#|url\(#)([^")]+)', a):
        assert ref in ids_a  # every reference points at an id of the same chart
    assert ">Pools<" in a and ">Totaal<" not in a.replace("Totaal: 50.0", "")  # the reference is a line, not a row


def test_charts_are_the_same_bytes_for_the_same_figures():
    args = (["A", "B"], [1.0, 2.0], [0.5, 1.5], [1.5, 2.5], "x", "p")
    assert ci_chart(*args) == ci_chart(*args)


def test_fmt_shows_text_cells_as_written_and_numbers_formatted():
    from sid.report.render import fmt_as

    assert fmt_as("raking within origin group", "auto") == "raking within origin group"
    assert fmt_as("2.5", "num1") == fmt_as(2.5, "num1")
