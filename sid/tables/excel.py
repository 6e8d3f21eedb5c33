"""The tables workbook (openpyxl): one sheet per theme (titled with the questionnaire
spec's theme labels), labels not codes, a notes sheet.

Each theme sheet lists its tables one after another as crosstabs like the HTML report
(sid.tables.crosstab: domains as rows; estimate, CI and n per category as columns). SEs,
CVs and design effects are in tables.csv. The "Toelichting" sheet explains the method
(weights, variance method, CI methods, disclosure rule, precision) and the statuses.
Every sheet prints landscape, fitted to the page width. Written atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from sid.io.atomic import atomic_path
from sid.tables.crosstab import setup_page, write_theme
from sid.tables.disclosure import FLAGS
from sid.tables.precision import DECIMALS

_BOLD = Font(bold=True)

STATISTIC_LABELS = {
    "mean": "gemiddelde", "proportion": "aandeel", "median": "mediaan", "total": "totaal",
    "difference": "verschil met referentie", "rao_scott_f": "Rao-Scott F-toets",
}
VARIANCE_LABELS = {
    "taylor": "Taylor-linearisering (gestratificeerd ontwerp, finale gewichten)",
}
NOTE_WIDTHS = (28, 110)


def _sheet_name(title: str, used: set[str]) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique."""
    base = title
    for bad in "[]:*?/\\":
        base = base.replace(bad, "_")
    base = base[:31]
    name, k = base, 2
    while name in used or name == "Toelichting":
        name = f"{base[:28]} {k}"
        k += 1
    used.add(name)
    return name


def _write_notes(ws, notes: Sequence[tuple[str, str]]) -> None:
    """The notes sheet: one wrapped row per topic, each row as tall as its text (so no
    note runs over the next when printed or opened)."""
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = NOTE_WIDTHS
    ws.cell(row=1, column=1, value="Toelichting").font = Font(bold=True, size=14)
    for i, (k, v) in enumerate(notes, start=3):
        a = ws.cell(row=i, column=1, value=k)
        a.font, a.alignment = _BOLD, Alignment(wrap_text=True, vertical="top")
        c = ws.cell(row=i, column=2, value=v)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        lines = max(math.ceil(len(str(v)) / (NOTE_WIDTHS[1] * 0.95)), math.ceil(len(str(k)) / NOTE_WIDTHS[0]), 1)
        ws.row_dimensions[i].height = 15 * lines + 2
    setup_page(ws)


def method_notes(defaults, variance_method: str, wave: str, weights: str,
                 replicates: str | None = None) -> list[tuple[str, str]]:
    """The (topic, text) pairs of the notes sheet; ``replicates``: how the weight stage
    describes its replicate weights (diagnostics.json; None: not recorded)."""
    var = VARIANCE_LABELS.get(variance_method)
    if var is None:
        var = f"replicatiegewichten ({variance_method}) van de wegingsstap"
        if replicates:
            var += f": {replicates}"
    ci = ("logit-interval (R survey svyciprop method='logit')" if defaults.proportion_ci == "logit"
          else "Korn-Graubard-interval (R survey svyciprop method='beta')")
    return [
        ("Golf", wave),
        ("Gewichten", weights),
        ("Variantieschatting", var),
        ("Betrouwbaarheidsintervallen", f"{defaults.level:.0%}; gemiddelden en verschillen: t-interval op de "
                                        f"vrijheidsgraden van het ontwerp; aandelen: {ci}; mediaan: Woodruff-interval"),
        ("Design-effect", "variantie onder het ontwerp gedeeld door die onder eenvoudige aselecte steekproef "
                          "van hetzelfde aantal respondenten (R survey deff=TRUE)"),
        ("Verschillen", "verschil van elke groep met de referentiegroep, met design-gebaseerde t-toets"),
        ("Rao-Scott", "Pearson chi-kwadraat met tweede-orde Rao-Scott-correctie, als F-toets (R svychisq)"),
        ("Onthullingsregel", f"cellen met minder dan {defaults.min_n} respondenten (ongewogen) worden niet "
                             "gepubliceerd: schatting, SE, BI, CV en p-waarde zijn leeg"),
        ("Betrouwbaarheid", f"een variatiecoëfficiënt (SE/schatting) boven {defaults.max_cv:g} wordt gemarkeerd "
                            "als onbetrouwbaar"),
        *[(f"Status {k}", v) for k, v in FLAGS.items()],
        ("Precisie", f"tables.csv: aandelen als fractie 0-1 (kolom unit: share_0_1) op {DECIMALS['share_0_1']} "
                     f"decimalen, indexpunten (0-100) en andere eenheden op {DECIMALS['index_points_0_100']}, "
                     "F-waarden op 3; p-waarden op 3 significante cijfers; hier: aandelen in procent, "
                     "p-waarden onder 0,001 als <0.001"),
        ("Missende waarden", "weet niet, geen antwoord en niet van toepassing tellen niet mee (beschikbare "
                             "antwoorden per variabele)"),
    ]


def write_workbook(path: str | os.PathLike[str], tables: pd.DataFrame,
                   notes: Sequence[tuple[str, str]], theme_titles: Mapping[str, str] | None = None,
                   min_n: int | None = None) -> None:
    """Write the tidy ``tables`` (published form) as a workbook of crosstabs at ``path``,
    atomically. ``theme_titles``: theme code -> sheet title (the questionnaire spec's
    ``themes:``; a theme without one is titled with its code); ``min_n`` names the
    disclosure rule in suppressed cells."""
    titles = dict(theme_titles or {})
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for theme, frame in tables.groupby("theme", sort=False):
        ws = wb.create_sheet(_sheet_name(titles.get(theme, theme), used))
        write_theme(ws, frame, min_n)
    _write_notes(wb.create_sheet("Toelichting"), notes)
    with atomic_path(path) as tmp:
        wb.save(tmp)
