"""The published table's units and precision (what tables.csv and tables.parquet state).

``unit`` says what an estimate is measured in:

* ``share_0_1``: a share between 0 and 1 (0.25 = 25 %); a difference of shares is in
  the same unit (0.05 = 5 percentage points);
* ``index_points_0_100``: a mean (or difference of means) of an index on its 0-100 scale;
* ``variable_units``: a mean, median, total or difference in the variable's own unit;
* ``F``: the Rao-Scott F statistic (``rao_scott_f``), with ``ndf`` and ``df`` its
  numerator and denominator degrees of freedom.

Published values are rounded (DECIMALS): estimate, se, ci_low and ci_high to 4 decimals
for shares (0.01 percentage point), 2 for index points and variable units, 3 for an F;
cv and deff to 3 decimals, weighted_n and df to 1, ndf to 3, p_value to 3 significant
digits. The internal table keeps every digit.

In the CSV, a row without a category (a mean, median, total or test) or without a
reference holds ``-`` there, so that codes read back as text ("0", not 0.0) in pandas
and R alike.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

SHARE, INDEX, VARIABLE, F = "share_0_1", "index_points_0_100", "variable_units", "F"
UNITS = (SHARE, INDEX, VARIABLE, F)
VALUE_COLUMNS = ("estimate", "se", "ci_low", "ci_high")
DECIMALS = {SHARE: 4, INDEX: 2, VARIABLE: 2, F: 3}
OTHER_DECIMALS = {"cv": 3, "deff": 3, "weighted_n": 1, "df": 1, "ndf": 3}
P_DIGITS = 3
NO_CODE = "-"
CODE_COLUMNS = ("category", "reference")


def units(statistic: pd.Series, kind: pd.Series, has_category: pd.Series) -> np.ndarray:
    """The unit of each row from its statistic, its variable's kind and whether it has a category."""
    stat = statistic.to_numpy(dtype=object)
    share = (stat == "proportion") | ((stat == "difference") & has_category.to_numpy(dtype=bool))
    out = np.where(kind.to_numpy(dtype=object) == "index", INDEX, VARIABLE).astype(object)
    out[share] = SHARE
    out[stat == "rao_scott_f"] = F
    return out


def significant(x: np.ndarray, digits: int) -> np.ndarray:
    """``x`` rounded to ``digits`` significant digits (NaN stays NaN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.floor(np.log10(np.abs(x)))
    mag = np.where(np.isfinite(mag), mag, 0.0)
    scale = 10.0 ** (digits - 1 - mag)
    return np.round(x * scale) / scale


def round_table(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of the tidy table ``df`` (with ``unit``) rounded to the stated precision."""
    out = df.copy()
    unit = out["unit"].to_numpy(dtype=object)
    for c in VALUE_COLUMNS:
        v = out[c].to_numpy(dtype=float).copy()
        for u, d in DECIMALS.items():
            m = unit == u
            v[m] = np.round(v[m], d)
        out[c] = v
    for c, d in OTHER_DECIMALS.items():
        out[c] = np.round(out[c].to_numpy(dtype=float), d)
    out["p_value"] = significant(out["p_value"].to_numpy(dtype=float), P_DIGITS)
    return out


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write the table as CSV (``path`` is a temporary path of an atomic write): codes as text,
    ``-`` where a row has no category or reference."""
    out = df.copy()
    for c in CODE_COLUMNS:
        out[c] = out[c].astype(object).where(out[c].notna(), NO_CODE)
    out.to_csv(path, index=False)


def read_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A tables.csv read back (sid's one CSV reader): text columns as text, ``-`` codes as
    missing, an empty numeric field as missing."""
    from sid.io.csvfile import read_csv as read_any

    numeric = ["estimate", "se", "ci_low", "ci_high", "cv", "weighted_n", "deff", "df", "ndf", "p_value"]
    df = read_any(path, blank_missing=numeric,
                  text=("table_id", "theme", "title", "variable", "variable_label", "statistic", "unit",
                        "by_var", "by_var_label", "by_value", "by_label", "category", "category_label",
                        "reference", "reference_label", "variance_method", "lonely_psu", "status"))
    for c in CODE_COLUMNS:
        df[c] = df[c].where(df[c] != NO_CODE, None)
    df["suppressed"] = df["suppressed"].astype(str).str.lower() == "true"
    return df
