"""The register frame's counts, checked before they become population totals.

The frame (``sample.frame``) holds one row per population cell with its count
(``sample.frame_count``): design weights sum the counts per stratum, calibration margins
per margin cell. A count that is not a number >= 0, or a cell given on two rows, would
make every total that contains it wrong, silently: :func:`checked_frame` refuses both,
naming the file, the row (as a line of the CSV file: the header is row 1), the cell and
what the count enters. Both the fieldwork stage (design weights) and the weight stage
(design weights and margins) use it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.errors import SidError, WeightingError

__all__ = ["checked_frame"]


def _cell(frame: pd.DataFrame, cells: list[str], row: int) -> str:
    values = frame[cells].iloc[row]
    return "(" + ", ".join(f"{c}={'' if pd.isna(v) else v}" for c, v in values.items()) + ")"


def checked_frame(frame: pd.DataFrame, count: str, where: str, uses: str,
                  error: type[SidError] = WeightingError) -> pd.DataFrame:
    """``frame`` with ``count`` as float, after checking every count and cell.

    A cell is a row's values of every column but ``count``. Raises ``error`` (one line:
    ``where``, the row, the cell, ``uses``, what to do) when a count is missing, not a
    number, infinite or negative, or when two rows hold the same cell. ``uses``: what the
    counts enter, e.g. ``"the design weights and margins sex:age_band, region"``.
    """
    if count not in frame.columns:
        raise error(f"{where}: no column {count!r} (weighting spec sample.frame_count; columns: "
                    f"{', '.join(map(str, frame.columns))})")
    cells = [c for c in frame.columns if c != count]
    raw = frame[count]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        v = raw.iloc[i]
        shown = "(empty)" if pd.isna(v) else repr(v) if isinstance(v, str) else str(v)
        raise error(f"{where}: row {i + 2}: {count} {shown} of cell {_cell(frame, cells, i)} is not "
                    f"a count >= 0 ({int(bad.sum())} such row(s)); it enters {uses}; correct the "
                    "register frame")
    if cells:
        gid = frame.groupby(cells, dropna=False, sort=False).ngroup().to_numpy()
        dup = pd.Series(gid).duplicated().to_numpy()
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            j = int(np.flatnonzero(gid == gid[i])[0])
            raise error(f"{where}: rows {j + 2} and {i + 2} hold the same cell {_cell(frame, cells, i)} "
                        f"({int(dup.sum())} repeated row(s)); {uses} would count its population twice; "
                        "keep one row per cell")
    return frame.assign(**{count: values})
