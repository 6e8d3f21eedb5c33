"""Data of the weighting report: weight distribution per reporting group, deff, n_eff, margins,
trimming, convergence, and the method in words from the weighting spec.

Reads (sid/weighting/stage.py) ``DIR/weight/weights.parquet`` (key + final ``weight``)
with the clean data's reporting group (roles.group) joined on the key (histograms);
``diagnostics_groups.csv`` (per group: distribution, Kish deff_w = n sum(w^2) / (sum w)^2
and n_eff = (sum w)^2 / sum(w^2), Kish 1965 sec. 11.7, trimmed cases, iterations, largest
margin error before and after; computed with sid.weighting.diagnostics.weight_summary
when a weight folder lacks it, and said so); ``diagnostics_margins.csv`` (every margin
cell: population, weighted total before and after calibration); ``diagnostics.json``
(respondents, calibration, replicates; keys the report does not know are shown as
written: tables for lists of records, key-value lists for the rest).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sid.errors import RunFolderError
from sid.messages import Catalogue, catalogue
from sid.report.charts import bar_chart, deviation_panels, weight_histograms
from sid.report.context import RunContext, read_output
from sid.report.render import fmt_int
from sid.spec.yamlfile import load_yaml

WEIGHT_COLUMN = "weight"
_GROUP = "_group"  # the reporting group's column, under a name the weights do not use
GROUPS_FILE, MARGINS_FILE, DIAGNOSTICS_FILE = "diagnostics_groups.csv", "diagnostics_margins.csv", "diagnostics.json"
_COLUMN_FORMATS = {"n": "int", "sum": "int", "n_eff": "num1", "deff_kish": "num3", "max_min_ratio": "num2",
                   "n_nonpositive": "int", "n_trimmed": "int", "iterations": "int", "max_abs_error": "sig",
                   "max_rel_margin_error_before": "pct", "max_rel_margin_error_after": "pct", "trim_rounds": "int",
                   "max_abs_error_after_trimming": "sig"}
_DISTRIBUTION = ("n", "sum", "min", "p01", "p05", "p25", "p50", "p75", "p95", "p99", "max", "max_min_ratio")
_QUALITY = ("deff_kish", "n_eff", "n_nonpositive", "n_trimmed", "max_rel_margin_error_before",
            "max_rel_margin_error_after")
# keys of diagnostics.json the report shows in its own form (facts, margins table) or not at all
# (design columns, the margins' totals repeated in diagnostics_margins.csv, the run's timings)
_SHOWN_KEYS = {"wave", "method", "respondents_from", "n_gross", "n_respondents", "design", "calibration",
               "convergence", "trimmed", "timings_seconds", "replicates", "nonresponse"}


def _blocks(obj: Any, title: str) -> list[dict[str, Any]]:
    """A JSON value as report blocks: {title, kind "table"|"kv"|"text", columns, rows}."""
    if isinstance(obj, list) and obj and all(isinstance(r, dict) for r in obj):
        columns = list(dict.fromkeys(k for r in obj for k in r))
        rows = [[_cell(r.get(c)) for c in columns] for r in obj]
        return [{"title": title, "kind": "table", "columns": columns, "rows": rows}]
    if isinstance(obj, dict):
        scalars = [[k, _cell(v)] for k, v in obj.items()
                   if not isinstance(v, dict | list) or (isinstance(v, list) and not any(isinstance(x, dict) for x in v))]
        out = [{"title": title, "kind": "kv", "columns": [], "rows": scalars}] if scalars else []
        for k, v in obj.items():
            if isinstance(v, dict) or (isinstance(v, list) and any(isinstance(x, dict) for x in v)):
                out += _blocks(v, f"{title} › {k}")
        return out
    return [{"title": title, "kind": "kv", "columns": [], "rows": [["", _cell(obj)]]}]


def _cell(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        cat = catalogue()
        return {True: cat("common.yes"), False: cat("common.no"), None: cat("common.missing")}[v]
    if isinstance(v, int):
        return f"{v:d}"
    if isinstance(v, float):
        return "–" if not np.isfinite(v) else f"{v:.4g}"
    if isinstance(v, list):
        return ", ".join(_cell(x) for x in v)
    return str(v)


def _spec_path(ctx: RunContext) -> Path | None:
    """The weighting spec the weight stage used (its manifest entry), else the wave's."""
    for s in ctx.stage_specs("weight"):
        if Path(s).is_file():
            return Path(s)
    return ctx.project_wave.weighting


