"""Data of the fieldwork report: gross sample, outcome classes and AAPOR rates per group and mode.

Reads ``DIR/fieldwork/rates.csv`` (sid.fieldwork.table.outcome_rates_table: one row per
level x group x mode x basis with the counts of the eight AAPOR outcome classes, the 16
rates and e). Rates are AAPOR Standard Definitions (2023, 10th ed.) proportions, shown
in percent.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sid.errors import RunFolderError
from sid.fieldwork.table import ALL, NO_MODE
from sid.report.context import RunContext, read_output

RATES_FILE = ("fieldwork", "rates.csv")
CASES_FILE = ("fieldwork", "cases.parquet")
OUTCOME_LABELS = {
    "I": "Volledig interview",
    "P": "Gedeeltelijk interview",
    "R": "Weigering en afbreken",
    "NC": "Geen contact",
    "O": "Andere non-respons",
    "UH": "Geschiktheid onbekend (adres)",
    "UO": "Geschiktheid onbekend (andere)",
    "NE": "Niet in aanmerking",
}
#: The rates the report shows (all 16 are in rates.csv); AAPOR's names, Dutch descriptions.
SHOWN_RATES = {
    "RR1": "Respons (RR1: volledige interviews / alle mogelijk in aanmerking komende)",
    "RR3": "Respons (RR3: zoals RR1, onbekende geschiktheid gewogen met e)",
    "RR5": "Respons (RR5: volledige interviews / bekend in aanmerking komende)",
    "COOP1": "Coöperatie (COOP1)",
    "REF2": "Weigering (REF2)",
    "CON2": "Contact (CON2)",
}


def _note_parts(note: Any) -> list[str]:
    return [] if pd.isna(note) or not str(note).strip() else [x.strip() for x in str(note).split(";") if x.strip()]


def _rows(df: pd.DataFrame, common: set[str]) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict("records"):
        out.append({
            "label": rec["_label"],
            "n": rec["n"],
            "counts": [rec[k] for k in OUTCOME_LABELS],
            "rates": [rec[k] for k in SHOWN_RATES],
            "e": rec["e"],
            "note": "; ".join(x for x in _note_parts(rec["note"]) if x not in common),
        })
    return out


def _dispositions(cases: pd.DataFrame, ctx: RunContext) -> tuple[list[dict[str, Any]], list[str]]:
    """Agency disposition x AAPOR code x class, counted per group of the rates (the design
    stratum). The stage's manifest entry names the columns of cases.parquet."""
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
             "outcome_label": OUTCOME_LABELS.get(r["_class"], r["_class"]),
             "counts": [int(r[g]) for g in groups], "total": int(sum(r[g] for g in groups))}
            for r in counts.to_dict("records")]
    return rows, [ctx.group_label(g) for g in groups]


def gather_fieldwork(ctx: RunContext) -> dict[str, Any]:
    """The fieldwork report's figures from ``DIR/fieldwork/rates.csv`` (RunFolderError if absent)."""
    path = ctx.out_dir.joinpath(*RATES_FILE)
    if not path.is_file():
        raise RunFolderError(f"{path} not found; run `sid fieldwork` on this run folder first")
    t = read_output(path, "fieldwork")
    missing = {"level", "group", "mode", "basis", "n", "e", "note", *OUTCOME_LABELS, *SHOWN_RATES} - set(t.columns)
    if missing:
        raise RunFolderError(f"{path}: columns {sorted(missing)} missing; re-run `sid fieldwork`")

    mode_var = ctx.questionnaire.mode_variable
    modes = {**(ctx.labels.categories.get(mode_var, {}) if mode_var else {}), NO_MODE: "(geen modus)"}

    def label(rec: pd.Series) -> str:
        g = ctx.group_label(rec["group"]) if rec["group"] != ALL else "Totaal"
        mode = modes.get(str(rec["mode"]), str(rec["mode"]))
        return {"mode": mode, "group×mode": f"{g} – {mode}"}.get(rec["level"], g)

    t["_label"] = t.apply(label, axis=1) if len(t) else []
    # a note on every row (e.g. how break-offs were counted) is said once, above the tables
    parts = [set(_note_parts(n)) for n in t["note"]]
    common = set.intersection(*parts) if parts else set()
    bases = list(dict.fromkeys(t["basis"]))
    sections = []
    for basis in bases:
        b = t[t["basis"] == basis]
        levels = []
        for level, title in (("group", "Per herkomstgroep"), ("mode", "Per bevragingsmodus"),
                             ("group×mode", "Per herkomstgroep en modus")):
            rows = b[b["level"] == level]
            order = {g: i for i, g in enumerate(ctx.group_order(rows["group"]))}
            rows = rows.assign(_o=rows["group"].map(order)).sort_values(["_o", "mode"], kind="stable")
            part = pd.concat([rows.drop(columns="_o"), b[b["level"] == "overall"]])
            if (b["level"] == level).any():
                levels.append({"title": title, "rows": _rows(part, common)})
        sections.append({
            "basis": basis,
            "weighted": basis != "unweighted",
            "levels": levels,
        })
    overall = t[(t["level"] == "overall") & (t["basis"] == "unweighted")]
    if overall.empty:
        raise RunFolderError(f"{path}: no unweighted overall row; re-run `sid fieldwork`")
    o = overall.iloc[0]
    dispositions, groups, inputs = [], [], [path]
    cpath = ctx.out_dir.joinpath(*CASES_FILE)
    if cpath.is_file():
        dispositions, groups = _dispositions(pd.read_parquet(cpath), ctx)
        inputs.append(cpath)
    params = ctx.manifest.get("stages", {}).get("fieldwork", {}).get("params", {})
    e_methods = sorted({str(m) for m in t["e_method"].dropna()}) if "e_method" in t else []
    return {
        "gross_sample": int(o["n"]),
        "completes": float(o["I"]),
        "partials": float(o["P"]),
        "outcomes": [{"code": k, "label": v} for k, v in OUTCOME_LABELS.items()],
        "rates": [{"code": k, "label": v} for k, v in SHOWN_RATES.items()],
        "sections": sections,
        "e_methods": e_methods,
        "common_notes": sorted(common),
        "no_mode": bool((t["mode"] == NO_MODE).any()),
        "dispositions": dispositions,
        "disposition_groups": groups,
        "warnings": [str(w) for w in params.get("warnings", [])],
        "inputs": inputs,
    }
