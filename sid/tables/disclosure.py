"""Disclosure control and quality flags of table cells.

Rules (DESIGN.md, the table plan's ``defaults``):

* ``low_n``: the cell rests on fewer than ``min_n`` respondents (unweighted). A
  difference counts the smaller of its two domains; a chi-square test all respondents
  with both variables. Published output suppresses such a cell (estimate, SE, CI, CV,
  design effect and p-value blank); internal output keeps the values and the flag.
* ``high_cv``: the coefficient of variation SE/estimate is above ``max_cv``: the estimate
  is unreliable. Flagged in both outputs, not suppressed (as VLIM publishes with a
  warning). Differences and tests have no CV and are never flagged so.

``status`` is a text column: "ok", or the flag names joined by ";" ("low_n",
"high_cv", "low_n;high_cv"). (Not ``flags``, which is an attribute of every pandas
DataFrame.) The words a reader sees for them are the message catalogue's
(``workbook.status_*``, ``indicators.status.*``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

OK = "ok"
SUPPRESSED_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "cv", "deff", "p_value")


def flag_cells(df: pd.DataFrame, min_n: int, max_cv: float) -> pd.DataFrame:
    """Copy of ``df`` (columns n, cv) with ``status`` and ``suppressed`` (n < min_n) set."""
    out = df.copy()
    n = out["n"].to_numpy(dtype=float)
    low = n < min_n
    with np.errstate(invalid="ignore"):
        high = np.abs(out["cv"].to_numpy(dtype=float)) > max_cv  # NaN compares False
    names = np.array([OK, "low_n", "high_cv", "low_n;high_cv"], dtype=object)
    out["status"] = pd.array(names[low.astype(int) + 2 * high.astype(int)], dtype="str")
    out["suppressed"] = low
    return out


def publish(df: pd.DataFrame) -> pd.DataFrame:
    """The published form: values of suppressed cells set to missing (status kept)."""
    out = df.copy()
    mask = out["suppressed"].to_numpy(dtype=bool)
    for c in SUPPRESSED_COLUMNS:
        if c in out.columns:
            out[c] = out[c].mask(mask)
    return out
