"""Linkage specs: which survey indicators VLIM takes from a SID wave, and the origin map.

``linkage/<wave>.yaml`` names the wave, its period (reference year), the indicator base
(a DuckDB file, relative to the project folder), the disclosure rules, the geographies,
the breakdowns and the indicators; ``linkage/origin_map.yaml`` maps SID's origin groups
onto VLIM's categories (Belgian, EU, non-EU origin) and SID's generation codes onto
first/second. Both are read through :mod:`sid.spec.yamlfile`, so every error is one line
naming file, line and key. Expressions (conditions, universes, geographies) are parsed
once here with :func:`sid.spec.expr.parse`; when the spec names a questionnaire, every
variable they use must be declared there (or be one of its indices).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sid.errors import SpecError
from sid.io.hashing import sha256_files
from sid.spec.expr import Expression, parse
from sid.spec.questionnaire import Questionnaire, load_questionnaire
from sid.spec.yamlfile import Section, Where, check_str_list, load_yaml

STATISTICS = ("share", "mean")
# Breakdown dimensions a value row has besides geography and origin (columns of the base).
DIMENSIONS = ("generation", "sex", "age_band")
TOTAL = "total"


@dataclass(frozen=True)
class OriginCategory:
    """A VLIM origin category and the SID origin groups it pools."""

    code: str
    label: str
    groups: tuple[str, ...]
    coverage: str


@dataclass(frozen=True)
class OriginMap:
    """SID origin groups -> VLIM categories; SID generation codes -> first/second."""

    origin_variable: str
    generation_variable: str
    categories: tuple[OriginCategory, ...]
    generations: Mapping[str, str]
    path: str = ""

    def group_to_category(self) -> dict[str, str]:
        """``{SID group: VLIM category code}``."""
        return {g: c.code for c in self.categories for g in c.groups}

    def note(self, code: str, present: tuple[str, ...] | None = None) -> str:
        """The coverage note of VLIM category ``code``: the SID groups it pools (those
        ``present`` in the data when given) and what of the category they leave out."""
        for c in self.categories:
            if c.code == code:
                groups = [g for g in c.groups if present is None or g in present]
                text = f"{c.label}: SID origin group{'s' if len(groups) > 1 else ''} {', '.join(groups)}"
                return f"{text} only ({c.coverage})" if c.coverage else text
        raise SpecError(f"{self.path}: origin category {code!r} is not in the origin map")


@dataclass(frozen=True)
class Geography:
    code: str
    name: str
    condition: Expression


@dataclass(frozen=True)
class SurveyIndicator:
    """One survey indicator: a share (``condition`` true among those where it is known) or a
    mean (of ``variable``), over the ``universe``, in percent or the variable's unit."""

    code: str
    name: str
    theme: str
    statistic: str
    definition: str
    unit: str
    variable: str | None = None
    condition: Expression | None = None
    universe: Expression | None = None
    breakdowns: tuple[tuple[str, ...], ...] = ((),)

    def names(self) -> frozenset[str]:
        """Every respondent variable the indicator reads."""
        out = set(self.condition.names) if self.condition else set()
        if self.variable:
            out.add(self.variable)
        if self.universe:
            out |= self.universe.names
        return frozenset(out)


@dataclass(frozen=True)
class LinkageSpec:
    """A wave's linkage spec (``linkage/<wave>.yaml``), validated."""

    path: str
    wave: str
    period: int
    base: Path
    origin_map: OriginMap
    min_n: int
    max_cv: float
    geographies: tuple[Geography, ...]
    indicators: tuple[SurveyIndicator, ...]
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    questionnaire: Questionnaire | None = field(default=None, repr=False, compare=False)
    spec_hash: str = ""
    files: tuple[str, ...] = ()

    def indicator_table(self) -> pd.DataFrame:
        """Rows of the base's ``indicators`` table for these survey indicators."""
        rows = []
        for ind in self.indicators:
            universe = ind.universe.source if ind.universe else "all respondents"
            if ind.statistic == "share":
                num = f"weighted respondents where {ind.condition.source}"
                den = f"weighted respondents where {universe} and the condition is known"
            else:
                num = den = None
            rows.append({"code": ind.code, "name": ind.name, "theme": ind.theme,
                         "definition": ind.definition, "unit": ind.unit, "source_type": "survey",
                         "numerator": num, "denominator": den})
        return pd.DataFrame(rows)


