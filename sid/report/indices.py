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
import re
from typing import Any

import numpy as np
import pandas as pd

from sid.errors import RunFolderError
from sid.report.charts import box_panels, dot_panels
from sid.report.context import RunContext, read_output
from sid.report.render import fmt_num

FILES = ("summary.json", "reliability.csv", "items.csv", "loadings.csv", "invariance.csv", "reasons.csv")
ALL = "(all)"
POOLED = "(pooled)"
RELIABILITY_COLUMNS = ("n", "alpha", "std_alpha", "omega_total", "average_r", "min_item_rest_r")
FIT_COLUMNS = ("chisq", "df", "cfi", "rmsea", "delta_cfi", "delta_rmsea")


def _group_label(ctx: RunContext, g: str) -> str:
    return ctx.cat("common.all_respondents") if g in (ALL, POOLED) else ctx.group_label(g)


_FAR = re.compile(r"differs from pooled by more than ([0-9.]+)")


def loading_reason(text: str, ctx: RunContext) -> str:
    """Why a loading is flagged (sid.scales.comparability's English) in the catalogue's words."""
    cat, parts = ctx.cat, []
    for part in [p.strip() for p in str(text).split(";") if p.strip()]:
        m = _FAR.fullmatch(part)
        if part == "sign differs from pooled":
            parts.append(cat("indices.loading_sign"))
        elif m:
            parts.append(cat("indices.loading_far", max=fmt_num(float(m.group(1)), 2)))
        elif part.startswith("not computable"):
            parts.append(cat("indices.loading_not_computable"))
        else:
            parts.append(part)
    return "; ".join(parts)


def _group_reasons(text: str, ctx: RunContext) -> str:
    """A loadings row's reasons ("BEL: differs ...; MAR: ...") with group labels and the catalogue's words."""
    out = []
    for part in re.split(r";\s*(?=[^;:]+: )", str(text)):
        g, sep, why = part.partition(": ")
        out.append(f"{ctx.group_label(g)}: {loading_reason(why, ctx)}" if sep else loading_reason(part, ctx))
    return "; ".join(out)


#: the score stage's reasons for a missing score (sid.scales.scoring.REASON_TOO_FEW and
#: sid.scales.stage.REASON_NO_WEIGHT, as reasons.csv holds them) -> catalogue keys
_REASONS = {"too few valid items": "too_few", "no weight (not among the weighted respondents)": "no_weight"}


def _reason(text: str, ctx: RunContext) -> str:
    known = _REASONS
    return ctx.cat(f"indices.reasons.{known[text]}") if text in known else text


def _verdict(s: dict[str, Any], iv: pd.DataFrame, ivi: pd.DataFrame, ix: Any, ctx: RunContext) -> str:
    """The invariance verdict of an index in the catalogue's words, from the CFA tables."""
    cat, level = ctx.cat, str(s.get("invariance_level") or "")
    if level == "not fitted" or not len(iv):
        if ix is not None and ix.scoring == "count":
            return cat("indices.not_fitted_count")
        return cat("indices.not_computable") if s.get("invariance") else cat("indices.not_tested")
    conf = iv[iv["model"] == "configural"]
    text = cat("indices.verdict", level=cat.get(f"indices.levels.{level}", level),
               cfi=fmt_num(conf["cfi"].iloc[0], 3) if len(conf) else "–",
               rmsea=fmt_num(conf["rmsea"].iloc[0], 3) if len(conf) else "–")
    if level != "scalar" and len(ivi):
        parameter = "loading" if level == "configural" else "intercept"
        part = ivi[ivi["parameter"] == parameter].sort_values("delta_chisq")
        if len(part):
            worst = part.iloc[-1]
            text += cat("indices.verdict_worst", parameter=cat(f"indices.parameters.{parameter}"),
                        item=ctx.labels.label(worst["item"]), share=f"{100 * float(worst['share']):.0f} %")
    return text


