"""Agency disposition codes -> AAPOR final disposition codes -> outcome classes.

The fieldwork agency reports one final disposition per case of the gross sample in its own
codes (numbers or labels). The project's spec maps each agency code to an AAPOR final
disposition code string, ``{agency_code: "2.11", ...}``. This module validates that
mapping against the AAPOR scheme and classifies every case into one of the eight outcome
classes the outcome-rate formulas use.

Reference: The American Association for Public Opinion Research (2023), *Standard
Definitions: Final Dispositions of Case Codes and Outcome Rates for Surveys*, 10th edition,
tables of final disposition codes (mail and internet surveys of specifically named persons,
in-person surveys). The classes are:

=====  =================================  =========================================
class  AAPOR codes                        meaning
=====  =================================  =========================================
I      1.1, 1.1x                          complete interview
P      1.2, 1.2x                          partial interview
R      2.1, 2.1x (2.11 refusal,           refusal and break-off
       2.111/2.112, 2.12 break-off)
NC     2.2, 2.2x                          non-contact (eligible)
O      2.3, 2.3x (2.31 death, 2.32        other eligible non-interview
       unable, 2.33 language, ...)
UH     3.1, 3.1x                          unknown eligibility: unknown if household /
                                          invitation not delivered / nothing returned
UO     3.2 ... 3.9 (and sub-codes)        unknown eligibility, other
NE     4, 4.x                             not eligible
=====  =================================  =========================================

Codes at the level of a whole chapter that do not say which class a case is in (``1``,
``1.0``, ``2``, ``2.0``, ``3``, ``3.0``) are rejected: the rates cannot be computed from
them. ``4`` and ``4.0`` are accepted, since every sub-code of 4 is NE.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from sid.errors import DataError, SpecError, shown

#: The AAPOR outcome classes, in the order the rate tables use.
OUTCOMES: tuple[str, ...] = ("I", "P", "R", "NC", "O", "UH", "UO", "NE")

_CODE = re.compile(r"^([1-4])(?:\.(\d)(\d*))?$")

# (chapter, first decimal) -> class; chapter 3 decimals 2..9 and chapter 4 are filled below.
_CLASS: dict[tuple[str, str | None], str] = {
    ("1", "1"): "I",
    ("1", "2"): "P",
    ("2", "1"): "R",
    ("2", "2"): "NC",
    ("2", "3"): "O",
    ("3", "1"): "UH",
    **{("3", str(d)): "UO" for d in range(2, 10)},
    ("4", None): "NE",
    **{("4", str(d)): "NE" for d in range(0, 10)},
}


def aapor_class(code: object) -> str:
    """Outcome class (one of :data:`OUTCOMES`) of one AAPOR final disposition code.

    ``code`` is a string such as ``"2.33"``; a float (as YAML reads an unquoted ``2.33``)
    is accepted through its shortest repr. Raises :class:`SpecError` for a code that is not
    in the AAPOR scheme or too coarse to classify.
    """
    text = _code_text(code)
    m = _CODE.match(text)
    if m is None:
        raise SpecError(
            f"AAPOR disposition code {shown(code)} is not in the AAPOR scheme: "
            "write it as 'chapter.code', e.g. '1.1', '2.11', '2.33', '3.19', '4.10'"
        )
    chapter, first, _rest = m.groups()
    cls = _CLASS.get((chapter, first))
    if cls is None:
        if first in (None, "0"):
            raise SpecError(
                f"AAPOR disposition code {shown(text)} is too coarse to classify: use a sub-code "
                "(1.1 complete, 1.2 partial; 2.1x refusal/break-off, 2.2x non-contact, "
                "2.3x other; 3.1x or 3.2x-3.9x unknown eligibility)"
            )
        raise SpecError(
            f"AAPOR disposition code {shown(text)} is not in the AAPOR scheme (chapter {chapter} "
            f"has no sub-code {chapter}.{first}): see AAPOR Standard Definitions (2023), "
            "final disposition codes"
        )
    return cls


def _code_text(code: object) -> str:
    if isinstance(code, str):
        return code.strip()
    if isinstance(code, bool) or not isinstance(code, numbers.Real):
        raise SpecError(
            f"AAPOR disposition code {shown(code)} is a {type(code).__name__}: "
            "write it as a string, e.g. '2.11'"
        )
    return repr(float(code)) if not float(code).is_integer() else str(int(code))


def agency_key(value: object) -> str:
    """Normalised text of an agency disposition code, so spec keys and data values compare.

    YAML reads ``11:`` as an int while SPSS stores the code as the float ``11.0``; both
    become ``"11"``. Labels are stripped of surrounding blanks. Case is kept.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        f = float(value)
        return str(int(f)) if f.is_integer() else repr(f)
    return str(value).strip()


