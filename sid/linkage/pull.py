"""Pulling indicators out of the base: survey and register side by side, as VLIM lays them out.

:func:`pull` returns, for a theme or a list of codes, one row per indicator x geography x
breakdown cell x period, and per origin category the columns ``<ORIGIN> value``,
``ci_low``, ``ci_high``, ``n`` and ``flags``. Rows are ordered theme, breakdown, period,
then register before survey, so for each period the register and survey indicators of a
theme sit one above the other over the same origin columns. When the selection holds both
register and survey indicators, only the origin categories both report are shown (the
same categories side by side). ``notes`` carries the coverage notes of the survey
categories (which SID groups a VLIM category pools).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sid.errors import LinkageError
from sid.io.atomic import atomic_path
from sid.linkage.base import open_base
from sid.linkage.db import BaseTarget, Db
from sid.linkage.schema import DIMENSIONS, ORIGIN, TOTAL

ROW_KEYS = ["theme", "geography", *DIMENSIONS, "period", "source_type", "indicator_code", "name", "unit"]
PER_ORIGIN = ["value", "ci_low", "ci_high", "n", "flags"]
_ORDER = {TOTAL: "0"}  # 'total' breakdown rows first


def _select(db: Db, theme: str | None, codes: Sequence[str] | None) -> pd.DataFrame:
    defs = db.df("SELECT * FROM indicators ORDER BY theme, source_type, code")
    if (theme is None) == (not codes):
        raise LinkageError("pull: give a theme or a list of indicator codes (one of the two)")
    if theme is not None:
        sel = defs[defs["theme"] == theme]
        if sel.empty:
            themes = ", ".join(sorted(defs["theme"].unique())) or "none (the base is empty)"
            raise LinkageError(f"pull: theme {theme!r} has no indicator in the base; themes: {themes}")
        return sel
    unknown = [c for c in codes if c not in set(defs["code"])]
    if unknown:
        raise LinkageError(f"pull: indicator {unknown[0]!r} is not in the base; see the indicators table for codes")
    return defs[defs["code"].isin(list(codes))]


def pull(
    db: BaseTarget | Db,
    *,
    theme: str | None = None,
    codes: Sequence[str] | None = None,
    common_periods: bool = False,
) -> pd.DataFrame:
    """Survey and register indicators of ``theme`` (or ``codes``) side by side (wide by
    origin category). ``common_periods``: keep only periods both sources report."""
    vals = pull_values(db, theme=theme, codes=codes)
    if vals.empty:
        raise LinkageError("pull: the selected indicators have no values in the base")
    sources = set(vals["source_type"])
    if len(sources) == 2:
        both = set.intersection(*(set(g[ORIGIN]) for _, g in vals.groupby("source_type")))
        vals = vals[vals[ORIGIN].isin(both)]
        if common_periods:
            periods = set.intersection(*(set(g["period"]) for _, g in vals.groupby("source_type")))
            vals = vals[vals["period"].isin(periods)]
    if vals.empty:
        raise LinkageError("pull: register and survey indicators share no origin category (or period)")
    return _wide(vals)


def pull_values(db: BaseTarget | Db, *, theme: str | None = None,
                codes: Sequence[str] | None = None) -> pd.DataFrame:
    """The long value rows (with name, theme, unit) of ``theme`` or ``codes``, read in one
    snapshot of the base, so a wave being loaded meanwhile is seen whole or not at all."""
    con = open_base(db, read_only=True)
    try:
        with con.snapshot():
            defs = _select(con, theme, codes)
            sel = list(defs["code"])
            return con.df(
                "SELECT v.*, i.name, i.theme, i.unit FROM indicator_values v "
                "JOIN indicators i ON i.code = v.indicator_code "
                f"WHERE v.indicator_code IN ({con.placeholders(len(sel))}) "
                "ORDER BY v.indicator_code, v.period, v.geography, v.origin, v.generation, v.sex, v.age_band",
                sel)
    finally:
        if con is not db:
            con.close()


def _wide(vals: pd.DataFrame) -> pd.DataFrame:
    origins = list(dict.fromkeys(sorted(vals[ORIGIN], key=lambda o: (o != "BEL", o))))
    wide = vals.pivot(index=ROW_KEYS, columns=ORIGIN, values=PER_ORIGIN)
    wide.columns = [f"{o} {stat}" for stat, o in wide.columns]
    wide = wide[[f"{o} {stat}" for o in origins for stat in PER_ORIGIN]].reset_index()
    notes = (vals.dropna(subset=["note"]).groupby(ROW_KEYS, dropna=False)["note"]
             .agg(lambda s: "; ".join(dict.fromkeys(s))).rename("notes").reset_index())
    wide = wide.merge(notes, on=ROW_KEYS, how="left")
    order = [f"_{dim}" for dim in DIMENSIONS]
    for dim in DIMENSIONS:
        wide[f"_{dim}"] = wide[dim].map(lambda v: _ORDER.get(v, "1" + str(v)))
    wide["_src"] = wide["source_type"].map({"register": 0, "survey": 1})
    wide = wide.sort_values(["theme", "geography", *order, "period", "_src", "indicator_code"], kind="stable")
    return wide.drop(columns=[*order, "_src"]).reset_index(drop=True)


def definitions(db: BaseTarget | Db, codes: Sequence[str]) -> pd.DataFrame:
    """The ``indicators`` rows of ``codes`` (for the definitions sheet)."""
    con = open_base(db, read_only=True)
    try:
        defs = con.df("SELECT * FROM indicators ORDER BY theme, source_type, code")
    finally:
        if con is not db:
            con.close()
    return defs[defs["code"].isin(list(codes))].reset_index(drop=True)


def write_pull(table: pd.DataFrame, path: str | os.PathLike[str], defs: pd.DataFrame | None = None) -> Path:
    """Write the pulled table to ``path`` (.csv, or .xlsx with a definitions sheet), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise LinkageError(f"{path}: pull writes .csv or .xlsx; name the output file with one of these")
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            table.to_csv(tmp, index=False, lineterminator="\n")
        else:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                table.to_excel(xw, sheet_name="indicators", index=False)
                if defs is not None:
                    defs.to_excel(xw, sheet_name="definitions", index=False)
                for ws in xw.book.worksheets:
                    ws.freeze_panes = "A2"  # header stays in view
                    for col in ws.iter_cols(min_row=1, max_row=1):
                        ws.column_dimensions[col[0].column_letter].width = min(max(len(str(col[0].value)) + 2, 10), 40)
    return path
