"""Date-times as the doubles readstat writes for them, from numpy (the .sav and .dta row
writers, sid.io.spss_rows and sid.io.stata_rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd

UNITS = {"ns": 10**9, "us": 10**6, "ms": 10**3}  # numpy datetime64 units: ticks per second


def epoch_doubles(s: pd.Series, offset_secs: int, per_second: float = 1.0) -> np.ndarray | None:
    """The datetime64 column ``s`` in the unit readstat writes: seconds since a format's
    epoch (``offset_secs`` from 1970-01-01 to it) times ``per_second`` (1 for SPSS seconds,
    1000 for Stata milliseconds), NaN where NaT; None for a unit not in :data:`UNITS`.

    Computed as pyreadstat does, whole seconds and the fraction each scaled apart
    (``(i // conv + offset) * per_second + (i % conv) / conv * per_second``), so the doubles
    are bit-identical to its own."""
    unit = np.datetime_data(s.dtype)[0]
    if unit not in UNITS:
        return None
    i = s.to_numpy().view(np.int64)
    conv = UNITS[unit]
    out = (i // conv + offset_secs).astype(float) * per_second + (i % conv).astype(float) / conv * per_second
    out[i == np.iinfo(np.int64).min] = np.nan  # NaT
    return out
