"""Every table of a wave's table plan as one long tidy frame (one row per cell and statistic).

:func:`build_tables` asks the :class:`sid.estimation.design.Design` once per (statistic,
domain) for all the plan's variables of a mean, total or proportion (one pass over the
replicate weights; rows as per-variable calls), once per (variable, domain) for medians:
the Design computes all cells of a domain at once (grouped sums and one covariance of
all cells). Statistics by the variable's kind: an index -> mean; a
categorical (or ordinal) variable -> the share of each category; a numeric variable ->
mean and median; a table's ``statistics`` may ask for others (``total``: weighted
total, R ``svytotal``). ``compare_to`` adds each domain's difference from the reference domain
(means: ``Design.compare``; shares: sid.tables.differences) with a design-based t-test;
``chisq`` adds the Rao-Scott F test (``Design.chisq``) of a categorical variable by a
domain. Flags and the suppression mark follow the plan's defaults (sid.tables.disclosure);
the values stay in this internal frame (``publish`` blanks them).

Columns (COLUMNS): table_id, theme, title, variable, variable_label, statistic (mean,
proportion, median, total, difference, rao_scott_f), unit (sid.tables.precision), by_var ("overall" or "a:b"), by_var_label,
by_value (codes joined by ":"), by_label, category, category_label, reference (the
reference domain of a difference), reference_label, estimate (for rao_scott_f: the
Rao-Scott F, the plan's ``chisq`` test),
se, ci_low, ci_high, cv, n (unweighted), weighted_n, deff, df (degrees of freedom of the
CI/test; for rao_scott_f the denominator df), ndf (its numerator df), p_value,
variance_method (taylor or the replicate type), lonely_psu (the plan's rule for a
stratum with one PSU, for Taylor variance), status, suppressed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sid.errors import EstimationError
from sid.tables.differences import (
    domain_counts,
    domain_keys,
    proportion_differences,
    reference_index,
)
from sid.tables.disclosure import flag_cells
from sid.tables.labels import Labels, code_key
from sid.tables.plan import TablePlan, TableSpec
from sid.tables.precision import units

COLUMNS = [
    "table_id", "theme", "title", "variable", "variable_label", "statistic", "unit",
    "by_var", "by_var_label", "by_value", "by_label", "category", "category_label",
    "reference", "reference_label", "estimate", "se", "ci_low", "ci_high", "cv", "n",
    "weighted_n", "deff", "df", "ndf", "p_value", "variance_method", "lonely_psu", "status", "suppressed",
]
OVERALL, ALL, ALL_LABEL = "overall", "all", "Totaal"
RAO_SCOTT = "rao_scott_f"  # the statistic of a plan's ``chisq`` test: an F, not a chi-square
STATISTICS_OF_KIND = {"index": ("mean",), "categorical": ("proportion",), "numeric": ("mean", "median")}
_TEXT = ["category", "category_label", "reference", "reference_label"]


def _domain(res: pd.DataFrame, by: tuple[str, ...], labels: Labels) -> dict:
    """by_var, by_var_label, by_value, by_label of the estimator rows ``res``."""
    if not by:
        return {"by_var": OVERALL, "by_var_label": ALL_LABEL, "by_value": ALL, "by_label": ALL_LABEL}
    codes = [res[b].map(code_key).astype(str).reset_index(drop=True) for b in by]
    labs = [labels.value_labels(b, c).astype(str) for b, c in zip(by, codes, strict=True)]
    return {
        "by_var": ":".join(by),
        "by_var_label": " × ".join(labels.label(b) for b in by),
        "by_value": (codes[0].str.cat(codes[1:], sep=":") if len(codes) > 1 else codes[0]).to_numpy(),
        "by_label": (labs[0].str.cat(labs[1:], sep=" – ") if len(labs) > 1 else labs[0]).to_numpy(),
    }


def _frame(t: TableSpec, var: str, stat: str, res: pd.DataFrame, by: tuple[str, ...],
           labels: Labels, method: str) -> pd.DataFrame:
    """The tidy rows of one estimator result (built as one dict of columns: cheap)."""
    n = len(res)
    none = np.full(n, None, dtype=object)
    cols: dict = {"table_id": t.id, "theme": t.theme, "title": t.title, "variable": var,
                  "variable_label": labels.label(var), "statistic": stat, **_domain(res, by, labels)}
    for c in _TEXT:
        cols[c] = none
    if "category" in res.columns:
        cat = res["category"].map(code_key).astype(str).reset_index(drop=True)
        cols["category"] = cat.to_numpy(dtype=object)
        cols["category_label"] = labels.value_labels(var, cat).astype(str).to_numpy(dtype=object)
    for c in ("estimate", "se", "ci_low", "ci_high", "cv", "weighted_n", "deff", "df"):
        cols[c] = res[c].to_numpy(dtype=float) if c in res.columns else np.full(n, np.nan)
    cols["n"] = res["n"].to_numpy(dtype=np.int64)
    cols["ndf"] = np.full(n, np.nan)
    cols["p_value"] = res["p"].to_numpy(dtype=float) if "p" in res.columns else np.full(n, np.nan)
    cols["variance_method"] = method
    return pd.DataFrame(cols, index=pd.RangeIndex(n))


BATCHED = ("mean", "total", "proportion")  # estimators that take a list of variables


def _domains(t: TableSpec) -> list[tuple[str, ...]]:
    return ([()] if t.overall else []) + list(t.by)


def _batched(design, plan: TablePlan, labels: Labels) -> dict[tuple[str, tuple[str, ...], str], pd.DataFrame]:
    """Estimator rows of every (statistic, domain, variable) of the plan whose statistic
    takes a list of variables: one Design call per (statistic, domain) with all the
    plan's variables of it (one pass over the replicate weights), split by variable."""
    asked: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for t in plan.tables:
        for var in t.variables:
            for by in _domains(t):
                for stat in t.statistics or STATISTICS_OF_KIND[labels.kind(var)]:
                    names = asked.setdefault((stat, by), [])
                    if stat in BATCHED and var not in names:
                        names.append(var)
    d = plan.defaults
    out = {}
    for (stat, by), names in asked.items():
        if not names:
            continue
        b = list(by) or None
        if stat == "proportion":
            res = design.proportion(names, by=b, ci=d.proportion_ci, level=d.level)
        else:
            res = getattr(design, stat)(names, by=b, level=d.level)
        of = res["variable"].to_numpy()
        for var in names:
            out[(stat, by, var)] = res.iloc[np.flatnonzero(of == var)].reset_index(drop=True)
    return out


