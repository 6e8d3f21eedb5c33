"""Data of the indices report: items, reliability per origin group, flags, comparability.

Reads the score stage's outputs (sid/scales/stage.py): ``summary.json`` (per index: scale,
scoring, k-of-n rule, scored and missing counts, flags, invariance level),
``reliability.csv`` (alpha, standardised alpha, omega total per group), ``items.csv``
(item-rest correlation, alpha if dropped), ``loadings.csv`` (one-factor loadings pooled
and per group, flagged), ``invariance.csv`` (multi-group CFA fit: configural, metric,
scalar) and ``reasons.csv`` (why a respondent has no score). Item wording comes from the
questionnaire spec (Dutch labels).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from sid.errors import RunFolderError
from sid.report.context import RunContext, read_output

FILES = ("summary.json", "reliability.csv", "items.csv", "loadings.csv", "invariance.csv", "reasons.csv")
ALL = "(all)"
POOLED = "(pooled)"
RELIABILITY_COLUMNS = ("n", "alpha", "std_alpha", "omega_total", "average_r", "min_item_rest_r")
FIT_COLUMNS = ("chisq", "df", "cfi", "rmsea", "delta_cfi", "delta_rmsea")


def _group_label(ctx: RunContext, g: str) -> str:
    return "Alle respondenten" if g in (ALL, POOLED) else ctx.group_label(g)


def _f(v: Any) -> float:
    return float(v) if v is not None and not (isinstance(v, str) and not v) else float("nan")


def gather_indices(ctx: RunContext) -> dict[str, Any]:
    """The indices report's figures from ``DIR/score`` (RunFolderError if a file is absent)."""
    folder = ctx.out_dir / "score"
    paths = {n: folder / n for n in FILES}
    for n in ("summary.json", "reliability.csv", "items.csv", "loadings.csv", "reasons.csv"):
        if not paths[n].is_file():
            raise RunFolderError(f"{paths[n]} not found; run `sid score` on this run folder first")
    summary = json.loads(paths["summary.json"].read_text(encoding="utf-8"))
    rel = read_output(paths["reliability.csv"], "score")
    items = read_output(paths["items.csv"], "score")
    loadings = read_output(paths["loadings.csv"], "score")
    reasons = read_output(paths["reasons.csv"], "score")
    inv = read_output(paths["invariance.csv"], "score") if paths["invariance.csv"].is_file() else pd.DataFrame()
    specs = {ix.name: ix for ix in ctx.questionnaire.indices}
    group_cols = ctx.group_order([c for c in loadings.columns if c not in ("index", "item", POOLED, "flag", "reason")])
    out = []
    for name, s in summary["indices"].items():
        ix = specs.get(name)
        r = rel[rel["index"] == name]
        rank = {g: i for i, g in enumerate([ALL, *ctx.group_order(r["group"][r["group"] != ALL])])}
        r = r.iloc[np.argsort(r["group"].map(rank).to_numpy(), kind="stable")]
        it = items[(items["index"] == name) & (items["group"] == ALL)]
        ld = loadings[loadings["index"] == name]
        rs = reasons[(reasons["index"] == name) & (reasons["group"] == ALL)]
        iv = inv[inv["index"] == name] if len(inv) else inv
        reverse = set(ix.reverse) if ix is not None else set()
        out.append({
            "name": name,
            "label": ix.label if ix is not None else name,
            "theme": ix.theme if ix is not None else "",
            "scale": s["scale"], "scoring": s["scoring"], "min_valid": s["min_valid"], "n_items": s["n_items"],
            "n_scored": s["n_scored"], "n_missing": s["n_missing"],
            "threshold": s["reliability_threshold"],
            "invariance": s.get("invariance", "niet getoetst"),
            "flags": list(s.get("flags", [])),
            "item_rows": [{"item": row["item"], "label": ctx.labels.label(row["item"]),
                       "reverse": row["item"] in reverse, "item_rest_r": row["item_rest_r"],
                       "alpha_if_dropped": row["alpha_if_dropped"], "loading": row["loading"]}
                      for row in it.to_dict("records")],
            "reliability": [{"group": _group_label(ctx, row["group"]), "pooled": row["group"] == ALL,
                             "cells": [_f(row[c]) for c in RELIABILITY_COLUMNS],
                             "flag": str(row["flag"]).lower() == "true",
                             "reason": "" if pd.isna(row["reason"]) else str(row["reason"])}
                            for row in r.to_dict("records")],
            "loading_groups": [ctx.group_label(g) for g in group_cols],
            "loadings": [{"item": row["item"], "label": ctx.labels.label(row["item"]), "pooled": _f(row[POOLED]),
                          "cells": [_f(row[g]) for g in group_cols],
                          "flag": str(row["flag"]).lower() == "true",
                          "reason": "" if pd.isna(row["reason"]) else str(row["reason"])}
                         for row in ld.to_dict("records")],
            "fit": [{"model": row["model"], "cells": [_f(row[c]) if c in row else float("nan") for c in FIT_COLUMNS],
                     "supported": bool(row["supported"]) if not pd.isna(row["supported"]) else False}
                    for row in iv.to_dict("records")],
            "fit_note": str(iv["note"].iloc[0]) if len(iv) and "note" in iv else "",
            "reasons": [{"reason": row["reason"], "count": int(row["count"])}
                        for row in rs.to_dict("records") if row["reason"] != "(scored)"],
        })
    omega = rel["omega_estimator"].dropna().unique() if "omega_estimator" in rel else np.array([])
    return {
        "indices": out,
        "weighted": bool(summary.get("weighted")),
        "score_note": str(summary.get("note") or ""),
        "omega_estimator": str(omega[0]) if len(omega) else "",
        "reliability_columns": list(RELIABILITY_COLUMNS),
        "fit_columns": list(FIT_COLUMNS),
        "inputs": [p for p in paths.values() if p.is_file()],
    }