def method_in_words(spec: dict[str, Any], cat: Catalogue | None = None,
                    label: Callable[[str], str] | None = None) -> list[str]:
    """The weighting chain of a weighting spec (docs/weighting-spec.md) as sentences of the
    catalogue ``cat`` (default Dutch); ``label`` names a variable as the reader knows it
    (default: its name)."""
    cat = cat or catalogue()
    lab = label or str

    def names(value: Any, sep: str = ", ") -> str:
        return sep.join(lab(n) for n in _names(value))

    def within(value: Any) -> str:
        return names(value) if value else cat("weighting.words.whole_sample")

    out = []
    sample = spec.get("sample") or {}
    if sample.get("strata"):
        strata, psu = names(sample["strata"], " × "), names(sample.get("psu"), " > ")
        first = (cat("weighting.words.design_column", column=lab(sample["design_weight"])) if sample.get("design_weight")
                 else cat("weighting.words.design_strata", strata=strata))
        out.append(cat("weighting.words.stratified", first=first, strata=strata)
                   + (cat("weighting.words.clusters", psu=psu) if psu else cat("weighting.words.no_clusters")))
    elig = spec.get("eligibility") or {}
    if elig.get("unknown"):
        out.append(cat("weighting.words.eligibility"))
    nr = spec.get("nonresponse") or {}
    if nr.get("method") and nr["method"] != "none":
        method = cat.get(f"weighting.words.nr_methods_{nr['method']}", str(nr["method"]))
        out.append(cat("weighting.words.nonresponse", method=method, within=within(nr.get("within")),
                       predictors=names(nr.get("predictors", [])),
                       classes=cat("weighting.words.nonresponse_classes", n=nr["classes"]) if nr.get("classes") else ""))
    cal = spec.get("calibration") or {}
    if cal.get("method"):
        bounds = cal.get("bounds")
        btext = (cat("weighting.words.bounds", low=_num(bounds[0]), high=_num(bounds[1]))
                 if isinstance(bounds, list | tuple) and len(bounds) == 2 else cat("weighting.words.no_bounds"))
        out.append(cat("weighting.words.calibration", method=cat.get(f"weighting.cal_methods.{cal['method']}", cal["method"]),
                       within=within(cal.get("within")),
                       margins=", ".join(_margin_names(m, lab) for m in cal.get("margins", [])), bounds=btext,
                       tolerance=_num(cal.get("tolerance", "–")), max_iter=cal.get("max_iter", "–")))
    trim = spec.get("trimming") or {}
    if trim:
        sides = cat("weighting.words.and").join(
            cat(f"weighting.words.{word}", bound=_trim_bound(trim[side], cat))
            for side, word in (("upper", "above"), ("lower", "below")) if trim.get(side))
        out.append(cat("weighting.words.trimming", within=within(trim.get("within")), sides=sides,
                       rounds=trim.get("max_rounds", "–")))
    rep = spec.get("replicates") or {}
    if rep.get("method"):
        out.append(cat("weighting.words.replicates", n=rep.get("replicates", "–"),
                       method=cat.get(f"weighting.rep_methods.{str(rep['method']).lower()}", rep["method"]),
                       seed=rep.get("seed", "–"), redo=_steps(rep.get("redo", []), cat)))
    return out


def _steps(redo: Any, cat: Catalogue) -> str:
    return ", ".join(cat.get(f"weighting.steps.{r}", str(r)) or str(r) for r in _names(redo)) or cat("weighting.words.no_steps")