def load_origin_map(path: str | os.PathLike[str]) -> OriginMap:
    """Read ``linkage/origin_map.yaml``; each SID group may belong to one category only."""
    top = Section(load_yaml(path), Where(str(path)),
                  keys={"origin_variable", "generation_variable", "categories", "generations"},
                  required={"categories"})
    cats: list[OriginCategory] = []
    seen: dict[str, str] = {}
    for _, item in top.items("categories"):
        s = Section(item.value, item.where, keys={"code", "label", "groups", "coverage"},
                    required={"code", "label", "groups"})
        code = s.text("code")
        groups = s.names("groups")
        if not groups:
            raise s.at("groups").error("a category needs at least one SID origin group")
        for g in groups:
            if g in seen:
                raise s.at("groups").error(f"SID group {g!r} is already mapped to {seen[g]!r}; "
                                           "a group belongs to one VLIM category")
            seen[g] = code
        if code in {c.code for c in cats}:
            raise s.at("code").error(f"category {code!r} appears twice")
        cats.append(OriginCategory(code, s.text("label"), groups, s.text("coverage", "")))
    gens = top.get("generations", {})
    if not isinstance(gens, dict):
        raise top.at("generations").error("expected a mapping code: first|second")
    for k, v in gens.items():
        if v not in ("first", "second"):
            raise top.at("generations").error(f"code {k!r} maps to {v!r}; use first or second")
    return OriginMap(top.text("origin_variable", "origin"), top.text("generation_variable", "generation"),
                     tuple(cats), {str(k): v for k, v in gens.items()}, str(path))


def _expr(s: Section, key: str, known: set[str] | None) -> Expression | None:
    if key not in s:
        return None
    return parse(s.text(key), where=str(s.at(key)), known=known)


def _indicator(item, known: set[str] | None, breakdowns) -> SurveyIndicator:
    s = Section(item.value, item.where,
                keys={"code", "name", "theme", "statistic", "variable", "condition", "universe",
                      "definition", "unit", "breakdowns"},
                required={"code", "name", "theme", "statistic", "definition"})
    stat = s.text("statistic", choices=STATISTICS)
    variable = s.text("variable", None)
    if variable is not None and known is not None and variable not in known:
        from sid.spec.yamlfile import suggest

        raise s.at("variable").error(f"unknown variable {variable!r}{suggest(variable, known)}; "
                                     "declare it in the questionnaire spec or fix the name")
    condition = _expr(s, "condition", known)
    if stat == "share" and condition is None:
        raise s.at("condition").error("a share needs a condition (the answer that counts)")
    if stat == "mean" and (variable is None or condition is not None):
        raise s.at("variable").error("a mean needs a variable and no condition")
    bds = _breakdowns(s, "breakdowns", breakdowns)
    return SurveyIndicator(
        code=s.text("code"), name=s.text("name"), theme=s.text("theme"), statistic=stat,
        definition=" ".join(s.text("definition").split()),
        unit=s.text("unit", "percent" if stat == "share" else "index points"),
        variable=variable, condition=condition, universe=_expr(s, "universe", known), breakdowns=bds,
    )


def _breakdowns(s: Section, key: str, default):
    if key not in s:
        return default
    out = []
    for _, item in s.items(key):
        dims = check_str_list(item.value, item.where)
        for d in dims:
            if d not in DIMENSIONS:
                raise item.where.error(f"breakdown {d!r} is not one of {', '.join(DIMENSIONS)}")
        out.append(tuple(dims))
    return tuple(out)


