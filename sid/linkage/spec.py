"""Linkage specs: which survey indicators VLIM takes from a SID wave, and the origin map.

``linkage/<wave>.yaml`` names the wave, its period (reference year), the indicator base
(a DuckDB file, relative to the project folder, and inside it or the run's data folder
unless ``allow_outside_project: true`` says otherwise), the disclosure rules, the
geographies, the survey variable of each breakdown dimension of the base
(``dimensions``), the breakdowns and the indicators; ``linkage/origin_map.yaml`` maps the
survey's origin groups (its ``origin_variable``, by default the project's reporting
group) onto VLIM's categories (Belgian, EU, non-EU origin) and the generation codes onto
first/second. Both are read through :mod:`sid.spec.yamlfile`, so every error is one line
naming file, line and key. Expressions (conditions, universes, geographies) are parsed
once here with :func:`sid.spec.expr.parse`; when the spec names a questionnaire, every
variable they use must be declared there (or be one of its indices).

The texts sid itself writes into the base (coverage notes, default numerator and
denominator texts) are the message catalogue's ``indicator_base.*`` in Dutch, whatever the
run's language: the base is the VLIM's, and VLIM's language is Dutch (BASE_LANGUAGE).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sid.errors import LinkageError, SpecError
from sid.io.hashing import sha256_files
from sid.linkage.db import check_url, is_url
from sid.linkage.schema import DIMENSIONS, GENERATION
from sid.messages import Catalogue, catalogue
from sid.spec.expr import Expression, parse
from sid.spec.questionnaire import Questionnaire
from sid.spec.questionnaire_parse import load_questionnaire
from sid.spec.yamlfile import Section, Where, check_str_list, load_yaml, shown

STATISTICS = ("share", "mean")
BASE_LANGUAGE = "nl"  # the indicator base's language (VLIM's), not the run's


def base_catalogue() -> Catalogue:
    """The catalogue of the texts sid writes into the indicator base (Dutch)."""
    return catalogue(BASE_LANGUAGE)


@dataclass(frozen=True)
class OriginCategory:
    """A VLIM origin category and the SID origin groups it pools."""

    code: str
    label: str
    groups: tuple[str, ...]
    coverage: str


@dataclass(frozen=True)
class OriginMap:
    """SID origin groups -> VLIM categories; SID generation codes -> first/second.
    ``generation_variable``: None when the map names none (the linkage spec's
    ``dimensions`` may)."""

    origin_variable: str
    generation_variable: str | None
    categories: tuple[OriginCategory, ...]
    generations: Mapping[str, str]
    path: str = ""

    def group_to_category(self) -> dict[str, str]:
        """``{SID group: VLIM category code}``."""
        return {g: c.code for c in self.categories for g in c.groups}

    def note(self, code: str, present: tuple[str, ...] | None = None) -> str:
        """The coverage note of VLIM category ``code``: the SID groups it pools (those
        ``present`` in the data when given) and what of the category they leave out."""
        cat = base_catalogue()
        for c in self.categories:
            if c.code == code:
                groups = [g for g in c.groups if present is None or g in present]
                key = ("note_partial" if c.coverage else "note") + ("_many" if len(groups) > 1 else "")
                return cat(f"indicator_base.{key}", category=c.label, groups=", ".join(groups), coverage=c.coverage)
        raise SpecError(f"{self.path}: origin category {shown(code)} is not in the origin map")


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
    #: the universe in words ("20-64 jaar"), for the definition texts and coverage notes
    universe_label: str | None = None
    #: what the numerator and denominator of a share count, in words (default: from the name)
    numerator: str | None = None
    denominator: str | None = None

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
    #: a DuckDB file, or a ``postgresql://`` URL (no password: see sid.linkage.db)
    base: Path | str
    origin_map: OriginMap
    min_n: int
    max_cv: float
    geographies: tuple[Geography, ...]
    indicators: tuple[SurveyIndicator, ...]
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: base breakdown dimension (sid.linkage.schema.DIMENSIONS) -> the survey variable feeding it
    dimensions: Mapping[str, str] = field(default_factory=dict)
    questionnaire: Questionnaire | None = field(default=None, repr=False, compare=False)
    spec_hash: str = ""
    files: tuple[str, ...] = ()

    def indicator_table(self) -> pd.DataFrame:
        """Rows of the base's ``indicators`` table for these survey indicators. The
        numerator and denominator texts of a share are the spec's ``numerator`` /
        ``denominator``, else Dutch sentences built from the indicator's name and its
        ``universe_label`` (never the raw expressions)."""
        cat = base_catalogue()
        rows = []
        for ind in self.indicators:
            universe = ind.universe_label or cat("indicator_base.universe_all" if ind.universe is None
                                                 else "indicator_base.universe_indicator")
            if ind.statistic == "share":
                num = ind.numerator or cat("indicator_base.numerator", universe=universe, name=ind.name)
                den = ind.denominator or cat("indicator_base.denominator", universe=universe)
            else:
                num = den = None
            rows.append({"code": ind.code, "name": ind.name, "theme": ind.theme,
                         "definition": ind.definition, "unit": ind.unit, "source_type": "survey",
                         "numerator_definition": num, "denominator_definition": den})
        return pd.DataFrame(rows)


def load_origin_map(path: str | os.PathLike[str], group: str | None = None) -> OriginMap:
    """Read ``linkage/origin_map.yaml``; each SID group may belong to one category only.
    ``group``: the origin variable when the map names none (the project's reporting group)."""
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
                raise s.at("groups").error(f"SID group {shown(g)} is already mapped to {shown(seen[g])}; "
                                           "a group belongs to one VLIM category")
            seen[g] = code
        if code in {c.code for c in cats}:
            raise s.at("code").error(f"category {shown(code)} appears twice")
        cats.append(OriginCategory(code, s.text("label"), groups, s.text("coverage", "")))
    gens = top.get("generations", {})
    if not isinstance(gens, dict):
        raise top.at("generations").error("expected a mapping code: first|second")
    for k, v in gens.items():
        if v not in ("first", "second"):
            raise top.at("generations").error(f"code {shown(k)} maps to {shown(v)}; use first or second")
    origin_variable = top.text("origin_variable", group)
    if origin_variable is None:
        raise top.at("origin_variable").error(
            "no origin variable: name the survey's origin-group variable (origin_variable: NAME), "
            "or load the map with the project, whose roles.group is the default")
    return OriginMap(origin_variable, top.text("generation_variable", None),
                     tuple(cats), {str(k): v for k, v in gens.items()}, str(path))


def _expr(s: Section, key: str, known: set[str] | None) -> Expression | None:
    if key not in s:
        return None
    return parse(s.text(key), where=str(s.at(key)), known=known)


def _indicator(item, known: set[str] | None, breakdowns, dims: Mapping[str, str]) -> SurveyIndicator:
    s = Section(item.value, item.where,
                keys={"code", "name", "theme", "statistic", "variable", "condition", "universe",
                      "universe_label", "numerator", "denominator", "definition", "unit", "breakdowns"},
                required={"code", "name", "theme", "statistic", "definition"})
    stat = s.text("statistic", choices=STATISTICS)
    variable = s.text("variable", None)
    if variable is not None and known is not None and variable not in known:
        from sid.spec.yamlfile import suggest

        raise s.at("variable").error(f"unknown variable {shown(variable)}{suggest(variable, known)}; "
                                     "declare it in the questionnaire spec or fix the name")
    condition = _expr(s, "condition", known)
    if stat == "share" and condition is None:
        raise s.at("condition").error("a share needs a condition (the answer that counts)")
    if stat == "mean" and (variable is None or condition is not None):
        raise s.at("variable").error("a mean needs a variable and no condition")
    bds = _breakdowns(s, "breakdowns", breakdowns, dims)
    return SurveyIndicator(
        code=s.text("code"), name=s.text("name"), theme=s.text("theme"), statistic=stat,
        definition=" ".join(s.text("definition").split()),
        unit=s.text("unit", "percent" if stat == "share" else "index points"),
        variable=variable, condition=condition, universe=_expr(s, "universe", known), breakdowns=bds,
        universe_label=s.text("universe_label", None), numerator=s.text("numerator", None),
        denominator=s.text("denominator", None),
    )


def _breakdowns(s: Section, key: str, default, declared: Mapping[str, str]):
    if key not in s:
        return default
    out = []
    for _, item in s.items(key):
        dims = check_str_list(item.value, item.where)
        for d in dims:
            if d not in DIMENSIONS:
                raise item.where.error(f"breakdown {shown(d)} is not one of the indicator base's "
                                       f"dimensions ({', '.join(DIMENSIONS)})")
            if d not in declared:
                raise item.where.error(f"breakdown {shown(d)} has no survey variable; declare it under "
                                       f"dimensions ({d}: VARIABLE)")
        out.append(tuple(dims))
    return tuple(out)


def _dimensions(top: Section, omap: OriginMap) -> dict[str, str]:
    """``dimensions``: base dimension -> survey variable; the generation dimension defaults
    to the origin map's ``generation_variable`` (the two must agree where both name it)."""
    raw = top.get("dimensions", {}) or {}
    if not isinstance(raw, dict):
        raise top.at("dimensions").error(f"expected a mapping dimension: variable "
                                         f"(dimensions: {', '.join(DIMENSIONS)})")
    sec = Section(raw, top.at("dimensions"), keys=DIMENSIONS)
    dims = {d: sec.text(d) for d in DIMENSIONS if d in sec}
    gen = omap.generation_variable
    if gen is not None:
        if dims.setdefault(GENERATION, gen) != gen:
            raise sec.at(GENERATION).error(
                f"{dims[GENERATION]!r}, but the origin map {omap.path} says generation_variable "
                f"{gen!r}; name it in one place")
    return dims


def known_names(q: Questionnaire) -> set[str]:
    """Names an indicator may use: the questionnaire's variables, derived variables and indices."""
    return set(q.names()) | {ix.name for ix in q.indices}


def _base(top: Section, project_dir: Path, data_dir: Path | None) -> Path | str:
    """The indicator base the spec names: a PostgreSQL URL, which must carry no password
    (credentials come from the environment), or a file relative to the project folder.
    sid writes the file, so it must lie (symbolic links resolved) inside the project folder
    or the data folder, unless the spec says ``allow_outside_project: true`` beside ``base``."""
    text = top.text("base")
    if is_url(text):
        try:
            return check_url(text, "base")
        except LinkageError as exc:
            raise top.at("base").error(str(exc).split(": ", 1)[1]) from None
    base = project_dir / text
    if top.flag("allow_outside_project", False):
        return base
    real = base.resolve()
    roots = [project_dir.resolve()] + ([data_dir.resolve()] if data_dir is not None else [])
    if not any(real.is_relative_to(r) for r in roots):
        where = f"the project folder {roots[0]}" + (f" and the data folder {roots[1]}" if len(roots) > 1 else "")
        raise top.at("base").error(
            f"the indicator base {base} (resolved: {real}) lies outside {where}; name a file inside "
            "the project (such as data/vlim.duckdb), or write 'allow_outside_project: true' beside "
            "base: when the base is meant to live elsewhere")
    return base


def load_linkage_spec(path: str | os.PathLike[str], *, project: str | os.PathLike[str] | None = None,
                      data: str | os.PathLike[str] | None = None,
                      questionnaire: Questionnaire | None = None,
                      group: str | None = None) -> LinkageSpec:
    """Read and validate a linkage spec; ``project`` (default: the spec's grandparent
    folder) anchors the relative ``base`` path, which must lie inside the project folder
    or the data folder ``data`` (the run's, when given) unless the spec allows otherwise
    (``allow_outside_project: true``). ``questionnaire``: the wave's questionnaire (the
    project's; when the spec names one too, it must be the same file); ``group``: the
    project's reporting group, the origin variable when the origin map names none. The
    spec hash covers the spec, its origin map and the questionnaire."""
    path = Path(path)
    top = Section(load_yaml(path), Where(str(path)),
                  keys={"wave", "period", "base", "allow_outside_project", "origin_map", "questionnaire",
                        "disclosure", "geographies", "dimensions", "breakdowns", "indicators", "labels"},
                  required={"wave", "period", "base", "origin_map", "geographies", "indicators"})
    project_dir = Path(project) if project is not None else path.resolve().parent.parent
    base = _base(top, project_dir, Path(data) if data is not None else None)
    map_path = path.parent / top.text("origin_map")
    if not map_path.is_file():
        raise top.at("origin_map").error(f"origin map {shown(map_path, bare=True, limit=120)} not found")
    omap = load_origin_map(map_path, group)
    q = questionnaire
    if "questionnaire" in top:
        qpath = path.parent / top.text("questionnaire")
        if not qpath.is_file():
            raise top.at("questionnaire").error(f"questionnaire spec {shown(qpath, bare=True, limit=120)} not found")
        if q is None:
            q = load_questionnaire(qpath)
        elif q.path and Path(q.path).resolve() != qpath.resolve():
            raise top.at("questionnaire").error(f"{shown(qpath, bare=True, limit=120)}, but the project's wave "
                                                f"has {q.path}; name the same questionnaire (or leave it to "
                                                "the project)")
    dims = _dimensions(top, omap)
    known = None
    if q is not None:
        # the dimensions' variables are checked to be categorical ones by sid check
        # (sid.spec.check_project), and to be in the data by the link stage
        known = known_names(q) | {omap.origin_variable, *dims.values()}
    disc = Section(top.get("disclosure", {}), top.at("disclosure"), keys={"min_n", "max_cv"})
    geos = []
    for _, item in top.items("geographies"):
        g = Section(item.value, item.where, keys={"code", "name", "condition"}, required={"code", "name", "condition"})
        geos.append(Geography(g.text("code"), g.text("name"), _expr(g, "condition", known)))
    default_bd = _breakdowns(top, "breakdowns", ((),), dims)
    inds = [_indicator(item, known, default_bd, dims) for _, item in top.items("indicators")]
    codes = [i.code for i in inds]
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise top.at("indicators").error(f"indicator code {shown(dup[0])} appears twice")
    labels = {}
    for dim, mapping in (top.get("labels", {}) or {}).items():
        if dim not in DIMENSIONS or not isinstance(mapping, dict):
            raise top.at("labels").error(f"labels.{shown(dim, bare=True)}: expected one of {', '.join(DIMENSIONS)} with a mapping code: label")
        labels[dim] = {str(k): str(v) for k, v in mapping.items()}
    files = [path, map_path] + ([Path(q.path)] if q is not None and q.path else [])
    return LinkageSpec(
        path=str(path), wave=top.text("wave"), period=top.number("period", integer=True, low=1900, high=2100),
        base=base, origin_map=omap,
        min_n=disc.number("min_n", 30, integer=True, low=1),
        max_cv=disc.number("max_cv", 0.3, low=0),
        geographies=tuple(geos), indicators=tuple(inds), labels=labels, dimensions=dims,
        questionnaire=q, spec_hash=sha256_files(files), files=tuple(map(str, files)),
    )