def _cells(design, plan: TablePlan, t: TableSpec, var: str, by: tuple[str, ...], stat: str,
           labels: Labels, batched: dict) -> pd.DataFrame:
    d = plan.defaults
    b = list(by) or None
    if (stat, by, var) in batched:
        res = batched[(stat, by, var)]
    elif stat == "mean":
        res = design.mean(var, by=b, level=d.level)
    elif stat == "total":
        res = design.total(var, by=b, level=d.level)
    elif stat == "median":
        res = design.quantile(var, 0.5, by=b, level=d.level)
    else:
        res = design.proportion(var, by=b, ci=d.proportion_ci, level=d.level)
    return _frame(t, var, stat, res, by, labels, design.method)


def _differences(design, plan: TablePlan, t: TableSpec, var: str, by: tuple[str, ...], kind: str,
                 labels: Labels) -> pd.DataFrame:
    name = ":".join(by)
    ref = t.compare_to[name]
    level = plan.defaults.level
    if kind == "categorical":
        res = proportion_differences(design, var, list(by), ref, level)
        n = np.minimum(res["n"].to_numpy(), res["n_reference"].to_numpy())
    else:
        y = design.data[var].to_numpy(dtype=float, na_value=np.nan)
        doms, counts = domain_counts(design, ~np.isnan(y), list(by))
        r = reference_index(doms, list(by), ref, name)
        # Design.compare names domains by their values as text joined by ":".
        level_key = ":".join(str(v) for v in doms.iloc[r][list(by)])
        res = design.compare(var, list(by), reference=level_key, level=level)
        # compare() drops the reference row; the counts of the others keep their order.
        n = np.minimum(np.delete(counts, r), counts[r])
        res["reference"] = domain_keys(doms, list(by))[r]
    res = res.assign(n=n, estimate=res["difference"], cv=np.nan, weighted_n=np.nan, deff=np.nan)
    out = _frame(t, var, "difference", res, by, labels, design.method)
    rkey = str(res["reference"].iloc[0]) if len(res) else None
    out["reference"] = rkey
    if rkey is not None:
        parts = rkey.split(":")
        out["reference_label"] = " – ".join(labels.categories.get(b, {}).get(c, c)
                                            for b, c in zip(by, parts, strict=True))
    return out


