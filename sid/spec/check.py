"""Lint a questionnaire spec (:func:`check_spec`) and data against it (:func:`check_data`).

Loading (:func:`sid.spec.questionnaire.load_questionnaire`) already rejects malformed
specs; these checks find what is well-formed but wrong: names that do not exist, derived
variables used before they are defined, items that cannot be reversed, codes in the data
that the spec does not know. Each problem is a :class:`Finding`; ``error`` findings
make ``sid check`` exit 1, ``warning`` findings are reported only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd

from sid.errors import SpecError
from sid.io.spss_meta import SpssMeta, VariableMeta
from sid.spec.check_literals import literal_problems
from sid.spec.expr import SHOWN_SOURCE, Expression
from sid.spec.expr_nodes import to_array
from sid.spec.questionnaire import Derived, Questionnaire, Variable
from sid.spec.questionnaire_parse import load_questionnaire
from sid.spec.yamlfile import shown, suggest


class Finding(NamedTuple):
    """One problem: ``severity`` ("error" | "warning"), ``where`` (file:line: key path,
    or data file: variable), ``message`` (what is wrong and what to do)."""

    severity: str
    where: str
    message: str

    def __str__(self) -> str:
        if not self.where:  # the message names its place itself (a load error)
            return f"{self.severity}: {self.message}"
        return f"{self.severity}: {self.where}: {self.message}"


def load_checked_questionnaire(path: str | os.PathLike[str]) -> Questionnaire:
    """:func:`sid.spec.questionnaire.load_questionnaire`, then :func:`check_spec`: a one-line
    SpecError on its first error finding (unknown names in expressions, items of an index
    not declared...), as the stages that run the spec need it sound."""
    q = load_questionnaire(path)
    errors = [f for f in check_spec(q) if f.severity == "error"]
    if errors:
        raise SpecError(f"{errors[0].where}: {errors[0].message}")
    return q


def _names_problem(expr: Expression, known: set[str], later: dict[str, str],
                   what: str) -> list[str]:
    """Messages for names of ``expr`` that are not in ``known``."""
    out = []
    for name in sorted(expr.names):
        if name in known:
            continue
        if name in later:
            out.append(f"{shown(expr.source, limit=SHOWN_SOURCE)} uses {shown(name)}, {later[name]}")
        else:
            out.append(f"{shown(expr.source, limit=SHOWN_SOURCE)} uses unknown variable {shown(name)}{suggest(name, known)}")
    return [f"{what}: {m}" for m in out]


def check_spec(q: Questionnaire) -> list[Finding]:
    """Problems of meaning in a loaded questionnaire spec, in spec order."""
    found: list[Finding] = []

    def err(where: str, msg: str, severity: str = "error") -> None:
        found.append(Finding(severity, where, msg))

    top = q.path or q.wave
    base = {v.name for v in q.variables} | {q.key}
    if q.mode_variable:
        base.add(q.mode_variable)
    derived_names = {d.name: f"derived[{i}]" for i, d in enumerate(q.derived)}
    after_cleaning = {n: "a derived variable, computed after cleaning: routing and checks "
                         "cannot use it" for n in derived_names}
    if q.key not in {v.name for v in q.variables}:
        err(top, f"key {shown(q.key)} is not declared among the variables; declare it "
                 "(source: register)", "warning")

    for v in q.variables:
        if v.relevant is not None:
            for m in _names_problem(v.relevant, base, after_cleaning, "relevant"):
                err(v.where, f"{v.name}: {m}")
            if v.name in v.relevant.names:
                err(v.where, f"{v.name}: relevant refers to the item itself")
        for i, c in enumerate(v.checks):
            for m in _names_problem(c.expr, base, after_cleaning, f"checks[{i}]"):
                err(v.where, f"{v.name}: {m}")
        _check_labels(v, err)
        _check_codes_in_range(q, v, err)
        if v.type == "numeric" and v.range is None and v.source == "questionnaire":
            err(v.where, f"{v.name}: numeric item without a range; out-of-range answers "
                         "cannot be detected (add range: [low, high])", "warning")

    known = set(base)
    for d in q.derived:
        later = {n: f"which is defined later ({w}); move {d.name} below it"
                 for n, w in derived_names.items() if n not in known and n != d.name}
        for m in _names_problem(d.expr, known | {d.name}, later, "expr"):
            err(d.where, f"{d.name}: {m}")
        if d.name in d.expr.names:
            err(d.where, f"{d.name}: expr refers to the variable itself")
        _check_labels(d, err)
        known.add(d.name)

    _check_indices(q, known, err)
    _check_quality(q, base, err, top)
    for where, owner, expr in _expressions(q):
        for severity, msg in literal_problems(expr, q):
            err(where, f"{owner}: {msg}", severity)
    return found


def _expressions(q: Questionnaire) -> Iterable[tuple[str, str, Expression]]:
    """``(where, owner name, expression)`` for every expression of the spec."""
    for v in q.variables:
        if v.relevant is not None:
            yield v.where, v.name, v.relevant
        for c in v.checks:
            yield v.where, v.name, c.expr
    for d in q.derived:
        yield d.where, d.name, d.expr
    for ix in q.indices:
        if ix.reference_group is not None:
            yield ix.where, ix.name, ix.reference_group


def _check_labels(v: Variable | Derived, err) -> None:
    if v.type in ("categorical", "ordinal") and not v.categories:
        err(v.where, f"{v.name}: {v.type} variable without categories; add their labels")
    labels = [" ".join(lab.split()).casefold() for lab in v.categories.values()]
    if len(set(labels)) != len(labels):
        err(v.where, f"{v.name}: two categories have the same label", "warning")
    if v.range is not None and v.categories:
        outside = [k for k in v.categories if not isinstance(k, str)
                   and not v.range[0] <= float(k) <= v.range[1]]
        if outside:
            err(v.where, f"{v.name}: category {outside[0]} is outside range {list(v.range)}")


def _check_codes_in_range(q: Questionnaire, v: Variable, err) -> None:
    """Missing codes of the item inside its valid range: a real answer of such a value
    would be read as missing (and SPSS would declare a valid value missing). A warning,
    one per variable naming the codes: the spec loads, but codes and range should not
    overlap. (A category equal to a wave missing code is a load error already.)"""
    if v.range is None:
        return
    lo, hi = (float(x) for x in v.range)
    inside = [c for c in q.missing_codes_for(v.name) if lo <= float(c) <= hi]
    if not inside:
        return
    codes = ", ".join(f"{_fmt(float(c))} ({q.missing_codes[c].label!r})" for c in inside)
    one = len(inside) == 1
    err(v.where, f"{v.name}: missing code{'' if one else 's'} {codes} {'lies' if one else 'lie'} inside "
                 f"the valid range [{_fmt(lo)}, {_fmt(hi)}], so such an answer would count as missing; "
                 "give the codes values outside the range, narrow the range, or leave them out of "
                 "the item's missing", "warning")


def _check_indices(q: Questionnaire, known: set[str], err) -> None:
    declared = {v.name: v for v in (*q.variables, *q.derived)}
    for ix in q.indices:
        for item in ix.items:
            v = declared.get(item)
            if v is None:
                err(ix.where, f"{ix.name}: item {shown(item)} is not a declared variable"
                              f"{suggest(item, declared)}")
            elif v.is_text:
                err(ix.where, f"{ix.name}: item {shown(item)} is text and cannot be scored")
        for item in ix.reverse:
            v = declared.get(item)
            if v is not None and not v.categories and v.range is None:
                err(ix.where, f"{ix.name}: reversed item {shown(item)} has neither categories nor a "
                              "range to be reflected within; declare one")
        if ix.min_valid > len(ix.items):
            err(ix.where, f"{ix.name}: min_valid {ix.min_valid} is larger than the number of "
                          f"items ({len(ix.items)})")
        if ix.scoring == "count":
            for item in ix.items:
                v = declared.get(item)
                if v is not None and v.categories and not set(ix.count_values) & set(v.categories):
                    err(ix.where, f"{ix.name}: none of count_values {list(ix.count_values)} is a "
                                  f"category of {shown(item)}", "warning")
        if ix.reference_group is not None:
            for m in _names_problem(ix.reference_group, known, {}, "reference_group"):
                err(ix.where, f"{ix.name}: {m}")


def _check_quality(q: Questionnaire, base: set[str], err, top: str) -> None:
    names = {v.name for v in q.variables}
    grids: dict[str, int] = {}
    for v in q.variables:
        if v.grid:
            grids[v.grid] = grids.get(v.grid, 0) + 1
    qual = q.quality
    if qual.speeders is not None:
        sw = qual.speeders.where or f"{top}: quality.speeders"
        if qual.speeders.duration not in names:
            err(sw, f"duration: {shown(qual.speeders.duration)} is not a declared "
                     "variable (declare it, source: paradata)")
        for m in qual.speeders.modes:
            if m not in q.modes:
                err(sw, f"modes: {shown(m)} is not one of the modes "
                         f"({', '.join(q.modes) or 'none declared'})")
    if qual.straightlining is not None:
        gw = qual.straightlining.where or f"{top}: quality.straightlining"
        for g in qual.straightlining.grids:
            if g not in grids:
                err(gw, f"grids: no variable has grid {shown(g)}"
                         f"{suggest(g, grids)}")
            elif grids[g] < qual.straightlining.min_items:
                err(gw, f"grid {shown(g)} has {grids[g]} items, fewer than "
                         f"min_items {qual.straightlining.min_items}; it is never checked",
                    "warning")
    for i, rm in enumerate(qual.register_mismatch):
        for role, n in (("answer", rm.answer), ("register", rm.register)):
            if n not in names:
                err(rm.where or f"{top}: quality.register_mismatch[{i}]", f"{role}: {shown(n)} is not a declared "
                         f"variable{suggest(n, names)}")
    if isinstance(q.completion.items, tuple):
        for n in q.completion.items:
            if n not in names:
                err(q.completion.where or f"{top}: completion", f"items: {shown(n)} is not a declared variable")


# -- data against the spec -----------------------------------------------------------------

def _fmt(x: object) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else repr(x) if isinstance(x, str) else str(x)


def _outside(values: np.ndarray, bad: np.ndarray, limit: int = 5) -> str:
    counts = pd.Series(values[bad]).value_counts()
    listed = ", ".join(f"{_fmt(k)} ({c})" for k, c in counts.head(limit).items())
    return listed + (f" and {len(counts) - limit} more" if len(counts) > limit else "")


def check_data(df: pd.DataFrame, meta: SpssMeta | None, q: Questionnaire, *,
               where: str = "data") -> list[Finding]:
    """Disagreements between a data file (``df`` + its SPSS ``meta``, may be None) and the
    spec: variables missing or extra, codes outside the categories / range that are not
    declared missing, value labels in the file that differ from the spec's."""
    found: list[Finding] = []
    columns = set(map(str, df.columns))
    allowed_extra = {q.key, q.mode_variable} | {d.name for d in q.derived}
    for v in q.variables:
        if v.name in columns:
            continue
        if v.source == "register" and v.name != q.key:
            # fieldwork files usually lack register variables: they come from the frame
            found.append(Finding("warning", f"{where}: {v.name}", "register variable not in "
                                 "the data; it must be merged from the register frame"))
        else:
            found.append(Finding("error", f"{where}: {v.name}",
                                 f"declared in {q.path or q.wave} but not in the data"))
    declared = {v.name for v in q.variables}
    for c in df.columns:
        if str(c) not in declared and str(c) not in allowed_extra:
            found.append(Finding("warning", f"{where}: {c}",
                                 f"in the data but not declared in {q.path or q.wave}"))
    for v in q.variables:
        if v.name in columns:
            found += _check_values(df[v.name], v, q, where)
            if meta is not None and v.name in meta.variables:
                vm = meta.variables[v.name]
                found += _check_value_labels(vm.value_labels, v, q, where)
                found += _check_declared_missing(vm, v, where)
    return found


