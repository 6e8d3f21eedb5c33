"""The trend page (OUT/trend/trend.html) of a real trend of the two demo waves (the run
folders of tests/test_trend_stage.py): every headline concept has a chart and a table of
differences, the table's figures are trend.csv's, Afghan origin has its "niet in 2017"
row, a break concept its marker, a pooled category its groups per wave, a suppressed cell
reads "onderdrukt", and the page holds no English words, snake_case or float codes. A
headless-Chromium screenshot where /usr/bin/chromium exists: not blank, charts drawn."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from sid.report.trend_chart import WAVE_COLORS
from sid.report.trend_page import trend_page
from sid.spec.harmonisation import load_harmonisation

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def page(trend):  # the session fixture of tests/trend_runs.py
    h = load_harmonisation(trend["out"].parent / "questionnaires" / "harmonisation.yaml")
    text = (trend["out"] / "trend" / "trend.html").read_text(encoding="utf-8")
    return {"html": text, "h": h, "t": trend["published"], "out": trend["out"]}


def _section(text: str, cid: str) -> str:
    start = text.index(f'<h2 id="{cid}">')
    end = text.find("<h2 ", start + 1)
    return text[start:end if end > 0 else len(text)]


def _headline_ids(page) -> dict[str, str]:
    """concept name -> its section id, matched by the concept's label in the h2."""
    ids = dict(re.findall(r'<h2 id="(c\d+)">(.*?)</h2>', page["html"]))
    by_label = {html.unescape(v): k for k, v in ids.items()}
    return {c.name: by_label[c.label] for c in page["h"].concepts.values() if c.headline}


def _cells(row: str) -> list[str]:
    """A table row's cells: the text before any CI span, tags stripped."""
    out = []
    for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S):
        out.append(html.unescape(re.sub(r"<[^>]+>", "", re.split(r'<span class="ci">', cell)[0])).strip())
    return out


def _rows(table: str) -> list[str]:
    return [r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S) if "<td" in r]


def _fmt(x, unit: str) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    v = 100.0 * float(x) if unit == "share_0_1" else float(x)
    return f"{v:.2f}".replace("-0.00", "0.00")


def test_the_page_is_written_with_the_trend_and_listed_in_its_manifest(page):
    import json

    entry = json.loads((page["out"] / "manifest.json").read_text(encoding="utf-8"))["stages"]["trend"]
    assert "trend/trend.html" in {o["path"] for o in entry["outputs"]}
    assert page["html"].startswith("<!DOCTYPE html>") and "http" not in page["html"].replace(
        "http-equiv", "")  # self-contained: no URL


def test_every_headline_concept_has_a_chart_and_a_table(page):
    h = page["h"]
    heads = [c.name for c in h.concepts.values() if c.headline]
    assert heads == ["idx_language", "idx_discrimination", "idx_inclusion", "idx_religiosity", "idx_citizenship",
                     "dutch_home"]
    ids = _headline_ids(page)
    for name in heads:
        sec = _section(page["html"], ids[name])
        assert sec.count("<svg") == 1, name
        assert f'id="{ids[name]}-table"' in sec, name
        domains = {d for d in page["t"].loc[page["t"].concept == name, "by_label"]}
        svg = sec[sec.index("<svg"):sec.index("</svg>")]
        for label in domains - {"Totaal"}:
            assert html.escape(label, quote=False) in svg, (name, label)  # a row per domain category


