"""Data of the indicators report: per theme, the tables by origin group with CIs, and a chart
per headline indicator.

Reads ``DIR/tables/tables.csv`` (the published tidy table of sid.tables: suppressed cells
are blank there, flags kept) and keeps the rows for the whole population ("overall") and
by origin group; the other breakdowns of the plan are in tables.xlsx and tables.csv.
Headline indicators: each index of the questionnaire spec (its mean) and each derived
0/1 indicator (its share of 1, e.g. VLIM's "speaks mostly Dutch at home").
Method notes are sid.tables.excel.method_notes of the plan the tables stage used, so the
report and the workbook cite the same method.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sid.errors import RunFolderError
from sid.report.charts import ci_chart
from sid.report.context import RunContext, read_output
from sid.tables.labels import code_key

TABLES_FILE = ("tables", "tables.csv")
OVERALL = "overall"
STATISTIC_LABELS = {"mean": "gemiddelde", "median": "mediaan", "proportion": "aandeel"}
_TEXT = {c: str for c in ("table_id", "theme", "variable", "statistic", "by_var", "by_value", "category",
                          "category_label", "reference", "reference_label", "flags")}


def _code(text: str) -> str:
    try:
        return code_key(float(text)) if text else ""
    except ValueError:
        return text


def _digits(statistic: str, values: pd.Series) -> int:
    if statistic == "proportion":
        return 1  # percent
    top = float(np.nanmax(np.abs(values.to_numpy(dtype=float)))) if values.notna().any() else 0.0
    return 1 if top >= 10 else 2


def _cell(rec: dict[str, Any] | None, statistic: str, digits: int) -> dict[str, Any]:
    """One table cell: the estimate and its CI as shown, flags, and the keys of its row."""
    if rec is None:
        return {"shown": False, "est": "", "ci": "", "n": "", "flags": "", "suppressed": False, "key": ""}
    scale = 100.0 if statistic == "proportion" else 1.0

    def f(x: Any) -> str:
        return "" if pd.isna(x) else f"{scale * float(x):.{digits}f}"

    return {
        "shown": True,
        "est": f(rec["estimate"]),
        "ci": f"{f(rec['ci_low'])} – {f(rec['ci_high'])}" if not pd.isna(rec["ci_low"]) else "",
        "n": int(rec["n"]),
        "flags": rec["flags"],
        "suppressed": bool(rec["suppressed"]),
        "key": "|".join(str(rec[c]) for c in ("table_id", "variable", "statistic", "by_var", "by_value", "category",
                                              "reference")),
    }


def _headline(ctx: RunContext) -> dict[str, str]:
    """Headline variable -> the category whose share is the indicator ("" for an index mean)."""
    out = {ix.name: "" for ix in ctx.questionnaire.indices}
    for d in ctx.questionnaire.derived:
        cats = ctx.labels.categories.get(d.name, {})
        if set(cats) == {"0", "1"}:
            out[d.name] = "1"
    return out


def _plan_notes(ctx: RunContext, variance_method: str) -> list[dict[str, str]]:
    from sid.tables.excel import method_notes
    from sid.tables.plan import load_plan

    # the plan the tables stage used (its first spec), else the wave's
    recorded = ctx.stage_specs("tables")
    path = Path(recorded[0]) if recorded else ctx.project_wave.tables
    if path is None or not path.is_file():
        return []
    plan = load_plan(path)
    notes = method_notes(plan.defaults, variance_method, plan.wave,
                         "finale gewichten van de wegingsstap (weight/weights.parquet)")
    return [{"topic": t, "text": x} for t, x in notes]


def gather_indicators(ctx: RunContext) -> dict[str, Any]:
    """The indicators report's tables and charts from ``DIR/tables/tables.csv``."""
    from sid.tables.excel import THEME_TITLES

    path = ctx.out_dir.joinpath(*TABLES_FILE)
    if not path.is_file():
        raise RunFolderError(f"{path} not found; run `sid tables` on this run folder first")
    t = read_output(path, "tables", dtype=_TEXT, blank_missing=[
        "estimate", "se", "ci_low", "ci_high", "cv", "n", "p_value", "df", "ndf"])
    t["suppressed"] = t["suppressed"].astype(str).str.lower() == "true"
    t["category"] = t["category"].map(_code)  # the CSV writes a numeric code as 1.0
    group = ctx.group
    t = t[t["by_var"].isin([OVERALL, group])]
    cells = t[(t["by_var"] == group) & (t["statistic"] != "chisq")]  # a test's row is by_value "all"
    groups = ctx.group_order(cells["by_value"].unique())
    columns = [{"code": "all", "label": "Totaal"}] + [{"code": g, "label": ctx.group_label(g)} for g in groups]
    headline = _headline(ctx)
    themes: dict[str, list[dict[str, Any]]] = {}
    charts = []
    for table_id, tab in t.groupby("table_id", sort=False):
        blocks = []
        for (var, stat), part in tab.groupby(["variable", "statistic"], sort=False):
            if stat == "chisq":
                continue
            digits = _digits(stat, part["estimate"])
            diff = stat == "difference"
            base = part.iloc[0]
            cats = list(dict.fromkeys(part["category"]))
            rows = []
            for cat in cats:
                sel = part[part["category"] == cat]
                by = {(r["by_value"] if r["by_var"] == group else "all"): r for r in sel.to_dict("records")}
                kind = "proportion" if (diff and cat) else stat
                d = 1 if kind == "proportion" else _digits(kind, sel["estimate"])
                label = sel["category_label"].iloc[0] or ""
                if diff:
                    label = (f"{label}: " if label else "") + f"verschil met {sel['reference_label'].iloc[0]}"
                rows.append({"label": label, "cells": [_cell(by.get(c["code"]), kind, d) for c in columns],
                             "p": [by[c["code"]]["p_value"] if c["code"] in by else np.nan for c in columns]})
            unit = "procentpunten" if (diff and cats != [""]) else ("%" if stat == "proportion" else "")
            blocks.append({"variable": var, "label": base["variable_label"], "statistic": stat,
                           "statistic_label": "verschil" if diff else STATISTIC_LABELS.get(stat, stat),
                           "unit": unit, "difference": diff, "rows": rows, "digits": digits})
        tests = tab[(tab["statistic"] == "chisq") & (tab["by_var"] == group)]
        themes.setdefault(tab["theme"].iloc[0], []).append({
            "id": table_id, "title": tab["title"].iloc[0], "blocks": blocks,
            "tests": [{"label": r["variable_label"], "f": r["estimate"], "ndf": r["ndf"], "df": r["df"],
                       "p": r["p_value"], "suppressed": r["suppressed"]} for r in tests.to_dict("records")],
        })
    done = set()
    for var, cat in headline.items():
        stat = "mean" if cat == "" else "proportion"
        sel = t[(t["variable"] == var) & (t["statistic"] == stat) & (t["category"] == cat)]
        if sel.empty or var in done:
            continue
        sel = sel[sel["table_id"] == sel["table_id"].iloc[0]]
        done.add(var)
        scale = 100.0 if stat == "proportion" else 1.0
        by = {(r["by_value"] if r["by_var"] == group else "all"): r for r in sel.to_dict("records")}
        present = [c for c in columns if c["code"] in by]
        lab = [c["label"] for c in present]
        vals = {k: [scale * float(by[c["code"]][k]) for c in present] for k in ("estimate", "ci_low", "ci_high")}
        label = str(sel["variable_label"].iloc[0])
        charts.append({"variable": var, "label": label, "svg": ci_chart(
            lab, vals["estimate"], vals["ci_low"], vals["ci_high"],
            xlabel=label if stat == "mean" else f"% {label}", prefix=f"ci-{var}", reference="Totaal")})
    methods = sorted(t["variance_method"].dropna().unique())
    notes = _plan_notes(ctx, methods[0]) if len(methods) == 1 else []
    return {
        "columns": columns,
        "themes": [{"theme": k, "title": THEME_TITLES.get(k, k), "tables": v} for k, v in themes.items()],
        "charts": charts,
        "notes": notes,
        "variance_methods": methods,
        "inputs": [path],
    }
