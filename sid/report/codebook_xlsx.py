"""The codebook as an Excel data dictionary (``report/codebook_<wave>.xlsx``, openpyxl).

Sheet "Codeboek": one row per variable and category (sid.report.codebook.codebook_frame),
Dutch headers, the header row frozen and filterable, counts as whole numbers, weighted
counts with one decimal, shares as percentages, means with two decimals. Sheet
"Toelichting": what the rows and columns mean. Written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from sid.io.atomic import atomic_path

PathLike = str | os.PathLike[str]
# column of codebook_frame -> (Dutch header, number format, width)
HEADERS = {
    "variable": ("Variabele", None, 22), "label": ("Label", None, 48), "source": ("Bron", None, 12),
    "type": ("Type", None, 10), "measure": ("Meetniveau", None, 11), "row": ("Rij", None, 18),
    "code": ("Code", None, 10), "value_label": ("Waardelabel", None, 34),
    "n": ("Aantal", "#,##0", 10), "pct": ("% van alle", "0.0%", 10), "pct_valid": ("% van geldige", "0.0%", 12),
    "n_w": ("Aantal gewogen", "#,##0.0", 15), "pct_w": ("% gewogen", "0.0%", 10),
    "pct_valid_w": ("% geldige gewogen", "0.0%", 16), "mean": ("Gemiddelde", "0.00", 12),
    "mean_w": ("Gemiddelde gewogen", "0.00", 18), "min": ("Minimum", "0.##", 10), "max": ("Maximum", "0.##", 10),
}
NOTES = [
    "Codeboek van het analysebestand: elke variabele, afgeleide variabele en index van de vragenlijstspecificatie.",
    "Eén rij per categorie (code en label), per niet-gedeclareerde code, per ontbrekende code en voor de",
    "systeemontbrekende (lege) waarden; een variabele zonder categorieën heeft een rij 'geldig' met gemiddelde,",
    "minimum en maximum.",
    "Aantallen tellen de rijen van het bestand (de gewogen respondenten); gewogen met het eindgewicht.",
    "'% van alle': aandeel van alle rijen; '% van geldige': aandeel van de geldige antwoorden (categorieën).",
]


def write_codebook_xlsx(book: pd.DataFrame, path: PathLike, title: str) -> None:
    """Write the codebook ``book`` (codebook_frame) to ``path``."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Codeboek"
    cols = [c for c in HEADERS if c in book.columns]
    ws.append([HEADERS[c][0] for c in cols])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF3F7")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    values = book[cols].astype(object).where(book[cols].notna(), None).to_numpy()
    for row in values:
        ws.append([v.item() if isinstance(v, np.generic) else v for v in row])
    for j, c in enumerate(cols, 1):
        _, fmt, width = HEADERS[c]
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = width
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = fmt
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{ws.max_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    notes = wb.create_sheet("Toelichting")
    notes.append([title])
    notes["A1"].font = Font(bold=True)
    for line in NOTES:
        notes.append([line])
    notes.column_dimensions["A"].width = 110
    with atomic_path(Path(path)) as tmp:
        wb.save(tmp)