def _num(x: Any) -> str:
    """A number of a spec as written for a reader: 5.0 -> "5", 1e-08 -> "1e-08"."""
    return f"{x:g}" if isinstance(x, int | float) and not isinstance(x, bool) else str(x)


def _margin_names(margin: Any, lab: Callable[[str], str]) -> str:
    """"sex:age_band" -> "Geslacht × Leeftijdsgroep"."""
    return " × ".join(lab(v) for v in str(margin).split(":"))


def _names(value: Any) -> list[str]:
    """A spec's name or list of names (``psu: a`` or ``[a, b]``; null: none) as a list."""
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _trim_bound(bound: dict, cat: Catalogue) -> str:
    """{"ratio_to_median": 5.0} -> "5 × de mediaan"; {"absolute": 4000} -> "4000"."""
    if "ratio_to_median" in bound:
        return cat("weighting.words.times_median", x=_num(bound["ratio_to_median"]))
    return _num(bound.get("absolute", "–"))


def _margin_label(ctx: RunContext, text: str) -> str:
    """"sex:age_band=1:2" -> "Geslacht × Leeftijdsgroep: Man, 25-34" (labels of the spec); a
    collapsed cell "1:5+6" names its categories together ("Man, 55-85")."""
    names, _, codes = str(text).partition("=")
    vars_, vals = names.split(":"), codes.split(":")
    if len(vars_) != len(vals):
        return str(text)
    cats = [_collapsed_label(ctx, v, c) for v, c in zip(vars_, vals, strict=True)]
    return f"{' × '.join(ctx.labels.label(v) for v in vars_)}: {', '.join(cats)}"


_RANGE = re.compile(r"^(\d+)\s*[-–]\s*(\d+)$")


def _collapsed_label(ctx: RunContext, variable: str, code: str) -> str:
    """The label of a code, or of a cell of merged codes ("5+6"): adjacent ranges as one
    range ("55-64" + "65-85" -> "55-85"), other labels joined with " + "."""
    labels = ctx.labels.categories.get(variable, {})
    parts = [labels.get(c, c) for c in code.split("+")]
    if len(parts) > 1:
        ranges = [_RANGE.match(p) for p in parts]
        if all(ranges):
            return ctx.cat("weighting.collapsed_range", low=ranges[0].group(1), high=ranges[-1].group(2))  # type: ignore[union-attr]
    return ctx.cat("weighting.collapsed_join").join(parts)


def _group_tables(summary: pd.DataFrame, ctx: RunContext, codes: list[str]) -> list[dict[str, Any]]:
    """diagnostics_groups.csv (or weight_summary) as three tables: distribution, quality, the rest."""
    label_col = summary.columns[0]
    order = {g: i for i, g in enumerate([*codes, "all"])}
    summary = summary.iloc[np.argsort([order.get(str(g), len(order)) for g in summary[label_col]], kind="stable")]
    rest = [c for c in summary.columns if c != label_col and c not in (*_DISTRIBUTION, *_QUALITY)]
    out = []
    cat = ctx.cat
    for title, cols in ((cat("weighting.tables.distribution"), _DISTRIBUTION),
                        (cat("weighting.tables.quality"), _QUALITY),
                        (cat("weighting.tables.convergence"), tuple(rest))):
        cols = [c for c in cols if c in summary.columns]
        if not cols:
            continue
        out.append({"title": title,
                    "columns": [{"name": cat.get(f"weighting.columns.{c}", c), "help": "",
                                 "fmt": _COLUMN_FORMATS.get(c, "auto")} for c in cols],
                    "rows": [{"label": cat("common.total") if str(r[label_col]) == "all" else ctx.group_label(r[label_col]),
                              "total": str(r[label_col]) == "all", "cells": [r[c] for c in cols]}
                             for r in summary.to_dict("records")]})
    return out


