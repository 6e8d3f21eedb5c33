"""Data of the weighting report: weight distribution per origin group, deff, n_eff, margins,
trimming, convergence, and the method in words from the weighting spec.

Reads ``DIR/weight/weights.parquet`` (key + final ``weight``), the clean data's origin
group (joined on the key), ``DIR/weight/diagnostics_groups.csv`` when the weight stage
wrote it (else the same summary is computed with sid.weighting.diagnostics.weight_summary:
Kish's deff_w = n sum(w^2) / (sum w)^2 and n_eff = (sum w)^2 / sum(w^2), Kish 1965 sec.
11.7) and ``DIR/weight/diagnostics.json``, whose sections (margins before and after,
trimming, convergence, replicates) are shown as the stage wrote them: tables for lists
of records, key-value lists for the rest.
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
from sid.report.context import RunContext

WEIGHT_COLUMN = "weight"
_COLUMN_FORMATS = {"n": "int", "sum": "int", "n_eff": "num1", "deff_kish": "num3", "max_min_ratio": "num1",
                   "n_nonpositive": "int", "n_trimmed": "int"}


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
    for s in ctx.stage_specs("weight"):
        if Path(s).parent.name == "weights" and Path(s).is_file():
            return Path(s)
    specs = sorted((ctx.project_dir / "weights").glob("*.yaml"))
    return specs[0] if len(specs) == 1 else None


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
    origin = pd.read_parquet(clean, columns=[key, "origin"])
    w = weights[[key, WEIGHT_COLUMN]].merge(origin, on=key, how="left", validate="one_to_one")
    if w["origin"].isna().any():
        raise RunFolderError(f"{wpath}: {int(w['origin'].isna().sum())} weighted key(s) have no clean record; "
                             "re-run `sid weight` after `sid clean`")
    codes = ctx.origin_order(w["origin"].astype(str).unique())
    values = w[WEIGHT_COLUMN].to_numpy(dtype=float)
    groups = w["origin"].astype(str).to_numpy()
    inputs = [wpath, clean]
    gpath = folder / "diagnostics_groups.csv"
    if gpath.is_file():
        summary = pd.read_csv(gpath)
        inputs.append(gpath)
        source = "weight/diagnostics_groups.csv"
    else:
        summary = weight_summary(values, groups)
        source = "berekend uit weight/weights.parquet (sid.weighting.diagnostics.weight_summary)"
    label_col = summary.columns[0]
    columns = [c for c in summary.columns if c != label_col]
    order = {g: i for i, g in enumerate([*codes, "all"])}
    summary = summary.iloc[np.argsort([order.get(str(g), len(order)) for g in summary[label_col]], kind="stable")]
    dist = [{"label": ctx.origin_label(r[label_col]) if str(r[label_col]) != "all" else "Totaal",
             "cells": [r[c] for c in columns]} for r in summary.to_dict("records")]
    hist = weight_histograms({ctx.origin_label(g): values[groups == g] for g in codes}, prefix="weights")
    dpath = folder / "diagnostics.json"
    blocks: list[dict[str, Any]] = []
    if dpath.is_file():
        inputs.append(dpath)
        for k, v in json.loads(dpath.read_text(encoding="utf-8")).items():
            blocks += _blocks(v, str(k))
    spath = _spec_path(ctx)
    words = method_in_words(yaml.safe_load(spath.read_text(encoding="utf-8")) or {}) if spath else []
    return {
        "n_weighted": len(w),
        "summary_columns": [{"name": c, "fmt": _COLUMN_FORMATS.get(c, "sig")} for c in columns],
        "summary_rows": dist,
        "summary_source": source,
        "histogram_svg": hist,
        "diagnostics": blocks,
        "method_words": words,
        "spec_path": str(spath) if spath else "",
        "inputs": inputs,
    }
