"""Loading YAML spec files with one-line errors that name file, line and key path.

Every spec of a project (questionnaire, weighting, linkage) is YAML read through
:func:`load_yaml`, then validated through :class:`Section` (one mapping of the file):
unknown keys are rejected with a "did you mean" suggestion, types are checked, and every
error is a :class:`sid.errors.SpecError` of one line::

    questionnaires/sid2022.yaml:41: variables[3].categries: unknown key; did you mean 'categories'?

Usage by a spec loader::

    doc = load_yaml(path)
    top = Section(doc, Where(str(path)), keys={"wave", "variables"}, required={"wave"})
    wave = top.text("wave")
    for i, item in top.items("variables"):
        var = Section(item.value, item.where, keys={...})
"""

from __future__ import annotations

import datetime as _dt
import difflib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sid.errors import SpecError, shown
from sid.spec.yaml_guard import AliasRecorder, check_aliases, construct_int

_MISSING: Any = object()


class YamlMap(dict):
    """A YAML mapping that remembers its own line and the line of each key (1-based)."""

    line: int | None = None
    key_lines: dict[Any, int]


class YamlList(list):
    """A YAML sequence that remembers its own line and the line of each item (1-based)."""

    line: int | None = None
    item_lines: list[int]


class _Loader(AliasRecorder, yaml.SafeLoader):
    """Safe loader (no Python objects) that keeps line numbers, rejects duplicate keys and
    records every alias it composes (:class:`sid.spec.yaml_guard.AliasRecorder`)."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> YamlMap:
    loader.flatten_mapping(node)
    out = YamlMap()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a scalar", key_node.start_mark
            ) from None
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {shown(key)}", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> YamlList:
    out = YamlList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def load_yaml(path: str | os.PathLike[str]) -> Any:
    """Parse a YAML file safely; a missing file or bad YAML raises a one-line SpecError."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{p}: spec file not found") from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise SpecError(f"{p}: cannot read the spec file ({exc.strerror})") from None
    return parse_yaml(text, where=str(p))


def parse_yaml(text: str, *, where: str = "<string>") -> Any:
    """Parse YAML text; ``where`` names the source in errors.

    Aliases that would expand the document by more than :data:`MAX_ALIAS_NODES` nodes are
    refused before anything is built from them (:func:`sid.spec.yaml_guard.check_aliases`).
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_aliases(loader.alias_uses, node, where)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        what = shown(" ".join(str(exc.problem or exc.context or "invalid YAML").split()), bare=True,
                     limit=120)
        raise SpecError(f"{where}{line}: YAML error: {what}; fix the YAML syntax") from None
    except yaml.YAMLError as exc:
        what = shown(" ".join(str(exc).split()), bare=True, limit=120)
        raise SpecError(f"{where}: YAML error: {what}; fix the YAML syntax") from None
    except RecursionError:
        raise SpecError(f"{where}: YAML nested too deeply to read; flatten the spec") from None
    finally:
        loader.dispose()


@dataclass(frozen=True)
class Where:
    """A position in a spec file: file, line (1-based, or None) and key path."""

    file: str
    path: str = ""
    line: int | None = None

    def key(self, key: Any, line: int | None = None) -> Where:
        """The position of ``key`` inside this mapping."""
        key = shown(key, bare=True)  # a key path never prints more than 60 characters of a key
        path = f"{self.path}.{key}" if self.path else key
        return Where(self.file, path, line if line is not None else self.line)

    def index(self, i: int, line: int | None = None) -> Where:
        """The position of item ``i`` inside this list."""
        return Where(self.file, f"{self.path}[{i}]", line if line is not None else self.line)

    def __str__(self) -> str:
        loc = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{loc}: {self.path}" if self.path else loc

    def error(self, message: str) -> SpecError:
        """A SpecError ``<file>:<line>: <key path>: <message>`` (to raise)."""
        return SpecError(f"{self}: {message}")


@dataclass(frozen=True)
class Item:
    """One value of a spec with its position."""

    value: Any
    where: Where


def _kind(value: Any) -> str:
    """What a value is, without any of its content (for a whole file that is no spec)."""
    if isinstance(value, str):
        return f"text of {len(value)} character(s), not a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    return "nothing (null)" if value is None else f"a single {type(value).__name__} value"


def type_name(value: Any) -> str:
    """How a YAML value's type is called in error messages (values cut to 60 characters)."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text {shown(value)}"
    return f"{type(value).__name__} {shown(value)}"


