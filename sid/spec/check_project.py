"""Lint every spec of a project together (``sid check`` without SPEC): the linkage spec,
the table plan, and what the specs say about each other.

Each spec is read by its own loader (:func:`sid.linkage.spec.load_linkage_spec`,
:func:`sid.tables.plan.load_plan`, ...); a loader's SpecError becomes one
:class:`sid.spec.check.Finding`. On top of that come the checks across specs that need no
data: the wave a plan, linkage spec or weighting spec names has a questionnaire spec; every
variable or index a table names is declared there (through
:func:`sid.tables.plan.check_plan`); domains are categorical variables with categories and
their ``compare_to`` categories exist; the origin map covers every category of the
questionnaire's origin variable; the linkage breakdowns are categorical variables.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from sid.errors import SpecError
from sid.spec.check import Finding
from sid.spec.questionnaire import Questionnaire
from sid.spec.questionnaire_parse import load_questionnaire
from sid.spec.yamlfile import Section, Where, load_yaml, shown, suggest

# kind of spec by the folder it lies in (as in a project); anything else is a questionnaire
FOLDERS = {"weights": "weighting", "linkage": "linkage", "reports": "plan"}
ORIGIN_MAP = "origin_map.yaml"


def is_origin_map(path: str | os.PathLike[str]) -> bool:
    """An origin map of linkage/: ``origin_map.yaml``, or ``origin_map_<name>.yaml`` (one per
    wave whose origin variables are named differently, e.g. origin_map_sid2017.yaml)."""
    name = Path(path).name
    return name == ORIGIN_MAP or (name.startswith("origin_map_") and name.endswith(".yaml"))


def is_harmonisation(path: str | os.PathLike[str]) -> bool:
    """A harmonisation spec of the waves (sid trend, docs/trends.md): ``harmonisation.yaml`` or
    ``harmonisation_<name>.yaml`` beside the questionnaires."""
    name = Path(path).name
    return name == "harmonisation.yaml" or (name.startswith("harmonisation_") and name.endswith(".yaml"))


def spec_kind(path: str | os.PathLike[str]) -> str:
    """"questionnaire", "harmonisation", "weighting", "linkage", "origin_map" or "plan", by
    folder and name."""
    p = Path(path)
    kind = FOLDERS.get(p.parent.name, "questionnaire")
    if kind == "questionnaire" and is_harmonisation(p):
        return "harmonisation"
    if kind == "linkage" and is_origin_map(p):
        return "origin_map"
    return kind


def project_specs(project: str | os.PathLike[str]) -> list[Path]:
    """Every spec of a project folder: questionnaires/*.yaml, weights/*.yaml, linkage/*.yaml
    but the origin maps (read with the linkage spec), reports/*_tables.yaml."""
    root = Path(project)
    out: list[Path] = []
    for folder, pattern in (("questionnaires", "*.yaml"), ("weights", "*.yaml"),
                            ("linkage", "*.yaml"), ("reports", "*_tables.yaml")):
        out += sorted(p for p in (root / folder).glob(pattern) if not is_origin_map(p))
    return out


def _error(exc: SpecError) -> Finding:
    """A loader's one-line SpecError as a finding (its message names file, line and key)."""
    return Finding("error", "", " ".join(str(exc).split()))


def key_where(path: str | os.PathLike[str], key: str) -> str:
    """``file:line: key`` of a top-level key of a YAML spec (``file: key`` without a line)."""
    try:
        doc = load_yaml(path)
    except SpecError:
        return f"{path}: {key}"
    if not isinstance(doc, dict) or key not in doc:
        return f"{path}: {key}"
    return str(Section(doc, Where(str(path)), keys=set(doc)).at(key))


class Questionnaires:
    """The questionnaire specs of a project, loaded once, found by wave."""

    def __init__(self, project: str | os.PathLike[str]) -> None:
        self.folder = Path(project) / "questionnaires"
        self._loaded: dict[Path, Questionnaire | None] = {}

    def load(self, path: Path) -> Questionnaire | None:
        """The questionnaire at ``path``; None when it does not load (reported on its own)."""
        if path not in self._loaded:
            try:
                self._loaded[path] = load_questionnaire(path)
            except SpecError:
                self._loaded[path] = None
        return self._loaded[path]

    def paths(self) -> list[Path]:
        return sorted(self.folder.glob("*.yaml"))

    def for_wave(self, wave: str) -> Questionnaire | None:
        """``questionnaires/<wave>.yaml`` when it exists, else the spec whose ``wave`` is
        ``wave``; None when no questionnaire spec is of that wave."""
        named = self.folder / f"{wave}.yaml"
        if named.is_file():
            return self.load(named)
        for p in self.paths():
            q = self.load(p)
            if q is not None and q.wave == wave:
                return q
        return None

    def missing(self, wave: str) -> str:
        """What to say when no questionnaire spec is of ``wave``."""
        waves = {p.stem for p in self.paths()}
        have = ", ".join(sorted(waves)) or "none"
        return (f"no questionnaire spec {self.folder / (wave + '.yaml')} for wave {shown(wave)} "
                f"(waves: {have}); name the wave as its questionnaire does")


def _categories(q: Questionnaire, name: str) -> dict[str, str] | None:
    """Category codes (as text) -> labels of a variable, derived variable or the mode
    variable; None when ``name`` is none of these."""
    from sid.tables.labels import code_key

    if name in q:
        return {code_key(k): str(v) for k, v in q.variable(name).categories.items()}
    if q.mode_variable and name == q.mode_variable:
        return {code_key(k): str(v) for k, v in q.modes.items()}
    return None


def check_harmonisation_file(path: str | os.PathLike[str], qs: Questionnaires) -> list[Finding]:
    """A harmonisation spec alone: loaded (its waves those of its first concept) and checked
    against the questionnaire spec of each wave it maps."""
    from sid.spec.check_harmonisation import check_harmonisation
    from sid.spec.harmonisation import load_harmonisation

    try:
        h = load_harmonisation(path)
    except SpecError as exc:
        return [_error(exc)]
    found, questionnaires = [], {}
    for w in h.waves:
        q = qs.for_wave(w)
        if q is None:
            found.append(Finding("error", str(path), qs.missing(w)))
        else:
            questionnaires[w] = q
    return found + [f for f in check_harmonisation(h, questionnaires) if "no questionnaire for wave" not in f.message]


def check_weighting_wave(spec, qs: Questionnaires) -> list[Finding]:
    """The weighting spec's wave has a questionnaire spec of the same wave."""
    q = qs.for_wave(spec.wave)
    if q is None and qs.paths():
        return [Finding("error", key_where(spec.path, "wave"), qs.missing(spec.wave))]
    if q is not None and q.wave != spec.wave:
        return [Finding("error", key_where(spec.path, "wave"),
                        f"{shown(spec.wave)} is not the wave of {q.path} ({shown(q.wave)}); name the same wave")]
    return []


def check_linkage_file(path: str | os.PathLike[str], qs: Questionnaires | None,
                       questionnaire: Questionnaire | None = None, group: str | None = None,
                       project: str | os.PathLike[str] | None = None) -> list[Finding]:
    """Load a linkage spec (with its origin map and questionnaire) and check it against the
    wave's questionnaire: origin map coverage, origin/generation/breakdown variables.
    ``questionnaire``, ``group``, ``project``: the project wave's questionnaire, reporting
    group and folder (sid.project), as the link stage loads the spec."""
    from sid.linkage.schema import GENERATION
    from sid.linkage.spec import load_linkage_spec

    try:
        spec = load_linkage_spec(path, questionnaire=questionnaire, group=group, project=project)
    except SpecError as exc:
        return [_error(exc)]
    found: list[Finding] = []
    q = spec.questionnaire
    if q is None and qs is None:
        return found
    if q is None:
        found.append(Finding("warning", str(path), "names no questionnaire; add `questionnaire: "
                             f"../questionnaires/{spec.wave}.yaml` so its variables are checked"))
        q = qs.for_wave(spec.wave)
        if q is None:
            return found + [Finding("error", key_where(path, "wave"), qs.missing(spec.wave))]
        found += _unknown_names(spec, q)
    elif q.wave != spec.wave:
        found.append(Finding("error", key_where(path, "wave"),
                             f"{shown(spec.wave)} is not the wave of its questionnaire {q.path} "
                             f"({shown(q.wave)}); name the same wave"))
    om = spec.origin_map
    qname = os.path.normpath(q.path) if q.path else q.wave
    origin = _categories(q, om.origin_variable)
    if not origin:
        what = "has no categories" if origin is not None else "is not declared"
        found.append(Finding("error", key_where(om.path, "origin_variable"),
                             f"origin variable {shown(om.origin_variable)} {what} in {qname}; name the "
                             "questionnaire's categorical origin variable"))
    else:
        mapped = om.group_to_category()
        unmapped = [c for c in origin if c not in mapped]
        if unmapped:
            found.append(Finding("error", key_where(om.path, "categories"),
                                 f"origin categories {', '.join(unmapped)} of {qname} ({om.origin_variable}) "
                                 "are in no VLIM category; add each to a category's groups"))
        unknown = sorted(g for g in mapped if g not in origin)
        if unknown:
            found.append(Finding("warning", key_where(om.path, "categories"),
                                 f"SID groups {', '.join(unknown)} are not categories of {qname} "
                                 f"({om.origin_variable}); remove them or fix the codes"))
    dims = {d for ind in spec.indicators for bd in ind.breakdowns for d in bd}
    for d in sorted(dims):
        name = spec.dimensions[d]
        cats = _categories(q, name)
        if not cats:
            what = "has no categories" if cats is not None else "is not declared"
            from_map = d == GENERATION and om.generation_variable == name
            where = key_where(om.path, "generation_variable") if from_map else key_where(path, "dimensions")
            found.append(Finding("error", where, f"breakdown {shown(d)}: variable {shown(name)} {what} in {qname}; "
                                 "a breakdown is a categorical variable of the questionnaire"))
    return found


def _unknown_names(spec, q: Questionnaire) -> list[Finding]:
    """Names of geographies and indicators that ``q`` does not declare (what the loader
    checks when the spec names its questionnaire)."""
    from sid.linkage.spec import known_names  # the loader's own rule, when it has a questionnaire

    om = spec.origin_map
    known = known_names(q) | {om.origin_variable, *spec.dimensions.values()}
    found = []
    for what, i, code, names in (
            *(("geographies", i, g.code, g.condition.names) for i, g in enumerate(spec.geographies)),
            *(("indicators", i, ind.code, ind.names()) for i, ind in enumerate(spec.indicators))):
        for name in sorted(set(names) - known):
            found.append(Finding("error", f"{spec.path}: {what}[{i}] ({code})",
                                 f"unknown variable {shown(name)}{suggest(name, known)}; declare it in "
                                 f"{q.path} or fix the name"))
    return found


def check_plan_file(path: str | os.PathLike[str], qs: Questionnaires | None,
                    questionnaire: Questionnaire | None = None) -> list[Finding]:
    """Load a table plan and check each table against the wave's questionnaire (names,
    categorical domains with categories, compare_to categories); one finding per table.
    ``questionnaire``: the project wave's (else the one of the plan's wave in ``qs``)."""
    from sid.tables.labels import Labels, code_key
    from sid.tables.plan import check_plan, load_plan

    try:
        plan = load_plan(path)
    except SpecError as exc:
        return [_error(exc)]
    q = questionnaire if questionnaire is not None else qs.for_wave(plan.wave)
    if q is None:
        return [Finding("error", key_where(path, "wave"), qs.missing(plan.wave))]
    found: list[Finding] = []
    if q.wave != plan.wave:
        found.append(Finding("error", key_where(path, "wave"),
                             f"{shown(plan.wave)} is not the wave of {q.path} ({shown(q.wave)}); name the same wave"))
    labels = Labels.from_questionnaire(q)
    for t in plan.tables:
        try:
            # without data, the wave's columns are the names the questionnaire declares
            check_plan(replace(plan, tables=(t,)), labels.kinds, labels.kinds, themes=q.themes)
        except SpecError as exc:
            found.append(_error(exc))
            continue
        for b in t.by:
            for name in b:
                if not labels.categories.get(name):
                    found.append(Finding("error", f"{t.where}.by", f"table {shown(t.id)}: domain variable "
                                         f"{shown(name)} has no categories in {q.path}; declare them"))
        for domain, ref in t.compare_to.items():
            names, codes = domain.split(":"), str(ref).split(":")
            if len(codes) != len(names):
                found.append(Finding("error", f"{t.where}.compare_to.{domain}",
                                     f"table {shown(t.id)}: {shown(ref)} names {len(codes)} categories for a "
                                     f"domain of {len(names)} variables; write one per variable, a:b"))
                continue
            for name, code in zip(names, codes, strict=True):
                cats = labels.categories.get(name) or {}
                if cats and code_key(code) not in cats and code not in cats:
                    found.append(Finding("error", f"{t.where}.compare_to.{domain}",
                                         f"table {shown(t.id)}: {shown(code)} is not a category of {shown(name)} "
                                         f"({', '.join(cats)}){suggest(code, cats)}"))
    return found


__all__ = ["spec_kind", "is_harmonisation", "check_harmonisation_file", "project_specs", "key_where", "Questionnaires", "check_weighting_wave",
           "check_linkage_file", "check_plan_file"]
