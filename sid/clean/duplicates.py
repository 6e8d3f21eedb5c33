"""Duplicate records: one person (key) returned more than once, e.g. in both mode files.

The person is kept once, as the *more complete* record: the one with more questionnaire
items answered (not empty and not a declared missing code, on the raw values). A tie
goes to the earlier interview (the spec's date variable of source ``paradata``, when it
declares exactly one; a missing date counts as latest), then to the record that comes
first in the raw wave (the first mode file ingested). Every other record of the key is
dropped and logged (rule ``duplicate``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.clean.log import DROPPED, log_rows
from sid.spec.questionnaire import Questionnaire

RULE_DUPLICATE = "duplicate"


def answered_count(df: pd.DataFrame, q: Questionnaire, items: list[str]) -> np.ndarray:
    """Per record: number of ``items`` holding an answer (not empty, not a missing code)."""
    count = np.zeros(len(df), dtype=np.int64)
    for name in items:  # loop over items
        s = df[name]
        has = s.notna().to_numpy(dtype=bool, copy=True)
        if pd.api.types.is_numeric_dtype(s.dtype):
            codes = np.asarray(q.missing_codes_for(name), dtype=float)
            has &= ~np.isin(s.to_numpy(dtype=float, na_value=np.nan), codes)
        else:
            has &= ~s.astype(str).str.strip().eq("").to_numpy(dtype=bool, na_value=False)
        count += has
    return count


def interview_date_variable(q: Questionnaire, df: pd.DataFrame) -> str | None:
    """The spec's one paradata date variable present in ``df`` (None: none or several)."""
    dates = [v.name for v in q.variables
             if v.type == "date" and v.source == "paradata" and v.name in df.columns]
    return dates[0] if len(dates) == 1 else None


def resolve_duplicates(
    df: pd.DataFrame, q: Questionnaire, items: list[str], rows: np.ndarray
) -> tuple[np.ndarray, pd.DataFrame]:
    """Which records to keep (boolean array over ``df``) and the log rows of the dropped.

    ``rows``: raw row positions of ``df``'s records. Vectorised: one lexicographic sort
    over the duplicated records.
    """
    keys = df[q.key].to_numpy(dtype=object)
    keep = np.ones(len(df), dtype=bool)
    dup = np.flatnonzero(pd.Series(keys).duplicated(keep=False).to_numpy())
    if not dup.size:
        return keep, log_rows(rows[:0], keys[:0], q.key, RULE_DUPLICATE, [], DROPPED)
    sub = df.iloc[dup]
    answered = answered_count(sub, q, items)
    date_var = interview_date_variable(q, df)
    if date_var is not None:
        d = pd.to_datetime(sub[date_var], errors="coerce")
        when = d.to_numpy(dtype="datetime64[ns]").astype(np.int64)
        when = np.where(d.isna().to_numpy(), np.iinfo(np.int64).max, when)
    else:
        when = np.zeros(dup.size, dtype=np.int64)
    group = pd.factorize(keys[dup])[0]
    order = np.lexsort((dup, when, -answered, group))  # last key sorts first
    first = np.r_[True, group[order][1:] != group[order][:-1]]
    dropped = np.sort(dup[order][~first])
    keep[dropped] = False
    mv = q.mode_variable
    before = (df[mv].to_numpy(dtype=object)[dropped] if mv and mv in df.columns
              else np.full(dropped.size, "", dtype=object))
    return keep, log_rows(rows[dropped], keys[dropped], q.key, RULE_DUPLICATE, before, DROPPED)