def suggest(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(str(word), sorted(map(str, choices)), n=1, cutoff=0.6)
    return f"; did you mean {shown(close[0])}?" if close else ""


class Section:
    """A YAML mapping of a spec, validated against its allowed keys.

    Accessors (``text``, ``number``, ``flag``, ``seq``, ``names``, ``items``...) return the value
    of a key, or ``default`` when absent; a key without default is required. Type errors
    name the key path and line.
    """

    def __init__(
        self,
        value: Any,
        where: Where,
        *,
        keys: Iterable[str],
        required: Iterable[str] = (),
        what: str = "a mapping",
    ) -> None:
        document = not where.path and where.line is None  # the whole file
        if not isinstance(value, dict):
            # the file is not a mapping: perhaps not a spec at all (a key file, a text file
            # named by mistake): say what it is, never what it holds
            got = _kind(value) if document else type_name(value)
            raise where.error(f"expected {what}, got {got}; check the file's path")
        self.value: dict = value
        self.where = where
        self.line = getattr(value, "line", None) or where.line
        allowed = set(keys)
        if document and value and not any(isinstance(k, str) and k in allowed for k in value):
            raise where.error(f"expected {what}, got a mapping of {len(value)} key(s) none of "
                              f"which a spec has ({', '.join(sorted(allowed))}); check the file's path")
        for k in value:
            if not isinstance(k, str) or k not in allowed:
                raise self.at(k).error(
                    f"unknown key{suggest(str(k), allowed) or '; allowed: ' + ', '.join(sorted(allowed))}"
                )
        for k in required:
            if k not in value:
                raise Where(where.file, where.path, self.line).error(f"required key {k!r} is missing")

    def __contains__(self, key: str) -> bool:
        return key in self.value

    def at(self, key: Any) -> Where:
        """Position of ``key`` (its own line when known)."""
        lines = getattr(self.value, "key_lines", {})
        return self.where.key(key, lines.get(key, self.line))

    def get(self, key: str, default: Any = _MISSING) -> Any:
        """Raw value of ``key``; required when no default."""
        if key not in self.value or (self.value[key] is None and default is not _MISSING):
            if default is _MISSING:
                raise Where(self.where.file, self.where.path, self.line).error(
                    f"required key {key!r} is missing"
                )
            return default
        return self.value[key]

    def item(self, key: str, default: Any = _MISSING) -> Item:
        return Item(self.get(key, default), self.at(key))

    def section(self, key: str, *, keys: Iterable[str], required: Iterable[str] = ()) -> Section:
        return Section(self.get(key), self.at(key), keys=keys, required=required)

    def text(self, key: str, default: Any = _MISSING, *, choices: Iterable[str] | None = None) -> Any:
        v = self.get(key, default)
        if v is default and default is not _MISSING:
            return v
        if isinstance(v, _dt.date):  # YAML reads 2022-10-01 as a date; a text field wants text
            v = v.isoformat()
        if not isinstance(v, str) or not v.strip():
            raise self.at(key).error(f"expected non-empty text, got {type_name(v)}")
        if choices is not None:
            options = list(choices)
            if v not in options:
                raise self.at(key).error(
                    f"{shown(v)} is not one of {', '.join(options)}{suggest(v, options)}"
                )
        return v

    def number(self, key: str, default: Any = _MISSING, *, integer: bool = False,
               low: float | None = None, high: float | None = None) -> Any:
        v = self.get(key, default)
        if v is default and default is not _MISSING:
            return v
        return check_number(v, self.at(key), integer=integer, low=low, high=high)

    def flag(self, key: str, default: Any = _MISSING) -> Any:
        v = self.get(key, default)
        if v is default and default is not _MISSING:
            return v
        if not isinstance(v, bool):
            raise self.at(key).error(f"expected true or false, got {type_name(v)}")
        return v

    def seq(self, key: str, default: Any = _MISSING) -> Any:
        v = self.get(key, default)
        if v is default and default is not _MISSING:
            return v
        if not isinstance(v, list):
            raise self.at(key).error(f"expected a list, got {type_name(v)}")
        return v

    def items(self, key: str, default: Any = _MISSING) -> Iterator[tuple[int, Item]]:
        """``(index, Item)`` for each element of the list ``key`` (with its own line)."""
        v = self.seq(key, default)
        if v is None:
            return
        base = self.at(key)
        lines = getattr(v, "item_lines", [])
        for i, x in enumerate(v):
            line = lines[i] if i < len(lines) else base.line
            yield i, Item(x, base.index(i, line))

    def names(self, key: str, default: Any = _MISSING) -> Any:
        v = self.get(key, default)
        if v is default and default is not _MISSING:
            return v
        return check_str_list(v, self.at(key))


def check_number(v: Any, where: Where, *, integer: bool = False,
                 low: float | None = None, high: float | None = None) -> float | int:
    """``v`` as a number (an int when ``integer``), within ``[low, high]``."""
    ok = isinstance(v, int | float) and not isinstance(v, bool)
    if ok and isinstance(v, int) and abs(v) > 1e308:  # float(v) would overflow
        raise where.error("the number is too large (more than 308 digits)")
    if integer:
        ok = ok and float(v).is_integer()
    if not ok:
        raise where.error(f"expected {'a whole number' if integer else 'a number'}, got {type_name(v)}")
    if v != v:  # NaN (.nan in YAML)
        raise where.error("expected a number, got .nan")
    if low is not None and v < low:
        raise where.error(f"{shown(v)} is below the minimum {low}")
    if high is not None and v > high:
        raise where.error(f"{shown(v)} is above the maximum {high}")
    return int(v) if integer else v


def check_str_list(v: Any, where: Where) -> tuple[str, ...]:
    """``v`` as a tuple of non-empty strings (a list in YAML)."""
    if not isinstance(v, list):
        raise where.error(f"expected a list of names, got {type_name(v)}")
    for i, x in enumerate(v):
        if not isinstance(x, str) or not x:
            raise where.index(i).error(f"expected a name, got {type_name(x)}")
    return tuple(v)
