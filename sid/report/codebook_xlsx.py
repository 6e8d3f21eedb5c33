"""The codebook as an Excel data dictionary (``report/codebook_<wave>.xlsx``, openpyxl).

Sheet "Codeboek" ("Codebook"): one row per variable and category
(sid.report.codebook.codebook_frame), headers in the run's language (the message
catalogue's ``analyst.codebook.*``), the header row frozen and filterable, counts as whole numbers, weighted
counts with one decimal, shares as percentages, means with two decimals. Sheet
"Toelichting" ("Notes"): what the rows and columns mean. Written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from sid.io.atomic import atomic_path
from sid.messages import Catalogue, catalogue

PathLike = str | os.PathLike[str]
# column of codebook_frame -> (number format, width); its header is analyst.codebook.headers.<column>
HEADERS = {
    "variable": (None, 22), "label": (None, 48), "source": (None, 12), "type": (None, 10),
    "measure": (None, 11), "row": (None, 18), "code": (None, 10), "value_label": (None, 34),
    "n": ("#,##0", 10), "pct": ("0.0%", 10), "pct_valid": ("0.0%", 12), "n_w": ("#,##0.0", 15),
    "pct_w": ("0.0%", 10), "pct_valid_w": ("0.0%", 16), "mean": ("0.00", 12), "mean_w": ("0.00", 18),
    "min": ("0.##", 10), "max": ("0.##", 10),
}


def write_codebook_xlsx(book: pd.DataFrame, path: PathLike, title: str, cat: Catalogue | None = None) -> None:
    """Write the codebook ``book`` (codebook_frame) to ``path``; ``cat``: the catalogue of
    its headers and notes (default Dutch)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    cat = cat or catalogue()
    wb = Workbook()
    ws = wb.active
    ws.title = cat("analyst.codebook.sheet")
    cols = [c for c in HEADERS if c in book.columns]
    ws.append([cat(f"analyst.codebook.headers.{c}") for c in cols])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF3F7")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    values = book[cols].astype(object).where(book[cols].notna(), None).to_numpy()
    for row in values:
        ws.append([v.item() if isinstance(v, np.generic) else v for v in row])
    for j, c in enumerate(cols, 1):
        fmt, width = HEADERS[c]
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
    notes = wb.create_sheet(cat("analyst.codebook.notes_sheet"))
    notes.append([title])
    notes["A1"].font = Font(bold=True)
    for line in cat.section("analyst.codebook.notes").values():
        notes.append([line])
        cell = notes.cell(row=notes.max_row, column=1)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        notes.row_dimensions[notes.max_row].height = 15 * (len(line) // 100 + 1) + 2
    notes.column_dimensions["A"].width = 110
    with atomic_path(Path(path)) as tmp:
        wb.save(tmp)
