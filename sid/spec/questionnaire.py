"""The questionnaire spec of a wave as frozen dataclasses (docs/questionnaire-spec.md).

``sid.spec.questionnaire_parse.load_questionnaire(path)`` reads and validates
``questionnaires/<wave>.yaml`` (key by key); the result is plain, immutable data that
every stage reads::

    q = load_questionnaire("questionnaires/sid2022.yaml")
    q.variable("q_lang_home").categories          # {1: "Nederlands", ...}
    q.missing_codes_for("q_lang_home")            # (-1, -2, -3, -4)
    meta = q.to_spss_meta()                       # labels, value labels, missing, measures

Loading checks structure (keys, types, vocabularies, duplicate names, expression syntax);
:func:`sid.spec.check.check_spec` checks meaning (names used in expressions exist,
derived variables are defined before use, ...).
:func:`sid.spec.check.load_checked_questionnaire` does both and raises on the first error.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sid.errors import SpecError
from sid.spec.expr import Expression
from sid.spec.yamlfile import shown

if TYPE_CHECKING:
    from sid.io.spss_meta import SpssMeta, VariableMeta

Code = int | float | str

MEANINGS = ("dont_know", "no_answer", "not_applicable", "invalid", "refused")
#: label of the mode variable in the data when the spec gives none (the spec's language: Dutch;
#: the analysts' files and tables of an English run use the catalogue's common.mode_variable)
MODE_LABEL = "Bevragingsmodus"
TYPES = ("categorical", "ordinal", "numeric", "text", "date")
SOURCES = ("questionnaire", "register", "paradata")
MEASURES = ("nominal", "ordinal", "scale")
DEFAULT_MEASURE = {"categorical": "nominal", "ordinal": "ordinal", "numeric": "scale",
                   "text": "nominal", "date": "scale"}
SCORINGS = ("mean", "sum", "count", "factor")
SCALES = ("raw", "pomp", "z")
IDENTIFIERS = ("pseudonymise",)  # what ingest does with a variable holding personal numbers


@dataclass(frozen=True)
class MissingCode:
    """A wave's user-missing code: the code, its meaning (fixed vocabulary), its label."""

    code: int | float
    meaning: str
    label: str


@dataclass(frozen=True)
class Check:
    """A consistency check: rows where ``expr`` is definitely false are violations."""

    expr: Expression
    message: str


@dataclass(frozen=True)
class Variable:
    """A variable of the wave as fieldwork delivers it (or the register, or paradata).

    ``missing``: the user-missing codes this item may hold (explicit, or every wave code
    whose meaning is not ``invalid``; none for text and date variables). ``takes_invalid``:
    whether the wave's ``invalid`` code(s), which cleaning sets, apply too: True for a
    numeric questionnaire item unless it says ``missing: []``; False for register and
    paradata variables (they take an invalid code only by listing it in ``missing``) and
    for text and date variables. ``range``: inclusive valid range of a numeric item.
    ``relevant``: routing; the item is asked where it holds (definitely true).
    ``identifier``: ``"pseudonymise"`` for a variable that holds personal numbers (national
    register numbers): ingest replaces its values by their keyed HMAC pseudonym
    (:mod:`sid.io.pseudonym`) instead of refusing the file (docs/questionnaire-spec.md).
    """

    name: str
    label: str
    type: str
    source: str = "questionnaire"
    categories: Mapping[Code, str] = field(default_factory=dict)
    missing: tuple[Code, ...] = ()
    takes_invalid: bool = False
    relevant: Expression | None = None
    grid: str | None = None
    range: tuple[float, float] | None = None
    checks: tuple[Check, ...] = ()
    measure: str = "nominal"
    identifier: str | None = None
    where: str = field(default="", compare=False)

    @property
    def is_text(self) -> bool:
        """True for a string variable (type text, or text category codes)."""
        return self.type == "text" or any(isinstance(k, str) for k in self.categories)


