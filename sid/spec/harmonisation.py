"""The harmonisation spec: each wave's variables and categories mapped onto common concepts.

A trend over waves (``sid trend``, sid.trends) compares the *same* measure in each wave,
but waves name and code their questions differently (SID 2017's names are Dutch, its
belonging grid has four points where 2022's has five). The harmonisation spec (format:
docs/trends.md; SID: ``questionnaires/harmonisation.yaml``, named by the project file's
``trends: {harmonisation: ...}``) says per *concept* which variable of each wave measures
it, how its categories map onto the concept's (``recode``), which statistic is compared
(``mean``, ``share`` of one category, ``shares`` of every category) and, in ``break``,
what changed between the waves (wording, scale, items): a break is flagged, never hidden.
*Domains* (origin group, VLIM category, generation) map in the same way; ``composed_of``
names the finer domain whose groups a pooled category holds (non-EU origin: which groups
in each wave).

:func:`load_harmonisation` validates the file's shape (every error one line with file,
line and key, unknown keys refused with "did you mean"); checks against the waves'
questionnaires are :func:`sid.spec.check_harmonisation.check_harmonisation`'s.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sid.errors import SpecError, shown
from sid.spec.yamlfile import Item, Section, Where, load_yaml, parse_yaml, suggest

PathLike = str | os.PathLike[str]
STATISTICS = ("mean", "share", "shares")
Code = int | float | str

_TOP = {"domains", "concepts"}
_CONCEPT = {"label", "statistic", "category", "categories", "break", "domains", "headline", "waves"}
_DOMAIN = {"label", "composed_of", "categories", "waves"}
_WAVE_MAP = {"variable", "recode"}


@dataclass(frozen=True)
class WaveMap:
    """One wave's measure of a concept or domain: its ``variable`` and ``recode`` (wave
    code -> common code; None: set missing; codes not listed keep their value)."""

    variable: str
    recode: Mapping[Code, Code | None] = field(default_factory=dict)
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class Domain:
    """A domain of the trend (a breakdown): its ``label``, per wave its variable
    (``waves``), optional common ``categories`` (code -> label) and ``composed_of``: the
    domain whose categories each of this domain's categories holds (stated per wave)."""

    name: str
    label: str
    waves: Mapping[str, WaveMap]
    categories: Mapping[Code, str] = field(default_factory=dict)
    composed_of: str | None = None
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class Concept:
    """A measure compared over waves: ``statistic`` (mean, share of ``category``, shares of
    every category), its categories (code -> label, needed when a wave recodes), the
    ``break`` note (None: the same question in every wave), the ``domains`` it is broken
    down by (None: every domain of the spec), whether it is a ``headline`` indicator (the
    trend page charts it) and per wave its variable (``waves``)."""

    name: str
    label: str
    statistic: str
    waves: Mapping[str, WaveMap]
    category: Code | None = None
    categories: Mapping[Code, str] = field(default_factory=dict)
    break_note: str | None = None
    domains: tuple[str, ...] | None = None
    headline: bool = False
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class Harmonisation:
    """A loaded harmonisation spec: ``waves`` (in time order, earliest first), ``domains``
    and ``concepts`` (in file order), and the file it came from."""

    waves: tuple[str, ...]
    domains: Mapping[str, Domain]
    concepts: Mapping[str, Concept]
    path: str = field(default="", compare=False)

    def concept_domains(self, concept: Concept) -> tuple[str, ...]:
        """The domains ``concept`` is broken down by (its own list, else every domain)."""
        return concept.domains if concept.domains is not None else tuple(self.domains)


def _code(item: Item) -> Code:
    v = item.value
    if isinstance(v, bool) or not isinstance(v, int | float | str) or (isinstance(v, str) and not v.strip()):
        raise item.where.error(f"expected a category code (a number or text), got {shown(v)}")
    return v


