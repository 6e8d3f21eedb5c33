"""The gross sample's register extract: reading it, checking keys, joining it on respondents.

The spec's ``source: register`` variables (sex, birth year, region, nationalities...) are
not asked: they come from the register extract of the gross sample (the project file's ``data.gross_sample``,
one row per sampled person), joined onto the respondents by the key. Before anything is
cleaned the keys are checked (sid.fieldwork.checks): each register key once in the gross
sample, every respondent's key present and in the gross sample.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from sid.errors import DataError, InputFileError
from sid.fieldwork.checks import (
    _check_respondents,
    _check_unique,
    _present,
    check_respondents_in_sample,
    check_unique_keys,
    factorize_keys,
)
from sid.io.csvfile import read_csv
from sid.spec.questionnaire import Questionnaire


def register_variables(q: Questionnaire) -> list[str]:
    """The spec's register variables other than the key, in spec order."""
    return [v.name for v in q.variables if v.source == "register" and v.name != q.key]


def read_gross_sample(path: str | os.PathLike[str], q: Questionnaire,
                      where: str = "the project file") -> pd.DataFrame:
    """Read the gross sample CSV: the key and text register variables as text (a key
    like ``0012`` keeps its zeros), other register variables as numbers. ``where``: what
    names the file (for the message when it is absent)."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"{p}: gross sample not found (the file {p.name} is named by {where}); "
                             f"give the data folder holding it (--data DIR) or fix the name")
    text = [q.key] + [v.name for v in q.variables if v.source == "register" and v.is_text]
    header = read_csv(p, nrows=0).columns
    wanted = {q.key, *register_variables(q)}
    # only the key and the register variables; all columns when one is lacking, so the
    # checks' messages list the file's columns
    gross = read_csv(p, text=text, columns=wanted if wanted.issubset(header) else None)
    for name in register_variables(q):
        if name in gross.columns and not q.variable(name).is_text:
            num = pd.to_numeric(gross[name].replace("", np.nan), errors="coerce")
            bad = num.isna() & gross[name].notna() & gross[name].astype(str).ne("")
            if bad.any():
                raise DataError(f"{p}: register variable {name} holds non-numbers (first: "
                                f"{gross[name][bad].iloc[0]!r}); the spec declares it numeric")
            gross[name] = num.astype(float)
    return gross


def check_keys(raw_keys: pd.Series, gross: pd.DataFrame, q: Questionnaire,
               raw_where: str = "raw wave", gross_where: str = "gross sample") -> np.ndarray:
    """DataError when the gross sample repeats a key or lacks the key column, or when a
    respondent has no key or no record in the gross sample.

    Returns the row (position) in ``gross`` of each respondent, for :func:`join_register`.
    """
    if q.key not in gross.columns:
        check_unique_keys(gross, q.key, gross_where)  # raises: no key column
    # one hash table of both key lists serves the three checks and the join's positions
    (g_codes, r_codes), n = factorize_keys(gross[q.key], raw_keys)
    _check_unique(gross, q.key, gross_where, (g_codes, n))
    empty = raw_keys.isna().to_numpy() | raw_keys.astype(str).str.strip().eq("").to_numpy()
    if empty.any():
        rows = np.flatnonzero(empty)
        raise DataError(f"{raw_where}: {rows.size} record(s) have no {q.key} (first rows: "
                        f"{', '.join(map(str, rows[:5]))}); every respondent needs the register key")
    _check_respondents(raw_keys, r_codes, _present(g_codes, n), raw_where)
    row_of = np.empty(n, dtype=np.int64)
    row_of[g_codes] = np.arange(len(g_codes))
    return row_of[r_codes]


def join_register(df: pd.DataFrame, gross: pd.DataFrame, q: Questionnaire,
                  where: str = "raw wave", gross_where: str = "gross sample",
                  rows: np.ndarray | None = None) -> pd.DataFrame:
    """``df`` with the spec's register variables appended, looked up by key (keys checked
    before: :func:`check_keys`). DataError when the gross sample lacks one, or when the
    data already hold one (two sources of one register fact: say which is meant).

    ``rows``: the row in ``gross`` of each row of ``df`` when known (from
    :func:`check_keys`); else looked up here."""
    names = register_variables(q)
    clash = [n for n in names if n in df.columns]
    if clash:
        raise DataError(f"{where}: holds register variable(s) {', '.join(clash)}, which cleaning "
                        f"takes from the {gross_where}; drop them from the fieldwork file or "
                        "declare them source: questionnaire")
    lacking = [n for n in names if n not in gross.columns]
    if lacking:
        raise DataError(f"{gross_where}: no column(s) {', '.join(lacking)}, declared source: "
                        f"register in {q.path or q.wave}; add them to the register extract")
    if rows is not None:
        pos = np.asarray(rows, dtype=np.int64)
    else:
        (g_codes, d_codes), n = factorize_keys(gross[q.key], df[q.key])
        row_of = np.full(n + 1, -1, dtype=np.int64)  # last slot: missing key (code -1)
        row_of[g_codes] = np.arange(len(g_codes))
        pos = row_of[d_codes]
    if (pos < 0).any():
        check_respondents_in_sample(df[q.key], gross[q.key], where)
    joined = {}
    for name in names:  # loop over register variables
        col = gross[name]
        if q.variable(name).is_text:
            col = col.astype("str")
        else:
            col = col.astype(float)
        # take on the column's own array: text stays in its string array, no object round trip
        joined[name] = pd.Series(col.array.take(pos), index=df.index, name=name)
    return pd.concat([df, pd.DataFrame(joined, index=df.index)], axis=1)