@dataclass(frozen=True)
class Derived:
    """A variable computed after cleaning by ``expr``, in spec order."""

    name: str
    label: str
    type: str
    expr: Expression
    categories: Mapping[Code, str] = field(default_factory=dict)
    range: tuple[float, float] | None = None
    measure: str = "nominal"
    where: str = field(default="", compare=False)

    is_text = Variable.is_text


@dataclass(frozen=True)
class Index:
    """A scale score over items (see sid.scales): scoring, reversal, k-of-n rule, scale."""

    name: str
    label: str
    theme: str
    items: tuple[str, ...]
    reverse: tuple[str, ...] = ()
    min_valid: int = 1
    scoring: str = "mean"
    count_values: tuple[Code, ...] = ()
    scale: str = "raw"
    reference_group: Expression | None = None
    reliability_min: float | None = None
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class Completion:
    """AAPOR completion thresholds: share of applicable items answered."""

    complete: float = 0.80
    partial: float = 0.50
    items: str | tuple[str, ...] = "questionnaire"  # a source, or the item names
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class Speeders:
    duration: str
    modes: tuple[str, ...] = ()
    ratio_to_median: float = 0.35
    drop: bool = False
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class Straightlining:
    grids: tuple[str, ...]
    min_items: int = 4
    drop: bool = False
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class RegisterMismatch:
    answer: str
    register: str
    tolerance: float = 0
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class Quality:
    speeders: Speeders | None = None
    straightlining: Straightlining | None = None
    register_mismatch: tuple[RegisterMismatch, ...] = ()


@dataclass(frozen=True)
class Questionnaire:
    """One wave's questionnaire spec."""

    wave: str
    title: str
    key: str
    variables: tuple[Variable, ...]
    missing_codes: Mapping[Code, MissingCode] = field(default_factory=dict)
    reference_date: _dt.date | None = None
    mode_variable: str | None = None
    modes: Mapping[str, str] = field(default_factory=dict)
    completion: Completion = field(default_factory=Completion)
    quality: Quality = field(default_factory=Quality)
    derived: tuple[Derived, ...] = ()
    indices: tuple[Index, ...] = ()
    #: the themes indices (and table plans) refer to: code -> label, in spec order
    themes: Mapping[str, str] = field(default_factory=dict)
    path: str = field(default="", compare=False)

    # -- look-ups -------------------------------------------------------------------
    @cached_property
    def _by_name(self) -> dict[str, Variable | Derived]:
        # cached_property writes the instance __dict__ directly, which a frozen dataclass allows
        return {v.name: v for v in (*self.variables, *self.derived)}

    def variable(self, name: str) -> Variable | Derived:
        """The variable (or derived variable) ``name``; SpecError when not declared."""
        v = self._by_name.get(name)
        if v is not None:
            return v
        from sid.spec.yamlfile import suggest

        raise SpecError(f"{self.path or self.wave}: variable {shown(name)} is not declared"
                        f"{suggest(name, self.names())}")

    def index(self, name: str) -> Index:
        for ix in self.indices:
            if ix.name == name:
                return ix
        raise SpecError(f"{self.path or self.wave}: index {shown(name)} is not declared")

    def theme_label(self, code: str) -> str:
        """The label of theme ``code`` as the spec's ``themes:`` gives it (else the code)."""
        return str(self.themes.get(code, code))

    def names(self) -> list[str]:
        """Declared variable names, then derived ones, in spec order."""
        return list(self._by_name)

    def __contains__(self, name: object) -> bool:
        """``name in q``: a declared variable or derived variable."""
        return name in self._by_name

    def invalid_codes(self) -> tuple[Code, ...]:
        """Codes with meaning ``invalid`` (set by cleaning on the items they apply to)."""
        return tuple(c for c, m in self.missing_codes.items() if m.meaning == "invalid")

    def identifiers(self) -> list[str]:
        """Names of the variables that ingest pseudonymises (``identifier: pseudonymise``)."""
        return [v.name for v in self.variables if v.identifier == "pseudonymise"]

    def missing_codes_for(self, name: str) -> tuple[Code, ...]:
        """Codes that are user-missing for ``name`` (in the valid view and in SPSS):
        the item's own ``missing`` codes plus, where they apply (``Variable.takes_invalid``:
        numeric questionnaire items without ``missing: []``), the wave's ``invalid`` codes,
        which cleaning sets. Derived, text and date variables have none."""
        v = self.variable(name)
        if isinstance(v, Derived) or v.is_text or v.type == "date":
            return ()
        codes = list(v.missing)
        if v.takes_invalid:
            codes += [c for c in self.invalid_codes() if c not in codes]
        return tuple(codes)

    # -- SPSS dictionary --------------------------------------------------------------
    def to_spss_meta(self, *, file_label: str | None = None) -> SpssMeta:
        """The SPSS dictionary the spec implies: variable labels, value labels (categories
        and the labels of the variable's missing codes), user-missing declarations and
        measures, for every variable, derived variable and the mode variable."""
        from sid.io.spss_meta import SpssMeta

        out: dict[str, VariableMeta] = {}
        for v in (*self.variables, *self.derived):
            out[v.name] = self._variable_meta(v)
        if self.mode_variable and self.mode_variable not in out:
            from sid.io.spss_meta import VariableMeta

            width = max([len(m.encode("utf-8")) for m in self.modes] + [1])
            out[self.mode_variable] = VariableMeta(
                name=self.mode_variable, label=MODE_LABEL, type="string",
                format=f"A{width}", measure="nominal", value_labels=dict(self.modes),
            )
        return SpssMeta(variables=out, file_label=file_label or self.title)

    def _variable_meta(self, v: Variable | Derived) -> VariableMeta:
        from sid.io.spss_meta import VariableMeta

        codes = self.missing_codes_for(v.name)
        labels: dict = dict(v.categories)
        for c in codes:
            labels.setdefault(c, self.missing_codes[c].label)
        values, ranges = _spss_missing_declaration(v, codes, self.path or self.wave)
        if v.is_text:
            return VariableMeta(name=v.name, label=v.label, type="string", measure=v.measure,
                                value_labels=labels, missing_values=values)
        return VariableMeta(
            name=v.name, label=v.label, type="numeric", format=_numeric_format(v, codes),
            measure=v.measure, value_labels=labels, missing_values=values, missing_ranges=ranges,
        )


