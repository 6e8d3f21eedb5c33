"""Read and write SPSS files (.sav, .zsav) with their dictionary, via pyreadstat.

User-missing codes are kept in the data and declared in the metadata (pyreadstat's
``user_missing=True``, haven's ``user_na = TRUE``); see :mod:`sid.io.spss_meta` for
:class:`SpssMeta` / :class:`VariableMeta` and :meth:`SpssMeta.valid_view`.

Types as pyreadstat gives them: numbers as float64, text as pandas' string dtype, SPSS
dates as ``datetime.date`` objects, date-times as ``datetime64``, times as
``datetime.time`` objects; all of them are written back with their SPSS format.
Columns are typed by their values, not by pyreadstat's guess from the first 100 rows:
a date, date-time or time column missing in its first rows (or in every row) is still
written as a numeric SPSS date/time (system-missing where missing), and a string
variable's missing values are written as "" (SPSS has no system-missing string), so
they read back as "".
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from sid.errors import DataError, InputFileError
from sid.io.atomic import atomic_path
from sid.io.hashing import sha256_file
from sid.io.spss_layout import check_whole_cases, header_ncases
from sid.io.spss_meta import SpssMeta, VariableMeta, default_variable
from sid.io.spss_rows import write_sav_rows

__all__ = ["SpssMeta", "VariableMeta", "read_spss", "read_spss_meta", "write_spss", "sha256_file"]

# Files larger than this are read in chunks of AUTO_CHUNK_ROWS rows (bounded peak memory:
# pyreadstat holds a chunk's columns twice while converting them to pandas).
AUTO_CHUNK_BYTES = 256 * 1024**2
AUTO_CHUNK_ROWS = 100_000
_READ_ERRORS = (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeError, OSError)


def _check_input(path: Path) -> None:
    if not path.exists():
        raise InputFileError(f"{path}: file not found; check the path")
    if not path.is_file():
        raise InputFileError(f"{path}: is not a file; give the path of a .sav or .zsav file")
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: file is empty; ask for the file to be delivered again")


def _read_error(path: Path, exc: Exception, encoding: str | None) -> InputFileError:
    what = " ".join(str(exc).split()) or type(exc).__name__
    charset = "character set" in what.lower() or "encod" in what.lower()
    if charset or isinstance(exc, UnicodeError):
        if encoding is not None:
            return InputFileError(
                f"{path}: cannot be read with encoding {encoding!r} ({what}); give an encoding "
                "iconv knows (utf-8, cp1252, latin1, ...) or leave it out"
            )
        return InputFileError(
            f"{path}: the file's own encoding is not supported ({what}); give one with --encoding"
        )
    return InputFileError(
        f"{path}: not a readable SPSS .sav/.zsav file ({what}); check that it is a complete "
        "SPSS file (re-export or re-download it)"
    )


def _meta_from_pyreadstat(m, encoding: str | None) -> SpssMeta:
    labels = dict(zip(m.column_names, m.column_labels, strict=True))
    variables: dict[str, VariableMeta] = {}
    for name in m.column_names:
        vtype = "string" if m.readstat_variable_types.get(name) == "string" else "numeric"
        values: list[float | str] = []
        ranges: list[tuple[float, float]] = []
        for r in m.missing_ranges.get(name, []):
            lo, hi = r["lo"], r["hi"]
            # readstat reports a discrete code as a range lo == hi
            if lo == hi:
                values.append(lo)
            else:
                ranges.append((lo, hi))
        measure = m.variable_measure.get(name) or "unknown"
        variables[name] = VariableMeta(
            name=name,
            label=labels[name] or None,
            type=vtype,
            format=m.original_variable_types.get(name),
            measure=measure if measure in ("nominal", "ordinal", "scale") else "unknown",
            value_labels=dict(m.variable_value_labels.get(name, {})),
            missing_values=values,
            missing_ranges=ranges,
            width=m.variable_display_width.get(name),
        )
    return SpssMeta(
        variables=variables,
        file_label=m.file_label or None,
        encoding=encoding or m.file_encoding,
        notes=list(m.notes or []),
    )


def read_spss_meta(path: str | os.PathLike[str], *, encoding: str | None = None) -> SpssMeta:
    """The dictionary of an SPSS file without its data (fast, for checks before a merge).

    ``sources[0]`` holds the path and the row count from the header; ``sha256`` is None
    (hashing a large file is left to :func:`read_spss`, which reads it whole anyway).
    """
    p = Path(path)
    _check_input(p)
    try:
        _, m = pyreadstat.read_sav(str(p), metadataonly=True, encoding=encoding, user_missing=True)
    except _READ_ERRORS as exc:
        raise _read_error(p, exc, encoding) from exc
    meta = _meta_from_pyreadstat(m, encoding)
    meta.sources = [{"path": str(p), "sha256": None, "mode": None, "rows": m.number_rows}]
    return meta


def read_spss(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    columns: list[str] | None = None,
    chunksize: int | None = None,
    user_missing: bool = True,
) -> tuple[pd.DataFrame, SpssMeta]:
    """Read a .sav or .zsav file: data with user-missing codes kept, and its dictionary.

    ``encoding``: the file's character encoding (default: the one the file declares).
    ``columns``: read only these variables. ``chunksize``: read that many rows at a time
    (default: whole file, or chunks of 100,000 rows for files over 256 MB).
    ``user_missing=False`` turns declared missing codes into NaN at read time (as SPSS
    ``SYSMIS``); the default keeps them, so cleaning can tell "don't know" from "no answer".
    ``meta.sources`` holds the file's path, SHA-256 and row count.
    Raises :class:`sid.errors.InputFileError` for a missing, empty, truncated or non-SPSS
    file or an unusable encoding; a file whose header leaves the case count unknown (-1)
    is checked for a partial last case (:mod:`sid.io.spss_layout`).
    """
    p = Path(path)
    _check_input(p)
    kw = dict(
        encoding=encoding, usecols=list(columns) if columns else None, user_missing=user_missing
    )
    if chunksize is None and p.stat().st_size > AUTO_CHUNK_BYTES:
        chunksize = AUTO_CHUNK_ROWS
    try:
        if chunksize:
            # the dictionary (and the row count in the header) from one metadata read
            _, m = pyreadstat.read_sav(str(p), metadataonly=True, **kw)
            parts = [
                part
                for part, _ in pyreadstat.read_file_in_chunks(
                    pyreadstat.read_sav, str(p), chunksize=int(chunksize), **kw
                )
            ]
            if parts:
                df = pd.concat(parts, ignore_index=True)
            else:  # a file without rows yields no chunk
                df, m = pyreadstat.read_sav(str(p), **kw)
        else:
            df, m = pyreadstat.read_sav(str(p), **kw)
    except _READ_ERRORS as exc:
        raise _read_error(p, exc, encoding) from exc
    if columns:
        unknown = [c for c in columns if c not in m.column_names]
        if unknown:
            raise InputFileError(
                f"{p}: no variable(s) {', '.join(unknown)} in the file; check the names"
            )
    meta = _meta_from_pyreadstat(m, encoding)
    if header_ncases(p) == -1:
        # case count unknown: readstat reads to the end and drops a partial last case
        check_whole_cases(p, len(df))
    elif m.number_rows is not None and m.number_rows >= 0 and len(df) != m.number_rows:
        raise InputFileError(
            f"{p}: header announces {m.number_rows} rows but {len(df)} were read (truncated file?); "
            "ask for the file to be delivered again"
        )
    meta.sources = [{"path": str(p), "sha256": sha256_file(p), "mode": None, "rows": int(len(df))}]
    return df, meta


# -- writing ------------------------------------------------------------------------------


def _spss_missing(var: VariableMeta) -> list:
    """pyreadstat's missing_ranges entry, after checking SPSS's limits on declarations."""
    n_val, n_rng = len(var.missing_values), len(var.missing_ranges)
    if var.type == "string":
        if n_val > 3:
            raise DataError(
                f"variable {var.name}: SPSS allows at most 3 missing values on a string variable, got {n_val}"
            )
        too_long = [v for v in var.missing_values if len(str(v).encode("utf-8")) > 8]
        if too_long:
            raise DataError(
                f"variable {var.name}: string missing value {too_long[0]!r} is longer than 8 bytes (SPSS limit)"
            )
    elif n_rng > 1 or (n_rng == 1 and n_val > 1) or n_val > 3:
        raise DataError(
            f"variable {var.name}: SPSS allows 3 missing values, or 1 range plus 1 value; got "
            f"{n_val} value(s) and {n_rng} range(s): merge them into one range"
        )
    out: list = [{"lo": lo, "hi": hi} for lo, hi in var.missing_ranges]
    out += list(var.missing_values)
    return out


_PYREADSTAT_UNITS = ("ms", "us", "ns")
# SPSS formats given to a date-like column whose metadata names none
_DATE_FORMATS = {"date": "DATE11", "datetime": "DATETIME20", "time": "TIME8"}


# pandas' inferred kind of an object column's non-missing values -> how it is written
_INFERRED = {"empty": "number", "floating": "number", "integer": "number", "mixed-integer-float": "number",
             "decimal": "number", "boolean": "number", "date": "date", "datetime": "datetime", "datetime64": "datetime",
             "time": "time"}


def _object_numeric(name: str, s: pd.Series, var: VariableMeta) -> tuple[pd.Series, VariableMeta]:
    """An object column of a numeric variable as a column pyreadstat types by its dtype.

    pyreadstat (via narwhals) guesses an object column's type from its first 100 values:
    a date column missing there is taken for text (an AttributeError on the first date),
    an all-missing one is written as a string. So dates and date-times become
    datetime64[us] (NaT where missing), times seconds since midnight (SPSS's own number
    for a time), an all-missing or numeric column float64; the format is the metadata's,
    else DATE11 / DATETIME20 / TIME8.
    """
    present = s.notna()
    inferred = pd.api.types.infer_dtype(s[present], skipna=True)  # C-level, no loop over rows
    kind = _INFERRED.get(inferred)
    if kind == "number":
        return pd.to_numeric(s.where(present, np.nan)).astype(float), var
    if kind in ("date", "datetime"):
        out = pd.to_datetime(s.where(present, None)).astype("datetime64[us]")
    elif kind == "time":
        secs = pd.to_timedelta(s[present].astype(str)).dt.total_seconds()
        out = secs.reindex(s.index).astype(float)
    else:
        raise DataError(
            f"variable {name}: declared numeric in the metadata but holds {inferred} values "
            f"(first: {s[present].iloc[0]!r}); fix the metadata or the data"
        )
    return out, (var if var.format else replace(var, format=_DATE_FORMATS[kind]))


def _prepare(df: pd.DataFrame, meta: SpssMeta) -> tuple[pd.DataFrame, dict[str, VariableMeta]]:
    variables: dict[str, VariableMeta] = {}
    data = {}
    for c in df.columns:
        name = str(c)
        var = meta.variables.get(name) or default_variable(name, df[c])
        s = df[c]
        if var.type == "string":
            if pd.api.types.is_numeric_dtype(s.dtype) and not s.isna().all():
                raise DataError(
                    f"variable {name}: declared string in the metadata but holds numbers; fix the metadata or the data"
                )
            # pyreadstat writes object columns of str; pandas' string dtype -> object, NA -> ""
            s = s.astype(object).where(s.notna(), "")
        elif pd.api.types.is_bool_dtype(s.dtype):
            s = s.astype(float)
        elif pd.api.types.is_object_dtype(s.dtype):
            s, var = _object_numeric(name, s, var)
        elif (isinstance(s.dtype, np.dtype) and s.dtype.kind == "M"
              and np.datetime_data(s.dtype)[0] not in _PYREADSTAT_UNITS):
            # pyreadstat writes datetime64[s] (the unit pandas 3 gives dates built from
            # numpy dates or strings) as 1970-01-01: only ms, us and ns are converted.
            # Microseconds hold every SPSS date (years 1582-9999) exactly.
            s = s.astype("datetime64[us]")
        elif pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
            raise DataError(
                f"variable {name}: declared numeric in the metadata but holds text; fix the metadata or the data"
            )
        data[name] = s
        variables[name] = var
    return pd.DataFrame(data, index=df.index, copy=False), variables  # no copy of the columns


def write_spss(df: pd.DataFrame, meta: SpssMeta, path: str | os.PathLike[str]) -> None:
    """Write ``df`` with its dictionary ``meta`` to ``path`` (.sav, or .zsav compressed).

    Writes variable labels, value labels, user-missing values and ranges, measures,
    formats, display widths, the file label and notes. Columns without metadata are written
    unlabelled. The file appears only when complete (:func:`sid.io.atomic.atomic_path`).
    Raises :class:`sid.errors.DataError` when a declaration exceeds what SPSS can hold.
    """
    target = Path(path)
    if target.suffix.lower() not in (".sav", ".zsav"):
        raise DataError(f"{target}: SPSS output needs a .sav or .zsav file name")
    data, variables = _prepare(df, meta)
    missing = {n: _spss_missing(v) for n, v in variables.items() if v.has_missing}
    kwargs = dict(
        file_label=meta.file_label or "",
        column_labels={n: v.label for n, v in variables.items()},
        compress=target.suffix.lower() == ".zsav",
        note=list(meta.notes) or None,
        variable_value_labels={
            n: dict(v.value_labels) for n, v in variables.items() if v.value_labels
        },
        missing_ranges=missing or None,
        variable_display_width={n: int(v.width) for n, v in variables.items() if v.width},
        variable_measure={n: v.measure for n, v in variables.items() if v.measure != "unknown"},
        variable_format={n: v.format for n, v in variables.items() if v.format},
    )
    data = data.reset_index(drop=True)
    strings = {n for n, v in variables.items() if v.type == "string"}

    def dictionary(frame: pd.DataFrame, tmp: Path) -> None:
        pyreadstat.write_sav(frame, str(tmp), **kwargs)
    try:
        with atomic_path(target) as tmp:
            # an uncompressed .sav: pyreadstat writes the dictionary, numpy the rows
            # (sid.io.spss_rows; pyreadstat alone when that cannot reproduce its rows)
            if kwargs["compress"] or not write_sav_rows(data, strings, tmp, dictionary):
                pyreadstat.write_sav(data, str(tmp), **kwargs)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        what = " ".join(str(exc).split())
        raise DataError(
            f"{target}: cannot be written as SPSS ({what}); fix the variable names or metadata"
        ) from exc
