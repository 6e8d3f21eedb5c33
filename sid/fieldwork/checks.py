"""Checks on the inputs of the fieldwork stage: gross sample, dispositions, survey keys.

Each check raises one :class:`sid.errors.DataError` (one line: which file, what is wrong,
how many cases, the first few keys, what to do), except the consistency check of complete
dispositions against the survey files, which warns by default (:class:`FieldworkWarning`)
because the agency's final dispositions and the delivered data files legitimately disagree
in a few cases (late completes, withdrawn consent) that the survey team must look at, not
stop on. All checks are vectorised set operations on the keys: the key lists are factorised
together once (:func:`factorize_keys`, one hash table) and every check is then a bincount
or a boolean lookup on the integer codes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable

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


def _key_array(values: Iterable[object] | pd.Series | pd.Index | np.ndarray) -> pd.Series | pd.Index | np.ndarray:
    if isinstance(values, (pd.Series, pd.Index, np.ndarray)):
        return values
    return np.asarray(list(values), dtype=object)


def factorize_keys(*key_lists: Iterable[object] | pd.Series | pd.Index | np.ndarray) -> tuple[list[np.ndarray], int]:
    """Integer codes of several key lists in one shared hash table.

    Returns one int64 array of codes per list (equal keys, in whichever list, get equal
    codes; a missing key gets -1) and the number of distinct keys. Text keys (pandas'
    string dtype) are factorised as Arrow strings; any other mix as Python objects, where
    equality is Python's (``1 == 1.0``, ``1 != "1"``), as in :meth:`pandas.Index.isin`.
    """
    arrays = [_key_array(k) for k in key_lists]
    sizes = [len(a) for a in arrays]
    if all(isinstance(getattr(a, "dtype", None), pd.StringDtype) for a in arrays):
        joined = pd.concat([pd.Series(a).reset_index(drop=True) for a in arrays], ignore_index=True)
    else:
        joined = np.concatenate([np.asarray(a, dtype=object) for a in arrays]) if arrays else np.array([], dtype=object)
    codes, uniques = pd.factorize(joined, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int64)
    bounds = np.cumsum([0, *sizes])
    return [codes[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)], len(uniques)


def _present(codes: np.ndarray, n: int) -> np.ndarray:
    """Boolean table over the ``n`` distinct keys: which occur in ``codes``."""
    table = np.zeros(n + 1, dtype=bool)
    table[codes] = True  # -1 (missing) lands in the spare last slot
    return table[:n]


def _lookup(table: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``table[codes]``, False where the key is missing (code -1)."""
    return np.append(table, False)[codes]


def _head(keys: Iterable[object]) -> str:
    vals = list(keys)
    text = ", ".join(str(v) for v in vals[:SHOW])
    return text + (", ..." if len(vals) > SHOW else "")


def check_unique_keys(frame: pd.DataFrame, key: str, source: str = "gross sample") -> None:
    """Raise :class:`DataError` when ``frame[key]`` is missing or repeats a key.

    A register key that occurs twice in the gross sample would count one person twice in
    every rate (and give two design weights to one person).
    """
    _check_unique(frame, key, source, None)


def _check_unique(frame: pd.DataFrame, key: str, source: str, codes: tuple[np.ndarray, int] | None) -> None:
    """:func:`check_unique_keys` on the key codes ``(codes, n)`` of ``frame[key]`` from
    :func:`factorize_keys` (computed here when None)."""
    if key not in frame.columns:
        raise DataError(f"{source}: no key column {key!r} (columns: {list(frame.columns)})")
    k = frame[key]
    missing = k.isna().to_numpy()
    if missing.any():
        raise DataError(
            f"{source}: {int(missing.sum())} row(s) have no {key} "
            f"(first rows: {_head(frame.index[missing])}): every case needs its register key"
        )
    if codes is None:
        (c,), n = factorize_keys(k)
    else:
        c, n = codes
    dup = np.bincount(c, minlength=n)[c] > 1
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
    survey = _key_array(survey_keys)
    (s_codes, g_codes), n = factorize_keys(survey, gross_keys)
    _check_respondents(survey, s_codes, _present(g_codes, n), source)


