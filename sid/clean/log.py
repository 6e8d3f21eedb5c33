"""The cleaning log: one row per change, its summary, and the replay that rebuilds the
clean wave's fieldwork columns from the raw wave and the log.

A log row is ``row, key, variable, rule, before, after``:

* ``row``: the record's position in the raw wave (0-based row of ``DIR/raw/data.parquet``),
  so a key present twice (a duplicate) still names one record;
* ``key``: the respondent key; ``variable``: the variable changed;
* ``rule``: which cleaning rule made the change (:data:`RULES`);
* ``before`` / ``after``: the value before and after (numbers as floats).

Rules that drop a whole record (:data:`DROP_RULES`) log ``variable`` = the key variable,
``before`` = the record's mode (empty when the wave has no mode variable) and
``after`` = ``"dropped"``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sid.errors import DataError

LOG_COLUMNS = ["row", "key", "variable", "rule", "before", "after"]
SUMMARY_COLUMNS = ["kind", "rule", "variable", "count"]
#: Cleaning rules, in the order the stage applies them (sid.clean docstring).
RULES = ("duplicate", "invalid_code", "routing", "speeder", "straightline")
#: Rules whose log rows drop the record instead of changing a value.
DROP_RULES = frozenset({"duplicate", "speeder", "straightline"})
DROPPED = "dropped"


def log_rows(
    rows: np.ndarray,
    keys: np.ndarray,
    variable: str,
    rule: str,
    before: np.ndarray | Sequence[object],
    after: np.ndarray | Sequence[object] | object,
) -> pd.DataFrame:
    """Log rows for one variable and rule (``after`` may be one value for every row)."""
    n = len(rows)
    after_arr = np.asarray(after, dtype=object)
    if after_arr.ndim == 0:
        after_arr = np.full(n, after_arr.item(), dtype=object)
    return pd.DataFrame(
        {
            "row": np.asarray(rows, dtype=np.int64),
            "key": np.asarray(keys, dtype=object),
            "variable": np.full(n, variable, dtype=object),
            "rule": np.full(n, rule, dtype=object),
            "before": np.asarray(before, dtype=object),
            "after": after_arr,
        },
        columns=LOG_COLUMNS,
    )


def empty_log() -> pd.DataFrame:
    """A log with no row (the right columns and dtypes)."""
    return log_rows(np.zeros(0, np.int64), np.zeros(0, object), "", "", [], [])


def concat_log(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The log rows of every rule, in the order the rules ran."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_log()
    return pd.concat(parts, ignore_index=True)


def summarize(log: pd.DataFrame, flags: pd.DataFrame | None = None) -> pd.DataFrame:
    """Counts per rule and variable: ``kind`` "change" for log rows, and (given the
    counts frame ``flags`` with kind, rule, variable, count) the flag counts after them."""
    if len(log):
        g = log.groupby(["rule", "variable"], sort=False).size().reset_index(name="count")
        g.insert(0, "kind", "change")
    else:
        g = pd.DataFrame(columns=SUMMARY_COLUMNS)
    out = g if flags is None or not len(flags) else pd.concat([g, flags[SUMMARY_COLUMNS]])
    out = out.reset_index(drop=True)
    out["count"] = out["count"].astype(np.int64)
    return out[SUMMARY_COLUMNS]


def _values_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise equality where NaN equals NaN (a logged "before" of system missing)."""
    a_na, b_na = pd.isna(a), pd.isna(b)
    same = np.zeros(len(a), dtype=bool)
    both = ~a_na & ~b_na
    same[both] = a[both] == b[both]
    return same | (a_na & b_na)


def _show(value: object) -> str:
    if isinstance(value, float | np.floating):
        return "empty" if np.isnan(value) else f"{float(value):g}"
    return repr(value)


def _as_column_values(values: pd.Series, column: pd.Series) -> np.ndarray:
    """Logged values (floats, or text once read back from log.csv) in the column's kind."""
    if pd.api.types.is_numeric_dtype(column.dtype):
        return pd.to_numeric(values, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    return values.to_numpy(dtype=object)


def replay(raw: pd.DataFrame, log: pd.DataFrame) -> pd.DataFrame:
    """Apply the cleaning ``log`` to the ``raw`` wave: the clean wave's raw columns.

    Value changes are applied per variable in log order (a cell changed twice, e.g. an
    invalid code later routed out, ends with its last ``after``); then the records of
    :data:`DROP_RULES` rows are removed. Each change's ``before`` must be the value the
    cell holds at that point, so a log replayed on another raw wave raises
    :class:`DataError` instead of producing a wrong wave. Returns a new frame with a
    fresh index (the clean wave's row order: raw order without dropped records).
    """
    missing = [c for c in LOG_COLUMNS if c not in log.columns]
    if missing:
        raise DataError(f"cleaning log: no column(s) {', '.join(missing)}; expected {LOG_COLUMNS}")
    out = raw.reset_index(drop=True).copy()
    n = len(out)
    rows = log["row"].to_numpy(dtype=np.int64)
    if len(rows) and (rows.min() < 0 or rows.max() >= n):
        raise DataError(f"cleaning log: row numbers outside the raw wave's {n} rows; "
                        "replay the log on the raw wave it was made from")
    is_drop = log["rule"].isin(DROP_RULES).to_numpy()
    changes = log[~is_drop]
    for variable, part in changes.groupby("variable", sort=False):  # loop over variables
        if variable not in out.columns:
            raise DataError(f"cleaning log: variable {variable!r} is not in the raw wave")
        col = out[variable]
        r = part["row"].to_numpy(dtype=np.int64)
        before = _as_column_values(part["before"], col)
        after = _as_column_values(part["after"], col)
        numeric = pd.api.types.is_numeric_dtype(col.dtype)
        values = col.to_numpy(dtype=float if numeric else object, copy=True)
        # a cell changed twice: its first change must meet the raw value, each later one
        # the previous change's after
        order = np.argsort(r, kind="stable")
        r_s, b_s, a_s = r[order], before[order], after[order]
        first = np.r_[True, r_s[1:] != r_s[:-1]] if len(r_s) else np.zeros(0, bool)
        expected = np.where(first, values[r_s], np.r_[a_s[:1], a_s[:-1]])
        bad = ~_values_equal(b_s, expected)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"cleaning log: {variable} of raw row {int(r_s[i])} holds {_show(expected[i])}, "
                f"the log says {_show(b_s[i])} before the change; replay the log on its own raw wave"
            )
        last = np.r_[r_s[1:] != r_s[:-1], True] if len(r_s) else np.zeros(0, bool)
        values[r_s[last]] = a_s[last]
        out[variable] = pd.Series(values, index=out.index, dtype=col.dtype)
    drop = np.zeros(n, dtype=bool)
    drop[rows[is_drop]] = True
    return out.loc[~drop].reset_index(drop=True)
