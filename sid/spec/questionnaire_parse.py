"""Validation of a questionnaire YAML document into :class:`sid.spec.questionnaire.Questionnaire`;
:func:`load_questionnaire` reads a spec file.

Structure only: keys, types, vocabularies, duplicate names, expression syntax, codes of
``missing`` declared in ``missing_codes``. Errors are one-line SpecErrors naming the file,
line and key path (:mod:`sid.spec.yamlfile`).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from typing import Any

from sid.errors import SpecError
from sid.spec import questionnaire as Q
from sid.spec.expr import Expression, parse
from sid.spec.yamlfile import (
    Item,
    Section,
    Where,
    check_number,
    check_str_list,
    load_yaml,
    shown,
    suggest,
    type_name,
)

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")  # lower_snake_case; SPSS allows 64 bytes

_TOP = {"wave", "title", "reference_date", "key", "mode_variable", "modes", "missing_codes",
        "completion", "quality", "themes", "variables", "derived", "indices"}
_VARIABLE = {"name", "label", "type", "source", "categories", "missing", "relevant", "grid",
             "range", "checks", "measure", "identifier"}
_DERIVED = {"name", "label", "type", "expr", "categories", "range", "measure"}
_INDEX = {"name", "label", "theme", "items", "reverse", "min_valid", "scoring", "count_values",
          "scale", "reference_group", "reliability_min"}


def _name(sec: Section, key: str = "name") -> str:
    v = sec.text(key)
    if not NAME_RE.match(v):
        raise sec.at(key).error(f"{shown(v)} is not a lower_snake_case name of at most 64 characters")
    return v


def _expr(sec: Section, key: str) -> Expression | None:
    if sec.get(key, None) is None:
        return None
    return parse(sec.text(key), where=str(sec.at(key)))


def _at(sec: Section) -> str:
    """``file:line: key.path`` of a section (for findings of ``sid check``)."""
    return str(Where(sec.where.file, sec.where.path, sec.line))


def _code(v: Any, where: Where, *, text_ok: bool) -> Q.Code:
    if isinstance(v, bool) or not (isinstance(v, int | float) or (text_ok and isinstance(v, str))):
        what = "a number or text" if text_ok else "a number"
        raise where.error(f"code must be {what}, got {type_name(v)} (quote yes/no/on/off)")
    if isinstance(v, int) and abs(v) > 1e308:  # cannot be held as an SPSS (float) code
        raise where.error("the code is too large (more than 308 digits)")
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _labels(item: Item, *, text_ok: bool) -> dict[Q.Code, str]:
    if item.value is None:
        return {}
    if not isinstance(item.value, dict):
        raise item.where.error(f"expected a mapping of code: label, got {type_name(item.value)}")
    out: dict[Q.Code, str] = {}
    lines = getattr(item.value, "key_lines", {})
    for k, lab in item.value.items():
        w = item.where.key(k, lines.get(k))
        code = _code(k, w, text_ok=text_ok)
        if not isinstance(lab, str) or not lab.strip():
            raise w.error(f"expected a non-empty label, got {type_name(lab)}")
        out[code] = lab
    if len({type(k) is str for k in out}) > 1:
        raise item.where.error("codes mix numbers and text; use one kind per variable")
    return out


def _range(sec: Section) -> tuple[float, float] | None:
    v = sec.get("range", None)
    if v is None:
        return None
    w = sec.at("range")
    if not isinstance(v, list) or len(v) != 2:
        raise w.error(f"expected [low, high], got {type_name(v)}")
    lo, hi = (check_number(x, w.index(i)) for i, x in enumerate(v))
    if lo > hi:
        raise w.error(f"low {shown(lo)} is above high {shown(hi)}")
    return (lo, hi)


def _measure(sec: Section, vtype: str) -> str:
    return sec.text("measure", Q.DEFAULT_MEASURE[vtype], choices=Q.MEASURES)


def _missing_codes(sec: Section) -> dict[Q.Code, Q.MissingCode]:
    item = sec.item("missing_codes", {})
    if not isinstance(item.value, dict):
        raise item.where.error(f"expected a mapping of code: {{meaning, label}}, got {type_name(item.value)}")
    out = {}
    lines = getattr(item.value, "key_lines", {})
    for k, spec in item.value.items():
        w = item.where.key(k, lines.get(k))
        code = _code(k, w, text_ok=False)
        s = Section(spec, w, keys={"meaning", "label"}, required={"meaning", "label"})
        out[code] = Q.MissingCode(code, s.text("meaning", choices=Q.MEANINGS), s.text("label"))
    return out


def _variable(item: Item, wave_codes: dict[Q.Code, Q.MissingCode]) -> Q.Variable:
    s = Section(item.value, item.where, keys=_VARIABLE, required={"name", "label", "type"})
    name = _name(s)
    vtype = s.text("type", choices=Q.TYPES)
    cats = _labels(s.item("categories", None), text_ok=True)
    if vtype in ("categorical", "ordinal") and not cats:
        raise s.at("type").error(f"a {vtype} variable needs categories")
    textual = vtype in ("text", "date") or any(isinstance(k, str) for k in cats)
    if "missing" in s and textual and s.get("missing", None):
        raise s.at("missing").error(f"the wave's numeric missing codes do not apply to a "
                                    f"{'text' if vtype != 'date' else 'date'} variable; remove 'missing'")
    source = s.text("source", "questionnaire", choices=Q.SOURCES)
    # the wave's invalid code (set by cleaning) applies to numeric questionnaire items, unless
    # they say `missing: []`; register and paradata variables take it only by listing it
    takes_invalid = not textual and source == "questionnaire"
    if textual:
        missing: tuple[Q.Code, ...] = ()  # system missing (blank) only
    elif "missing" in s:
        mw = s.at("missing")
        raw = s.seq("missing", [])
        missing = tuple(_code(c, mw.index(i), text_ok=False) for i, c in enumerate(raw))
        for i, c in enumerate(missing):
            if c not in wave_codes:
                raise mw.index(i).error(f"code {shown(c)} is not one of the wave's missing_codes "
                                        f"({', '.join(map(str, wave_codes)) or 'none declared'})")
        if len(set(missing)) != len(missing):
            raise mw.error("a code is listed twice")
        takes_invalid = takes_invalid and bool(missing)
    else:
        missing = tuple(c for c, m in wave_codes.items() if m.meaning != "invalid")
    clash = [c for c in cats if c in wave_codes]
    if clash:
        raise s.at("categories").error(
            f"category code {clash[0]} is also a wave missing code ({wave_codes[clash[0]].label})")
    checks = []
    for _, ci in s.items("checks", []):
        cs = Section(ci.value, ci.where, keys={"expr", "message"}, required={"expr", "message"})
        checks.append(Q.Check(parse(cs.text("expr"), where=str(cs.at("expr"))), cs.text("message")))
    grid = s.get("grid", None)
    if grid is not None:
        grid = _name(s, "grid")
    identifier = s.text("identifier", None, choices=Q.IDENTIFIERS)
    if identifier is not None and (vtype != "text" or cats):
        raise s.at("identifier").error("an identifier is replaced by its pseudonym (64 hexadecimal "
                                       "characters) at ingest: declare it type: text, without categories")
    return Q.Variable(
        name=name, label=s.text("label"), type=vtype,
        source=source, categories=cats, missing=missing, takes_invalid=takes_invalid,
        relevant=_expr(s, "relevant"), grid=grid, range=_range(s), checks=tuple(checks),
        measure=_measure(s, vtype), identifier=identifier, where=_at(s),
    )


def _derived(item: Item) -> Q.Derived:
    s = Section(item.value, item.where, keys=_DERIVED, required={"name", "label", "type", "expr"})
    vtype = s.text("type", choices=Q.TYPES)
    return Q.Derived(
        name=_name(s), label=s.text("label"), type=vtype, expr=_expr(s, "expr"),  # type: ignore[arg-type]
        categories=_labels(s.item("categories", None), text_ok=True), range=_range(s),
        measure=_measure(s, vtype), where=_at(s),
    )


def _themes(top: Section) -> dict[str, str]:
    """The top-level ``themes:`` mapping, code (lower_snake_case) -> label (text)."""
    item = top.item("themes", {})
    if item.value is None:
        return {}
    if not isinstance(item.value, dict):
        raise item.where.error(f"expected a mapping of theme code: label, got {type_name(item.value)}")
    lines = getattr(item.value, "key_lines", {})
    out: dict[str, str] = {}
    for k, label in item.value.items():
        w = item.where.key(k, lines.get(k))
        if not isinstance(k, str) or not NAME_RE.match(k):
            raise w.error(f"theme code {k!r} is not a lower_snake_case name of at most 64 characters")
        if not isinstance(label, str) or not label.strip():
            raise w.error(f"expected the theme's label (text), got {type_name(label)}")
        out[k] = label
    return out


def _theme(s: Section, themes: dict[str, str]) -> str:
    """An index's theme: one of the spec's declared ``themes``."""
    code = s.text("theme")
    if code in themes:
        return code
    if not themes:
        raise s.at("theme").error(f"theme {code!r} is not declared: the spec has no themes; add a "
                                  "top-level themes: mapping (code: label) that names it")
    raise s.at("theme").error(f"theme {code!r} is not declared in themes ({', '.join(themes)})"
                              f"{suggest(code, themes) or '; declare it under themes: or use one of these'}")


def _index(item: Item, themes: dict[str, str]) -> Q.Index:
    s = Section(item.value, item.where, keys=_INDEX, required={"name", "label", "theme", "items"})
    items = s.names("items")
    if not items:
        raise s.at("items").error("an index needs at least one item")
    if len(set(items)) != len(items):
        raise s.at("items").error("an item is listed twice")
    reverse = s.names("reverse", ())
    stray = [r for r in reverse if r not in items]
    if stray:
        raise s.at("reverse").error(f"{shown(stray[0])} is not one of the index's items")
    scoring = s.text("scoring", "mean", choices=Q.SCORINGS)
    cw = s.at("count_values")
    counts = tuple(_code(c, cw.index(i), text_ok=False) for i, c in enumerate(s.seq("count_values", [])))
    if scoring == "count" and not counts:
        raise s.at("scoring").error("scoring: count needs count_values (the codes that count)")
    scale = s.text("scale", "raw", choices=Q.SCALES)
    ref = _expr(s, "reference_group")
    if scale == "z" and ref is None:
        raise s.at("scale").error("scale: z needs a reference_group expression")
    rmin = s.number("reliability_min", None, low=0.0, high=1.0)
    return Q.Index(
        name=_name(s), label=s.text("label"), theme=_theme(s, themes),
        items=items, reverse=reverse, min_valid=s.number("min_valid", 1, integer=True, low=1),
        scoring=scoring, count_values=counts, scale=scale, reference_group=ref,
        reliability_min=None if rmin is None else float(rmin), where=_at(s),
    )


def _completion(s: Section) -> Q.Completion:
    if s.get("completion", None) is None:
        return Q.Completion()
    c = s.section("completion", keys={"complete", "partial", "items"})
    complete = float(c.number("complete", 0.80, low=0.0, high=1.0))
    partial = float(c.number("partial", 0.50, low=0.0, high=1.0))
    if partial > complete:
        raise c.at("partial").error(f"partial ({partial}) is above complete ({complete})")
    items_v = c.get("items", "questionnaire")
    items: str | tuple[str, ...]
    if isinstance(items_v, list):
        items = check_str_list(items_v, c.at("items"))
    else:
        items = c.text("items", "questionnaire", choices=Q.SOURCES)
    return Q.Completion(complete, partial, items, _at(c))


def _quality(s: Section) -> Q.Quality:
    if s.get("quality", None) is None:
        return Q.Quality()
    qs = s.section("quality", keys={"speeders", "straightlining", "register_mismatch"})
    speeders = straight = None
    if qs.get("speeders", None) is not None:
        sp = qs.section("speeders", keys={"duration", "modes", "ratio_to_median", "drop"},
                        required={"duration"})
        speeders = Q.Speeders(_name(sp, "duration"), sp.names("modes", ()),
                              float(sp.number("ratio_to_median", 0.35, low=0.0, high=1.0)),
                              sp.flag("drop", False), _at(sp))
    if qs.get("straightlining", None) is not None:
        st = qs.section("straightlining", keys={"grids", "min_items", "drop"}, required={"grids"})
        straight = Q.Straightlining(st.names("grids"), st.number("min_items", 4, integer=True, low=2),
                                    st.flag("drop", False), _at(st))
    mism = []
    for _, it in qs.items("register_mismatch", []):
        m = Section(it.value, it.where, keys={"answer", "register", "tolerance"},
                    required={"answer", "register"})
        mism.append(Q.RegisterMismatch(_name(m, "answer"), _name(m, "register"),
                                       m.number("tolerance", 0, low=0), _at(m)))
    return Q.Quality(speeders, straight, tuple(mism))


def parse_questionnaire(doc: Any, path: str) -> Q.Questionnaire:
    """Validate the YAML document ``doc`` (from ``path``) into a Questionnaire."""
    top = Section(doc, Where(path), keys=_TOP, required={"wave", "title", "key", "variables"},
                  what="a questionnaire spec (a mapping with wave, title, key, variables...)")
    codes = _missing_codes(top)
    variables = tuple(_variable(it, codes) for _, it in top.items("variables"))
    derived = tuple(_derived(it) for _, it in top.items("derived", []))
    themes = _themes(top)
    indices = tuple(_index(it, themes) for _, it in top.items("indices", []))
    seen: dict[str, str] = {}
    for obj in (*variables, *derived, *indices):
        if obj.name in seen:
            raise SpecError(f"{obj.where}: name {shown(obj.name)} is already used at "
                            f"{seen[obj.name]}; names must be unique")
        seen[obj.name] = obj.where
    ref = top.get("reference_date", None)
    if ref is not None and (not isinstance(ref, _dt.date) or isinstance(ref, _dt.datetime)):
        raise top.at("reference_date").error(f"expected a date YYYY-MM-DD, got {type_name(ref)}")
    modes_v = top.get("modes", {})
    if not isinstance(modes_v, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in modes_v.items()):
        raise top.at("modes").error("expected a mapping of mode: label (both text)")
    return Q.Questionnaire(
        wave=top.text("wave"), title=top.text("title"), key=_name(top, "key"), variables=variables,
        missing_codes=codes, reference_date=ref,
        mode_variable=_name(top, "mode_variable") if top.get("mode_variable", None) else None,
        modes=dict(modes_v), completion=_completion(top), quality=_quality(top),
        derived=derived, indices=indices, themes=themes, path=path,
    )


def load_questionnaire(path: str | os.PathLike[str]) -> Q.Questionnaire:
    """Read and validate a questionnaire spec; raises a one-line :class:`SpecError`.

    :func:`sid.spec.check.load_checked_questionnaire` also lints it (sid check's errors).
    """
    return parse_questionnaire(load_yaml(path), str(path))
