"""sid report on a small demo run (scale 0.1, through every stage that exists): each report
renders, its figures equal the stage outputs recomputed here by hand (tables.csv cells,
AAPOR counts and RR1 from the case table, Kish deff and n_eff from the weights, changes
per rule from the cleaning log), charts are inline SVG, nothing refers to the network, a
missing stage is listed as not run, and the pages render in headless Chromium."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sid.cli import main
from sid.errors import RunFolderError
from sid.report.stage import run_report
from sid.runfolder.manifest import StageRecord, record_stage, sha256_file

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ("fieldwork", "cleaning", "weighting", "indices", "indicators")


def _sid(*argv: str) -> None:
    assert main(list(argv)) == 0, argv


def _weights_by_hand(run: Path, data: Path) -> None:
    """Each respondent's design weight N_h/n_h (gross sample), in the weight stage's contract
    (docs/run-folder.md; sid.runfolder.wave): used where ``sid weight`` is absent or cannot
    calibrate the small demo (empty margin cells at scale 0.1); the reports need a weight
    folder, not a particular weighting."""
    rec = StageRecord(stage="weight", inputs=[data / "gross_sample.csv"], params={"weights": "design weights"})
    gross = pd.read_csv(data / "gross_sample.csv")
    clean = pd.read_parquet(run / "clean" / "data.parquet", columns=["person_key"])
    w = clean.merge(gross[["person_key", "stratum", "design_weight"]], on="person_key", validate="one_to_one")
    w["weight"] = w["design_weight"]
    (run / "weight").mkdir()
    w[["person_key", "weight", "stratum", "design_weight"]].to_parquet(run / "weight" / "weights.parquet")
    (run / "weight" / "diagnostics.json").write_text(json.dumps(
        {"design": {"key": "person_key", "weight": "weight", "strata": "stratum"},
         "method": "design weights only (test fixture)"}))
    record_stage(run, rec.finish(run, [run / "weight" / "weights.parquet", run / "weight" / "diagnostics.json"]))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report")
    data, run = root / "data", root / "out"
    project = str(ROOT)
    _sid("demo", "--out", str(data), "--scale", "0.1")
    _sid("ingest", str(data / "sid2022_web.sav"), str(data / "sid2022_capi.sav"), "--out", str(run))
    _sid("clean", "--out", str(run), "--project", project, "--data", str(data))
    _sid("fieldwork", "--out", str(run), "--project", project, "--data", str(data))
    weighted = importlib.util.find_spec("sid.cli.commands.weight") is not None and main(
        ["weight", "--out", str(run), "--project", project, "--data", str(data)]) == 0
    variance = []
    if not weighted:
        _weights_by_hand(run, data)
        variance = ["--variance", "taylor"]
    _sid("score", "--out", str(run), "--project", project)
    _sid("tables", "--out", str(run), "--project", project, *variance)
    _sid("report", "--out", str(run), "--project", project)
    return run


class _Cells(HTMLParser):
    """Collects the <td data-key=...> cells of the indicators report: key -> (estimate, CI text)."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[str, dict[str, str]] = {}
        self._key: str | None = None
        self._span: str | None = None
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "td" and "data-key" in a:
            self._key = a["data-key"]
            self.cells[self._key] = {"est": "", "ci": "", "text": ""}
        elif tag == "span" and self._key is not None:
            self._span = a.get("class")

    def handle_endtag(self, tag):
        if tag == "td":
            self._key = None
        elif tag == "span":
            self._span = None

    def handle_data(self, data):
        if self._key is None:
            return
        cell = self.cells[self._key]
        cell["text"] += data
        if self._span in ("est", "ci"):
            cell[self._span] += data