def _flags(s: dict[str, Any], verdict: str, ctx: RunContext) -> list[str]:
    """The index's flags (summary.json's structured fields) in the catalogue's words."""
    cat = ctx.cat
    out = [cat("indices.flag_alpha", threshold=s.get("reliability_threshold"), group=ctx.group_label(g))
           for g in s.get("low_reliability_groups", [])]
    out += [cat("indices.flag_loading", item=f["item"], label=ctx.labels.label(f["item"]),
                group=ctx.group_label(f["group"]), reason=loading_reason(f["reason"], ctx))
            for f in s.get("loading_flags", [])]
    level = str(s.get("invariance_level") or "")
    if level and level not in ("scalar", "not fitted"):
        out.append(cat("indices.flag_scalar", verdict=verdict))
    return out


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
    cat = ctx.cat
    ivi_path = folder / "invariance_items.csv"
    inv_items = read_output(ivi_path, "score") if ivi_path.is_file() else pd.DataFrame()
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
        ivi = inv_items[inv_items["index"] == name] if len(inv_items) else inv_items
        verdict = _verdict(s, iv, ivi, ix, ctx)
        out.append({
            "name": name,
            "label": ix.label if ix is not None else name,
            "theme": ix.theme if ix is not None else "",
            "theme_label": ctx.questionnaire.theme_label(ix.theme) if ix is not None else "",
            "scale": s["scale"], "scoring": s["scoring"], "min_valid": s["min_valid"], "n_items": s["n_items"],
            "n_scored": s["n_scored"], "n_missing": s["n_missing"],
            "threshold": s["reliability_threshold"],
            "description": cat("indices.describe", n=s["n_items"],
                               scoring=cat.get(f"indices.scoring.{s['scoring']}", s["scoring"]),
                               scale=cat.get(f"indices.scales.{s['scale']}", s["scale"]), min_valid=s["min_valid"]),
            "invariance": verdict,
            "flags": _flags(s, verdict, ctx),
            "item_rows": [{"item": row["item"], "label": ctx.labels.label(row["item"]),
                       "reverse": row["item"] in reverse, "item_rest_r": row["item_rest_r"],
                       "alpha_if_dropped": row["alpha_if_dropped"], "loading": row["loading"]}
                      for row in it.to_dict("records")],
            "reliability": [{"group": _group_label(ctx, row["group"]), "pooled": row["group"] == ALL,
                             "cells": [_f(row[c]) for c in RELIABILITY_COLUMNS],
                             "flag": str(row["flag"]).lower() == "true",
                             "reason": cat("indices.alpha_not_computable") if str(row["reason"]).startswith(
                                 "not computable") else cat("indices.alpha_low")}
                            for row in r.to_dict("records")],
            "loading_groups": [ctx.group_label(g) for g in group_cols],
            "loadings": [{"item": row["item"], "label": ctx.labels.label(row["item"]), "pooled": _f(row[POOLED]),
                          "cells": [_f(row[g]) for g in group_cols],
                          "flag": str(row["flag"]).lower() == "true",
                          "reason": "" if pd.isna(row["reason"]) else _group_reasons(row["reason"], ctx)}
                         for row in ld.to_dict("records")],
            "fit": [{"model": cat.get(f"indices.models.{row['model']}", row["model"]), "cells": [_f(row[c]) if c in row else float("nan") for c in FIT_COLUMNS],
                     "supported": bool(row["supported"]) if not pd.isna(row["supported"]) else False}
                    for row in iv.to_dict("records")],
            "reasons": [{"reason": _reason(row["reason"], ctx), "count": int(row["count"])}
                        for row in rs.to_dict("records") if row["reason"] != "(scored)"],
        })
    weighted = bool(summary.get("weighted"))
    return {
        "indices": out,
        "weighted": weighted,
        "score_note": "",
        "omega_estimator": cat("indices.omega", weighted=cat("indices.omega_weighted") if weighted else ""),
        "reliability_columns": [cat(f"indices.reliability_columns.{c}") for c in RELIABILITY_COLUMNS],
        "fit_columns": [cat(f"indices.fit_columns.{c}") for c in FIT_COLUMNS],
        "distribution_svg": _distribution_chart(ctx, folder, [(n, specs.get(n)) for n in summary["indices"]]),
        "reliability_svg": _reliability_chart(ctx, rel, out, specs),
        "inputs": [p for p in paths.values() if p.is_file()],
    }


