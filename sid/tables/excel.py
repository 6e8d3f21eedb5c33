"""The tables workbook (openpyxl): one sheet per theme (titled with the questionnaire
spec's theme labels), labels not codes, a notes sheet, in the wave's language.

Each theme sheet lists its tables one after another as crosstabs like the HTML report
(sid.tables.crosstab: domains as rows; estimate, CI and n per category as columns). SEs,
CVs and design effects are in tables.csv. The notes sheet ("Toelichting", "Notes")
explains the method (weights, variance method, CI methods, disclosure rule, precision)
and the statuses. Every text is the message catalogue's (sid.messages: ``workbook.*``,
and ``indicators.notes.*`` shared with the indicators report); labels of questions,
categories and themes are the questionnaire spec's. Every sheet prints landscape, fitted
to the page width. Written atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from sid.io.atomic import atomic_path
from sid.messages import Catalogue, catalogue
from sid.tables.crosstab import setup_page, write_theme
from sid.tables.precision import DECIMALS, INDEX, SHARE

_BOLD = Font(bold=True)
NOTE_WIDTHS = (28, 110)


def _sheet_name(title: str, used: set[str], reserved: str) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique, not ``reserved``."""
    base = title
    for bad in "[]:*?/\\":
        base = base.replace(bad, "_")
    base = base[:31]
    name, k = base, 2
    while name in used or name == reserved:
        name = f"{base[:28]} {k}"
        k += 1
    used.add(name)
    return name


def _write_notes(ws, title: str, notes: Sequence[tuple[str, str]]) -> None:
    """The notes sheet: one wrapped row per topic, each row as tall as its text (so no
    note runs over the next when printed or opened)."""
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = NOTE_WIDTHS
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    for i, (k, v) in enumerate(notes, start=3):
        a = ws.cell(row=i, column=1, value=k)
        a.font, a.alignment = _BOLD, Alignment(wrap_text=True, vertical="top")
        c = ws.cell(row=i, column=2, value=v)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        lines = max(math.ceil(len(str(v)) / (NOTE_WIDTHS[1] * 0.95)), math.ceil(len(str(k)) / NOTE_WIDTHS[0]), 1)
        ws.row_dimensions[i].height = 15 * lines + 2
    setup_page(ws)


def method_notes(defaults, variance_method: str, wave: str, cat: Catalogue | None = None, *,
                 calibrated: bool = False, clusters: bool = False,
                 replicates: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """The (topic, text) pairs of the notes sheet in the catalogue ``cat``'s language
    (default Dutch). ``calibrated``: Taylor SEs account for a calibration; ``clusters``:
    the design has PSUs; ``replicates``: the weight stage's record of its replicate
    weights (diagnostics.json ``replicates``; None: not recorded)."""
    cat = cat or catalogue()
    n = "indicators.notes."
    if variance_method == "taylor":
        var = cat(n + "variance_taylor", clusters=cat(n + "variance_clusters") if clusters else "")
    else:
        rep = dict(replicates or {})
        code = str(rep.get("method") or variance_method)
        var = cat("workbook.variance_replicates", code=code,
                  method=cat.get(f"weighting.rep_methods.{code.lower()}", code))
        if rep.get("replicates"):
            var += cat("workbook.variance_replicates_n", n=rep["replicates"], seed=rep.get("seed", "–"))
        if rep.get("r_svrepdesign"):
            var += cat("workbook.variance_replicates_r", r=rep["r_svrepdesign"])
    prop = cat(n + "ci_logit") if defaults.proportion_ci == "logit" else cat(n + "ci_beta")
    weights = cat("workbook.weights_text") + (cat("workbook.weights_calibrated") if calibrated else "")
    return [
        (cat(n + "wave"), wave),
        (cat(n + "weights"), weights),
        (cat(n + "variance"), var),
        (cat(n + "ci"), cat(n + "ci_text", level=f"{defaults.level:.0%}", prop=prop)),
        (cat(n + "deff"), cat(n + "deff_text")),
        (cat(n + "differences"), cat(n + "differences_text")),
        (cat(n + "rao_scott"), cat(n + "rao_scott_text")),
        (cat(n + "disclosure"), cat(n + "disclosure_text", min_n=defaults.min_n)),
        (cat(n + "reliability"), cat(n + "reliability_text", max_cv=f"{defaults.max_cv:g}")),
        (cat("workbook.status", code="low_n"), cat("workbook.status_low_n", min_n=defaults.min_n)),
        (cat("workbook.status", code="high_cv"), cat("workbook.status_high_cv", max_cv=f"{defaults.max_cv:g}")),
        (cat("workbook.precision"), cat("workbook.precision_text", share=DECIMALS[SHARE], index=DECIMALS[INDEX])),
        (cat(n + "missing"), cat(n + "missing_text")),
        (cat("workbook.labels"), cat("workbook.labels_text")),
    ]


def write_workbook(path: str | os.PathLike[str], tables: pd.DataFrame,
                   notes: Sequence[tuple[str, str]], theme_titles: Mapping[str, str] | None = None,
                   min_n: int | None = None, cat: Catalogue | None = None) -> None:
    """Write the tidy ``tables`` (published form) as a workbook of crosstabs at ``path``,
    atomically. ``theme_titles``: theme code -> sheet title (the questionnaire spec's
    ``themes:``; a theme without one is titled with its code); ``min_n`` names the
    disclosure rule in suppressed cells; ``cat``: the catalogue of the workbook's
    language (default Dutch)."""
    cat = cat or catalogue()
    titles = dict(theme_titles or {})
    notes_title = cat("workbook.notes_sheet")
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for theme, frame in tables.groupby("theme", sort=False):
        ws = wb.create_sheet(_sheet_name(titles.get(theme, theme), used, notes_title))
        write_theme(ws, frame, min_n, cat)
    _write_notes(wb.create_sheet(notes_title), notes_title, notes)
    with atomic_path(path) as tmp:
        wb.save(tmp)
