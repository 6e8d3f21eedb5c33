"""Membership of record keys in a set of keys, fast for the text keys of large waves.

pandas 3's text dtype (``str``, Arrow-backed) answers ``Series.isin(other)`` by turning
every value of ``other`` into a Python Arrow scalar first: 6 s for 385,000 keys against
385,000. :func:`isin` gives the same answer by one hash join in Arrow (0.3 s).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _text(x) -> pa.Array | None:
    """``x`` as an Arrow text array, or None when it holds anything but text and missing."""
    try:
        arr = pa.array(x.to_numpy(dtype=object, na_value=None) if isinstance(x, (pd.Series, pd.Index))
                       else np.asarray(list(x) if not isinstance(x, np.ndarray) else x, dtype=object),
                       from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else None


def isin(values: pd.Series | pd.Index | np.ndarray, pool: Iterable) -> np.ndarray:
    """Boolean array: is each of ``values`` one of ``pool`` (pandas ``isin``: a missing
    value is in ``pool`` only when ``pool`` holds a missing value). Text keys go through
    Arrow's hash join; other kinds through pandas."""
    pool = pool if isinstance(pool, (pd.Series, pd.Index, np.ndarray)) else list(pool)
    a, b = _text(values), _text(pool)
    if a is not None and b is not None:
        return pc.is_in(a, value_set=b).to_numpy(zero_copy_only=False).astype(bool, copy=False)
    return np.asarray(pd.Series(np.asarray(values, dtype=object) if isinstance(values, np.ndarray) else values)
                      .isin(pool), dtype=bool)