def _margins(path: Path, ctx: RunContext) -> list[dict[str, Any]]:
    m = read_output(path, "weight", dtype={0: str})
    within = m.columns[0]
    out = []
    for g in ctx.group_order(m[within].astype(str).unique()):
        part = m[m[within].astype(str) == g]
        out.append({"label": ctx.group_label(g), "rows": [
            {"margin": _margin_label(ctx, r["margin"]), "short": _margin_label(ctx, r["margin"]).split(": ", 1)[-1],
             "population": r["population"], "before": r["before"],
             "after": r["after"], "rel_before": r["rel_diff_before"], "rel_after": r["rel_diff_after"]}
            for r in part.to_dict("records")]})
    return out


def _facts(diag: dict[str, Any], spec: dict[str, Any], ctx: RunContext) -> list[list[str]]:
    """[label, value, css class] rows (class "src": R syntax, shown as code)."""
    cat = ctx.cat
    cal, rep = diag.get("calibration") or {}, diag.get("replicates") or {}
    facts: list[tuple[str, Any]] = [
        ("gross", diag.get("n_gross")), ("respondents", diag.get("n_respondents")),
        ("respondents_from", cat("weighting.facts.respondents_from_text") if diag.get("respondents_from") else None),
        ("trimmed", diag.get("trimmed")),
        ("cal_method", cat.get(f"weighting.cal_methods.{cal['method']}", cal["method"]) if cal.get("method") else None),
        ("cal_bounds", _cell(cal.get("bounds")) if cal.get("bounds") else cat("weighting.facts.no_bounds")),
        ("cal_cells", "; ".join(_margin_names(c, ctx.labels.label) for c in cal.get("cells", [])) or None),
    ]
    if rep:
        spec_rep = spec.get("replicates") or {}
        method = str(spec_rep.get("method") or rep.get("method") or "")
        facts.append(("replicates", cat("weighting.facts.replicates_text", n=rep.get("replicates", "–"),
                                        method=cat.get(f"weighting.rep_methods.{method.lower()}", method),
                                        seed=rep.get("seed", "–"), redo=_steps(spec_rep.get("redo", []), cat))))
        if rep.get("r_svrepdesign"):
            facts.append(("replicates_r", str(rep["r_svrepdesign"])))
    return [[cat(f"weighting.facts.{k}"), fmt_int(v) if isinstance(v, int) and not isinstance(v, bool)
             else (_cell(v) if not isinstance(v, str) else v), "src" if k == "replicates_r" else ""]
            for k, v in facts if v is not None]


def _nonresponse(diag: dict[str, Any], ctx: RunContext) -> list[dict[str, Any]]:
    """diagnostics.json's nonresponse entry as sentences (not a dict)."""
    nr = diag.get("nonresponse")
    if not isinstance(nr, dict):
        return []
    cat, lines = ctx.cat, []
    if nr.get("min_respondents") is not None:
        lines.append(cat("weighting.nonresponse_min", n=nr["min_respondents"]))
    merged = nr.get("merged_classes") or []
    lines.append(cat("weighting.nonresponse_merged", classes="; ".join(_cell(m) for m in merged)) if merged
                 else cat("weighting.nonresponse_none_merged"))
    return [{"title": cat("weighting.nonresponse_title"), "kind": "text", "columns": [], "rows": lines}]


