"""sid's one CSV reader: no code is read as missing, only an empty field is.

pandas' default reads the text ``NA``, ``NaN``, ``null``, ``None``, ``N/A`` (and more) as
missing. Those are real codes in survey files (``NA`` is a stratum in a wave with
Namibian origin, ``None`` an answer category), so every stage reads its CSV inputs
through :func:`read_csv`, which turns only empty fields into missing values. Codes that a
spec declares missing are made missing later, by the stage that knows the spec.
Numeric columns still parse as numbers (an empty field is NaN); a column with a text
value among numbers is read as text, and the stage that needs a number says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from sid.errors import InputFileError, SidError

__all__ = ["CSV_ERRORS", "read_csv"]

#: what pandas raises on a file that is not a readable CSV file (bad bytes, bad quoting,
#: ragged rows, no columns); UnicodeDecodeError and ParserError are ValueErrors
CSV_ERRORS = (ValueError, UnicodeDecodeError, pd.errors.ParserError)


def _unreadable(path: Path) -> Callable[[str], SidError]:
    return lambda detail: InputFileError(f"{path}: not a readable CSV file ({detail}); export it again")


def read_csv(
    path: str | os.PathLike[str],
    *,
    text: Iterable[str] | bool = (),
    columns: Iterable[str] | None = None,
    blank_missing: Iterable[str] | bool = True,
    dtype: dict | None = None,
    nrows: int | None = None,
    unreadable: Callable[[str], SidError] | None = None,
) -> pd.DataFrame:
    """Read a CSV file; only an empty field is missing (never a code such as ``NA``).

    text: columns read as text (a key like ``0012`` keeps its zeros), or True for all;
    columns: read only these (those the file has: the caller names a lacking one);
    blank_missing: True (an empty field is missing in every column), False (never: it
    stays ""), or the columns where it is; dtype: further pandas dtypes (e.g. ``{0: str}``);
    nrows: read only so many rows (0: the header). A file that is not a readable CSV
    raises ``unreadable(detail)`` (default: InputFileError naming the file, what to do),
    with the parser's message on one line; a missing file raises InputFileError.
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"{p}: not found; give the folder holding it")
    types: dict | type | None
    if text is True:
        types = str
    else:
        types = {c: str for c in (text or ())}
        types.update(dtype or {})
    if blank_missing is True:
        na: list[str] | dict[str, list[str]] = [""]
    elif blank_missing is False:
        na = []
    else:
        na = {c: [""] for c in blank_missing}
    wanted = None if columns is None else set(columns)
    try:
        return pd.read_csv(p, dtype=types or None, keep_default_na=False, na_values=na,
                           usecols=(lambda c: c in wanted) if wanted is not None else None, nrows=nrows)
    except CSV_ERRORS as exc:
        raise (unreadable or _unreadable(p))(" ".join(str(exc).split())) from exc
