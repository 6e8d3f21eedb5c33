"""Pulling indicators out of the base: time series, survey and register side by side.

:func:`pull` returns, for a theme or a list of codes, the series of every period the base
holds (each wave keeps its own period: sid2017 -> 2017, sid2022 -> 2022, a register set
its years), rounded to each indicator's precision (``decimals``: 1 for a share in
percent, 2 for a mean or index; the CV to 3) with a ``status`` per cell instead of sid's
flags, in the base's language (Dutch: "onderdrukt n<30", "niet van toepassing", "cv>0.3").
Two layouts:

* long (default): one row per indicator x geography x breakdown cell x period, and per
  origin category the columns ``<ORIGIN> value``, ``ci_low``, ``ci_high``, ``n`` and
  ``status``. Rows are ordered theme, breakdown, period, then register before survey, so
  for each period the register and survey indicators of a theme sit one above the other
  over the same origin columns;
* wide (``wide=True``): one row per indicator x geography x breakdown cell x origin
  category, and per period the columns ``<period> value``, ``ci_low``, ``ci_high``,
  ``n`` and ``status``; for each origin the register rows sit above the survey rows, so
  their series read side by side across the same period columns.

When the selection holds both register and survey indicators, only the origin categories
both report are shown (the same categories side by side); ``common_periods`` keeps only
the periods both report. ``notes`` carries the coverage notes of the survey cells (which
SID groups a VLIM category pools; a breakdown cell cut by the indicator's universe).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sid.errors import LinkageError
from sid.io.atomic import atomic_path
from sid.linkage.base import open_base
from sid.linkage.db import BaseTarget, Db
from sid.linkage.schema import DIMENSIONS, ORIGIN, TOTAL, indicator_select

CELL = ["theme", "geography", *DIMENSIONS]
SERIES = ["source_type", "indicator_code", "name", "unit", "decimals"]
ROW_KEYS = [*CELL, "period", *SERIES]
PER_CELL = ["value", "ci_low", "ci_high", "n", "status"]
PER_ORIGIN = PER_CELL  # the long layout's columns per origin category
_ROUNDED = ("value", "se", "ci_low", "ci_high")
CV_DECIMALS = 3
_ORDER = {TOTAL: "0"}  # 'total' breakdown rows first


def _select(db: Db, theme: str | None, codes: Sequence[str] | None) -> pd.DataFrame:
    defs = db.df(f"SELECT {indicator_select(db)} FROM indicators ORDER BY theme, source_type, code")
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


def status_text(flags: pd.Series) -> pd.Series:
    """The ``status`` a reader sees for sid's flags, in the base's language (the catalogue's
    ``indicator_base.status_*``): "" (normal), "onderdrukt n<30" (``suppressed_n<30``),
    "niet van toepassing" (``not_applicable``: outside the indicator's universe), "cv>0.3"
    (published with a warning)."""
    from sid.linkage.rows import NOT_APPLICABLE
    from sid.linkage.spec import base_catalogue

    cat = base_catalogue()
    text = flags.fillna("").astype(str)
    text = text.str.replace(r"^suppressed_n<(\d+)$", lambda m: cat("indicator_base.status_suppressed", n=m[1]),
                            regex=True)
    return text.where(text != NOT_APPLICABLE, cat("indicator_base.status_not_applicable"))


def round_values(vals: pd.DataFrame) -> pd.DataFrame:
    """Copy of the long value rows rounded to each row's ``decimals`` (value, se, CI; the
    CV to :data:`CV_DECIMALS`), with ``status`` from the flags and ``n`` as integers."""
    out = vals.copy()
    dec = pd.to_numeric(out.get("decimals"), errors="coerce") if "decimals" in out.columns else None
    default = np.where(out["unit"].to_numpy(dtype=object) == "percent", 1, 2)
    dec = default if dec is None else np.where(dec.isna(), default, dec).astype(int)
    out["decimals"] = pd.array(dec, dtype="Int64")
    for col in _ROUNDED:
        if col in out.columns:
            x = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float, copy=True)
            for d in np.unique(dec):
                m = dec == d
                x[m] = np.round(x[m], int(d))
            out[col] = x
    if "cv" in out.columns:
        out["cv"] = np.round(pd.to_numeric(out["cv"], errors="coerce").to_numpy(dtype=float), CV_DECIMALS)
    out["n"] = pd.array(pd.to_numeric(out["n"], errors="coerce").round(), dtype="Int64")
    out["status"] = status_text(out["flags"])
    return out


def pull(
    db: BaseTarget | Db,
    *,
    theme: str | None = None,
    codes: Sequence[str] | None = None,
    common_periods: bool = False,
    wide: bool = False,
) -> pd.DataFrame:
    """Survey and register series of ``theme`` (or ``codes``) side by side, rounded (see
    the module docstring). ``common_periods``: only periods both sources report;
    ``wide``: periods as columns (one row per origin category)."""
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
    vals = round_values(vals)
    return _by_period(vals) if wide else _by_origin(vals)


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


def _notes(vals: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return (vals.dropna(subset=["note"]).groupby(keys, dropna=False)["note"]
            .agg(lambda s: "; ".join(dict.fromkeys(s))).rename("notes").reset_index())


def _sort_keys(frame: pd.DataFrame) -> list[str]:
    for dim in DIMENSIONS:
        frame[f"_{dim}"] = frame[dim].map(lambda v: _ORDER.get(v, "1" + str(v)))
    frame["_src"] = frame["source_type"].map({"register": 0, "survey": 1})
    return [f"_{dim}" for dim in DIMENSIONS]


def _origins(vals: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(sorted(vals[ORIGIN], key=lambda o: (o != "BEL", o))))


def _by_origin(vals: pd.DataFrame) -> pd.DataFrame:
    """Long layout: a row per period, origin categories as column groups."""
    origins = _origins(vals)
    wide = vals.pivot(index=ROW_KEYS, columns=ORIGIN, values=PER_CELL)
    wide.columns = [f"{o} {stat}" for stat, o in wide.columns]
    wide = wide[[f"{o} {stat}" for o in origins for stat in PER_CELL]].reset_index()
    wide = wide.merge(_notes(vals, ROW_KEYS), on=ROW_KEYS, how="left")
    order = _sort_keys(wide)
    wide = wide.sort_values(["theme", "geography", *order, "period", "_src", "indicator_code"], kind="stable")
    return _typed(wide.drop(columns=[*order, "_src"]).reset_index(drop=True))


def _by_period(vals: pd.DataFrame) -> pd.DataFrame:
    """Wide layout: a row per origin category, periods as column groups."""
    keys = [*CELL, ORIGIN, *SERIES]
    periods = sorted(vals["period"].unique())
    wide = vals.pivot(index=keys, columns="period", values=PER_CELL)
    wide.columns = [f"{int(p)} {stat}" for stat, p in wide.columns]
    wide = wide[[f"{int(p)} {stat}" for p in periods for stat in PER_CELL]].reset_index()
    wide = wide.merge(_notes(vals, keys), on=keys, how="left")
    order = _sort_keys(wide)
    wide["_origin"] = wide[ORIGIN].map({o: i for i, o in enumerate(_origins(vals))})
    wide = wide.sort_values(["theme", "geography", *order, "_origin", "_src", "indicator_code"], kind="stable")
    return _typed(wide.drop(columns=[*order, "_src", "_origin"]).reset_index(drop=True))


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    """Counts as integers, statuses as text ("" where a cell has no row), after the pivot."""
    for col in table.columns:
        if col.endswith(" n"):
            table[col] = pd.array(pd.to_numeric(table[col]), dtype="Int64")
        elif col.endswith(" status"):
            table[col] = table[col].fillna("").astype(str)
        elif col.endswith((" value", " ci_low", " ci_high")):
            table[col] = pd.to_numeric(table[col]).astype(float)
    return table


def definitions(db: BaseTarget | Db, codes: Sequence[str]) -> pd.DataFrame:
    """The ``indicators`` rows of ``codes`` (for the definitions sheet)."""
    con = open_base(db, read_only=True)
    try:
        defs = con.df(f"SELECT {indicator_select(con)} FROM indicators ORDER BY theme, source_type, code")
    finally:
        if con is not db:
            con.close()
    return defs[defs["code"].isin(list(codes))].reset_index(drop=True)


def write_pull(table: pd.DataFrame, path: str | os.PathLike[str], defs: pd.DataFrame | None = None) -> Path:
    """Write the pulled table to ``path`` (.csv, or .xlsx with a definitions sheet), atomically.
    In the workbook, values and CIs carry each row's number format (its ``decimals``)."""
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
                _formats(xw.book["indicators"], table)
                for ws in xw.book.worksheets:
                    ws.freeze_panes = "A2"  # header stays in view
                    for col in ws.iter_cols(min_row=1, max_row=1):
                        ws.column_dimensions[col[0].column_letter].width = min(max(len(str(col[0].value)) + 2, 10), 40)
    return path


def _formats(ws, table: pd.DataFrame) -> None:
    """Number formats of the indicators sheet: values and CIs to the row's decimals, n whole."""
    dec = table["decimals"].fillna(2).astype(int).to_numpy()
    for j, col in enumerate(table.columns, start=1):
        if col.endswith((" value", " ci_low", " ci_high")):
            for i, d in enumerate(dec, start=2):
                ws.cell(row=i, column=j).number_format = "0." + "0" * d if d > 0 else "0"
        elif col.endswith(" n"):
            for i in range(2, len(table) + 2):
                ws.cell(row=i, column=j).number_format = "0"