def known_names(q: Questionnaire) -> set[str]:
    """Names an indicator may use: the questionnaire's variables, derived variables and indices."""
    return set(q.names()) | {ix.name for ix in q.indices}


def load_linkage_spec(path: str | os.PathLike[str], *, project: str | os.PathLike[str] | None = None) -> LinkageSpec:
    """Read and validate a linkage spec; ``project`` (default: the spec's grandparent
    folder) anchors the relative ``base`` path. The spec hash covers the spec and its
    origin map."""
    path = Path(path)
    top = Section(load_yaml(path), Where(str(path)),
                  keys={"wave", "period", "base", "origin_map", "questionnaire", "disclosure",
                        "geographies", "breakdowns", "indicators", "labels"},
                  required={"wave", "period", "base", "origin_map", "geographies", "indicators"})
    project_dir = Path(project) if project is not None else path.resolve().parent.parent
    map_path = path.parent / top.text("origin_map")
    if not map_path.is_file():
        raise top.at("origin_map").error(f"origin map {map_path} not found")
    omap = load_origin_map(map_path)
    known = q = None
    if "questionnaire" in top:
        qpath = path.parent / top.text("questionnaire")
        if not qpath.is_file():
            raise top.at("questionnaire").error(f"questionnaire spec {qpath} not found")
        q = load_questionnaire(qpath)
        known = known_names(q) | {omap.origin_variable, omap.generation_variable}
    disc = Section(top.get("disclosure", {}), top.at("disclosure"), keys={"min_n", "max_cv"})
    geos = []
    for _, item in top.items("geographies"):
        g = Section(item.value, item.where, keys={"code", "name", "condition"}, required={"code", "name", "condition"})
        geos.append(Geography(g.text("code"), g.text("name"), _expr(g, "condition", known)))
    default_bd = _breakdowns(top, "breakdowns", ((),))
    inds = [_indicator(item, known, default_bd) for _, item in top.items("indicators")]
    codes = [i.code for i in inds]
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise top.at("indicators").error(f"indicator code {dup[0]!r} appears twice")
    labels = {}
    for dim, mapping in (top.get("labels", {}) or {}).items():
        if dim not in DIMENSIONS or not isinstance(mapping, dict):
            raise top.at("labels").error(f"labels.{dim}: expected one of {', '.join(DIMENSIONS)} with a mapping code: label")
        labels[dim] = {str(k): str(v) for k, v in mapping.items()}
    files = [path, map_path] + ([Path(q.path)] if q is not None and q.path else [])
    return LinkageSpec(
        path=str(path), wave=top.text("wave"), period=top.number("period", integer=True, low=1900, high=2100),
        base=project_dir / top.text("base"), origin_map=omap,
        min_n=disc.number("min_n", 30, integer=True, low=1),
        max_cv=disc.number("max_cv", 0.3, low=0),
        geographies=tuple(geos), indicators=tuple(inds), labels=labels, questionnaire=q,
        spec_hash=sha256_files(files), files=tuple(map(str, files)),
    )


def find_spec(project: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None) -> Path:
    """The one linkage spec of a project folder (``linkage/*.yaml`` but the origin maps,
    ``origin_map*.yaml``); with several, the run's wave's (sid.project.specs.pick_wave_spec)."""
    from sid.project.specs import pick_wave_spec

    folder = Path(project) / "linkage"
    found = sorted(p for p in folder.glob("*.yaml")
                   if not (p.name == "origin_map.yaml" or p.name.startswith("origin_map_")))
    if len(found) > 1 and (hit := pick_wave_spec(found, project, out_dir, "linkage")) is not None:
        return hit
    if len(found) != 1:
        raise SpecError(f"{folder}: {len(found)} linkage specs found; name one with --spec FILE")
    return found[0]