def gather_weighting(ctx: RunContext) -> dict[str, Any]:
    """The weighting report's figures from ``DIR/weight`` (RunFolderError if absent)."""
    from sid.weighting.diagnostics import weight_summary

    folder = ctx.out_dir / "weight"
    wpath, clean = folder / "weights.parquet", ctx.out_dir / "clean" / "data.parquet"
    for p in (wpath, clean):
        if not p.is_file():
            raise RunFolderError(f"{p} not found; run `sid clean` and `sid weight` on this run folder first")
    weights = pd.read_parquet(wpath)
    key = weights.columns[0]
    if WEIGHT_COLUMN not in weights.columns:
        raise RunFolderError(f"{wpath}: no column {WEIGHT_COLUMN!r}; re-run `sid weight`")
    key, group = ctx.group_column(clean, key)
    clean_groups = pd.read_parquet(clean, columns=[key, group]).rename(columns={group: _GROUP})
    w = weights[[key, WEIGHT_COLUMN]].merge(clean_groups, on=key, how="left", validate="one_to_one",
                                            indicator=True)
    lost = (w["_merge"] != "both").to_numpy()
    if lost.any():
        raise RunFolderError(f"{wpath}: {int(lost.sum())} weighted key(s) have no clean record; "
                             "re-run `sid weight` after `sid clean`")
    codes = ctx.group_order(w[_GROUP].astype(str).unique())
    values = w[WEIGHT_COLUMN].to_numpy(dtype=float)
    groups = w[_GROUP].astype(str).to_numpy()
    inputs = [wpath, clean]
    gpath, mpath, dpath = (folder / f for f in (GROUPS_FILE, MARGINS_FILE, DIAGNOSTICS_FILE))
    if gpath.is_file():
        summary = read_output(gpath, "weight", dtype={0: str})
        inputs.append(gpath)
        source = f"weight/{GROUPS_FILE}"
    else:  # stated in the report, not silent: an older or partial weight folder
        summary = weight_summary(values, groups)
        source = ctx.cat("weighting.source_computed")
    margins = []
    if mpath.is_file():
        margins = _margins(mpath, ctx)
        inputs.append(mpath)
    diag: dict[str, Any] = {}
    if dpath.is_file():
        inputs.append(dpath)
        diag = json.loads(dpath.read_text(encoding="utf-8"))
    blocks: list[dict[str, Any]] = []
    blocks += _nonresponse(diag, ctx)
    for k, v in diag.items():
        if k not in _SHOWN_KEYS:
            blocks += _blocks(v, str(k))
    spath = _spec_path(ctx)
    words: list[str] = []
    spec: dict[str, Any] = {}
    if spath:  # the sample's design as the stage used it: the spec's, else the project file's roles
        spec = load_yaml(spath) or {}
        sample, roles = dict(spec.get("sample") or {}), ctx.project_wave.roles
        sample["strata"] = sample.get("strata") or list(roles.strata)
        sample["psu"] = sample.get("psu") or list(roles.psu)
        words = method_in_words({**spec, "sample": sample}, ctx.cat, ctx.labels.label)
    cat = ctx.cat
    tables = _group_tables(summary, ctx, codes)
    return {
        "n_weighted": len(w),
        "group_tables": tables,
        "summary_source": source,
        "histogram_svg": weight_histograms({ctx.group_label(g): values[groups == g] for g in codes}, prefix="weights",
                                           xlabel=cat("weighting.hist_xlabel"), ylabel=cat("weighting.hist_ylabel")),
        "deff_svg": _deff_chart(summary, ctx, codes),
        "register_svg": deviation_panels(
            {g["label"]: ([r["short"] for r in g["rows"]], [100 * float(r["rel_before"]) for r in g["rows"]],
                          [100 * float(r["rel_after"]) for r in g["rows"]]) for g in margins},
            xlabel=cat("weighting.register_xlabel"), before_label=cat("weighting.register_before"),
            after_label=cat("weighting.register_after"), prefix="register") if margins else "",
        "facts": _facts(diag, spec, ctx),
        "margins": margins,
        "diagnostics": blocks,
        "has_diagnostics": bool(diag),
        "method_words": words,
        "spec_path": str(spath) if spath else "",
        "inputs": inputs,
    }


def _deff_chart(summary: pd.DataFrame, ctx: RunContext, codes: list[str]) -> str:
    """Kish's design effect of the weights per group (bars; 1 = equal weights)."""
    if "deff_kish" not in summary.columns:
        return ""
    label_col = summary.columns[0]
    by = {str(g): float(v) for g, v in zip(summary[label_col], summary["deff_kish"], strict=True)}
    present = [g for g in codes if g in by]
    return bar_chart([ctx.group_label(g) for g in present], [by[g] for g in present],
                     xlabel=ctx.cat("weighting.deff_xlabel"), prefix="deff", reference=1.0)
