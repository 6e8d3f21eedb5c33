"""The tables workbook (openpyxl): one sheet per theme (titled with the questionnaire
spec's theme labels), labels not codes, a notes sheet.

Each theme sheet lists its tables one after another: a bold title row, a header row,
then one row per cell (domain, category, estimate, SE, CI, CV, n, weighted n, design
effect, p-value, flags), with number formats (shares as percentages), column widths and
frozen header panes. The "Toelichting" sheet explains the method (weights, variance
method, CI methods, disclosure rule) and the flags. Written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from sid.io.atomic import atomic_path
from sid.tables.disclosure import FLAGS

STATISTIC_LABELS = {
    "mean": "gemiddelde", "proportion": "aandeel", "median": "mediaan", "total": "totaal",
    "difference": "verschil met referentie", "chisq": "Rao-Scott F-toets",
}
VARIANCE_LABELS = {
    "taylor": "Taylor-linearisering (gestratificeerd ontwerp, finale gewichten)",
}
# (header, column of the tidy frame, number format, width)
LAYOUT: Sequence[tuple[str, str, str | None, int]] = (
    ("Variabele", "variable_label", None, 38),
    ("Statistiek", "statistic_label", None, 20),
    ("Indeling", "by_var_label", None, 24),
    ("Groep", "by_label", None, 30),
    ("Categorie", "category_label", None, 30),
    ("Referentie", "reference_label", None, 18),
    ("Schatting", "estimate", "fmt", 12),
    ("SE", "se", "fmt", 10),
    ("BI onder", "ci_low", "fmt", 10),
    ("BI boven", "ci_high", "fmt", 10),
    ("CV", "cv", "0.000", 8),
    ("n", "n", "#,##0", 8),
    ("Gewogen n", "weighted_n", "#,##0", 12),
    ("Design-effect", "deff", "0.00", 12),
    ("p-waarde", "p_value", "0.0000", 10),
    ("Vrijheidsgraden", "df", "0.0", 10),
    ("Teller-vg (F)", "ndf", "0.00", 10),
    ("Vlaggen", "flags", None, 16),
)
_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDE5F0")
_FLAG_FILL = PatternFill("solid", fgColor="FCE4D6")


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


def _value(v):
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _write_theme(ws, frame: pd.DataFrame) -> None:
    widths = [w for *_, w in LAYOUT]
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    row = 1
    ws.cell(row=row, column=1, value=ws.title).font = Font(bold=True, size=14)
    row += 2
    first_header = None
    for _, t in frame.groupby("table_id", sort=False):
        ws.cell(row=row, column=1, value=t["title"].iloc[0]).font = Font(bold=True, size=12)
        row += 1
        for j, (head, *_rest) in enumerate(LAYOUT, start=1):
            c = ws.cell(row=row, column=j, value=head)
            c.font, c.fill = _BOLD, _HEAD_FILL
            c.alignment = Alignment(horizontal="center", wrap_text=True)
        first_header = first_header or row
        row += 1
        proportionish = t["statistic"].isin(["proportion"]).to_numpy() | (
            (t["statistic"] == "difference").to_numpy() & t["category"].notna().to_numpy())
        for i, rec in enumerate(t.itertuples(index=False)):  # writing cells: one call per cell
            d = rec._asdict()
            for j, (_head, col, fmt, _w) in enumerate(LAYOUT, start=1):
                c = ws.cell(row=row, column=j, value=_value(d.get(col)))
                if fmt == "fmt":
                    c.number_format = "0.0%" if proportionish[i] else ("0.00" if d["statistic"] == "chisq" else "0.0")
                elif fmt:
                    c.number_format = fmt
                if col == "flags" and d.get("flags"):
                    c.fill = _FLAG_FILL
            row += 1
        row += 1
    if first_header is not None:
        ws.freeze_panes = ws.cell(row=first_header + 1, column=3)


def _write_notes(ws, notes: Sequence[tuple[str, str]]) -> None:
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 110
    ws.cell(row=1, column=1, value="Toelichting").font = Font(bold=True, size=14)
    for i, (k, v) in enumerate(notes, start=3):
        ws.cell(row=i, column=1, value=k).font = _BOLD
        c = ws.cell(row=i, column=2, value=v)
        c.alignment = Alignment(wrap_text=True, vertical="top")


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
        *[(f"Vlag {k}", v) for k, v in FLAGS.items()],
        ("Missende waarden", "weet niet, geen antwoord en niet van toepassing tellen niet mee (beschikbare "
                             "antwoorden per variabele)"),
    ]


def write_workbook(path: str | os.PathLike[str], tables: pd.DataFrame,
                   notes: Sequence[tuple[str, str]], theme_titles: Mapping[str, str] | None = None) -> None:
    """Write the tidy ``tables`` (published form) as a workbook at ``path``, atomically.

    ``theme_titles``: theme code -> sheet title (the questionnaire spec's ``themes:``); a
    theme without one is titled with its code."""
    titles = dict(theme_titles or {})
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    df = tables.assign(statistic_label=tables["statistic"].map(STATISTIC_LABELS).fillna(tables["statistic"]))
    for theme, frame in df.groupby("theme", sort=False):
        ws = wb.create_sheet(_sheet_name(titles.get(theme, theme), used))
        _write_theme(ws, frame)
    _write_notes(wb.create_sheet("Toelichting"), notes)
    with atomic_path(path) as tmp:
        wb.save(tmp)