def _key_where(raw: dict, where: Where, key) -> Where:
    """Position of ``key`` (a category code, not necessarily text) in the mapping ``raw``."""
    return where.key(key, getattr(raw, "key_lines", {}).get(key))


def _categories(s: Section, key: str) -> dict[Code, str]:
    if key not in s:
        return {}
    raw = s.get(key)
    if not isinstance(raw, dict) or not raw:
        raise s.at(key).error("expected a mapping of category codes to labels, e.g. {0: Nee, 1: Ja}")
    out: dict[Code, str] = {}
    for k, v in raw.items():
        at = _key_where(raw, s.at(key), k)
        _code(Item(k, at))
        if not isinstance(v, str) or not v.strip():
            raise at.error(f"expected a label (non-empty text), got {shown(v)}")
        out[k] = v
    return out


def _recode(s: Section) -> dict[Code, Code | None]:
    if "recode" not in s:
        return {}
    raw = s.get("recode")
    if not isinstance(raw, dict) or not raw:
        raise s.at("recode").error("expected a mapping wave code -> common code (null: missing), e.g. {1: 0, 2: 1}")
    out: dict[Code, Code | None] = {}
    for k, v in raw.items():
        at = _key_where(raw, s.at("recode"), k)
        _code(Item(k, at))
        out[k] = None if v is None else _code(Item(v, at))
    return out


def _wave_maps(s: Section, waves: Sequence[str] | None, what: str) -> dict[str, WaveMap]:
    raw = s.get("waves")
    if not isinstance(raw, dict) or not raw:
        raise s.at("waves").error(f"expected a mapping of wave names to {{variable: ...}}, one per wave of the {what}")
    allowed = list(waves) if waves is not None else [k for k in raw if isinstance(k, str)]
    sec = Section(raw, s.at("waves"), keys=allowed)
    out: dict[str, WaveMap] = {}
    for w in raw:
        item = sec.get(w)
        if isinstance(item, str):  # shorthand: `sid2017: herkomst`
            out[w] = WaveMap(item, where=str(sec.at(w)))
            continue
        m = Section(item, sec.at(w), keys=_WAVE_MAP, required=("variable",))
        out[w] = WaveMap(m.text("variable"), _recode(m), where=str(sec.at(w)))
    if waves is not None:
        absent = [w for w in waves if w not in out]
        if absent:
            raise s.at("waves").error(f"no entry for wave {', '.join(absent)}; map every wave of the trend "
                                      f"({', '.join(waves)})")
    return out


def _domain(name: str, s: Section, waves: Sequence[str] | None) -> Domain:
    d = Domain(name=name, label=s.text("label"), waves=_wave_maps(s, waves, "trend"),
               categories=_categories(s, "categories"), composed_of=s.text("composed_of", None),
               where=str(s.where))
    for w, m in d.waves.items():
        bad = [t for t in m.recode.values() if t is not None and d.categories and t not in d.categories]
        if bad:
            raise Where(s.where.file, f"{s.where.path}.waves.{w}.recode", s.line).error(
                f"recodes to {shown(bad[0])}, which is not one of the domain's categories")
    return d


