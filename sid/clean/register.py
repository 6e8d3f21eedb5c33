"""The gross sample's register extract: reading it, checking keys, joining it on respondents.

The spec's ``source: register`` variables (sex, birth year, region, nationalities...) are
not asked: they come from the register extract of the gross sample (``gross_sample.csv``,
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
from sid.fieldwork.checks import check_respondents_in_sample, check_unique_keys
from sid.spec.questionnaire import Questionnaire


def register_variables(q: Questionnaire) -> list[str]:
    """The spec's register variables other than the key, in spec order."""
    return [v.name for v in q.variables if v.source == "register" and v.name != q.key]


def read_gross_sample(path: str | os.PathLike[str], q: Questionnaire) -> pd.DataFrame:
    """Read the gross sample CSV: the key and text register variables as text (a key
    like ``0012`` keeps its zeros), other register variables as numbers."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"{p}: gross sample not found; give the data folder holding "
                             "gross_sample.csv (--data DIR)")
    text = [q.key] + [v.name for v in q.variables if v.source == "register" and v.is_text]
    try:
        gross = pd.read_csv(p, dtype={c: str for c in text}, keep_default_na=False,
                            na_values={c: [""] for c in text})
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputFileError(f"{p}: not a readable CSV file ({exc}); export it again") from exc
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
               raw_where: str = "raw wave", gross_where: str = "gross sample") -> None:
    """DataError when the gross sample repeats a key or lacks the key column, or when a
    respondent has no key or no record in the gross sample."""
    check_unique_keys(gross, q.key, gross_where)
    empty = raw_keys.isna().to_numpy() | raw_keys.astype(str).str.strip().eq("").to_numpy()
    if empty.any():
        rows = np.flatnonzero(empty)
        raise DataError(f"{raw_where}: {rows.size} record(s) have no {q.key} (first rows: "
                        f"{', '.join(map(str, rows[:5]))}); every respondent needs the register key")
    check_respondents_in_sample(raw_keys, gross[q.key], raw_where)


def join_register(df: pd.DataFrame, gross: pd.DataFrame, q: Questionnaire,
                  where: str = "raw wave", gross_where: str = "gross sample") -> pd.DataFrame:
    """``df`` with the spec's register variables appended, looked up by key (keys checked
    before: :func:`check_keys`). DataError when the gross sample lacks one, or when the
    data already hold one (two sources of one register fact: say which is meant)."""
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
    g_keys = pd.Index(gross[q.key].to_numpy(dtype=object), dtype=object)
    pos = g_keys.get_indexer(pd.Index(df[q.key].to_numpy(dtype=object), dtype=object))
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
