"""The reports speak one language and show labels, not internal names (issue 15), on both waves.

Every rendered page of sid2022 and sid2017, in Dutch and in English, is scanned
(tests/report_scan.py) for snake_case tokens, codes written as floats, Python reprs of
dicts and lists, and words of the other language; names that belong on a page (variable
names, files, commands, keys, hashes, cited titles, R syntax) sit in marked elements and
are checked to be what they claim. Also: the two catalogues have the same keys and fields,
the language setting of the project file and of ``sid report --lang``, value labels in the
cleaning log tables, collapsed calibration cells by their labels, the complete/partial
counts of fieldwork and cleaning reconciled, and the index charts on one 0-100 axis.
"""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest

from sid.cli import main
from sid.errors import SpecError
from sid.messages import LANGUAGES, catalogue, fields
from sid.project import load_project, wave_questionnaire
from tests.report_scan import SNAKE, problems, visible
from tests.report_waves import WAVES, copy_project

PAGES = ("index", "fieldwork", "cleaning", "weighting", "indices", "indicators")
CASES = [(w, lang, p) for w in WAVES for lang in LANGUAGES for p in PAGES]


def _page(report_waves, wave: str, lang: str, name: str) -> str:
    return (report_waves[(wave, lang)] / "report" / f"{name}.html").read_text(encoding="utf-8")


def _spec_texts(report_waves, wave: str) -> list[str]:
    """Texts that come from the project's specs (labels, titles, theme names): on an English
    page they stay in the spec's language, so the English check leaves them out."""
    w = load_project(report_waves["project"]).wave(wave)
    q = wave_questionnaire(w)
    texts = [q.title, *(v.label for v in (*q.variables, *q.derived)), *(ix.label for ix in q.indices)]
    for v in (*q.variables, *q.derived):
        texts += [str(x) for x in (v.categories or {}).values()]
    texts += [m.label for m in q.missing_codes.values()] + [str(x) for x in q.modes.values()]
    texts += [q.theme_label(ix.theme) for ix in q.indices if ix.theme]
    tables = pd.read_csv(report_waves[(wave, "nl")] / "tables" / "tables.csv", usecols=["title"])
    texts += list(tables["title"].dropna().unique())
    return sorted({t for t in texts if t}, key=len, reverse=True)


def _without(page, texts: list[str]):
    page.text = [_strip(t, texts) for t in page.text]
    return page


def _strip(text: str, texts: list[str]) -> str:
    for t in texts:
        if t in text:
            text = text.replace(t, " ")
    return text


def test_the_two_catalogues_have_the_same_keys_and_fields():
    nl, en = catalogue("nl"), catalogue("en")
    assert set(nl.texts) == set(en.texts)
    assert {k: fields(v) for k, v in nl.texts.items()} == {k: fields(v) for k, v in en.texts.items()}
    assert nl("reports.weighting") == "Weging" and en("reports.weighting") == "Weighting"


def test_a_text_the_catalogue_lacks_is_a_key_error_naming_key_and_file():
    with pytest.raises(KeyError, match=r"sid/messages/nl.yaml: no text 'fieldwork.nope'"):
        catalogue("nl")("fieldwork.nope")


@pytest.mark.parametrize(("wave", "lang", "name"), CASES)
def test_pages_show_no_internal_names_float_codes_reprs_or_other_language(report_waves, wave, lang, name):
    html = _page(report_waves, wave, lang, name)
    assert f'<html lang="{lang}">' in html
    page = visible(html)
    if lang == "en":
        page = _without(page, _spec_texts(report_waves, wave))
    found = problems(page, lang)
    assert not found, "\n".join(found[:15])
    # what is kept apart is what it claims to be: variable names of the spec, files, commands
    q = wave_questionnaire(load_project(report_waves["project"]).wave(wave))
    names = {v.name for v in (*q.variables, *q.derived)} | {ix.name for ix in q.indices}
    assert set(page.kept["var"]) <= names, set(page.kept["var"]) - names
    assert all(t.startswith("sid ") or t in ("ingest", "clean", "fieldwork", "weight", "score", "tables", "link",
                                             "smallarea", "report") for t in page.kept["cmd"]), page.kept["cmd"]
    assert all("/" in t or "." in t or "," in t for t in page.kept["path"]), page.kept["path"]