def validate_mapping(mapping: Mapping[object, object], spec_key: str = "dispositions") -> dict[str, str]:
    """Check a spec's ``{agency_code: aapor_code}`` mapping; return it normalised.

    Keys become :func:`agency_key` text; values are checked with :func:`aapor_class` and
    returned as code strings. Raises :class:`SpecError` naming ``spec_key`` and the agency
    code for an AAPOR code outside the scheme, or for two keys that normalise to the same
    agency code (e.g. ``11`` and ``"11"``).
    """
    if not isinstance(mapping, Mapping) or not mapping:
        raise SpecError(
            f"spec key {spec_key}: expected a non-empty mapping of agency disposition codes "
            f"to AAPOR codes, got {type(mapping).__name__}"
        )
    out: dict[str, str] = {}
    for raw_key, raw_code in mapping.items():
        key = agency_key(raw_key)
        try:
            aapor_class(raw_code)
        except SpecError as exc:
            raise SpecError(f"spec key {spec_key}.{shown(raw_key, bare=True)}: {exc}") from None
        if key in out:
            raise SpecError(
                f"spec key {spec_key}: agency code {shown(raw_key)} is given twice "
                f"(as {shown(key)}): keep one entry"
            )
        out[key] = _code_text(raw_code)
    return out


def map_dispositions(
    codes: pd.Series,
    mapping: Mapping[object, object],
    spec_key: str = "dispositions",
    source: str = "dispositions",
) -> pd.DataFrame:
    """AAPOR code and outcome class of every case, from its agency disposition code.

    Returns a DataFrame on ``codes``' index with columns ``aapor_code`` (string) and
    ``outcome`` (one of :data:`OUTCOMES`). Only the distinct codes are looked up; cases are
    mapped by their position in the table of distinct codes (vectorised).

    Raises :class:`SpecError` for an invalid mapping, and :class:`DataError` when cases
    have no disposition or a disposition the mapping lacks, naming the codes, how many
    cases each, and the spec key to add them to.
    """
    norm = validate_mapping(mapping, spec_key)
    missing = codes.isna().to_numpy()
    if missing.any():
        raise DataError(
            f"{source}: {int(missing.sum())} case(s) have no disposition code "
            f"(first rows: {_first(codes.index[missing])}): every case of the gross sample "
            "needs a final disposition"
        )
    idx, uniques = pd.factorize(codes, sort=False)
    keys = np.array([agency_key(u) for u in uniques], dtype=object)
    known = np.array([k in norm for k in keys], dtype=bool)
    if not known.all():
        counts = np.bincount(idx, minlength=len(uniques))
        parts = [f"{keys[j]} ({counts[j]} case{'s' if counts[j] != 1 else ''})" for j in np.flatnonzero(~known)]
        raise DataError(
            f"{source}: disposition code(s) {', '.join(parts)} map to no AAPOR code: "
            f"add them to spec key {spec_key} (agency code: AAPOR code, e.g. '2.11')"
        )
    aapor = np.array([norm[k] for k in keys], dtype=object)
    classes = np.array([aapor_class(c) for c in aapor], dtype=object)
    return pd.DataFrame(
        {
            # taken from the few distinct codes' arrays: no per-case string hashing or boxing
            "aapor_code": pd.Series(aapor).array.take(idx),
            "outcome": pd.Categorical.from_codes(
                pd.Index(list(OUTCOMES)).get_indexer(classes)[idx], categories=list(OUTCOMES)
            ),
        },
        index=codes.index,
    )


def _first(values: object, k: int = 5) -> str:
    vals = list(values)
    head = ", ".join(str(v) for v in vals[:k])
    return head + (", ..." if len(vals) > k else "")