def _weighted_figures(x: np.ndarray, w: np.ndarray) -> list[float]:
    """p5, p25, p50, p75, p95 and the mean of ``x`` with weights ``w`` (the weighted CDF's
    first crossing, as R's survey::svyquantile with interval.type "quantile" and ties "discrete")."""
    order = np.argsort(x, kind="stable")
    xs, cw = x[order], np.cumsum(w[order])
    cdf = cw / cw[-1]
    qs = [float(xs[min(np.searchsorted(cdf, p - 1e-12), len(xs) - 1)]) for p in (0.05, 0.25, 0.5, 0.75, 0.95)]
    return qs + [float(np.sum(w * x) / np.sum(w))]


def _distribution_chart(ctx: RunContext, folder: Any, indices: list[tuple[str, Any]]) -> str:
    """Boxes of every index on the POMP scale (0-100) per reporting group, one panel per
    index, all on the same axis; weighted when the run has weights. "" when no index is POMP."""
    pomp = [(n, ix) for n, ix in indices if ix is not None and ix.scale == "pomp"]
    path = folder / "indices.parquet"
    clean = ctx.out_dir / "clean" / "data.parquet"
    if not pomp or not path.is_file() or not clean.is_file():
        return ""
    scores = pd.read_parquet(path)
    key = scores.columns[0]
    key, group = ctx.group_column(clean, key)
    data = scores.merge(pd.read_parquet(clean, columns=[key, group]).rename(columns={group: "_group"}), on=key,
                        how="left", validate="one_to_one")
    wpath = ctx.out_dir / "weight" / "weights.parquet"
    if wpath.is_file():
        w = pd.read_parquet(wpath, columns=[key, "weight"])
        data = data.merge(w, on=key, how="left", validate="one_to_one")
    else:
        data["weight"] = 1.0
    codes = ctx.group_order(data["_group"].dropna().astype(str).unique())
    groups = data["_group"].astype(str).to_numpy()
    panels: dict[str, dict[str, list[float]]] = {}
    for name, ix in pomp:
        x, w = data[name].to_numpy(dtype=float), data["weight"].to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(w) & (w > 0)
        panel = {}
        for g in [None, *codes]:
            m = ok & (groups == g) if g is not None else ok
            if m.sum() >= 2:
                panel[ctx.cat("common.all_respondents") if g is None else ctx.group_label(g)] = _weighted_figures(x[m], w[m])
        panels[ix.label] = panel
    return box_panels(panels, xlabel=ctx.cat("indices.axis_score"), prefix="ixdist", xlim=(0.0, 100.0))


def _reliability_chart(ctx: RunContext, rel: pd.DataFrame, out: list[dict[str, Any]], specs: dict[str, Any]) -> str:
    """Cronbach's alpha per group and index (one panel per index, axis 0-1, the threshold marked)."""
    panels: dict[str, dict[str, float]] = {}
    threshold = None
    for entry in out:
        r = rel[rel["index"] == entry["name"]]
        order = [ALL, *ctx.group_order(r["group"][r["group"] != ALL])]
        by = {str(g): float(a) for g, a in zip(r["group"], r["alpha"], strict=True)}
        panels[entry["label"]] = {_group_label(ctx, g): by.get(g, float("nan")) for g in order if g in by}
        threshold = threshold if threshold is not None else entry["threshold"]
    if not panels:
        return ""
    return dot_panels(panels, xlabel=ctx.cat("indices.axis_alpha"), prefix="ixrel", xlim=(0.0, 1.0),
                      threshold=float(threshold) if threshold is not None else None,
                      threshold_label=ctx.cat("indices.threshold"))
