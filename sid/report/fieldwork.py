"""Data of the fieldwork report: gross sample, outcome classes and AAPOR rates per group and mode.

Reads ``DIR/fieldwork/rates.csv`` (sid.fieldwork.table.outcome_rates_table: one row per
level x group x mode x basis with the counts of the eight AAPOR outcome classes, the 16
rates and e). Rates are AAPOR Standard Definitions (2023, 10th ed.) proportions, shown
in percent.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from sid.errors import RunFolderError
from sid.fieldwork.table import ALL, NO_MODE, STRATUM_LEVEL
from sid.messages import Catalogue
from sid.report.charts import response_chart
from sid.report.context import RunContext, read_output

RATES_FILE = ("fieldwork", "rates.csv")
CASES_FILE = ("fieldwork", "cases.parquet")
#: The eight AAPOR outcome classes, in order (labels: fieldwork.outcomes.<code> of the catalogue).
OUTCOMES = ("I", "P", "R", "NC", "O", "UH", "UO", "NE")
#: The rates the report shows (all 16 are in rates.csv); labels: fieldwork.rates.<code>.
SHOWN_RATES = ("RR1", "RR3", "RR5", "COOP1", "REF2", "CON2")
#: the completion statuses of clean/flags.parquet (sid.clean.completion; a report reads the
#: run folder, it does not import another stage)
STATUSES = ("complete", "partial", "break-off")
_BREAKOFF_NOTE = re.compile(r"^(\d+) partial interview\(s\) \(AAPOR 1\.2\) with completion status break-off")
_FIXED_E = re.compile(r"^fixed: e = (\S+) \(given\)$")
_DESIGN_BASIS = re.compile(r"^design-weighted \((.+)\)$")


def note_text(part: str, cat: Catalogue) -> str:
    """One note of rates.csv (the fieldwork stage's English) in the catalogue's words; a
    note sid does not know is shown as written."""
    m = _BREAKOFF_NOTE.match(part)
    if m:
        return cat("fieldwork.notes.breakoffs", n=m.group(1))
    known = {"e not given: no case of unknown eligibility": "e_not_given",
             "e not estimable: no case of known eligibility": "e_not_estimable"}
    if part in known:
        return cat(f"fieldwork.notes.{known[part]}")
    if part.startswith("zero denominator: "):
        return cat("fieldwork.notes.zero_denominator", rates=part[len("zero denominator: "):])
    return part


def e_method_text(method: str, cat: Catalogue) -> str:
    """How e was obtained (rates.csv ``e_method``, sid.fieldwork's constants) in the catalogue's words."""
    from sid.fieldwork.rates import E_PROPORTIONAL
    from sid.fieldwork.table import E_BY_GROUP, E_BY_GROUP_STRATA

    head, _, tail = E_BY_GROUP_STRATA.partition("{group}")
    if method == E_PROPORTIONAL:
        return cat("fieldwork.e_methods.proportional")
    if method == E_BY_GROUP:
        return cat("fieldwork.e_methods.by_group")
    if method.startswith(head) and method.endswith(tail):
        return cat("fieldwork.e_methods.by_group_strata", group=method[len(head):len(method) - len(tail)])
    if method.startswith("not given"):
        return cat("fieldwork.e_methods.not_given")
    m = _FIXED_E.match(method)
    if m:
        return cat("fieldwork.e_methods.fixed", e=m.group(1))
    return cat("fieldwork.e_methods.per_row") if method == "given per row" else method


def _note_parts(note: Any) -> list[str]:
    return [] if pd.isna(note) or not str(note).strip() else [x.strip() for x in str(note).split(";") if x.strip()]


def _rows(df: pd.DataFrame, common: set[str], cat: Catalogue) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict("records"):
        out.append({
            "label": rec["_label"],
            "n": rec["n"],
            "counts": [rec[k] for k in OUTCOMES],
            "rates": [rec[k] for k in SHOWN_RATES],
            "e": rec["e"],
            "note": "; ".join(note_text(x, cat) for x in _note_parts(rec["note"]) if x not in common),
        })
    return out


def _dispositions(cases: pd.DataFrame, ctx: RunContext) -> tuple[list[dict[str, Any]], list[str]]:
    """Agency disposition x AAPOR code x class, counted per reporting group of the rates
    (SID: origin group). The stage's manifest entry names the columns of cases.parquet."""
    named = ctx.stage_params("fieldwork").get("columns") or {}
    code_col, group_col = named.get("agency_code"), named.get("group")
    if not code_col or not group_col:
        raise RunFolderError(f"{ctx.out_dir / 'manifest.json'}: the fieldwork stage's entry names no "
                             "disposition and group columns of cases.parquet; re-run `sid fieldwork`")
    need = {code_col, "aapor_code", "outcome", group_col}
    if not need <= set(cases.columns):
        raise RunFolderError(f"fieldwork/cases.parquet: columns {sorted(need - set(cases.columns))} missing; "
                             "re-run `sid fieldwork`")
    # internal names: the agency's code column may be called anything, even "outcome"
    frame = pd.DataFrame({"_code": cases[code_col], "_aapor": cases["aapor_code"],
                          "_class": cases["outcome"], "_group": cases[group_col]}).astype(str)
    keys = ["_code", "_aapor", "_class"]
    counts = frame.groupby([*keys, "_group"]).size().unstack(fill_value=0)
    groups = ctx.group_order(counts.columns)
    counts = counts.reindex(columns=groups, fill_value=0).reset_index()
    counts = counts.sort_values(["_aapor", "_code"], kind="stable")
    rows = [{"agency_code": r["_code"], "aapor_code": r["_aapor"], "outcome": r["_class"],
             "outcome_label": ctx.cat.get(f"fieldwork.outcomes.{r['_class']}", r["_class"]),
             "counts": [int(r[g]) for g in groups], "total": int(sum(r[g] for g in groups))}
            for r in counts.to_dict("records")]
    return rows, [ctx.group_label(g) for g in groups]


def gather_fieldwork(ctx: RunContext) -> dict[str, Any]:
    """The fieldwork report's figures from ``DIR/fieldwork/rates.csv`` (RunFolderError if absent)."""
    path = ctx.out_dir.joinpath(*RATES_FILE)
    if not path.is_file():
        raise RunFolderError(f"{path} not found; run `sid fieldwork` on this run folder first")
    t = read_output(path, "fieldwork")
    missing = {"level", "group", "mode", "basis", "n", "e", "note", *OUTCOMES, *SHOWN_RATES} - set(t.columns)
    if missing:
        raise RunFolderError(f"{path}: columns {sorted(missing)} missing; re-run `sid fieldwork`")

    mode_var = ctx.questionnaire.mode_variable
    cat = ctx.cat
    modes = {**(ctx.labels.categories.get(mode_var, {}) if mode_var else {}), NO_MODE: cat("common.no_mode")}

    def label(rec: pd.Series) -> str:
        if rec["level"] == STRATUM_LEVEL:  # a design stratum ("BEL:1" -> "Belgisch, West-Vlaanderen")
            return _stratum_label(str(rec["group"]), ctx)
        g = ctx.group_label(rec["group"]) if rec["group"] != ALL else cat("common.total")
        mode = modes.get(str(rec["mode"]), str(rec["mode"]))
        return {"mode": mode, "group×mode": cat("fieldwork.group_mode", group=g, mode=mode)}.get(rec["level"], g)

    t["_label"] = t.apply(label, axis=1) if len(t) else []
    # a note on every row (e.g. how break-offs were counted) is said once, above the tables
    parts = [set(_note_parts(n)) for n in t["note"]]
    common = set.intersection(*parts) if parts else set()
    bases = list(dict.fromkeys(t["basis"]))
    sections = []
    for basis in bases:
        b = t[t["basis"] == basis]
        levels = []
        for level, title in (("group", cat("fieldwork.by_group", group=ctx.group_title)),
                             (STRATUM_LEVEL, cat("fieldwork.by_stratum")), ("mode", cat("fieldwork.by_mode")),
                             ("group×mode", cat("fieldwork.by_group_mode", group=ctx.group_title))):
            rows = b[b["level"] == level]
            order = {g: i for i, g in enumerate(ctx.group_order(rows["group"]))}
            rows = rows.assign(_o=rows["group"].map(order)).sort_values(["_o", "mode"], kind="stable")
            part = pd.concat([rows.drop(columns="_o"), b[b["level"] == "overall"]])
            if (b["level"] == level).any():
                levels.append({"title": title, "rows": _rows(part, common, cat)})
        design = _DESIGN_BASIS.match(str(basis))
        sections.append({
            "basis": cat("fieldwork.basis_design", column=design.group(1)) if design else basis,
            "weighted": basis != "unweighted",
            "levels": levels,
        })
    overall = t[(t["level"] == "overall") & (t["basis"] == "unweighted")]
    if overall.empty:
        raise RunFolderError(f"{path}: no unweighted overall row; re-run `sid fieldwork`")
    o = overall.iloc[0]
    dispositions, groups, inputs = [], [], [path]
    cpath = ctx.out_dir.joinpath(*CASES_FILE)
    entry = ctx.manifest.get("stages", {}).get("fieldwork", {})
    if cpath.is_file():  # counted per the stage's reporting group
        dispositions, groups = _dispositions(pd.read_parquet(cpath), ctx)
        inputs.append(cpath)
    # the entry's warnings; a run folder written before they moved there has them in params
    said = entry.get("warnings", entry.get("params", {}).get("warnings", []))
    e_methods = sorted({e_method_text(str(m), cat) for m in t["e_method"].dropna()}) if "e_method" in t else []
    unweighted = t[t["basis"] == "unweighted"]
    return {
        "gross_sample": int(o["n"]),
        "completes": float(o["I"]),
        "partials": float(o["P"]),
        "outcomes": [{"code": k, "label": cat(f"fieldwork.outcomes.{k}")} for k in OUTCOMES],
        "rates": [{"code": k, "label": cat(f"fieldwork.rates.{k}")} for k in SHOWN_RATES],
        "sections": sections,
        "e_methods": e_methods,
        "common_notes": sorted(note_text(n, cat) for n in common),
        "response_chart": _response_chart(unweighted, ctx, modes),
        "reconciliation": reconciliation(ctx),
        "no_mode": bool((t["mode"] == NO_MODE).any()),
        "dispositions": dispositions,
        "disposition_groups": groups,
        "warnings": [str(w) for w in said],
        "inputs": inputs,
    }


def _stratum_label(stratum: str, ctx: RunContext) -> str:
    """A design stratum joined from the strata variables ("BEL:1") in the spec's labels: each
    part by its variable's categories (the first, the reporting group's), else as written."""
    parts = stratum.split(":")
    names = list(ctx.project_wave.roles.strata)
    if len(parts) != len(names):
        return stratum
    out = []
    for i, (name, code) in enumerate(zip(names, parts, strict=True)):
        cats = ctx.labels.categories.get(name) or (ctx.labels.categories.get(ctx.group, {}) if i == 0 else {})
        out.append(cats.get(code, code))
    return ", ".join(out)


def _response_chart(t: pd.DataFrame, ctx: RunContext, modes: dict[str, str]) -> str:
    """RR1 (unweighted) per reporting group, all modes and per mode, as inline SVG ("" without groups)."""
    by_group = t[t["level"] == "group"]
    if by_group.empty:
        return ""
    codes = ctx.group_order(by_group["group"].astype(str))
    overall = pd.Series(by_group["RR1"].to_numpy(), index=by_group["group"].astype(str).to_numpy())
    total = t[t["level"] == "overall"]["RR1"]
    labels = [ctx.group_label(g) for g in codes] + [ctx.cat("common.total")]
    values = [100 * float(overall.get(g, np.nan)) for g in codes] + [100 * float(total.iloc[0]) if len(total) else np.nan]
    gm = t[t["level"] == "group×mode"]
    per_mode = {}
    for mode in dict.fromkeys(gm["mode"].astype(str)):
        if mode == NO_MODE:
            continue
        sel = gm[gm["mode"].astype(str) == mode]
        part = pd.Series(sel["RR1"].to_numpy(), index=sel["group"].astype(str).to_numpy())
        mtotal = t[(t["level"] == "mode") & (t["mode"].astype(str) == mode)]["RR1"]
        per_mode[modes.get(mode, mode)] = ([100 * float(part.get(g, np.nan)) for g in codes]
                                           + [100 * float(mtotal.iloc[0]) if len(mtotal) else np.nan])
    cat = ctx.cat
    return response_chart(labels, values, per_mode, xlabel=cat("fieldwork.chart_xlabel"),
                          overall_label=cat("fieldwork.chart_all_modes"), prefix="response")


def reconciliation(ctx: RunContext) -> dict[str, Any] | None:
    """The interviews of the fieldwork stage (agency dispositions, AAPOR I, P and the
    break-offs it counted as R 2.12) against the completion status of the clean stage (the
    share of applicable questions answered), per respondent joined on the key; None when
    one of the two stages has not run. Both reports show it, so their counts agree or say why not."""
    cases_p, flags_p = ctx.out_dir.joinpath(*CASES_FILE), ctx.out_dir / "clean" / "flags.parquet"
    if not cases_p.is_file() or not flags_p.is_file():
        return None
    cat = ctx.cat
    cases = pd.read_parquet(cases_p, columns=None)
    flags = pd.read_parquet(flags_p)
    key = ctx.stage_params("fieldwork").get("columns", {}).get("key") or flags.columns[0]
    if key not in cases.columns or key not in flags.columns or "aapor_code" not in cases.columns:
        return None
    rows_of = {"I": cases["aapor_code"].astype(str).str.startswith("1.1"),
               "P": cases["aapor_code"].astype(str).str.startswith("1.2"),
               "breakoff": cases["aapor_code"].astype(str) == "2.12"}
    status = pd.Series(flags["status"].astype(str).to_numpy(), index=flags[key].astype(str).to_numpy())
    keys = cases[key].astype(str)
    columns = [*STATUSES, "-"]
    rows, counts = [], {}
    for name, mask in rows_of.items():
        st = keys[mask.to_numpy()].map(status).fillna("-")
        c = [int((st == s).sum()) for s in columns]
        counts[name] = dict(zip(columns, c, strict=True))
        if sum(c):
            rows.append({"label": cat(f"reconcile.row_{name}"), "counts": c, "total": sum(c)})
    shown = [i for i, col in enumerate(columns) if col != "-" or any(r["counts"][i] for r in rows)]
    for r in rows:
        r["counts"] = [r["counts"][i] for i in shown]
    cl = flags["status"].astype(str).value_counts()
    reasons = []
    for n, text in ((counts["P"]["complete"], "agency_partial_complete"),
                    (counts["I"]["partial"] + counts["I"]["break-off"], "agency_complete_partial"),
                    (counts["breakoff"]["break-off"], "breakoffs"),
                    (sum(counts[r]["-"] for r in counts), "not_in_clean")):
        if n:
            reasons.append(cat(f"reconcile.{text}", n=n))
    fw_i, fw_p = int(rows_of["I"].sum()), int(rows_of["P"].sum())
    if not reasons or (fw_i == int(cl.get("complete", 0)) and fw_p == int(cl.get("partial", 0))):
        reasons.insert(0, cat("reconcile.same"))
    return {
        "summary": cat("reconcile.summary", fw_complete=_n(fw_i), fw_partial=_n(fw_p),
                       cl_complete=_n(cl.get("complete", 0)), cl_partial=_n(cl.get("partial", 0))),
        "columns": [([cat(f"cleaning.statuses.{s}") for s in STATUSES] + [cat("reconcile.status_missing")])[i]
                    for i in shown],
        "rows": rows,
        "reasons": reasons,
        "counts": counts,
    }


def _n(x: Any) -> str:
    from sid.report.render import fmt_int

    return fmt_int(x)
