"""Beyond the HTML reports (tests/test_report_language.py): the tables workbook, tables.csv's
texts, the analysts' files and the indicator base speak the run's language (issue 15).

* every catalogue key sid's code and templates name exists in both catalogues;
* the texts sid added for the workbook, the analysts' files and the base hold no word of the
  other language (tests/report_scan.py's word lists);
* tables.xlsx of a run in English holds no Dutch word of sid's, in Dutch no English one
  (labels of the questionnaire spec, which stay in its language, left out); ``sid tables
  --lang`` overrides sid.yaml and the manifest records the language;
* ``sid run --lang en`` (sid2022, demo scale 0.1) records the language in the tables and
  report entries; its README, codebook (HTML and xlsx) and .sav notes and labels are
  English, and the same run folder re-rendered with ``sid report --lang nl`` is Dutch;
* the indicator base stays Dutch in an English run.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from openpyxl import load_workbook

from sid.cli import main
from sid.messages import LANGUAGES, catalogue
from sid.project import load_project, wave_questionnaire
from sid.report.analyst_files import analyst_file_names
from sid.tables.stage import run_tables
from tests.report_scan import Page, problems, visible
from tests.report_waves import copy_project

ROOT = Path(__file__).resolve().parents[1]
SID = ROOT / "sid"
#: a call naming a catalogue text: cat("k"), cat.get("k"), ctx.cat(...), t("k") in templates,
#: or cat(PREFIX + "k") with PREFIX = "section." assigned in the same file
CALL = re.compile(r"""(?<![\w.])(?:cat|t|self\.cat|ctx\.cat)(?:\.get|\.has|\.section)?\(\s*(?:(\w+)\s*\+\s*)?"""
                  r"""(["'])([a-z_][\w.]*)\2""")
PREFIX = re.compile(r"""^\s*(\w+)\s*=\s*(["'])([a-z_][\w.]*\.)\2\s*(?:#.*)?$""", re.M)
DOC_EXAMPLE = "page.key"  # the docstrings' example of a key
#: column values and names of tables.csv that the workbook's notes cite as they are
CSV_NAMES = {"share_0_1", "low_n", "high_cv"}


def _used_keys() -> list[tuple[str, str]]:
    out = []
    for path in sorted([*SID.rglob("*.py"), *SID.rglob("*.j2")]):
        text = path.read_text(encoding="utf-8")
        prefixes = {m[1]: m[3] for m in PREFIX.finditer(text)}
        for m in CALL.finditer(text):
            key = (prefixes.get(m[1], f"<{m[1]}>") if m[1] else "") + m[3]
            if key != DOC_EXAMPLE:
                out.append((str(path.relative_to(ROOT)), key))
    return out


def test_every_catalogue_key_the_code_names_exists_in_both_languages():
    used = _used_keys()
    assert len(used) > 300 and any(k.startswith("workbook.") for _, k in used)
    assert any(k.startswith("analyst.readme.") for _, k in used) and ("sid/linkage/spec.py", "indicator_base.numerator") in used
    for lang in LANGUAGES:
        texts = catalogue(lang).texts
        missing = [(f, k) for f, k in used if k not in texts and not any(t.startswith(k + ".") for t in texts)]
        assert not missing, (lang, missing[:10])


def test_the_key_scan_finds_a_missing_key(tmp_path):
    text = 'n = "workbook."\ncat(n + "nope")\nctx.cat("analyst.readme.title")\n'
    prefixes = {m[1]: m[3] for m in PREFIX.finditer(text)}
    keys = [(prefixes.get(m[1], "") if m[1] else "") + m[3] for m in CALL.finditer(text)]
    assert keys == ["workbook.nope", "analyst.readme.title"]
    assert "workbook.nope" not in catalogue("nl").texts


PATH = re.compile(r"\S*/\S*|\S+\.(?:parquet|json|csv|xlsx|sav|dta|md|html)\b")


def _r_syntax_free(text: str) -> str:
    """A text without what the pages keep apart (tests/report_scan.py): R syntax
    (svrepdesign(...) of the .sav notes), Markdown code spans, file paths."""
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"svrepdesign\(.*|repweights=.*|theta_r|rep_\*", " ", text)
    return PATH.sub(" ", text)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_new_catalogue_sections_hold_no_word_of_the_other_language(lang):
    texts = {k: v for k, v in catalogue(lang).texts.items()
             if k.split(".")[0] in ("workbook", "analyst") or (k.startswith("indicator_base.") and lang == "nl")}
    assert len(texts) > 150
    page = Page(text=[_r_syntax_free(re.sub(r"<[^>]+>|\{\w+\}", " ", v)) for v in texts.values()])
    found = problems(page, lang, allowed=CSV_NAMES)
    assert not found, "\n".join(found[:15])


# -- the tables workbook on the small hand-made run folder of tests/test_tables_stage.py ----------


def _spec_texts(q, *extra: str) -> list[str]:
    """Texts that come from the questionnaire spec (and the table plan's titles): they stay
    in the spec's language, so an English check leaves them out."""
    texts = [q.title, *(v.label for v in (*q.variables, *q.derived)), *(ix.label for ix in q.indices), *extra]
    for v in (*q.variables, *q.derived):
        texts += [str(x) for x in (v.categories or {}).values()]
    texts += [m.label for m in q.missing_codes.values()] + [str(x) for x in q.modes.values()]
    texts += [str(x) for x in q.themes.values()]
    return sorted({t for t in texts if t}, key=len, reverse=True)


def _strip(text: str, texts: list[str]) -> str:
    for t in texts:
        text = text.replace(t, " ")
    return text


def _xlsx_page(path: Path, skip_columns: tuple[int, ...] = ()) -> Page:
    wb = load_workbook(path)
    texts = [ws.title for ws in wb]
    for ws in wb:
        texts += [c.value for row in ws.iter_rows() for c in row
                  if isinstance(c.value, str) and c.column not in skip_columns]
    return Page(text=texts)


@pytest.fixture(scope="module")
def tables_runs(tmp_path_factory):
    from tests.test_tables_stage import _make_run

    s = _make_run(tmp_path_factory.mktemp("tables_lang"))
    en = s["run"].parent / "run-en"
    shutil.copytree(s["run"], en)
    run_tables(s["run"], s["proj"])
    assert main(["tables", "--out", str(en), "--project", str(s["proj"]), "--lang", "en"]) == 0
    return {"nl": s["run"], "en": en, "proj": s["proj"]}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_workbook_holds_no_word_of_the_other_language(tables_runs, lang):
    run = tables_runs[lang]
    q = wave_questionnaire(load_project(tables_runs["proj"]).wave("sid2022"))
    titles = list(pd.read_csv(run / "tables" / "tables.csv")["title"].unique())
    page = _xlsx_page(run / "tables" / "tables.xlsx")
    if lang == "en":
        spec = _spec_texts(q, *titles)
        page.text = [_strip(t, spec) for t in page.text]
    page.text = [_r_syntax_free(x) for x in page.text]
    found = problems(page, lang, allowed=CSV_NAMES)
    assert not found, "\n".join(found[:15])
    cat = catalogue(lang)
    wb = load_workbook(run / "tables" / "tables.xlsx")
    assert wb.sheetnames[-1] == cat("workbook.notes_sheet")
    rows = [[c.value for c in r] for r in wb[wb.sheetnames[0]].iter_rows()]
    assert [cat("workbook.breakdown"), cat("workbook.group")] in [r[:2] for r in rows]
    assert [cat("common.total"), cat("common.total")] in [r[:2] for r in rows]
    man = json.loads((run / "manifest.json").read_text())
    assert man["stages"]["tables"]["params"]["language"] == lang
    csv = pd.read_csv(run / "tables" / "tables.csv")
    overall = csv[csv["by_var"] == "overall"]
    assert set(overall["by_label"]) == set(overall["by_var_label"]) == {cat("common.total")}


def test_the_english_workbook_is_the_dutch_one_in_other_words(tables_runs):
    """Same cells, same numbers: only sid's words differ."""
    nl, en = (load_workbook(tables_runs[k] / "tables" / "tables.xlsx") for k in ("nl", "en"))
    assert len(nl.sheetnames) == len(en.sheetnames) and nl.sheetnames[:-1] == en.sheetnames[:-1]
    for a, b in zip(nl.worksheets[:-1], en.worksheets[:-1], strict=True):
        va = [[c.value for c in r] for r in a.iter_rows()]
        vb = [[c.value for c in r] for r in b.iter_rows()]
        assert len(va) == len(vb)
        for ra, rb in zip(va, vb, strict=True):
            assert [x for x in ra if not isinstance(x, str)] == [x for x in rb if not isinstance(x, str)]
    for k in ("nl", "en"):
        a = pd.read_csv(tables_runs[k] / "tables" / "tables.csv")
        assert a.drop(columns=["by_label", "by_var_label"]).equals(
            pd.read_csv(tables_runs["nl"] / "tables" / "tables.csv").drop(columns=["by_label", "by_var_label"]))


# -- sid run --lang en on the demo wave (scale 0.1), and the same run folder in Dutch -----------


@pytest.fixture(scope="module")
def english_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("run_en")
    project = copy_project(base / "project")
    data, out = base / "data", base / "out-en"
    assert main(["demo", "--wave", "sid2022", "--out", str(data), "--scale", "0.1"]) == 0
    assert main(["run", "--project", str(project), "--wave", "sid2022", "--data", str(data), "--out", str(out),
                 "--lang", "en"]) == 0
    nl = base / "out-nl"
    shutil.copytree(out, nl, ignore=shutil.ignore_patterns("report"))
    assert main(["report", "--project", str(project), "--wave", "sid2022", "--out", str(nl), "--lang", "nl"]) == 0
    return {"project": project, "en": out, "nl": nl, "names": analyst_file_names("sid2022")}


def test_sid_run_lang_records_the_language_of_every_stage_that_writes_text(english_run):
    man = json.loads((english_run["en"] / "manifest.json").read_text())
    assert man["stages"]["tables"]["params"]["language"] == "en"
    assert man["stages"]["report"]["params"]["language"] == "en"
    assert '<html lang="en">' in (english_run["en"] / "report" / "weighting.html").read_text(encoding="utf-8")
    wb = load_workbook(english_run["en"] / "tables" / "tables.xlsx")
    assert wb.sheetnames[-1] == "Notes"
    with pytest.raises(SystemExit):
        main(["run", "--project", str(english_run["project"]), "--out", str(english_run["en"]), "--lang", "fr"])


def _run_spec_texts(run) -> list[str]:
    q = wave_questionnaire(load_project(run["project"]).wave("sid2022"))
    t = pd.read_csv(run["en"] / "tables" / "tables.csv", usecols=["title"])
    return _spec_texts(q, *t["title"].dropna().unique())


def _readme_page(text: str) -> Page:
    """The README's prose (code spans and blocks left out) and the comments of its code blocks."""
    prose, comments, in_code = [], [], False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            m = re.search(r"(?:^|\s)#\s(.*)$", line) if "#" in line else re.match(r"^\*\s(.*)$", line)
            if m:
                comments.append(m[1])
        else:
            prose.append(re.sub(r"`[^`]*`", " ", line))
    return Page(text=[_r_syntax_free(x) for x in prose + comments])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_analysts_readme_and_codebook_hold_no_word_of_the_other_language(english_run, lang):
    report, names = english_run[lang] / "report", english_run["names"]
    spec = _run_spec_texts(english_run) if lang == "en" else []
    readme = (report / names["readme"]).read_text(encoding="utf-8")
    assert readme.startswith(catalogue(lang)("analyst.readme.title", title="", wave="sid2022").split(":")[0])
    page = _readme_page(readme)
    page.text = [_strip(t, spec) for t in page.text]
    found = problems(page, lang)
    assert not found, "README:\n" + "\n".join(found[:15])
    html = visible((report / names["html"]).read_text(encoding="utf-8"))
    html.text = [_strip(t, spec) for t in html.text]
    found = problems(html, lang)
    assert not found, "codebook.html:\n" + "\n".join(found[:15])
    q = wave_questionnaire(load_project(english_run["project"]).wave("sid2022"))
    names_of_spec = {v.name for v in (*q.variables, *q.derived)} | {ix.name for ix in q.indices}
    assert set(html.kept["var"]) <= names_of_spec | {"weight"}
    # the xlsx codebook: column A holds variable names, kept apart as on the pages
    book = _xlsx_page(report / names["xlsx"], skip_columns=(1,))
    book.text = [_strip(t, spec) for t in book.text]
    found = problems(book, lang)
    assert not found, "codebook.xlsx:\n" + "\n".join(found[:15])
    assert load_workbook(report / names["xlsx"]).sheetnames == [catalogue(lang)("analyst.codebook.sheet"),
                                                                catalogue(lang)("analyst.codebook.notes_sheet")]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_sav_labels_and_notes_are_in_the_runs_language(english_run, lang):
    cat = catalogue(lang)
    _, m = pyreadstat.read_sav(str(english_run[lang] / "report" / english_run["names"]["sav"]), metadataonly=True)
    labels = m.column_names_to_labels
    assert labels["weight"] == cat("analyst.sav.weight_labels.weight")
    reps = [c for c in m.column_names if c.startswith("rep_")]
    assert reps and labels[reps[0]] == cat("analyst.sav.replicate", i=1)
    reasons = [c for c in m.column_names if c.endswith("_reason")]
    assert reasons and all(labels[r].startswith(cat("analyst.sav.reason", label="")) for r in reasons)
    words = set(catalogue(lang).section("indices.reasons").values())
    assert {v for r in reasons for v in m.variable_value_labels.get(r, {}).values()} <= words
    notes = cat.section("analyst.sav.notes")
    sid_notes = [n for n in m.notes if n.startswith("sid:")]
    assert sid_notes[-1] == notes["syntax"].format(readme=english_run["names"]["readme"])
    assert all(len(n.encode("utf-8")) <= 80 for n in sid_notes), sid_notes  # SPSS document lines
    patterns = [re.escape(v).replace(r"\{n\}", r"\d+") for v in notes.values() if "{" not in v.replace("{n}", "")]
    assert sum(any(re.fullmatch(p, n) for p in patterns) for n in sid_notes) >= 4, sid_notes
    found = problems(Page(text=[_r_syntax_free(n) for n in sid_notes]), lang)
    assert not found, "\n".join(found)


def test_the_indicator_base_stays_dutch_in_an_english_run(english_run):
    from sid.linkage.spec import BASE_LANGUAGE

    assert BASE_LANGUAGE == "nl"
    rows = pd.read_csv(english_run["en"] / "link" / "survey_indicators.csv")
    notes = [n for n in rows["note"].dropna().unique() if n]
    assert notes and all("herkomstgroep" in n for n in notes), notes
    found = problems(Page(text=notes), "nl")
    assert not found, found