def _check_values(s: pd.Series, v: Variable, q: Questionnaire, where: str) -> list[Finding]:
    at = f"{where}: {v.name}"
    if v.identifier is not None:
        return []  # raw numbers (text or numeric) in a fieldwork file; ingest pseudonymises them
    try:
        x = to_array(s)
    except TypeError:
        return []  # dates / times: nothing to compare with codes
    if v.type in ("date",):
        return []
    if x.dtype == object and not v.is_text:
        return [Finding("error", at, f"declared {v.type} in the spec but holds text")]
    if x.dtype != object and v.is_text and not np.isnan(x).all():
        return [Finding("error", at, "declared text in the spec but holds numbers")]
    codes = q.missing_codes_for(v.name)
    if x.dtype == object:
        if not v.categories:
            return []
        present = ~pd.isna(x)
        bad = present & ~np.isin(np.where(present, x, "").astype(object), list(v.categories))
        what = "values outside the categories"
    else:
        present = ~np.isnan(x)
        ok = np.isin(x, np.asarray(list(codes), dtype=float))
        if v.categories:
            ok |= np.isin(x, np.asarray(list(v.categories), dtype=float))
            what = "codes outside the categories and missing codes"
        elif v.range is not None:
            ok |= (x >= v.range[0]) & (x <= v.range[1])
            what = f"values outside range [{_fmt(float(v.range[0]))}, {_fmt(float(v.range[1]))}] and the missing codes"
        else:
            return []
        bad = present & ~ok
    n_bad = int(bad.sum())
    if not n_bad:
        return []
    return [Finding("error", at, f"{n_bad} row(s) hold {what}: {_outside(x, bad)}; "
                                 "fix the data, or declare the codes in the spec")]


