"""Data of the cleaning report: changes per rule and variable, routing, duplicates, quality flags.

Reads ``DIR/clean/summary.csv`` (kind, rule, variable, count), ``DIR/clean/log.csv`` (one
row per change) and ``DIR/clean/flags.parquet`` (per record: status, speeder,
straightline_<grid>, mismatch_<answer>, check_<var>_<i>), joined on the key with the
clean data's reporting group (``roles.group``) so flags are counted per group (one grouped sum over the
boolean flag columns).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sid.errors import RunFolderError
from sid.report.charts import bar_chart
from sid.report.context import RunContext, read_output
from sid.report.fieldwork import STATUSES, reconciliation

LOG_ROWS_SHOWN = 50
_GROUP = "_group"  # the reporting group's column, under a name no flag column has


def _flag_label(column: str, ctx: RunContext) -> str:
    cat = ctx.cat
    if column == "speeder":
        return cat("cleaning.flags.speeder")
    if column.startswith("straightline_"):
        return cat("cleaning.flags.straightline", **_grid_label(column[len("straightline_"):], ctx))
    if column.startswith("mismatch_"):
        return cat("cleaning.flags.mismatch", label=ctx.labels.label(column[len("mismatch_"):]))
    if column.startswith("check_"):  # check_<variable>_<i>: the i-th consistency check of the variable
        var, _, i = column[len("check_"):].rpartition("_")
        if var and i.isdigit():
            return cat("cleaning.flags.check", n=int(i) + 1, label=ctx.labels.label(var))
    return column


def _grid_label(grid: str, ctx: RunContext) -> dict[str, Any]:
    """A battery as a reader knows it: how many questions and the first one's wording."""
    items = [v for v in ctx.questionnaire.variables if getattr(v, "grid", None) == grid]
    return {"n": len(items), "first": items[0].label if items else grid}


def _rule_name(rule: str, ctx: RunContext) -> str:
    return ctx.cat.get(f"cleaning.rule_names.{rule}", rule) or rule


def gather_cleaning(ctx: RunContext) -> dict[str, Any]:
    """The cleaning report's figures from ``DIR/clean`` (RunFolderError if a file is absent)."""
    folder = ctx.out_dir / "clean"
    paths = {n: folder / n for n in ("summary.csv", "log.csv", "flags.parquet", "data.parquet")}
    for p in paths.values():
        if not p.is_file():
            raise RunFolderError(f"{p} not found; run `sid clean` on this run folder first")
    summary = read_output(paths["summary.csv"], "clean")
    log = read_output(paths["log.csv"], "clean", text=True, blank_missing=False)
    flags = pd.read_parquet(paths["flags.parquet"])
    key, group = ctx.group_column(paths["data.parquet"], flags.columns[0])
    data = pd.read_parquet(paths["data.parquet"], columns=[key, group]).rename(columns={group: _GROUP})
    flags = flags.merge(data, on=key, how="left", validate="one_to_one")

    changes = summary[summary["kind"] == "change"]
    per_rule = changes.groupby("rule", sort=False)["count"].sum()
    cat = ctx.cat
    rules = [{"rule": r, "name": _rule_name(r, ctx), "label": cat.get(f"cleaning.rules.{r}", r), "count": int(c)}
             for r, c in per_rule.items()]
    pivot = changes.pivot_table(index="variable", columns="rule", values="count", aggfunc="sum", fill_value=0)
    rule_cols = list(per_rule.index)
    per_variable = [{"variable": v, "label": ctx.labels.label(v),
                     "counts": [int(pivot.at[v, r]) if r in pivot.columns else 0 for r in rule_cols],
                     "total": int(pivot.loc[v].sum())} for v in pivot.index]

    def log_rows(rule: str) -> list[dict[str, str]]:
        part = log[log["rule"] == rule].head(LOG_ROWS_SHOWN)
        return [{"row": r["row"], "key": r["key"], "variable": r["variable"],
                 "before": ctx.value_label(r["variable"], r["before"]),
                 "after": ctx.value_label(r["variable"], r["after"])} for r in part.to_dict("records")]

    groups = ctx.group_order(flags[_GROUP].dropna().astype(str).unique())
    group_labels = [ctx.group_label(g) for g in groups]
    status = flags.groupby(["status", _GROUP]).size().unstack(fill_value=0)
    completion = [{"label": cat(f"cleaning.statuses.{s}"),
                   "counts": [int(status.at[s, g]) if g in status.columns else 0 for g in groups],
                   "total": int(status.loc[s].sum())} for s in STATUSES if s in status.index]
    flag_cols = [c for c in flags.columns if c == "speeder" or c.startswith(("straightline_", "mismatch_", "check_"))]
    by_group = flags.groupby(_GROUP)[flag_cols].sum() if flag_cols else pd.DataFrame()
    quality = [{"label": _flag_label(c, ctx), "column": c,
                "counts": [int(by_group.at[g, c]) if g in by_group.index else 0 for g in groups],
                "total": int(flags[c].sum())} for c in flag_cols]
    empties = summary[(summary["kind"] == "flag") & (summary["rule"] == "empty_applicable")]
    return {
        "records": len(flags),
        "rules": rules,
        "rules_chart": bar_chart([r["name"] for r in rules], [r["count"] for r in rules],
                                 xlabel=cat("cleaning.chart_xlabel"), prefix="rules") if rules else "",
        "rule_columns": [_rule_name(r, ctx) for r in rule_cols],
        "per_variable": per_variable,
        "routing": log_rows("routing"),
        "routing_total": int(per_rule.get("routing", 0)),
        "duplicates": _duplicates(log_rows("duplicate"), ctx),
        "duplicates_total": int(per_rule.get("duplicate", 0)),
        "log_rows_shown": LOG_ROWS_SHOWN,
        "groups": group_labels,
        "completion": completion,
        "quality": quality,
        "empty_applicable": [{"variable": r["variable"], "label": ctx.labels.label(r["variable"]),
                              "count": int(r["count"])} for r in empties.to_dict("records")],
        "reconciliation": reconciliation(ctx),
        "inputs": list(paths.values()),
    }


def _duplicates(rows: list[dict[str, str]], ctx: RunContext) -> list[dict[str, str]]:
    """Duplicate rows of the log: "before" holds the mode of the record removed, shown by its label."""
    mode_var = ctx.questionnaire.mode_variable
    modes = ctx.labels.categories.get(mode_var, {}) if mode_var else {}
    return [{**r, "before": modes.get(str(r["before"]), str(r["before"]))} for r in rows]