def _concept(name: str, s: Section, waves: Sequence[str] | None, domains: Mapping[str, Domain]) -> Concept:
    stat = s.text("statistic", choices=STATISTICS)
    categories = _categories(s, "categories")
    category = _code(s.item("category")) if "category" in s else None
    if stat == "share" and category is None:
        raise s.at("statistic").error("a share needs the category it counts (category: 1)")
    if stat != "share" and category is not None:
        raise s.at("category").error(f"only a share counts one category; statistic {stat} takes none")
    if category is not None and categories and category not in categories:
        raise s.at("category").error(f"{shown(category)} is not one of the concept's categories "
                                     f"({', '.join(map(str, categories))})")
    maps = _wave_maps(s, waves, "trend")
    for w, m in maps.items():
        if m.recode and stat != "mean" and not categories:
            raise s.at("waves").error(f"wave {w} recodes {m.variable}; give the concept's categories "
                                      "(categories: {code: label}) so the recoded codes have labels")
        bad = [t for t in m.recode.values() if t is not None and categories and t not in categories]
        if bad:
            raise Where(s.where.file, f"{s.where.path}.waves.{w}.recode", s.line).error(
                f"recodes to {shown(bad[0])}, which is not one of the concept's categories "
                f"({', '.join(map(str, categories))})")
    own = None
    if "domains" in s:
        own = s.names("domains")
        for j, dname in enumerate(own):
            if dname not in domains:
                raise s.at("domains").index(j).error(
                    f"{shown(dname)} is not a domain of the spec{suggest(dname, domains)}; "
                    f"domains: {', '.join(domains)}")
    note = s.text("break", None)
    return Concept(name=name, label=s.text("label"), statistic=stat, waves=maps, category=category,
                   categories=categories, break_note=note, domains=own,
                   headline=s.flag("headline", False), where=str(s.where))


def _named(top: Section, key: str, keys: set[str], required: tuple[str, ...]) -> list[tuple[str, Section]]:
    raw = top.get(key)
    if not isinstance(raw, dict) or not raw:
        raise top.at(key).error(f"expected a mapping of {key} names to their entries")
    sec = Section(raw, top.at(key), keys=[k for k in raw if isinstance(k, str) and k.strip()])
    return [(name, sec.section(name, keys=keys, required=required)) for name in raw]


def _harmonisation(doc, where: str, waves: Sequence[str] | None) -> Harmonisation:
    top = Section(doc, Where(where), keys=_TOP, required=("concepts",))
    domains: dict[str, Domain] = {}
    if "domains" in top:
        for name, s in _named(top, "domains", _DOMAIN, ("label", "waves")):
            domains[name] = _domain(name, s, waves)
        for d in domains.values():
            if d.composed_of is not None and d.composed_of not in domains:
                raise SpecError(f"{d.where}: composed_of {shown(d.composed_of)} is not a domain of the spec"
                                f"{suggest(d.composed_of, domains)}")
            if d.composed_of == d.name:
                raise SpecError(f"{d.where}: composed_of names the domain itself; name a finer domain")
    concepts = {name: _concept(name, s, waves, domains)
                for name, s in _named(top, "concepts", _CONCEPT, ("label", "statistic", "waves"))}
    clash = sorted(set(concepts) & set(domains))
    if clash:
        raise SpecError(f"{where}: {shown(clash[0])} is both a concept and a domain; give them different names")
    order = tuple(waves) if waves is not None else tuple(next(iter(concepts.values())).waves)
    if len(order) < 2:
        raise SpecError(f"{where}: a trend needs two or more waves, the spec maps {', '.join(order)}")
    for c in (*domains.values(), *concepts.values()):
        if set(c.waves) != set(order):
            raise SpecError(f"{c.where}: maps waves {', '.join(c.waves)}, the spec's first concept "
                            f"{', '.join(order)}; map the same waves everywhere")
    return Harmonisation(waves=order, domains=domains, concepts=concepts, path=where)


def load_harmonisation(path: PathLike, waves: Sequence[str] | None = None) -> Harmonisation:
    """Read and validate a harmonisation spec; a one-line SpecError when it is wrong.

    ``waves``: the trend's waves in time order (the project file's ``trends.waves``);
    every concept and domain must map each of them, and no other. Without it, the waves
    of the first concept, in its order.
    """
    return _harmonisation(load_yaml(path), str(path), waves)


def parse_harmonisation(text: str, *, where: str = "<harmonisation>",
                        waves: Sequence[str] | None = None) -> Harmonisation:
    """A harmonisation spec from YAML text (``where`` names it in errors)."""
    return _harmonisation(parse_yaml(text, where=where), where, waves)


__all__ = ["Concept", "Domain", "Harmonisation", "STATISTICS", "WaveMap", "load_harmonisation",
           "parse_harmonisation"]
