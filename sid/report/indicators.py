"""Data of the indicators report: per theme, the tables by origin group with CIs, and a chart
per headline indicator.

Reads ``DIR/tables/tables.csv`` (the published tidy table of sid.tables: suppressed cells
are blank there, status kept) and keeps the rows for the whole population ("overall") and
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
from sid.report.context import RunContext
from sid.tables.precision import read_csv

TABLES_FILE = ("tables", "tables.csv")
OVERALL = "overall"
TEST = "rao_scott_f"  # sid.tables.build.RAO_SCOTT


def _digits(statistic: str, values: pd.Series) -> int:
    if statistic == "proportion":
        return 1  # percent
    top = float(np.nanmax(np.abs(values.to_numpy(dtype=float)))) if values.notna().any() else 0.0
    return 1 if top >= 10 else 2


def _cell(rec: dict[str, Any] | None, statistic: str, digits: int, ctx: RunContext) -> dict[str, Any]:
    """One table cell: the estimate and its CI as shown, flags, and the keys of its row."""
    if rec is None:
        return {"shown": False, "est": "", "ci": "", "n": "", "flags": "", "suppressed": False, "key": ""}
    status = rec["status"]
    scale = 100.0 if statistic == "proportion" else 1.0

    def f(x: Any) -> str:
        return "" if pd.isna(x) else f"{scale * float(x):.{digits}f}"

    return {
        "shown": True,
        "est": f(rec["estimate"]),
        "ci": f"{f(rec['ci_low'])} – {f(rec['ci_high'])}" if not pd.isna(rec["ci_low"]) else "",
        "n": int(rec["n"]),
        "flags": "" if status == "ok" else "; ".join(
            ctx.cat.get(f"indicators.status.{x.strip()}", x.strip()) or x for x in str(status).split(";")),
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
    """The method notes of the plan the tables stage used (the same rules as the workbook's
    notes sheet, sid.tables.excel.method_notes), in the catalogue's words."""
    from sid.tables.plan import load_plan

    # the plan the tables stage used (its first spec), else the wave's
    recorded = ctx.stage_specs("tables")
    path = Path(recorded[0]) if recorded else ctx.project_wave.tables
    if path is None or not path.is_file():
        return []
    d = load_plan(path).defaults
    cat = ctx.cat
    if variance_method == "taylor":
        var = cat("indicators.notes.variance_taylor",
                  clusters=cat("indicators.notes.variance_clusters") if ctx.project_wave.roles.psu else "")
    else:
        var = cat("indicators.notes.variance_replicates",
                  method=cat.get(f"weighting.rep_methods.{variance_method.lower()}", variance_method))
    prop = cat("indicators.notes.ci_logit") if d.proportion_ci == "logit" else cat("indicators.notes.ci_beta")
    notes = [("wave", ctx.wave), ("weights", cat("indicators.notes.weights_text")), ("variance", var),
             ("ci", cat("indicators.notes.ci_text", level=f"{d.level:.0%}", prop=prop)),
             ("deff", cat("indicators.notes.deff_text")), ("differences", cat("indicators.notes.differences_text")),
             ("rao_scott", cat("indicators.notes.rao_scott_text")),
             ("disclosure", cat("indicators.notes.disclosure_text", min_n=d.min_n)),
             ("reliability", cat("indicators.notes.reliability_text", max_cv=f"{d.max_cv:g}")),
             ("missing", cat("indicators.notes.missing_text"))]
    return [{"topic": cat(f"indicators.notes.{k}"), "text": x} for k, x in notes]


def gather_indicators(ctx: RunContext) -> dict[str, Any]:
    """The indicators report's tables and charts from ``DIR/tables/tables.csv``."""
    path = ctx.out_dir.joinpath(*TABLES_FILE)
    if not path.is_file():
        raise RunFolderError(f"{path} not found; run `sid tables` on this run folder first")
    t = read_csv(path)
    for c in ("category", "reference", "category_label", "reference_label"):
        t[c] = t[c].fillna("")
    group = ctx.group
    t = t[t["by_var"].isin([OVERALL, group])]
    cells = t[(t["by_var"] == group) & (t["statistic"] != TEST)]  # a test's row is by_value "all"
    groups = ctx.group_order(cells["by_value"].unique())
    cat = ctx.cat
    pomp = {ix.name for ix in ctx.questionnaire.indices if ix.scale == "pomp"}
    columns = [{"code": "all", "label": cat("common.total")}] + [{"code": g, "label": ctx.group_label(g)} for g in groups]
    headline = _headline(ctx)
    themes: dict[str, list[dict[str, Any]]] = {}
    charts = []
    for table_id, tab in t.groupby("table_id", sort=False):
        blocks = []
        for (var, stat), part in tab.groupby(["variable", "statistic"], sort=False):
            if stat == TEST:
                continue
            digits = _digits(stat, part["estimate"])
            diff = stat == "difference"
            base = part.iloc[0]
            cats = list(dict.fromkeys(part["category"]))
            rows = []
            for code in cats:
                sel = part[part["category"] == code]
                by = {(r["by_value"] if r["by_var"] == group else "all"): r for r in sel.to_dict("records")}
                kind = "proportion" if (diff and code) else stat
                d = 1 if kind == "proportion" else _digits(kind, sel["estimate"])
                label = sel["category_label"].iloc[0] or ""
                if diff:
                    ref = sel["reference_label"].iloc[0]
                    label = (cat("indicators.difference_label", label=label, group=ref) if label
                             else cat("indicators.difference_with", group=ref))
                rows.append({"label": label, "cells": [_cell(by.get(c["code"]), kind, d, ctx) for c in columns],
                             "p": [by[c["code"]]["p_value"] if c["code"] in by else np.nan for c in columns]})
            unit = (cat("indicators.unit_points") if (diff and cats != [""])
                    else (cat("indicators.unit_pct") if stat == "proportion" else ""))
            blocks.append({"variable": var, "label": base["variable_label"], "statistic": stat,
                           "statistic_label": cat.get(f"indicators.statistics.{stat}", stat),
                           "unit": unit, "difference": diff, "rows": rows, "digits": digits})
        tests = tab[(tab["statistic"] == TEST) & (tab["by_var"] == group)]
        themes.setdefault(tab["theme"].iloc[0], []).append({
            "id": table_id, "title": tab["title"].iloc[0], "blocks": blocks,
            "tests": [{"label": r["variable_label"], "f": r["estimate"], "ndf": r["ndf"], "df": r["df"],
                       "p": r["p_value"], "suppressed": r["suppressed"]} for r in tests.to_dict("records")],
        })
    done = set()
    for var, code in headline.items():
        stat = "mean" if code == "" else "proportion"
        sel = t[(t["variable"] == var) & (t["statistic"] == stat) & (t["category"] == code)]
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
        full = stat == "proportion" or var in pomp  # on the whole scale, the same axis in every chart
        charts.append({"variable": var, "label": label, "svg": ci_chart(
            lab, vals["estimate"], vals["ci_low"], vals["ci_high"],
            xlabel=label if stat == "mean" else f"% {label}", prefix=f"ci-{var}", reference=cat("common.total"),
            xlim=(0.0, 100.0) if full else None)})
    methods = sorted(t["variance_method"].dropna().unique())
    notes = _plan_notes(ctx, methods[0]) if len(methods) == 1 else []
    return {
        "columns": columns,
        "themes": [{"theme": k, "title": ctx.questionnaire.theme_label(k), "tables": v} for k, v in themes.items()],
        "charts": charts,
        "notes": notes,
        "variance_methods": [cat.get(f"indicators.variance.{m}", m) for m in methods],
        "inputs": [path],
    }
