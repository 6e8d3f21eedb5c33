"""Domains for svyby-style estimation: crossing of one or more by-variables into group codes.

A domain never drops rows from the design: rows outside a group (or with a missing
by-value) simply contribute zero to that group's estimate and influence values, as R's
``svyby`` / ``subset`` keep the full design for the variance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sid.errors import EstimationError


def as_list(by: str | Sequence[str] | None) -> list[str]:
    """Normalise ``by`` (None, a column name or a list of names) to a list."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def check_columns(df: pd.DataFrame, names: Sequence[str], what: str) -> None:
    """Raise EstimationError naming the first of ``names`` that is not a column of ``df``."""
    for name in names:
        if name not in df.columns:
            raise EstimationError(
                f"{what}: variable {name!r} is not in the data; available: {', '.join(map(str, df.columns[:12]))}..."
            )


def dense_codes(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values of non-negative int ``key`` (< ``size``) and codes 0..K-1.

    O(n) by counting when the key space is small, else a sort (np.unique).
    """
    if size <= 4 * key.shape[0] + 1024:
        present = np.bincount(key, minlength=size) > 0
        remap = np.cumsum(present) - 1
        return np.flatnonzero(present), remap[key]
    cells, inverse = np.unique(key, return_inverse=True)
    return cells, inverse.ravel()


def nested_codes(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Codes 0..K-1 of the (outer, inner) pairs of two non-negative int code arrays."""
    if outer.shape[0] == 0:
        return outer.copy()
    key = outer.astype(np.int64) * (int(inner.max()) + 1) + inner
    return dense_codes(key, int(outer.max() + 1) * (int(inner.max()) + 1))[1]


def group_codes(df: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Codes (n,) 0..G-1 of the crossing of ``by`` (-1 where a by-value is missing), and labels.

    Groups are sorted by their values (R's svyby order); only crossings present in the
    data are kept. Without by-variables all rows are group 0 and the label frame has no
    columns.
    """
    n = len(df)
    if not by:
        return np.zeros(n, dtype=np.int64), pd.DataFrame(index=[0])
    codes = []
    levels = []
    for name in by:
        c, lev = pd.factorize(df[name], sort=True)
        codes.append(c)
        levels.append(lev)
    stacked = np.stack(codes, axis=0)
    valid = (stacked >= 0).all(axis=0)
    dims = tuple(len(lev) for lev in levels)
    # One integer key per crossing (mixed radix), then only the crossings present.
    key = np.ravel_multi_index(tuple(stacked[:, valid]), dims)
    cells, inverse = dense_codes(key, int(np.prod(dims, dtype=np.float64)))
    cell_codes = np.unravel_index(cells, dims)
    g = np.full(n, -1, dtype=np.int64)
    g[valid] = inverse.ravel()
    labels = pd.DataFrame({name: np.asarray(levels[j])[cell_codes[j]] for j, name in enumerate(by)})
    return g, labels