def test_the_table_figures_are_trend_csv_figures(page):
    t, ids = page["t"], _headline_ids(page)
    for name, cid in ids.items():
        sec = _section(page["html"], cid)
        table = sec[sec.index(f'id="{cid}-table"'):sec.index("</table>", sec.index(f'id="{cid}-table"'))]
        rows = _rows(table)
        sub = t[t.concept == name]
        assert len(rows) == len(sub), name
        for row, (_, r) in zip(rows, sub.iterrows(), strict=True):
            cells = _cells(row)
            unit = r.unit
            for j, col in ((2, "estimate_1"), (3, "estimate_2")):
                if not np.isnan(r[col]):
                    assert cells[j] == _fmt(r[col], unit), (name, r.by_value, col)
                    ci = f"[{_fmt(r[f'ci_low_{col[-1]}'], unit)}; {_fmt(r[f'ci_high_{col[-1]}'], unit)}]"
                    assert ci in row, (name, r.by_value, col)
            if not np.isnan(r.difference):
                assert cells[4:7] == [_fmt(r.difference, unit), _fmt(r.se_difference, unit),
                                      f"[{_fmt(r.ci_low, unit)}; {_fmt(r.ci_high, unit)}]"], (name, r.by_value)
                p = float(r.p_value)
                assert cells[7] == ("<0.001" if p < 0.001 else f"{p:.3f}"), (name, r.by_value)


def test_afghan_origin_has_its_niet_in_2017_row_in_every_headline_table(page):
    for name, cid in _headline_ids(page).items():
        sec = _section(page["html"], cid)
        afg = [_cells(r) for r in _rows(sec) if ">Afghaans<" in r]
        assert len(afg) == 1, name
        assert afg[0][2] == "niet in 2017" and afg[0][4] == "–" and "niet in 2017" in afg[0][-1], (name, afg)
        assert "niet in 2017" in sec[sec.index("<svg"):sec.index("</svg>")]  # in the chart too


def test_a_break_concept_has_the_marker_and_its_note_a_concept_without_none(page):
    ids = _headline_ids(page)
    inclusion = _section(page["html"], ids["idx_inclusion"])
    note = page["h"].concepts["idx_inclusion"].break_note
    assert "⚠ Breuk in de reeks" in inclusion and html.escape(note) in inclusion
    assert "andere vraag" in inclusion[inclusion.index("<svg"):]  # the chart's legend: hollow earlier wave
    assert all("breuk" in _cells(r)[-1] for r in _rows(inclusion))
    language = _section(page["html"], ids["idx_language"])
    assert "Breuk" not in language and "andere vraag" not in language


def test_non_eu_origin_says_which_groups_it_holds_in_each_wave(page):
    sec = _section(page["html"], _headline_ids(page)["idx_language"])
    row = [_cells(r) for r in _rows(sec) if ">Niet-EU-herkomst<" in r][0]
    status = row[-1]
    assert status.startswith("samenstelling veranderd: 2017: ")
    in17, in22 = status.split("2017: ")[1].split("; 2022: ")
    assert "Afghaans" in in22 and "Afghaans" not in in17 and "AFG" not in status


def test_a_suppressed_cell_reads_onderdrukt(page):
    t = page["t"].copy()
    i = t.index[(t.concept == "idx_language") & (t.by_label == "Turks")][0]
    for c in ("estimate_1", "se_1", "ci_low_1", "ci_high_1", "cv_1", "difference", "se_difference", "ci_low",
              "ci_high", "z", "p_value"):
        t.loc[i, c] = np.nan
    t.loc[i, ["status_1", "status"]] = "low_n"
    t.loc[i, ["suppressed_1", "suppressed"]] = True
    text = trend_page(t, page["h"], {"run_id": "x", "generated": "2026-01-01T00:00:00Z", "sid_version": "0",
                                     "stages": []})
    sec = _section(text, _headline_ids({"html": text, "h": page["h"]})["idx_language"])
    row = [_cells(r) for r in _rows(sec) if ">Turks<" in r][0]
    assert row[2] == "onderdrukt" and row[4] == "onderdrukt" and row[-1] == "te weinig respondenten in 2017"


ENGLISH = r"\b(the|and|not|in 2017 only|break|suppressed|low|high|share|shares|mean|overall|estimate|difference|" \
          r"status|none|nan|true|false|wave|group|replicate|subbootstrap)\b"