def _chisq(design, t: TableSpec, var: str, by: str, labels: Labels) -> pd.DataFrame:
    res = design.chisq(var, by)
    yv = design.data[var].notna().to_numpy() & design.data[by].notna().to_numpy()
    n = int(np.count_nonzero(design.domain & yv))
    out = _frame(t, var, RAO_SCOTT, res.assign(estimate=res["F"], df=res["ddf"], n=n), (), labels, design.method)
    out["by_var"], out["by_var_label"], out["by_label"] = by, labels.label(by), ALL_LABEL
    out["ndf"] = res["ndf"].to_numpy(dtype=float)
    return out


def label_total(frame: pd.DataFrame, text: str) -> pd.DataFrame:
    """Copy of the tidy table ``frame`` with the whole population named ``text`` (the
    catalogue's ``common.total`` in the output's language) instead of "Totaal": by_label of
    the rows of by_value "all", and by_var_label of the overall rows."""
    out = frame.copy()
    every = (out["by_value"] == ALL).to_numpy(dtype=bool)
    out.loc[every & (out["by_label"] == ALL_LABEL).to_numpy(dtype=bool), "by_label"] = text
    out.loc[(out["by_var"] == OVERALL).to_numpy(dtype=bool), "by_var_label"] = text
    return out


def build_tables(design, plan: TablePlan, labels: Labels,
                 progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """All tables of ``plan`` on ``design`` as one tidy frame (columns COLUMNS), with the status
    (low_n, high_cv) and the suppression mark of published output; values are kept.
    ``progress`` is called with one line per table."""
    batched = _batched(design, plan, labels)
    parts = []
    for i, t in enumerate(plan.tables, start=1):
        if progress is not None:
            progress(f"table {i}/{len(plan.tables)}: {t.id} ({len(t.variables)} variables x "
                     f"{len(t.by) + t.overall} domains)")
        for var in t.variables:
            kind = labels.kind(var)
            stats = t.statistics or STATISTICS_OF_KIND[kind]
            for by in _domains(t):
                for stat in stats:
                    parts.append(_cells(design, plan, t, var, by, stat, labels, batched))
                if ":".join(by) in t.compare_to:
                    diff_kind = "categorical" if "proportion" in stats else "numeric"
                    parts.append(_differences(design, plan, t, var, by, diff_kind, labels))
            if t.chisq and kind != "categorical":
                raise EstimationError(f"table {t.id!r}: chisq tests categorical variables; {var!r} is {kind}")
            for by in t.chisq:
                parts.append(_chisq(design, t, var, by, labels))
    out = pd.concat(parts, ignore_index=True)
    out = flag_cells(out, plan.defaults.min_n, plan.defaults.max_cv)
    out["unit"] = units(out["statistic"], out["variable"].map(labels.kind), out["category"].notna())
    # the lonely-PSU rule matters to Taylor variance only; replicate weights carry their own
    out["lonely_psu"] = (design.lonely_psu if design.method == "taylor"
                         else "not used (replicate weights)")
    return out[COLUMNS]