def test_the_scan_finds_what_it_looks_for():
    html = ("<p>trim_rounds 0.00; {'min_respondents': 20}; Man - 5+6</p><td class='code'>3.0</td>"
            "<p>3.0 -> -3.0</p><p>weights within the stratum</p><code class='var'>q_sex</code>")
    found = problems(visible(html), "nl")
    assert any("snake_case 'trim_rounds'" in f for f in found)
    assert any("repr" in f for f in found) and any("float code '3.0'" in f for f in found)
    assert any("English word 'within'" in f for f in found)
    assert not any("q_sex" in f for f in found)  # a variable name in its marked element


@pytest.mark.parametrize("wave", list(WAVES))
def test_cleaning_log_tables_show_value_labels_not_float_codes(report_waves, wave):
    run = report_waves[(wave, "nl")]
    log = pd.read_csv(run / "clean" / "log.csv", dtype=str, keep_default_na=False)
    routed = log[log["rule"] == "routing"]
    assert len(routed)
    page = visible(_page(report_waves, wave, "nl", "cleaning"))
    q = wave_questionnaire(load_project(report_waves["project"]).wave(wave))
    na = next(m for m in q.missing_codes.values() if m.meaning == "not_applicable")
    assert f"{na.label} ({int(na.code)})" in page.code_cells  # "Niet van toepassing (-3)", not "-3.0"
    assert not any(re.search(r"\b\d+\.0\b", c) for c in page.code_cells)
    first = routed.iloc[0]
    cats = next(v for v in q.variables if v.name == first["variable"]).categories
    code = int(float(first["before"]))
    assert f"{cats[code]} ({code})" in page.code_cells


def test_collapsed_calibration_cells_are_named_by_their_labels(report_waves):
    """sid2017 collapses sparse age bands ("5+6"): the page names them "Man, 55-85"."""
    run = report_waves[("sid2017", "nl")]
    margins = pd.read_csv(run / "weight" / "diagnostics_margins.csv", dtype=str)
    assert margins["margin"].str.contains(r"\+").any()
    text = " ".join(visible(_page(report_waves, "sid2017", "nl", "weighting")).text)
    assert not re.search(r"\b\d\+\d\b", text)
    assert re.search(r"(Man|Vrouw), \d\d-85", text)


def test_weighting_page_has_no_raw_diagnostics_and_states_the_replicate_design(report_waves):
    for wave in WAVES:
        html = _page(report_waves, wave, "nl", "weighting")
        text = " ".join(visible(html).text)
        assert "merged_classes" not in html and "min_respondents" not in text
        assert "trimrondes" in text and "Een responsklasse telt minstens" in text
        diag = json.loads((report_waves[(wave, "nl")] / "weight" / "diagnostics.json").read_text())
        assert diag["replicates"]["r_svrepdesign"] in " ".join(visible(html).kept["src"]).replace("&quot;", '"')