def _visible(text: str) -> str:
    body = text[text.index('<p class="subtitle">'):text.index('<section class="provenance">')]
    body = body[body.index("</p>") + 4:]
    body = re.sub(r"<(style|defs|code)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_the_page_is_dutch_with_labels_not_codes(page):
    text = _visible(page["html"])
    assert "Verschil" in text and "Alle respondenten" in text
    assert not re.findall(ENGLISH, text, flags=re.I), sorted(set(re.findall(ENGLISH, text, flags=re.I)))
    assert not re.findall(r"\b[a-z]+_[a-z0-9_]+\b", text), sorted(set(re.findall(r"\b[a-z]+_[a-z0-9_]+\b", text)))
    assert not re.findall(r"(?<![\d.])\d+\.0(?![\d])", text), "a float code on the page"
    for code in ("AFG", "COD", "MAR", "TUR", "sid2017", "sid2022"):
        assert not re.search(rf"\b{code}\b", text), code


def _chromium_png(path_html: Path, png: Path, size: str) -> None:
    subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={size}", f"--screenshot={png}", path_html.as_uri()],
                   check=True, capture_output=True, timeout=180)


@pytest.mark.skipif(not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None,
                    reason="no /usr/bin/chromium: the screenshot check needs a headless Chromium")
def test_headless_chromium_screenshot_is_not_blank_and_the_charts_are_drawn(page, tmp_path):
    from PIL import Image

    full = tmp_path / "page.png"
    _chromium_png(page["out"] / "trend" / "trend.html", full, "1280,2400")
    im = np.asarray(Image.open(full).convert("RGB")).astype(int)
    assert (np.abs(im - 255).sum(axis=2) > 30).mean() > 0.05  # text, tables, a chart: not blank
    # each chart alone in a fixed cell, so its region is known
    figs = re.findall(r'<figure class="chart trend-chart".*?</figure>', page["html"], flags=re.S)
    assert len(figs) == 6
    cells = "".join(f'<div style="position:absolute;left:0;top:{700 * i}px;width:700px;height:700px">{f}</div>'
                    for i, f in enumerate(figs))
    grid = tmp_path / "charts.html"
    grid.write_text(f'<!DOCTYPE html><html><body style="margin:0;background:#fff">{cells}</body></html>',
                    encoding="utf-8")
    png = tmp_path / "charts.png"
    _chromium_png(grid, png, f"700,{700 * len(figs)}")
    im = np.asarray(Image.open(png).convert("RGB")).astype(int)
    colors = [np.array([int(c[k:k + 2], 16) for k in (1, 3, 5)]) for c in WAVE_COLORS[:2]]
    for i in range(len(figs)):
        region = im[700 * i:700 * (i + 1)]
        assert (np.abs(region - 255).sum(axis=2) > 30).mean() > 0.01, f"chart {i} is blank"
        for c in colors:  # both waves' markers are drawn
            assert (np.abs(region - c).max(axis=2) <= 8).sum() > 20, f"chart {i} lacks wave colour {c}"


def test_headline_is_a_validated_flag_of_a_concept():
    from sid.errors import SpecError
    from sid.spec.harmonisation import parse_harmonisation
    from tests.test_trend_spec import GOOD, WAVES

    text = GOOD.replace("    label: Score\n", "    label: Score\n    headline: true\n")
    h = parse_harmonisation(text, where="h.yaml", waves=WAVES)
    assert h.concepts["score"].headline and not h.concepts["agree"].headline
    with pytest.raises(SpecError) as e:
        parse_harmonisation(GOOD.replace("    label: Score\n", "    label: Score\n    headline: ja\n"),
                            where="h.yaml", waves=WAVES)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("h.yaml") and "headline" in msg and "true or false" in msg
    with pytest.raises(SpecError) as e:
        parse_harmonisation(GOOD.replace("    label: Score\n", "    label: Score\n    headlin: true\n"),
                            where="h.yaml", waves=WAVES)
    assert "did you mean 'headline'" in str(e.value)
