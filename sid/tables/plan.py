"""The table plan (``reports/<wave>_tables.yaml``): which tables a wave publishes.

A plan has ``defaults`` (disclosure and quality rules, confidence level, variance method,
proportion CI method) and a list of ``tables``; each table names its theme, title,
variables, domains (``by``; a crossing is written ``"origin:generation"``), the reference
category of a domain for differences (``compare_to``: ``{origin: BEL}``, or for a crossing
``{"origin:generation": "BEL:0"}``) and the domains of the Rao-Scott tests (``chisq``). Every error is a one-line :class:`sid.errors.SpecError` naming the plan
file, line and key (sid.spec.yamlfile)::

    reports/sid2022_tables.yaml:14: tables[2].by[1]: 'origin:' is not a domain ...
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from sid.spec.yamlfile import Item, Section, Where, load_yaml, parse_yaml, shown

VARIANCE_METHODS = ("taylor", "replicate")
# a stratum with one PSU in Taylor variance (R's options(survey.lonely.psu))
LONELY_PSU_RULES = ("fail", "adjust", "remove", "certainty")
PROPORTION_CI = ("logit", "korn-graubard")
STATISTICS = ("mean", "proportion", "median", "total")

_TOP_KEYS = {"wave", "defaults", "tables"}
_DEFAULT_KEYS = {"min_n", "max_cv", "level", "variance", "proportion_ci", "overall", "lonely_psu"}
_TABLE_KEYS = {"id", "theme", "title", "variables", "by", "compare_to", "chisq", "statistics", "overall"}


@dataclass(frozen=True)
class Defaults:
    """Rules of every table: ``min_n`` (unweighted n under which a cell is suppressed in
    published output), ``max_cv`` (coefficient of variation above which a cell is flagged
    unreliable), ``level`` of the CIs, ``variance`` ("taylor" or "replicate"),
    ``proportion_ci`` ("logit" as R's svyciprop, or "korn-graubard"), ``lonely_psu`` (a
    stratum with one PSU in Taylor variance: "fail", "adjust", "remove" or "certainty", as
    R's ``options(survey.lonely.psu)``; stated in every row), ``overall`` (a row
    for the whole population besides the domains)."""

    min_n: int = 30
    max_cv: float = 0.3
    level: float = 0.95
    variance: str = "replicate"
    proportion_ci: str = "logit"
    overall: bool = True
    lonely_psu: str = "fail"


@dataclass(frozen=True)
class TableSpec:
    """One table: its ``variables`` by each domain of ``by`` (tuples of variable names;
    one name, or several for a crossing). ``compare_to`` maps a domain ("origin", or a
    crossing "origin:generation") to its reference category ("BEL", "BEL:0"); ``chisq`` names the domains of Rao-Scott tests;
    ``statistics`` overrides the statistics chosen from each variable's type."""

    id: str
    theme: str
    title: str
    variables: tuple[str, ...]
    by: tuple[tuple[str, ...], ...] = ()
    compare_to: Mapping[str, str | int] = field(default_factory=dict)
    chisq: tuple[str, ...] = ()
    statistics: tuple[str, ...] | None = None
    overall: bool = True
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class TablePlan:
    """A wave's table plan."""

    wave: str
    defaults: Defaults
    tables: tuple[TableSpec, ...]
    path: str = field(default="", compare=False)

    def names(self) -> set[str]:
        """Every variable name the plan reads (variables and domain variables)."""
        out: set[str] = set()
        for t in self.tables:
            out.update(t.variables)
            for b in t.by:
                out.update(b)
            out.update(t.chisq)
        return out


def parse_domain(text: str, where: Where) -> tuple[str, ...]:
    """``"origin:generation"`` -> ``("origin", "generation")``; SpecError when malformed."""
    if not isinstance(text, str) or not text.strip():
        raise where.error(f"expected a domain name such as 'origin' or 'origin:generation', got {shown(text)}")
    parts = tuple(p.strip() for p in text.split(":"))
    if any(not p for p in parts):
        raise where.error(f"{shown(text)} is not a domain; write one variable or a crossing 'a:b' without empty parts")
    if len(set(parts)) != len(parts):
        raise where.error(f"{shown(text)} crosses a variable with itself; name each variable once")
    return parts


def _defaults(top: Section) -> Defaults:
    if "defaults" not in top:
        return Defaults()
    d = top.section("defaults", keys=_DEFAULT_KEYS)
    base = Defaults()
    return Defaults(
        min_n=d.number("min_n", base.min_n, integer=True, low=0),
        max_cv=float(d.number("max_cv", base.max_cv, low=0)),
        level=float(d.number("level", base.level, low=0.5, high=0.999)),
        variance=d.text("variance", base.variance, choices=VARIANCE_METHODS),
        proportion_ci=d.text("proportion_ci", base.proportion_ci, choices=PROPORTION_CI),
        overall=d.flag("overall", base.overall),
        lonely_psu=d.text("lonely_psu", base.lonely_psu, choices=LONELY_PSU_RULES),
    )


