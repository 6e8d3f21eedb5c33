"""A theme sheet of the tables workbook as crosstabs, like the HTML report (openpyxl).

Each (table, variable, statistic) is one block: a title row, a header row of the
variable's categories (one for a mean), a header row of the columns under each
(estimate, CI low, CI high, n; for a difference: difference, CI low, CI high, p), then
one row per domain (Totaal, then each breakdown of the table, its label in column A and
the group in column B). A Rao-Scott test is one row under its variable's blocks. Shares
show as percentages, p-values below 0.001 as "<0.001" (a number format: the cell keeps
its value), suppressed cells as "n<min_n", cells with a high CV shaded. The sheet prints
landscape, fitted to the page width, with columns A:B repeated; the title row and the
domain columns are frozen. Every text is the message catalogue's (``workbook.*``, in
the workbook's language); labels of variables, categories and groups are tables.csv's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from sid.messages import Catalogue, catalogue

SHARE_FMT, P_FMT, F_FMT = "0.0%", '[<0.001]"<0.001";0.000', "0.000"
INDEX_FMT, N_FMT = "0.0", "#,##0"
BOLD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="DDE5F0")
FLAG_FILL = PatternFill("solid", fgColor="FCE4D6")
MUTED = Font(color="808080", italic=True)
VALUE_HEADS = ("estimate", "ci_low", "ci_high", "n")  # keys of workbook.* in the catalogue
DIFF_HEADS = ("difference", "ci_low", "ci_high", "p")
TEST_HEADS = ("test_f", "test_ndf", "test_ddf", "p")
FIRST = 3  # the first value column (A: breakdown, B: group)


def _num(v):
    if v is None or v is pd.NA or (isinstance(v, float | np.floating) and np.isnan(v)):
        return None
    return int(v) if isinstance(v, np.integer) else float(v) if isinstance(v, np.floating) else v


def _head(ws, row: int, col: int, value: str) -> None:
    c = ws.cell(row=row, column=col, value=value)
    c.font, c.fill = BOLD, HEAD_FILL
    c.alignment = Alignment(horizontal="center", wrap_text=True)


def _domains(part: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(by_var, by_var_label, by_value) of the block's rows in plan order, with their labels."""
    seen = dict.fromkeys(zip(part["by_var"], part["by_var_label"], part["by_value"], part["by_label"], strict=True))
    return list(seen)


def _stat(cat: Catalogue, stat: str) -> str:
    return cat.get(f"workbook.statistics.{stat}", stat) or stat