class _Tables(HTMLParser):
    """Every <table> of a page as a list of rows, each a list of cell texts (th and td)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip().replace("\u2009", ""))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _table_with(page: str, *headers: str) -> list[list[str]]:
    """The first table of ``page`` whose header row holds ``headers``."""
    parser = _Tables()
    parser.feed(page)
    for t in parser.tables:
        if t and all(h in t[0] for h in headers):
            return t
    raise AssertionError(f"no table with columns {headers}")


def _html(run: Path, name: str) -> str:
    return (run / "report" / f"{name}.html").read_text(encoding="utf-8")


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def test_every_report_and_the_index_are_written_with_provenance_hashes(demo_run):
    files = sorted(p.name for p in (demo_run / "report").iterdir())
    # the analysts' files (.sav, .dta, codebook, README) lie beside the reports once the wave is weighted
    from sid.report.analyst_files import analyst_file_names

    assert files == sorted([*(f"{r}.html" for r in REPORTS), "index.html", *analyst_file_names("sid2022").values()])
    manifest = json.loads((demo_run / "manifest.json").read_text())
    for r, stage in zip(REPORTS, ("fieldwork", "clean", "weight", "score", "tables"), strict=True):
        page = _html(demo_run, r)
        for f in manifest["stages"][stage]["inputs"] + manifest["stages"][stage]["specs"]:
            assert f["sha256"] in page, (r, f["path"])
        assert manifest["run_id"] in page
    entry = manifest["stages"]["report"]
    assert {o["path"] for o in entry["outputs"]} == {f"report/{f}" for f in files}
    for o in entry["outputs"]:
        assert o["sha256"] == sha256_file(demo_run / o["path"])


def test_indicators_cells_hold_the_figures_of_tables_csv(demo_run):
    from sid.tables.precision import read_csv

    t = read_csv(demo_run / "tables" / "tables.csv")
    t["reference"] = t["reference"].fillna("")
    t = t[t["by_var"].isin(["overall", "origin"]) & (t["statistic"] != "rao_scott_f")]
    parser = _Cells()
    parser.feed(_html(demo_run, "indicators"))
    assert len(parser.cells) == len(t) > 100  # every figure by origin group is shown, once
    compared = suppressed = 0
    for rec in t.to_dict("records"):
        cat = "" if pd.isna(rec["category"]) else rec["category"]  # codes as text: "1", not 1.0
        key = "|".join([rec["table_id"], rec["variable"], rec["statistic"], rec["by_var"], rec["by_value"], cat,
                        rec["reference"]])
        cell = parser.cells[key]
        if rec["suppressed"]:
            assert cell["est"] == "" and "n<min" in cell["text"]
            suppressed += 1
            continue
        percent = rec["statistic"] == "proportion" or (rec["statistic"] == "difference" and cat != "")
        scale = 100.0 if percent else 1.0
        est = cell["est"]
        tol = 0.5 * 10 ** -_decimals(est) + 1e-9
        assert abs(float(est) - scale * rec["estimate"]) <= tol, key
        if pd.isna(rec["ci_low"]):  # e.g. a share of 0: no interval
            assert cell["ci"] == "", key
        else:
            lo, hi = (float(x) for x in cell["ci"].split(" – "))
            assert abs(lo - scale * rec["ci_low"]) <= tol and abs(hi - scale * rec["ci_high"]) <= tol, key
        compared += 1
    assert compared > 100


def test_indicators_chart_per_headline_indicator_as_inline_svg(demo_run):
    page = _html(demo_run, "indicators")
    charts = re.findall(r'<figure class="chart"><figcaption>([^<]+)</figcaption>\s*<svg', page)
    assert len(charts) == 6  # five indices + the 0/1 indicator dutch_home
    assert "Spreekt thuis vooral Nederlands" in charts
    ids = re.findall(r'<svg[^>]*>.*?</svg>', page, flags=re.S)
    all_ids = [i for svg in ids for i in re.findall(r' id="([^"]+)"', svg)]
    assert len(all_ids) == len(set(all_ids))  # no clip path or marker shared between charts


def test_weighting_report_deff_and_n_eff_match_kish_by_hand(demo_run):
    w = pd.read_parquet(demo_run / "weight" / "weights.parquet")
    origin = pd.read_parquet(demo_run / "clean" / "data.parquet", columns=["person_key", "origin"])
    w = w.merge(origin, on="person_key")
    page = _html(demo_run, "weighting")
    assert page.count("<svg") >= 2  # the histograms and the design effects (and survey against register)
    quality = _table_with(page, "designeffect (Kish)", "effectieve n")
    dist = _table_with(page, "n", "mediaan")
    for code, label in {"BEL": "Belgisch", "MAR": "Marokkaans", "AFG": "Afghaans"}.items():
        x = w.loc[w["origin"] == code, "weight"].to_numpy()
        deff = x.size * np.sum(x**2) / np.sum(x) ** 2  # Kish (1965) 11.7
        n_eff = np.sum(x) ** 2 / np.sum(x**2)
        row = next(r for r in quality if r[0] == label)
        assert abs(float(row[quality[0].index("designeffect (Kish)")]) - deff) <= 0.0005
        assert abs(float(row[quality[0].index("effectieve n")]) - n_eff) <= 0.05
        row = next(r for r in dist if r[0] == label)
        assert int(row[dist[0].index("n")]) == x.size
        median = float(np.median(x))
        shown = row[dist[0].index("mediaan")]
        assert abs(float(shown) - median) <= 0.5 * 10 ** -_decimals(shown) + 1e-9


def test_fieldwork_report_counts_and_rr1_match_the_case_table(demo_run):
    cases = pd.read_parquet(demo_run / "fieldwork" / "cases.parquet")
    page = _html(demo_run, "fieldwork")
    assert f"<strong>{len(cases):,}".replace(",", "\u2009") in page
    # the first per-group table is unweighted; Afghaans row: n then I P R NC O UH UO NE
    first = page.index("Eindcodes (AAPOR-klassen)")
    row = re.search(r"<td>Afghaans</td>(.*?)</tr>", page[first:]).group(1)
    cells = [int(c.replace("\u2009", "")) for c in re.findall(r'<td class="num">([^<]+)</td>', row)]
    afg = cases[cases["stratum"] == "AFG"]["outcome"].astype(str).value_counts()
    classes = ["I", "P", "R", "NC", "O", "UH", "UO", "NE"]
    assert cells == [int((cases["stratum"] == "AFG").sum()), *(int(afg.get(k, 0)) for k in classes)]
    rr1 = afg.get("I", 0) / sum(afg.get(k, 0) for k in classes[:-1])  # AAPOR RR1
    rates = page.index("Uitkomstcijfers in %")
    row = re.search(r"<td>Afghaans</td>(.*?)</tr>", page[rates:]).group(1)
    assert abs(float(re.findall(r'<td class="num">([^<]+)</td>', row)[0]) - 100 * rr1) <= 0.05


def test_cleaning_report_changes_per_rule_match_the_log(demo_run):
    from sid.messages import catalogue

    log = pd.read_csv(demo_run / "clean" / "log.csv")
    page = _html(demo_run, "cleaning")
    for rule, n in log["rule"].value_counts().items():
        name = catalogue("nl")(f"cleaning.rule_names.{rule}")  # the rule's name as the reader sees it
        row = re.search(rf"<td>{name}</td><td>[^<]*</td><td class=\"num\">(\d+)</td>", page)
        assert row is not None and int(row.group(1)) == n, rule


def test_reports_refer_to_nothing_outside_the_file(demo_run):
    for name in (*REPORTS, "index"):
        page = _html(demo_run, name)
        assert "http://" not in page and "https://" not in page, name
        parser = _Cells()
        parser.feed(page)
        for tag, attrs in parser.tags:
            assert tag not in ("script", "link", "img", "iframe"), (name, tag)
            href = attrs.get("href") or ""
            assert href == "" or href.startswith("#") or re.fullmatch(r"\w+\.html", href), (name, href)


def test_a_stage_not_run_is_listed_and_not_rendered(demo_run, tmp_path):
    run = tmp_path / "out"
    shutil.copytree(demo_run, run, ignore=shutil.ignore_patterns("tables", "report"))
    folder, status = run_report(run, ROOT)
    assert status["indicators"] == "not run" and status["cleaning"] == "written"
    assert not (folder / "indicators.html").exists()
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "Indicatoren en tabellen" in index and "niet uitgevoerd" in index
    assert 'href="indicators.html"' not in index


def test_sid_report_on_a_folder_that_is_no_run_is_a_one_line_error(tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path), "--project", str(ROOT)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no manifest.json" in err[0]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_reports_render_in_headless_chromium(demo_run, tmp_path):
    import matplotlib.image as mpimg

    for name in ("index", *REPORTS):
        png = tmp_path / f"{name}.png"
        subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}", "--window-size=1280,1600",
             (demo_run / "report" / f"{name}.html").resolve().as_uri()],
            check=True, capture_output=True, timeout=120)
        img = mpimg.imread(png)
        assert img.shape[:2] == (1600, 1280)
        assert img[..., :3].std() > 0.05, name  # not a blank page


def test_weighting_report_margins_hold_the_margin_file(demo_run, tmp_path):
    """A weight folder with diagnostics_margins.csv (sex margins per group, by hand with numpy):
    the report shows each cell's population, before and after, with the spec's labels."""
    run = tmp_path / "out"
    shutil.copytree(demo_run, run, ignore=shutil.ignore_patterns("report"))
    w = pd.read_parquet(run / "weight" / "weights.parquet")
    sex = pd.read_parquet(run / "clean" / "data.parquet", columns=["person_key", "sex"])
    w = w.merge(sex, on="person_key")
    rng = np.random.default_rng(3)
    after = w["weight"].to_numpy() * rng.uniform(0.8, 1.2, len(w))
    rows = []
    for g in ("BEL", "TUR"):
        for s in (1, 2):
            m = (w["stratum"] == g).to_numpy() & (w["sex"] == s).to_numpy()
            rows.append({"stratum": g, "margin": f"sex={s}", "population": float(np.round(after[m].sum())),
                         "before": float(w["weight"].to_numpy()[m].sum()), "after": float(after[m].sum())})
    margins = pd.DataFrame(rows)
    margins["rel_diff_before"] = (margins["before"] - margins["population"]) / margins["population"]
    margins["rel_diff_after"] = (margins["after"] - margins["population"]) / margins["population"]
    margins.to_csv(run / "weight" / "diagnostics_margins.csv", index=False)
    folder, _ = run_report(run, ROOT)
    page = (folder / "weighting.html").read_text(encoding="utf-8")
    table = _table_with(page, "marge", "populatie", "vóór", "na")
    shown = {r[0]: r[1:4] for r in table[1:]}
    bel = [r for r in rows if r["stratum"] == "BEL"]
    for r, label in zip(bel, ("Geslacht (Rijksregister): Man", "Geslacht (Rijksregister): Vrouw"), strict=True):
        assert [int(x) for x in shown[label]] == [round(r["population"]), round(r["before"]), round(r["after"])]


def test_reports_title_themes_with_the_spec_labels(demo_run, tmp_path):
    """The indicators report's theme headings and the indices report's "Thema:" are the
    questionnaire spec's theme labels: the shipped ones on the page, and relabelled ones
    when the spec relabels a theme (no list of themes in the code)."""
    from dataclasses import replace

    from sid.report.context import open_run
    from sid.report.indicators import gather_indicators
    from sid.report.indices import gather_indices
    from sid.spec.questionnaire_parse import load_questionnaire

    ctx = open_run(demo_run, ROOT)
    labels = ctx.questionnaire.themes
    plan_themes = list(dict.fromkeys(pd.read_csv(demo_run / "tables" / "tables.csv")["theme"]))
    page = _html(demo_run, "indicators")
    headings = re.findall(r"<h2>([^<]+)</h2>", page)
    assert [h for h in headings if h in labels.values()] == [labels[t] for t in plan_themes]
    assert not set(labels) & set(headings)  # no theme shown by its code
    shown = re.findall(r"Thema: ([^.]+)\.", _html(demo_run, "indices"))
    assert shown == [labels[ix.theme] for ix in ctx.questionnaire.indices]
    text = (ROOT / "questionnaires" / "sid2022.yaml").read_text(encoding="utf-8")
    (tmp_path / "questionnaires").mkdir()
    spec = tmp_path / "questionnaires" / "sid2022.yaml"
    spec.write_text(text.replace('religiosity: "Religiositeit"', 'religiosity: "Geloof en praktijk"'), encoding="utf-8")
    ctx2 = replace(ctx, questionnaire=load_questionnaire(spec))
    titles = {th["theme"]: th["title"] for th in gather_indicators(ctx2)["themes"]}
    assert titles["religiosity"] == "Geloof en praktijk" and titles["language"] == "Taalgebruik"
    by_name = {ix["name"]: ix["theme_label"] for ix in gather_indices(ctx2)["indices"]}
    assert by_name["idx_religiosity"] == "Geloof en praktijk"


def test_a_reporting_group_the_clean_wave_lacks_is_one_line_naming_the_role(demo_run, tmp_path, capsys):
    from tests.projects import copy_project

    run = tmp_path / "out"
    shutil.copytree(demo_run, run, ignore=shutil.ignore_patterns("report"))
    proj = copy_project(tmp_path / "proj")
    text = (proj / "sid.yaml").read_text(encoding="utf-8")
    (proj / "sid.yaml").write_text(text.replace("group: origin", "group: herkomst"), encoding="utf-8")
    capsys.readouterr()
    assert main(["report", "--out", str(run), "--project", str(proj)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no column 'herkomst', the reporting group (roles.group" in err[0], err
    assert not (run / "report").exists()


def test_the_fieldwork_report_reads_the_case_columns_the_stage_recorded(demo_run, tmp_path):
    """cases.parquet's code and group columns are whatever the project calls them: the
    stage's manifest entry names them, and the report counts the same rows under them."""
    from sid.report.context import open_run
    from sid.report.fieldwork import gather_fieldwork

    run = tmp_path / "out"
    shutil.copytree(demo_run, run, ignore=shutil.ignore_patterns("report"))
    want = gather_fieldwork(open_run(run, ROOT))["dispositions"]
    cases = pd.read_parquet(run / "fieldwork" / "cases.parquet")
    cases.rename(columns={"disposition": "eindcode", "stratum": "strat"}).to_parquet(
        run / "fieldwork" / "cases.parquet")
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["stages"]["fieldwork"]["params"]["columns"].update(agency_code="eindcode", group="strat")
    (run / "manifest.json").write_text(json.dumps(manifest))
    got = gather_fieldwork(open_run(run, ROOT))["dispositions"]
    assert got == want and sum(r["total"] for r in got) == len(cases)
    del manifest["stages"]["fieldwork"]["params"]["columns"]
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunFolderError, match="re-run `sid fieldwork`"):
        gather_fieldwork(open_run(run, ROOT))