def _table(item: Item, defaults: Defaults, seen: dict[str, str]) -> TableSpec:
    s = Section(item.value, item.where, keys=_TABLE_KEYS, required=("id", "theme", "title", "variables"))
    tid = s.text("id")
    if tid in seen:
        raise s.at("id").error(f"table id {shown(tid)} is already used at {seen[tid]}; give each table its own id")
    seen[tid] = str(s.at("id"))
    variables = s.names("variables")
    if not variables:
        raise s.at("variables").error("the table has no variables; name at least one")
    by = tuple(parse_domain(x.value, x.where) for _, x in s.items("by", []))
    singles = {b[0] for b in by if len(b) == 1}
    compare: dict[str, str | int] = {}
    if "compare_to" in s:
        cmp = s.get("compare_to")
        if not isinstance(cmp, dict):
            raise s.at("compare_to").error("expected a mapping domain -> reference category, e.g. {origin: BEL}")
        sec = Section(cmp, s.at("compare_to"), keys={":".join(b) for b in by} or {"(a domain of by)"})
        for k, v in cmp.items():
            if isinstance(v, bool) or not isinstance(v, str | int):
                raise sec.at(k).error(f"expected a category code (text or whole number), got {shown(v)}")
            compare[k] = v
    chisq = s.names("chisq", ())
    for j, c in enumerate(chisq):
        if c not in singles:
            raise s.at("chisq").index(j).error(
                f"{shown(c)} is not a single-variable domain of this table's by; add it to by or remove it")
    stats = s.names("statistics", None)
    if stats is not None:
        for j, st in enumerate(stats):
            if st not in STATISTICS:
                raise s.at("statistics").index(j).error(f"{shown(st)} is not one of {', '.join(STATISTICS)}")
    return TableSpec(
        id=tid, theme=s.text("theme"), title=s.text("title"), variables=variables, by=by,
        compare_to=compare, chisq=tuple(chisq), statistics=tuple(stats) if stats is not None else None,
        overall=s.flag("overall", defaults.overall), where=str(item.where),
    )


def _plan(doc, where: str) -> TablePlan:
    top = Section(doc, Where(where), keys=_TOP_KEYS, required=("wave", "tables"))
    defaults = _defaults(top)
    seen: dict[str, str] = {}
    tables = tuple(_table(item, defaults, seen) for _, item in top.items("tables"))
    if not tables:
        raise top.at("tables").error("the plan has no tables; add at least one")
    return TablePlan(wave=top.text("wave"), defaults=defaults, tables=tables, path=where)


def load_plan(path: str | os.PathLike[str]) -> TablePlan:
    """Read and validate a table plan file; raises a one-line SpecError."""
    return _plan(load_yaml(path), str(path))


def parse_plan(text: str, *, where: str = "<plan>") -> TablePlan:
    """A table plan from YAML text (``where`` names it in errors)."""
    return _plan(parse_yaml(text, where=where), where)


def check_plan(plan: TablePlan, known: Mapping[str, str], columns,
               themes: Mapping[str, str] | None = None) -> None:
    """Check that every name of the plan is a variable of the wave, that domains are
    categorical, that tables with ``chisq`` hold only categorical variables, and (given
    the questionnaire's ``themes``, when it declares any) that each table's theme is one.

    ``known`` maps declared names to their kind (sid.tables.labels); ``columns`` are the
    columns of the opened wave. Raises SpecError naming the table.
    """
    from sid.errors import SpecError
    from sid.spec.yamlfile import suggest

    cols = set(columns)
    for t in plan.tables:
        if themes and t.theme not in themes:
            raise SpecError(f"{t.where}: table {t.id!r}: theme {t.theme!r} is not declared in the "
                            f"questionnaire's themes ({', '.join(themes)}){suggest(t.theme, themes)}")
        for name in (*t.variables, *(n for b in t.by for n in b)):
            if name not in known:
                raise SpecError(f"{t.where}: table {shown(t.id)}: {shown(name)} is not a variable, derived variable "
                                f"or index of the questionnaire{suggest(name, known)}")
            if name not in cols:
                hint = "run `sid score` first" if name.startswith("idx_") else "check the clean wave"
                raise SpecError(f"{t.where}: table {shown(t.id)}: {shown(name)} is not in the opened wave; {hint}")
        for name in (n for b in t.by for n in b):
            if known[name] != "categorical":
                raise SpecError(f"{t.where}: table {shown(t.id)}: domain variable {shown(name)} is {known[name]}, not "
                                "categorical; use a banded variable (e.g. age_band) as a domain")
        if t.chisq:
            for name in t.variables:
                if known[name] != "categorical":
                    raise SpecError(f"{t.where}: table {shown(t.id)}: chisq tests categorical variables, and {shown(name)} "
                                    f"is {known[name]}; put it in a table without chisq")


__all__ = ["Defaults", "TableSpec", "TablePlan", "load_plan", "parse_plan", "check_plan", "parse_domain"]
