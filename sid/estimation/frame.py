"""Columns given to a Design: its weights, analysis columns and replicate weights.

:func:`check_weights` checks the analysis weights of every ``Design`` constructor.

``Design.with_columns`` adds analysis columns aligned by row position to the design's data;
``Design.from_replicate_weights`` takes replicate weights as an (n x R) array or as the
names of R columns (R's ``svrepdesign(repweights=)``). Both are checked here at the
boundary, with messages that name the column and the row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sid.errors import EstimationError
from sid.estimation.domains import check_columns


def added_columns(data: pd.DataFrame, columns: pd.DataFrame | Mapping[str, object],
                  protected: set[str]) -> tuple[pd.DataFrame, set[str]]:
    """``data`` with ``columns`` added or replaced, by row position; and the names given.

    ``columns``: a DataFrame (its index is ignored: row i goes to the design's row i) or a
    mapping of name -> array/Series/list of len(data) values (dtypes such as categoricals
    are kept). ``protected`` names (the design's weight, strata, PSU, fpc columns) cannot
    be replaced: the design's arrays were taken from them. Raises EstimationError.
    """
    n = len(data)
    if isinstance(columns, pd.DataFrame):
        if columns.columns.duplicated().any():
            dup = columns.columns[columns.columns.duplicated()][0]
            raise EstimationError(f"with_columns: column {dup!r} is given twice; give each column once")
        items = [(name, columns[name]) for name in columns.columns]
    elif isinstance(columns, Mapping):
        items = list(columns.items())
    else:
        raise EstimationError(
            f"with_columns: give a DataFrame or a mapping of name -> values, got {type(columns).__name__}"
        )
    new = {}
    for name, values in items:
        if name in protected:
            raise EstimationError(
                f"with_columns: {name!r} is a design column (weight, strata, PSU or fpc) of this design; "
                "give the analysis column another name, or build a new Design"
            )
        arr = values.array if isinstance(values, pd.Series | pd.Index) else values
        if np.ndim(arr) != 1 or len(arr) != n:
            raise EstimationError(
                f"with_columns: column {name!r} has shape {np.shape(arr)} for a design of {n} rows; "
                "give one value per row, in the design's row order"
            )
        new[name] = pd.Series(arr, index=data.index, name=name)
    if not new:
        return data, set()
    kept = data.drop(columns=[c for c in new if c in data.columns])
    return pd.concat([kept, pd.DataFrame(new, index=data.index)], axis=1), set(new)


def check_weights(w: np.ndarray, name: str, what: str) -> None:
    """EstimationError unless every weight is finite and >= 0 and their total is > 0 (two
    reductions, min and max; the row is looked up only to word the error)."""
    lo, hi = (float(np.min(w)), float(np.max(w))) if w.size else (0.0, 0.0)
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0:  # NaN propagates through min and max
        bad = int(np.flatnonzero(~np.isfinite(w) | (w < 0))[0])
        raise EstimationError(f"{what}: {name} is missing, infinite or negative in row {bad}; "
                              "weights must be finite and >= 0")
    if hi <= 0:
        raise EstimationError(f"{what}: {name} is 0 in all {w.size} rows, so the total weight is 0: "
                              "nothing can be estimated; give the analysis weights")


def replicate_weight_matrix(df: pd.DataFrame, replicate_weights: np.ndarray | Sequence[str],
                            what: str) -> np.ndarray:
    """Replicate weights (n x R float) from an array or from the names of R columns of ``df``.

    They must be finite and >= 0, with at least 2 columns (R's ``svrepdesign`` with
    ``combined.weights=TRUE``: full weights, not factors).
    """
    n = len(df)
    if isinstance(replicate_weights, np.ndarray):
        W = np.asarray(replicate_weights, dtype=float)
        source = "replicate_weights"
    else:
        names = list(replicate_weights)
        if not all(isinstance(c, str) for c in names):
            raise EstimationError(f"{what}: replicate_weights must be an (n x R) array or a list of column names")
        check_columns(df, names, what)
        W = np.column_stack([pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float) for c in names]) \
            if names else np.empty((n, 0))
        source = "replicate weight columns"
    if W.ndim != 2 or W.shape[0] != n:
        raise EstimationError(f"{what}: replicate_weights has shape {W.shape} for {n} rows; give an (n x R) array")
    if W.shape[1] < 2:
        raise EstimationError(f"{what}: {W.shape[1]} replicate weight column(s); give at least 2")
    bad = ~np.isfinite(W) | (W < 0)
    if bad.any():
        i, r = (int(v[0]) for v in np.nonzero(bad))
        raise EstimationError(
            f"{what}: {source}: replicate {r} is missing, infinite or negative in row {i}; "
            "replicate weights must be finite and >= 0"
        )
    return W


def replicate_constants(scale: float, rscales, R: int, what: str) -> tuple[float, np.ndarray]:
    """``scale`` (> 0, finite) and ``rscales`` (a number or R values, finite, >= 0) as arrays."""
    try:
        s = float(scale)
        rs = np.broadcast_to(np.asarray(rscales, dtype=float), (R,)).copy()
    except (TypeError, ValueError):
        raise EstimationError(
            f"{what}: scale must be a number and rscales a number or {R} numbers (one per replicate); "
            f"got scale={scale!r}, {np.size(rscales)} rscales"
        ) from None
    if not np.isfinite(s) or s <= 0:
        raise EstimationError(f"{what}: scale={scale!r} must be a positive number (R's svrepdesign scale)")
    if not np.isfinite(rs).all() or (rs < 0).any():
        raise EstimationError(f"{what}: rscales must be finite and >= 0")
    return s, rs