def _numeric_format(v: Variable | Derived, codes: tuple[Code, ...]) -> str:
    if v.type == "date":
        return "EDATE10"
    values = [float(k) for k in v.categories] + [float(c) for c in codes]
    if v.range is not None:
        values += list(v.range)
    if v.type == "numeric" and (v.range is None or not all(float(x).is_integer() for x in v.range)):
        return "F8.2"
    if not values or not all(float(x).is_integer() for x in values):
        return "F8.2"
    width = max(len(str(int(x))) for x in values)
    return f"F{max(width, 1)}.0"


def _spss_missing_declaration(
    v: Variable | Derived, codes: tuple[Code, ...], where: str
) -> tuple[list[Code], list[tuple[float, float]]]:
    """SPSS holds 3 discrete missing values, or 1 range + 1 value: choose a declaration
    whose range covers no valid value (category code or valid range)."""
    if len(codes) <= 3:
        return list(codes), []
    valid = [float(k) for k in v.categories]

    def clean(lo: float, hi: float) -> bool:
        if any(lo <= x <= hi for x in valid):
            return False
        return v.range is None or hi < v.range[0] or lo > v.range[1]

    nums = sorted(float(c) for c in codes)
    candidates = [(None, nums)] + [(x, [y for y in nums if y != x]) for x in nums]
    for single, rest in candidates:
        if clean(rest[0], rest[-1]):
            return ([single] if single is not None else []), [(rest[0], rest[-1])]
    raise SpecError(
        f"{where}: variable {v.name}: its {len(codes)} missing codes cannot be declared in SPSS "
        "(3 values, or 1 range + 1 value) without covering a valid value; give it fewer codes"
    )
