"""Data of the weighting report: weight distribution per origin group, deff, n_eff, margins,
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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sid.errors import RunFolderError
from sid.report.charts import weight_histograms
from sid.report.context import RunContext, read_output

WEIGHT_COLUMN = "weight"
_GROUP = "_group"  # the reporting group's column, under a name the weights do not use
GROUPS_FILE, MARGINS_FILE, DIAGNOSTICS_FILE = "diagnostics_groups.csv", "diagnostics_margins.csv", "diagnostics.json"
_COLUMN_FORMATS = {"n": "int", "sum": "int", "n_eff": "num1", "deff_kish": "num3", "max_min_ratio": "num2",
                   "n_nonpositive": "int", "n_trimmed": "int", "iterations": "int", "max_abs_error": "sig",
                   "max_rel_margin_error_before": "pct", "max_rel_margin_error_after": "pct"}
_DISTRIBUTION = ("n", "sum", "min", "p01", "p05", "p25", "p50", "p75", "p95", "p99", "max", "max_min_ratio")
_QUALITY = ("deff_kish", "n_eff", "n_nonpositive", "n_trimmed", "max_rel_margin_error_before",
            "max_rel_margin_error_after")
# keys of diagnostics.json the report shows in its own form (facts, margins table) or not at all
# (design columns, the margins' totals repeated in diagnostics_margins.csv, the run's timings)
_SHOWN_KEYS = {"wave", "method", "respondents_from", "n_gross", "n_respondents", "design", "calibration",
               "convergence", "trimmed", "timings_seconds", "replicates"}


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
    return [{"title": title, "kind": "kv", "columns": [], "rows": [["waarde", _cell(obj)]]}]


def _cell(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return {True: "ja", False: "nee", None: "–"}[v]
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


def method_in_words(spec: dict[str, Any]) -> list[str]:
    """The weighting chain of a weighting spec (docs/weighting-spec.md) as Dutch sentences."""
    out = []
    sample = spec.get("sample") or {}
    if sample.get("strata"):
        out.append(f"Ontwerpgewicht: de inverse van de trekkingskans binnen elk stratum ({', '.join(sample['strata'])}); "
                   f"de steekproef is gestratificeerd per herkomstgroep"
                   + (f", met clusters {sample['psu']}." if sample.get("psu") else ", zonder clustering."))
    elig = spec.get("eligibility") or {}
    if elig.get("unknown"):
        out.append(f"Gevallen met onbekende geschiktheid geven hun gewicht door volgens de methode '{elig['unknown']}' "
                   "(het aandeel geschikten onder de gevallen met bekende geschiktheid), per stratum.")
    nr = spec.get("nonresponse") or {}
    if nr.get("method") and nr["method"] != "none":
        out.append(f"Non-responscorrectie: {nr['method']} binnen {nr.get('within', 'de hele steekproef')}, "
                   f"met predictoren {', '.join(nr.get('predictors', []))}"
                   + (f" in {nr['classes']} klassen" if nr.get("classes") else "")
                   + "; de respondenten van een klasse dragen het gewicht van de niet-respondenten van die klasse.")
    cal = spec.get("calibration") or {}
    if cal.get("method"):
        bounds = cal.get("bounds")
        out.append(f"Kalibratie ({cal['method']}) binnen {cal.get('within', 'de hele steekproef')} op de registertotalen van "
                   f"{', '.join(cal.get('margins', []))}"
                   + (f", met grenzen {bounds}" if bounds else ", zonder grenzen")
                   + f"; tolerantie {cal.get('tolerance', '–')}, hoogstens {cal.get('max_iter', '–')} iteraties.")
    trim = spec.get("trimming") or {}
    if trim:
        up, lo = trim.get("upper") or {}, trim.get("lower") or {}
        out.append("Trimmen binnen " + str(trim.get("within", "de hele steekproef")) + ": gewichten boven "
                   f"{up.get('ratio_to_median', '–')} × en onder {lo.get('ratio_to_median', '–')} × de mediaan worden "
                   "op die grens gezet, het verschil wordt binnen de groep herverdeeld en opnieuw gekalibreerd "
                   f"(hoogstens {trim.get('max_rounds', '–')} rondes).")
    rep = spec.get("replicates") or {}
    if rep.get("method"):
        out.append(f"Replicatiegewichten: {rep.get('replicates', '–')} replicaties ({rep['method']}, seed {rep.get('seed', '–')}); "
                   f"in elke replicatie worden {', '.join(rep.get('redo', [])) or 'geen stappen'} opnieuw gedaan, zodat "
                   "standaardfouten de onzekerheid van de weging meenemen.")
    return out


def _margin_label(ctx: RunContext, text: str) -> str:
    """"sex:age_band=1:2" -> "Geslacht × Leeftijdsgroep: Man – 25-34" (labels of the spec)."""
    names, _, codes = str(text).partition("=")
    vars_, vals = names.split(":"), codes.split(":")
    if len(vars_) != len(vals):
        return str(text)
    cats = [ctx.labels.categories.get(v, {}).get(c, c) for v, c in zip(vars_, vals, strict=True)]
    return f"{' × '.join(ctx.labels.label(v) for v in vars_)}: {' – '.join(cats)}"


def _group_tables(summary: pd.DataFrame, ctx: RunContext, codes: list[str]) -> list[dict[str, Any]]:
    """diagnostics_groups.csv (or weight_summary) as three tables: distribution, quality, the rest."""
    label_col = summary.columns[0]
    order = {g: i for i, g in enumerate([*codes, "all"])}
    summary = summary.iloc[np.argsort([order.get(str(g), len(order)) for g in summary[label_col]], kind="stable")]
    rest = [c for c in summary.columns if c != label_col and c not in (*_DISTRIBUTION, *_QUALITY)]
    out = []
    for title, cols in (("Verdeling van het finale gewicht", _DISTRIBUTION),
                        ("Designeffect, effectieve n, trimmen en marges", _QUALITY),
                        ("Convergentie van de kalibratie", tuple(rest))):
        cols = [c for c in cols if c in summary.columns]
        if not cols:
            continue
        out.append({"title": title,
                    "columns": [{"name": c, "fmt": _COLUMN_FORMATS.get(c, "auto")} for c in cols],
                    "rows": [{"label": "Totaal" if str(r[label_col]) == "all" else ctx.group_label(r[label_col]),
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
            {"margin": _margin_label(ctx, r["margin"]), "population": r["population"], "before": r["before"],
             "after": r["after"], "rel_before": r["rel_diff_before"], "rel_after": r["rel_diff_after"]}
            for r in part.to_dict("records")]})
    return out


def _facts(diag: dict[str, Any]) -> list[list[str]]:
    cal, rep = diag.get("calibration") or {}, diag.get("replicates") or {}
    facts = [("bruto steekproef", diag.get("n_gross")), ("gewogen respondenten", diag.get("n_respondents")),
             ("respondenten volgens", diag.get("respondents_from")), ("getrimde gewichten", diag.get("trimmed")),
             ("kalibratiemethode", cal.get("method")), ("kalibratiegrenzen", cal.get("bounds")),
             ("gekalibreerde cellen", cal.get("cells")), ("replicatiegewichten", rep.get("description")),
             ("methode (zoals de wegingsstap ze noteert)", diag.get("method"))]
    return [[k, _cell(v)] for k, v in facts if k in ("kalibratiegrenzen",) or v is not None]


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
        source = "berekend uit weight/weights.parquet (sid.weighting.diagnostics.weight_summary)"
    margins = []
    if mpath.is_file():
        margins = _margins(mpath, ctx)
        inputs.append(mpath)
    diag: dict[str, Any] = {}
    if dpath.is_file():
        inputs.append(dpath)
        diag = json.loads(dpath.read_text(encoding="utf-8"))
    blocks: list[dict[str, Any]] = []
    for k, v in diag.items():
        if k not in _SHOWN_KEYS:
            blocks += _blocks(v, str(k))
    spath = _spec_path(ctx)
    words = method_in_words(yaml.safe_load(spath.read_text(encoding="utf-8")) or {}) if spath else []
    return {
        "n_weighted": len(w),
        "group_tables": _group_tables(summary, ctx, codes),
        "summary_source": source,
        "histogram_svg": weight_histograms({ctx.group_label(g): values[groups == g] for g in codes}, prefix="weights"),
        "facts": _facts(diag),
        "margins": margins,
        "diagnostics": blocks,
        "has_diagnostics": bool(diag),
        "method_words": words,
        "spec_path": str(spath) if spath else "",
        "inputs": inputs,
    }
