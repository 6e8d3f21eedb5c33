"""The rows a load brings, checked and in the base's types (before any transaction).

:func:`normalise_values` gives value rows every column of ``indicator_values`` in its
type, with one-line errors naming the row; :func:`status_from_flags` derives the SDMX
OBS_STATUS / CONF_STATUS from sid's flags; :func:`check_indicators` checks the indicator
definitions against the values and the load's source type.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.errors import LinkageError
from sid.linkage.schema import (
    CONF_STATUS,
    DIMENSIONS,
    INDICATOR_COLUMNS,
    KEY_COLUMNS,
    OBS_STATUS,
    OLD_DEFINITION_COLUMNS,
    ORIGIN,
    TOTAL,
    VALUE_COLUMNS,
)

KEY = KEY_COLUMNS
_TEXT = tuple(c for c in KEY_COLUMNS if c != "period") + ("flags", "note", "obs_status", "conf_status")
_INT = ("n", "unit_mult", "decimals")
_FLOAT = ("value", "se", "ci_low", "ci_high", "cv", "numerator", "denominator")
#: the flag of a cell outside the indicator's universe (no value can exist there)
NOT_APPLICABLE = "not_applicable"


def normalise_values(values: pd.DataFrame, where: str) -> pd.DataFrame:
    """``values`` with every base column, in the base's types; one-line errors."""
    missing = [c for c in ("indicator_code", "period", "geography", ORIGIN, "value") if c not in values.columns]
    if missing:
        raise LinkageError(f"{where}: values lack column {missing[0]!r}; expected {', '.join(VALUE_COLUMNS)}")
    extra = [c for c in values.columns if c not in VALUE_COLUMNS]
    if extra:
        raise LinkageError(f"{where}: values have unknown column {extra[0]!r}; expected {', '.join(VALUE_COLUMNS)}")
    out = pd.DataFrame(index=pd.RangeIndex(len(values)))
    for c in VALUE_COLUMNS:
        col = values[c].reset_index(drop=True) if c in values.columns else None
        if c in _TEXT:
            default = "" if c == "flags" else (TOTAL if c in DIMENSIONS else None)
            if c in ("obs_status", "conf_status") and col is None:
                continue  # derived from the flags in _sdmx_attributes
            s = pd.Series([default] * len(values), dtype=object) if col is None else col.astype(object)
            s = s.where(s.notna(), default)
            out[c] = s.map(lambda v: v if v is None else str(v)).astype(object)
        elif c in _FLOAT:
            out[c] = np.nan if col is None else pd.to_numeric(col, errors="coerce").astype(float)
        elif c in _INT:
            if c == "decimals" and col is None:
                continue  # from the indicator's unit in _prepare
            default = 0 if c == "unit_mult" else pd.NA
            out[c] = (pd.array([default] * len(values), dtype="Int64") if col is None
                      else pd.to_numeric(col).astype("Int64"))
        else:  # period
            per = pd.to_numeric(col, errors="coerce")
            bad = per.isna() | (per != per.round())
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise LinkageError(f"{where}: row {i}: period {col.iloc[i]!r} is not a year; give whole years")
            out[c] = per.astype("int32")
    for c in ("indicator_code", "geography", ORIGIN):
        bad = out[c].isna()
        if bad.any():
            raise LinkageError(f"{where}: row {int(np.flatnonzero(bad.to_numpy())[0])}: {c} is missing")
    sdmx_attributes(out, where)
    dup = out.duplicated(list(KEY))
    if dup.any():
        r = out.loc[dup].iloc[0]
        raise LinkageError(f"{where}: two rows for {', '.join(f'{k}={r[k]}' for k in KEY)}; one value per cell")
    return out


def status_from_flags(flags: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """SDMX OBS_STATUS and CONF_STATUS of value rows from sid's flags: ``suppressed...``
    (below the disclosure minimum) is Q and C, ``not_applicable`` (outside the
    indicator's universe) is M and F, ``cv>...`` is U and F, else A and F."""
    flags = pd.Series(flags, dtype=object).fillna("").astype(str)
    suppressed = flags.str.startswith("suppressed").to_numpy()
    obs = np.select([suppressed, (flags == NOT_APPLICABLE).to_numpy(), flags.str.startswith("cv>").to_numpy()],
                    ["Q", "M", "U"], "A").astype(object)
    return obs, np.where(suppressed, "C", "F").astype(object)


def sdmx_attributes(out: pd.DataFrame, where: str) -> None:
    """Fill ``obs_status`` / ``conf_status`` from the flags where not given; check the codes."""
    obs, conf = status_from_flags(out["flags"])
    if "obs_status" not in out.columns:
        out["obs_status"] = obs
    if "conf_status" not in out.columns:
        out["conf_status"] = conf
    for col, codes in (("obs_status", OBS_STATUS), ("conf_status", CONF_STATUS)):
        out[col] = out[col].where(out[col].notna(), "A" if col == "obs_status" else "F")
        bad = ~out[col].isin(list(codes))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise LinkageError(f"{where}: row {i}: {col} {out[col].iloc[i]!r} is not an SDMX code; use one of "
                               + ", ".join(f"{k} ({v})" for k, v in codes.items()))


def check_indicators(indicators: pd.DataFrame, values: pd.DataFrame, source_type: str, where: str) -> pd.DataFrame:
    missing = [c for c in ("code", "name", "theme", "definition", "unit") if c not in indicators.columns]
    if missing:
        raise LinkageError(f"{where}: indicator definitions lack column {missing[0]!r}")
    # register sets and older callers name the definition texts numerator / denominator
    old = {k: v for k, v in OLD_DEFINITION_COLUMNS.items() if k in indicators.columns and v not in indicators.columns}
    ind = indicators.rename(columns=old).reindex(columns=list(INDICATOR_COLUMNS)).astype(object)
    ind["source_type"] = ind["source_type"].fillna(source_type)
    wrong = ind["source_type"] != source_type
    if wrong.any():
        raise LinkageError(f"{where}: indicator {ind.loc[wrong, 'code'].iloc[0]!r} has source type "
                           f"{ind.loc[wrong, 'source_type'].iloc[0]!r} in a {source_type} load")
    unknown = ~values["indicator_code"].isin(ind["code"])
    if unknown.any():
        raise LinkageError(f"{where}: values of indicator {values.loc[unknown, 'indicator_code'].iloc[0]!r} "
                           "have no definition; add it to the indicator definitions")
    return ind.astype(object).where(ind.notna(), None)
