"""Checks on the inputs of the fieldwork stage: gross sample, dispositions, survey keys.

Each check raises one :class:`sid.errors.DataError` (one line: which file, what is wrong,
how many cases, the first few keys, what to do), except the consistency check of complete
dispositions against the survey files, which warns by default (:class:`FieldworkWarning`)
because the agency's final dispositions and the delivered data files legitimately disagree
in a few cases (late completes, withdrawn consent) that the survey team must look at, not
stop on. All checks are vectorised set operations on the keys.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from sid.errors import DataError

#: Number of keys quoted in a message.
SHOW = 5


class FieldworkWarning(UserWarning):
    """Dispositions and survey files disagree in a way the survey team should look at."""


def _keys(values: Iterable[object] | pd.Series | pd.Index) -> pd.Index:
    # an object Index: its isin is a hash-table lookup, where pandas 3's arrow-backed
    # strings fall back to a per-element Python loop (7x slower at 350,000 keys)
    if not isinstance(values, (pd.Series, pd.Index, np.ndarray)):
        values = list(values)
    return pd.Index(np.asarray(values, dtype=object), dtype=object)


def _head(keys: Iterable[object]) -> str:
    vals = list(keys)
    text = ", ".join(str(v) for v in vals[:SHOW])
    return text + (", ..." if len(vals) > SHOW else "")


def check_unique_keys(frame: pd.DataFrame, key: str = "person_key", source: str = "gross sample") -> None:
    """Raise :class:`DataError` when ``frame[key]`` is missing or repeats a key.

    A register key that occurs twice in the gross sample would count one person twice in
    every rate (and give two design weights to one person).
    """
    if key not in frame.columns:
        raise DataError(f"{source}: no key column {key!r} (columns: {list(frame.columns)})")
    k = frame[key]
    missing = k.isna().to_numpy()
    if missing.any():
        raise DataError(
            f"{source}: {int(missing.sum())} row(s) have no {key} "
            f"(first rows: {_head(frame.index[missing])}): every case needs its register key"
        )
    dup = k.duplicated(keep=False).to_numpy()
    if dup.any():
        repeated = pd.unique(k[dup])
        raise DataError(
            f"{source}: {len(repeated)} {key} value(s) occur more than once "
            f"({int(dup.sum())} rows; first: {_head(repeated)}): keep one row per person"
        )


def check_respondents_in_sample(
    survey_keys: Iterable[object], gross_keys: Iterable[object], source: str = "survey data"
) -> None:
    """Raise :class:`DataError` for respondents (keys in the survey data) not in the gross sample.

    Every respondent must have been drawn: a key the gross sample lacks is a wrong key in
    the agency's file or a gross sample that is not the one fielded.
    """
    survey = _keys(survey_keys)
    stray = survey[~survey.isin(_keys(gross_keys))]
    if len(stray):
        raise DataError(
            f"{source}: {len(stray)} respondent key(s) have no record in the gross sample "
            f"(first: {_head(stray)}): check the key column and that the gross sample is the "
            "one fielded"
        )


def check_dispositions_cover_sample(
    dispositions: pd.DataFrame, gross: pd.DataFrame, key: str = "person_key"
) -> None:
    """Raise :class:`DataError` unless dispositions and gross sample hold the same keys once.

    Every case of the gross sample needs exactly one final disposition (AAPOR rates are
    computed over the whole gross sample), and no disposition may name a key that was not
    drawn.
    """
    check_unique_keys(gross, key, "gross sample")
    check_unique_keys(dispositions, key, "dispositions")
    g, d = _keys(gross[key]), _keys(dispositions[key])
    extra = d[~d.isin(g)]
    if len(extra):
        raise DataError(
            f"dispositions: {len(extra)} key(s) are not in the gross sample "
            f"(first: {_head(extra)}): the agency reported on cases that were not drawn"
        )
    lacking = g[~g.isin(d)]
    if len(lacking):
        raise DataError(
            f"dispositions: {len(lacking)} case(s) of the gross sample have no final "
            f"disposition (first: {_head(lacking)}): ask the agency for a final code for every case"
        )


def check_completes_match(
    cases: pd.DataFrame,
    survey_keys: Iterable[object],
    key: str = "person_key",
    strict: bool = False,
) -> list[str]:
    """Compare the interviews the dispositions report with the keys in the survey files.

    ``cases`` has ``key``, ``outcome`` (AAPOR class) and ``aapor_code`` (from
    :func:`sid.fieldwork.dispositions.map_dispositions`). Two disagreements are looked for:

    * a case whose disposition says complete (I) but whose key is absent from the survey
      files (the interview was reported but not delivered);
    * a key in the survey files whose disposition is neither an interview (I, P) nor a
      break-off (AAPOR 2.12x), the only non-interview that leaves data behind.

    Returns the messages (empty when they agree). Each is issued as a
    :class:`FieldworkWarning`, or raised as a :class:`DataError` when ``strict``.
    """
    for col in (key, "outcome", "aapor_code"):
        if col not in cases.columns:
            raise DataError(f"dispositions: no column {col!r} (columns: {list(cases.columns)})")
    survey = _keys(survey_keys)
    keys = _keys(cases[key])
    outcome = cases["outcome"].astype(str).to_numpy()
    in_survey = keys.isin(survey)
    complete = outcome == "I"
    breakoff = cases["aapor_code"].astype(str).str.startswith("2.12").to_numpy()
    with_data = np.isin(outcome, ["I", "P"]) | breakoff

    messages = []
    absent = keys[complete & ~in_survey]
    if len(absent):
        messages.append(
            f"dispositions: {len(absent)} case(s) coded complete (I) are absent from the "
            f"survey files (first: {_head(absent)}): ask the agency for their data or recode them"
        )
    unexpected = keys[in_survey & ~with_data]
    if len(unexpected):
        codes = cases["aapor_code"].to_numpy()[in_survey & ~with_data]
        messages.append(
            f"survey data: {len(unexpected)} respondent(s) have a disposition that is no "
            f"interview or break-off (first: {_head(unexpected)}; codes {_head(pd.unique(codes))}): "
            "correct their disposition or drop them from the survey files"
        )
    for msg in messages:
        if strict:
            raise DataError(msg)
        warnings.warn(msg, FieldworkWarning, stacklevel=2)
    return messages