def _block(ws, row: int, part: pd.DataFrame, min_n: int | None, cat: Catalogue) -> int:
    """Write one block; return the next free row."""
    base = part.iloc[0]
    stat = base["statistic"]
    diff = stat == "difference"
    share = base["unit"] == "share_0_1" if "unit" in part.columns else stat == "proportion"
    fmt = SHARE_FMT if share else INDEX_FMT
    title = f"{base['variable_label']}: {_stat(cat, stat)}"
    if diff and isinstance(base.get("reference_label"), str) and base["reference_label"]:
        title = cat("workbook.reference", title=title, reference=base["reference_label"])
    ws.cell(row=row, column=1, value=title).font = BOLD
    row += 1
    cats = list(dict.fromkeys(part["category"].where(part["category"].notna(), "")))
    labels = {c: lab for c, lab in zip(part["category"].where(part["category"].notna(), ""),
                                       part["category_label"].where(part["category_label"].notna(), ""),
                                       strict=True)}
    heads = DIFF_HEADS if diff else VALUE_HEADS
    _head(ws, row, 1, cat("workbook.breakdown"))
    _head(ws, row, 2, cat("workbook.group"))
    for k, code in enumerate(cats):
        col = FIRST + k * len(heads)
        _head(ws, row, col, labels.get(code) or code or _stat(cat, stat))
        ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + len(heads) - 1)
        for j, h in enumerate(heads):
            _head(ws, row + 1, col + j, cat(f"workbook.{h}"))
    _head(ws, row + 1, 1, "")
    _head(ws, row + 1, 2, "")
    row += 2
    cell_of = {(r["by_var"], r["by_value"], "" if pd.isna(r["category"]) else r["category"]): r
               for r in part.to_dict("records")}
    for by_var, by_var_label, by_value, by_label in _domains(part):
        ws.cell(row=row, column=1, value=by_var_label)
        ws.cell(row=row, column=2, value=by_label)
        for k, code in enumerate(cats):
            rec = cell_of.get((by_var, by_value, code))
            if rec is None:
                continue
            col = FIRST + k * len(heads)
            if rec["suppressed"]:
                c = ws.cell(row=row, column=col, value=cat("workbook.suppressed_n", min_n=min_n) if min_n
                           else cat("workbook.suppressed"))
                c.font = MUTED
                ws.cell(row=row, column=col + 3, value=None if diff else _num(rec["n"])).number_format = N_FMT
                continue
            values = (rec["estimate"], rec["ci_low"], rec["ci_high"], rec["p_value"] if diff else rec["n"])
            for j, v in enumerate(values):
                c = ws.cell(row=row, column=col + j, value=_num(v))
                c.number_format = (P_FMT if diff else N_FMT) if j == 3 else fmt
            if "high_cv" in str(rec.get("status", "")):
                ws.cell(row=row, column=col).fill = FLAG_FILL
        row += 1
    return row + 1


def _test_row(ws, row: int, rec: dict, cat: Catalogue) -> int:
    ws.cell(row=row, column=1, value=cat("workbook.test_title", test=_stat(cat, rec["statistic"]),
                                         variable=rec["variable_label"], by=rec["by_var_label"])).font = BOLD
    row += 1
    for j, h in enumerate(TEST_HEADS):
        _head(ws, row, FIRST + j, cat(f"workbook.{h}"))
    row += 1
    if rec["suppressed"]:
        ws.cell(row=row, column=FIRST, value=cat("workbook.suppressed")).font = MUTED
    else:
        for j, (v, f) in enumerate(((rec["estimate"], F_FMT), (rec["ndf"], "0.00"), (rec["df"], "0.0"),
                                    (rec["p_value"], P_FMT))):
            ws.cell(row=row, column=FIRST + j, value=_num(v)).number_format = f
    return row + 2


def write_theme(ws, frame: pd.DataFrame, min_n: int | None = None, cat: Catalogue | None = None) -> None:
    """Write the theme's rows of the published tidy table ``frame`` as crosstabs on ``ws``,
    with the texts of catalogue ``cat`` (default Dutch)."""
    cat = cat or catalogue()
    ws.cell(row=1, column=1, value=ws.title).font = Font(bold=True, size=14)
    ws.cell(row=1, column=3, value=cat("workbook.legend")).font = MUTED
    row = 3
    widest = 0
    for _, t in frame.groupby("table_id", sort=False):
        ws.cell(row=row, column=1, value=t["title"].iloc[0]).font = Font(bold=True, size=12)
        row += 2
        tests = t[t["statistic"] == "rao_scott_f"]
        for var, vpart in t[t["statistic"] != "rao_scott_f"].groupby("variable", sort=False):
            for _, part in vpart.groupby("statistic", sort=False):
                row = _block(ws, row, part, min_n, cat)
                widest = max(widest, part["category"].nunique(dropna=False))
            for rec in tests[tests["variable"] == var].to_dict("records"):
                row = _test_row(ws, row, rec, cat)
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 26
    for j in range(FIRST, FIRST + 4 * max(widest, 1)):
        ws.column_dimensions[get_column_letter(j)].width = 10
    ws.freeze_panes = ws.cell(row=2, column=FIRST)
    setup_page(ws)
    ws.print_title_cols = "A:B"


def setup_page(ws) -> None:
    """Landscape A4, fitted to one page wide (as many pages tall as needed)."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