@pytest.mark.parametrize("wave", list(WAVES))
def test_completion_counts_of_fieldwork_and_cleaning_are_reconciled(report_waves, wave):
    """Both pages show the same table: the agency's class (fieldwork) against the completion
    status of the clean stage, counted here by hand from cases.parquet and flags.parquet."""
    run = report_waves[(wave, "nl")]
    key = load_project(report_waves["project"]).wave(wave).roles.key
    cases = pd.read_parquet(run / "fieldwork" / "cases.parquet")
    flags = pd.read_parquet(run / "clean" / "flags.parquet")
    j = cases[[key, "aapor_code"]].astype(str).merge(flags[[key, "status"]].astype({key: str}), on=key, how="inner")
    tab = pd.crosstab(j["aapor_code"], j["status"])
    agency_partial_complete = int(tab.at["1.2", "complete"]) if "complete" in tab else 0
    assert agency_partial_complete > 0  # the demo has partials that meet the completion rule

    def table(name: str) -> list[list[str]]:
        html = _page(report_waves, wave, "nl", name)
        part = html[html.index('id="reconciliation"'):]
        part = part[:part.index("</table>")]
        return [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", part, re.S)[1:]]

    fw, cl = table("fieldwork"), table("cleaning")
    assert fw == cl and len(fw) >= 2
    p_row = next(r for r in fw if r[0].startswith("P:"))
    assert int(p_row[1].replace("\u2009", "")) == agency_partial_complete
    i_row = next(r for r in fw if r[0].startswith("I:"))
    assert int(i_row[-1].replace("\u2009", "")) == int((cases["aapor_code"].astype(str) == "1.1").sum())
    text = " ".join(visible(_page(report_waves, wave, "nl", "fieldwork")).text)
    assert f"{agency_partial_complete} interviews die het veldwerkbureau als gedeeltelijk codeerde" in text
    # the clean page's completeness table counts what flags.parquet counts
    clean_text = " ".join(visible(_page(report_waves, wave, "nl", "cleaning")).text)
    n_complete = f"{int((flags['status'] == 'complete').sum()):,}".replace(",", " ")  # thin space, as split
    assert f"telt {n_complete} volledige" in clean_text


def _ticks(svg: str) -> list[str]:
    return [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def test_index_charts_share_one_0_to_100_axis(report_waves):
    for wave in WAVES:
        html = _page(report_waves, wave, "nl", "indicators")
        q = wave_questionnaire(load_project(report_waves["project"]).wave(wave))
        pomp = [ix.label for ix in q.indices if ix.scale == "pomp"]
        figures = re.findall(r"<figcaption>(.*?)</figcaption>(<svg.*?</svg>)", html, re.S)
        shown = {cap: svg for cap, svg in figures}
        for label in pomp:
            ticks = _ticks(shown[label])
            assert {"0", "20", "40", "60", "80", "100"} <= set(ticks), (label, ticks)
        idx = _page(report_waves, wave, "nl", "indices")
        dist = re.search(r'<div class="chart wide">(<svg.*?</svg>)', idx, re.S).group(1)
        assert _ticks(dist).count("100") >= 1 and _ticks(dist).count("0") >= 1


def test_the_fieldwork_page_draws_response_per_group_and_mode(report_waves):
    for wave in WAVES:
        html = _page(report_waves, wave, "nl", "fieldwork")
        svg = re.search(r'<div class="chart wide">(<svg.*?</svg>)', html, re.S).group(1)
        q = wave_questionnaire(load_project(report_waves["project"]).wave(wave))
        ticks = _ticks(svg)
        assert all(label in ticks for label in q.modes.values()), ticks  # a legend entry per mode
        assert "Totaal" in ticks


def test_language_comes_from_the_project_file_and_is_validated(report_waves, tmp_path, capsys):
    project = copy_project(tmp_path / "project")
    text = (project / "sid.yaml").read_text(encoding="utf-8")
    (project / "sid.yaml").write_text(text.replace("default_wave: sid2022", "default_wave: sid2022\nlanguage: en"),
                                      encoding="utf-8")
    run = tmp_path / "out"
    shutil.copytree(report_waves[("sid2022", "nl")], run, ignore=shutil.ignore_patterns("report"))
    assert main(["report", "--project", str(project), "--out", str(run)]) == 0
    html = (run / "report" / "weighting.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "Distribution of the weights" in html
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["stages"]["report"]["params"]["language"] == "en"
    # --lang overrides the project file
    assert main(["report", "--project", str(project), "--out", str(run), "--lang", "nl"]) == 0
    assert '<html lang="nl">' in (run / "report" / "weighting.html").read_text(encoding="utf-8")
    # an unknown language: one line naming the file and the key; nothing written
    (project / "sid.yaml").write_text(text.replace("default_wave: sid2022", "default_wave: sid2022\nlanguage: fr"),
                                      encoding="utf-8")
    before = (run / "report" / "weighting.html").read_bytes()
    capsys.readouterr()
    assert main(["report", "--project", str(project), "--out", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "sid.yaml" in err[0] and "language" in err[0] and "'fr'" in err[0], err
    assert (run / "report" / "weighting.html").read_bytes() == before
    with pytest.raises(SpecError, match="no report language 'fr'"):
        load_project(project)
    with pytest.raises(SystemExit):
        main(["report", "--project", str(project), "--out", str(run), "--lang", "fr"])


def test_snake_pattern_leaves_hyphenated_and_numbered_words_alone():
    assert SNAKE.findall("15-24, e-mail, RR1, n = 3") == []
    assert SNAKE.findall("deff_kish and p_value") == ["deff_kish", "p_value"]


def test_report_language_is_checked_for_the_api(report_waves):
    from sid.report.context import open_run

    with pytest.raises(SpecError, match=r"--lang: no report language 'de'; use one of nl, en"):
        open_run(report_waves[("sid2022", "nl")], report_waves["project"], lang="de")


def test_the_reports_know_the_score_stages_reasons_and_the_clean_stages_statuses():
    """The reports read the run folder without importing another stage: their copies of the
    stages' words must be the stages' own."""
    from sid.clean.completion import STATUSES as CLEAN_STATUSES
    from sid.report.fieldwork import STATUSES
    from sid.report.indices import _REASONS
    from sid.scales.scoring import REASON_TOO_FEW
    from sid.scales.stage import REASON_NO_WEIGHT

    assert STATUSES == CLEAN_STATUSES
    assert set(_REASONS) == {REASON_TOO_FEW, REASON_NO_WEIGHT}