def _check_respondents(survey: pd.Series | pd.Index | np.ndarray, s_codes: np.ndarray,
                       in_gross: np.ndarray, source: str) -> None:
    """:func:`check_respondents_in_sample` on key codes: ``in_gross`` flags the codes of the
    gross sample's keys."""
    stray_rows = ~_lookup(in_gross, s_codes)
    if stray_rows.any():
        stray = np.asarray(survey, dtype=object)[stray_rows]
        raise DataError(
            f"{source}: {len(stray)} respondent key(s) have no record in the gross sample "
            f"(first: {_head(stray)}): check the key column and that the gross sample is the "
            "one fielded"
        )


def check_dispositions_cover_sample(
    dispositions: pd.DataFrame, gross: pd.DataFrame, key: str
) -> None:
    """Raise :class:`DataError` unless dispositions and gross sample hold the same keys once.

    Every case of the gross sample needs exactly one final disposition (AAPOR rates are
    computed over the whole gross sample), and no disposition may name a key that was not
    drawn.
    """
    if key not in gross.columns or key not in dispositions.columns:
        # the one-line error of the first file at fault, in the order of the checks below
        check_unique_keys(gross, key, "gross sample")
        check_unique_keys(dispositions, key, "dispositions")
    (g_codes, d_codes), n = factorize_keys(gross[key], dispositions[key])
    _check_cover(gross, dispositions, key, g_codes, d_codes, n)


def _check_cover(gross: pd.DataFrame, dispositions: pd.DataFrame, key: str,
                 g_codes: np.ndarray, d_codes: np.ndarray, n: int) -> None:
    """:func:`check_dispositions_cover_sample` on the key codes of both files."""
    _check_unique(gross, key, "gross sample", (g_codes, n))
    _check_unique(dispositions, key, "dispositions", (d_codes, n))
    extra_rows = ~_present(g_codes, n)[d_codes]
    if extra_rows.any():
        extra = dispositions[key].to_numpy(dtype=object)[extra_rows]
        raise DataError(
            f"dispositions: {len(extra)} key(s) are not in the gross sample "
            f"(first: {_head(extra)}): the agency reported on cases that were not drawn"
        )
    lacking_rows = ~_present(d_codes, n)[g_codes]
    if lacking_rows.any():
        lacking = gross[key].to_numpy(dtype=object)[lacking_rows]
        raise DataError(
            f"dispositions: {len(lacking)} case(s) of the gross sample have no final "
            f"disposition (first: {_head(lacking)}): ask the agency for a final code for every case"
        )


def check_completes_match(
    cases: pd.DataFrame,
    survey_keys: Iterable[object],
    key: str,
    strict: bool = False,
) -> list[str]:
    """Compare the interviews the dispositions report with the keys in the survey files.

    ``cases`` has ``key``, ``outcome`` (AAPOR class) and ``aapor_code`` (from
    :func:`sid.spec.dispositions.map_dispositions`). Two disagreements are looked for:

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
    (c_codes, s_codes), n = factorize_keys(cases[key], survey_keys)
    return _completes_match(cases, _lookup(_present(s_codes, n), c_codes), key, strict)


def _by_value(values: pd.Series, test: Callable[[str], bool]) -> np.ndarray:
    """``test(str(v))`` for every value of ``values``, evaluated once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.array([bool(test(str(u))) for u in uniques], dtype=bool)[codes]


def _completes_match(cases: pd.DataFrame, in_survey: np.ndarray, key: str, strict: bool) -> list[str]:
    """:func:`check_completes_match` given ``in_survey``: which cases' keys are in the
    survey files (boolean, one per row of ``cases``)."""
    keys = cases[key]  # turned into Python objects only where a message quotes them
    complete = _by_value(cases["outcome"], lambda o: o == "I")
    breakoff = _by_value(cases["aapor_code"], lambda c: c.startswith("2.12"))
    with_data = _by_value(cases["outcome"], lambda o: o in ("I", "P")) | breakoff

    messages = []
    absent = keys[complete & ~in_survey].to_numpy(dtype=object)
    if len(absent):
        messages.append(
            f"dispositions: {len(absent)} case(s) coded complete (I) are absent from the "
            f"survey files (first: {_head(absent)}): ask the agency for their data or recode them"
        )
    unexpected = keys[in_survey & ~with_data].to_numpy(dtype=object)
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
