"""Value rules of cleaning: invalid codes, routing, applicable items left empty.

* :func:`check_codes`: a value of a numeric questionnaire or paradata item that is neither
  a category, nor inside the declared range, nor one of the item's missing codes
  (``Questionnaire.missing_codes_for``) becomes the wave's ``invalid`` code (-4 in SID)
  where that code applies (``Variable.takes_invalid``: questionnaire items); elsewhere
  (paradata, an item with ``missing: []``) it becomes system missing, as no code may be
  written into a variable that does not declare it. Both are logged (rule invalid_code).
* :func:`apply_routing`: each ``relevant`` condition is evaluated per respondent on the
  valid view (after the code check, so an invalid answer routes like a missing one: not
  asked). Where the item is not applicable, a value that is not system missing and not
  already the ``not_applicable`` code becomes that code (-3). Items are routed in spec
  order, each on the values already routed, so a chain (C asked when B, B when A) follows
  through.
* :func:`empty_applicable`: where an item is applicable and system missing (an empty
  cell: asked, no answer recorded), flagged per respondent and counted per item.

Text and date items are not recoded: no numeric code can be stored in them.
Each function works column-wise (one pass per variable) and edits ``df`` in place,
returning the log rows of its changes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.clean.log import concat_log, log_rows
from sid.errors import DataError, SpecError
from sid.spec.frame import FrameEnv
from sid.spec.questionnaire import Questionnaire, Variable

RULE_INVALID = "invalid_code"
RULE_ROUTING = "routing"


def code_of(q: Questionnaire, meaning: str, why: str) -> float:
    """The wave's missing code with ``meaning``; SpecError when the spec declares none."""
    for code, mc in q.missing_codes.items():
        if mc.meaning == meaning:
            return float(code)
    raise SpecError(
        f"{q.path or q.wave}: missing_codes declares no code with meaning {meaning!r}, needed "
        f"{why}; add one (e.g. -4: {{meaning: {meaning}, label: ...}})"
    )


def recodable(q: Questionnaire, v: Variable, df: pd.DataFrame) -> bool:
    """True for an item cleaning may recode: in the data, from fieldwork (questionnaire or
    paradata, not register), numeric codes (not text, not a date), not the key."""
    return (v.name in df.columns and v.source != "register" and v.name != q.key
            and not v.is_text and v.type != "date")


def numeric_column(df: pd.DataFrame, name: str, where: str) -> np.ndarray:
    """``df[name]`` as a float64 copy; DataError when it holds text."""
    s = df[name]
    if not (pd.api.types.is_numeric_dtype(s.dtype) or s.isna().all()):
        raise DataError(f"{where}: variable {name} holds text but the spec declares numeric "
                        "codes; correct the data file or the spec's type")
    return s.to_numpy(dtype=float, na_value=np.nan, copy=True)


def check_codes(df: pd.DataFrame, q: Questionnaire, rows: np.ndarray, keys: np.ndarray,
                where: str = "wave") -> pd.DataFrame:
    """Set codes outside categories / range / the item's missing codes to the invalid code
    (system missing on a variable the invalid code does not apply to: see the module doc).

    ``rows``: raw row positions of ``df``'s records, ``keys`` their keys (for the log).
    An item with neither categories nor a range is not checked (nothing to check against;
    ``sid check`` warns about it).
    """
    parts = []
    invalid: float | None = None
    for v in q.variables:  # loop over variables
        if not recodable(q, v, df) or (not v.categories and v.range is None):
            continue
        x = numeric_column(df, v.name, where)
        ok = np.isnan(x) | np.isin(x, np.asarray(q.missing_codes_for(v.name), dtype=float))
        if v.categories:
            # with categories a value must be one of them (a range beside them is their
            # span: check_spec rejects a category outside it)
            ok |= np.isin(x, np.asarray(list(v.categories), dtype=float))
        else:
            ok |= (x >= v.range[0]) & (x <= v.range[1])
        bad = np.flatnonzero(~ok)
        if not bad.size:
            continue
        if v.takes_invalid or set(q.invalid_codes()) & set(v.missing):
            if invalid is None:  # (a wave without an invalid code: code_of says so)
                invalid = code_of(q, "invalid", f"to recode values outside {v.name}'s categories")
            new = invalid
        else:
            new = np.nan  # the invalid code does not apply to this variable: system missing
        parts.append(log_rows(rows[bad], keys[bad], v.name, RULE_INVALID, x[bad], new))
        x[bad] = new
        df[v.name] = x
    return concat_log(parts)


def apply_routing(df: pd.DataFrame, q: Questionnaire, rows: np.ndarray, keys: np.ndarray,
                  where: str = "wave") -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Set answers to items that were not applicable to the not-applicable code.

    Returns the log rows and, per routed item, its boolean applicability (the condition
    definitely true). Items without ``relevant`` are applicable everywhere and are not in
    the returned dict.
    """
    n = len(df)
    parts, applicable = [], {}
    na_code: float | None = None
    for v in q.variables:  # loop over routed variables, in spec order
        if v.relevant is None or v.name not in df.columns:
            continue
        # a fresh environment: it must see the items routed before this one
        env, raw = FrameEnv(df, q, valid=True), FrameEnv(df, q, valid=False)
        asked = v.relevant.holds(env, n, codes=raw)
        applicable[v.name] = asked
        if not recodable(q, v, df):
            continue
        x = numeric_column(df, v.name, where)
        answered = ~asked & ~np.isnan(x)
        if not answered.any():  # nothing to route out: the wave needs no not-applicable code
            continue
        if na_code is None:
            na_code = code_of(q, "not_applicable", f"to route out answers to {v.name}")
        change = np.flatnonzero(answered & (x != na_code))
        if not change.size:
            continue
        if na_code not in {float(c) for c in q.missing_codes_for(v.name)}:
            raise SpecError(
                f"{v.where or q.path}: {v.name} is routed (relevant: {v.relevant.source}) but "
                f"its missing codes lack the not-applicable code {na_code:g}; add it to missing"
            )
        parts.append(log_rows(rows[change], keys[change], v.name, RULE_ROUTING, x[change], na_code))
        x[change] = na_code
        df[v.name] = x
    return concat_log(parts), applicable


def is_empty(s: pd.Series) -> np.ndarray:
    """System missing: NaN / None, or blank text (SPSS stores empty strings as blanks)."""
    empty = s.isna().to_numpy(dtype=bool, copy=True)
    if not pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_datetime64_any_dtype(s.dtype):
        empty |= s.astype(str).str.strip().eq("").to_numpy(dtype=bool, na_value=False)
    return empty


def empty_applicable(df: pd.DataFrame, items: list[str],
                     applicable: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per item of ``items``: True where it was applicable and left empty (system missing)."""
    out = {}
    for name in items:  # loop over items
        app = applicable.get(name)
        empty = is_empty(df[name])
        out[name] = empty if app is None else empty & app
    return out
