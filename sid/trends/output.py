"""The published trend table's precision and its CSV form (as tables.csv, sid.tables.precision).

Per row's ``unit``: each wave's estimate, se, ci_low, ci_high and the difference,
se_difference, ci_low, ci_high to 4 decimals for shares (0.01 percentage point), 2 for
index points and variable units; cv to 3 decimals, z to 3, p_value to 3 significant
digits. The internal table keeps every digit. In the CSV a row without a category (a mean)
holds ``-`` there, so that codes read back as text.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from sid.tables.precision import DECIMALS, NO_CODE, P_DIGITS, significant

VALUES = [f"{c}_{j}" for j in (1, 2) for c in ("estimate", "se", "ci_low", "ci_high")] + [
    "difference", "se_difference", "ci_low", "ci_high"]
TEXT = ["concept", "concept_label", "statistic", "unit", "domain", "domain_label", "by_value", "by_label",
        "category", "category_label", "wave_1", "period_1", "variance_method_1", "status_1", "composition_1",
        "wave_2", "period_2", "variance_method_2", "status_2", "composition_2", "reference", "break_note",
        "status"]


def round_trend(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of the trend table rounded to the stated precision (see the module docstring)."""
    out = df.copy()
    unit = out["unit"].to_numpy(dtype=object)
    for c in VALUES:
        v = out[c].to_numpy(dtype=float).copy()
        for u, d in DECIMALS.items():
            m = unit == u
            v[m] = np.round(v[m], d)
        out[c] = v
    for c in ("cv_1", "cv_2", "z"):
        out[c] = np.round(out[c].to_numpy(dtype=float), 3)
    out["p_value"] = significant(out["p_value"].to_numpy(dtype=float), P_DIGITS)
    return out


def write_trend_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write the trend table as CSV (``path`` is a temporary path of an atomic write)."""
    out = df.copy()
    out["category"] = out["category"].astype(object).where(out["category"].notna(), NO_CODE)
    out.to_csv(path, index=False)


def read_trend_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A trend.csv read back with sid's CSV reader: text columns as text, ``-`` as no category."""
    from sid.io.csvfile import read_csv as read_any

    numeric = VALUES + ["cv_1", "cv_2", "n_1", "n_2", "z", "p_value", "level"]
    df = read_any(path, blank_missing=numeric, text=TEXT)
    df["category"] = df["category"].where(df["category"] != NO_CODE, None)
    for c in ("suppressed_1", "suppressed_2", "suppressed", "break", "composition_changed"):
        df[c] = df[c].astype(str).str.lower() == "true"
    return df


__all__ = ["read_trend_csv", "round_trend", "write_trend_csv"]