def _check_declared_missing(vm: VariableMeta, v: Variable, where: str) -> list[Finding]:
    """A spec category that the file declares user-missing would vanish from analyses."""
    codes = [k for k in v.categories if not isinstance(k, str)]
    if not codes or vm.type != "numeric" or not vm.has_missing:
        return []
    hit = vm.is_missing_code(np.asarray(codes, dtype=float))
    return [Finding("warning", f"{where}: {v.name}",
                    f"the file declares code {_fmt(float(c))} ({shown(v.categories[c])}) user-missing, "
                    "but the spec has it as a valid category")
            for c, h in zip(codes, hit, strict=True) if h]


def _norm(label: str) -> str:
    return " ".join(str(label).split())


def _check_value_labels(labels: dict, v: Variable, q: Questionnaire,
                        where: str) -> Iterable[Finding]:
    at = f"{where}: {v.name}"
    spec: dict = {}
    for c in q.missing_codes_for(v.name):
        spec[float(c)] = q.missing_codes[c].label
    for k, lab in v.categories.items():
        spec[k if isinstance(k, str) else float(k)] = lab
    out = []
    for k, lab in labels.items():
        key = k if isinstance(k, str) else float(k)
        if key not in spec:
            if key in {float(c) for c in q.missing_codes}:
                continue  # a wave missing code the item does not use: harmless label
            out.append(Finding("warning", at, f"the file labels code {_fmt(key)} ({shown(lab)}) "
                                              "which the spec does not declare"))
        elif _norm(spec[key]).casefold() != _norm(lab).casefold():
            out.append(Finding("warning", at, f"code {_fmt(key)} is labelled {shown(lab)} in the file "
                                              f"but {shown(spec[key])} in the spec"))
    return out
