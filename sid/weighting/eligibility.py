"""Eligibility adjustment of design weights.

Sampled units fall in three groups: eligible (respondents and eligible non-respondents),
not eligible (moved, deceased, outside the population: they leave, weight 0), and of
unknown eligibility (never reached). Within each adjustment class (stratum) the weight of
the unknowns is presumed eligible in the same share as among units of known status,
e_h = W_E / (W_E + W_NE), and that share is passed on to the eligible units in proportion
to their weights: factor 1 + W_U / (W_E + W_NE) (Valliant, Dever & Kreuter 2018,
Practical Tools for Designing and Weighting Survey Samples, 2nd ed., sec. 13.3; AAPOR's
e in the response rate RR3 is the same share).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sid.errors import WeightingError
from sid.weighting.compress import group_codes

__all__ = ["ELIGIBLE", "NOT_ELIGIBLE", "UNKNOWN", "EligibilityAdjustment", "adjust_eligibility"]

ELIGIBLE = "eligible"
NOT_ELIGIBLE = "not_eligible"
UNKNOWN = "unknown"
_STATUSES = (ELIGIBLE, NOT_ELIGIBLE, UNKNOWN)


@dataclass(frozen=True)
class EligibilityAdjustment:
    """weights: adjusted (0 for not eligible and unknown); factor per unit; share: e_h per class."""

    weights: np.ndarray
    factor: np.ndarray
    eligible_share: pd.Series


def adjust_eligibility(
    weights: np.ndarray, status: np.ndarray | pd.Series, classes: np.ndarray | pd.Series
) -> EligibilityAdjustment:
    """Pass the weight of units of unknown eligibility on to the eligible units, per class.

    weights: (n,) design weights of the gross sample; status: "eligible", "not_eligible"
    or "unknown" per unit; classes: (n,) adjustment class (e.g. stratum). Eligible units
    get factor 1 + W_U / (W_E + W_NE) (sums of weights within their class); the others
    get weight 0. The total weight of eligible units then estimates the eligible
    population. Raises WeightingError for unknown status values, or a class whose units
    all have unknown eligibility.
    """
    w = np.asarray(weights, dtype=float)
    st = pd.Series(np.asarray(status, dtype=object))
    bad = ~st.isin(_STATUSES)
    if bad.any():
        raise WeightingError(
            f"eligibility: status {st[bad].iloc[0]!r} at row {int(np.flatnonzero(bad)[0])} is "
            f"not one of {', '.join(_STATUSES)}"
        )
    if w.shape != (len(st),) or not np.isfinite(w).all() or (w < 0).any():
        raise WeightingError("eligibility: weights must be finite, >= 0 and one per unit")
    codes, labels = group_codes(classes, "eligibility: adjustment class")
    k = len(labels)
    is_e = (st == ELIGIBLE).to_numpy()
    is_ne = (st == NOT_ELIGIBLE).to_numpy()
    is_u = (st == UNKNOWN).to_numpy()
    we = np.bincount(codes, weights=w * is_e, minlength=k)
    wne = np.bincount(codes, weights=w * is_ne, minlength=k)
    wu = np.bincount(codes, weights=w * is_u, minlength=k)
    known = we + wne
    stuck = (known <= 0) & (wu > 0)
    if stuck.any():
        raise WeightingError(
            f"eligibility: in class {labels[int(np.flatnonzero(stuck)[0])]!r} no unit has a known "
            "eligibility status, so the eligible share of the unknowns cannot be estimated; "
            "merge the class with a neighbour"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        class_factor = np.where(known > 0, 1.0 + wu / np.where(known > 0, known, 1.0), 1.0)
        share = np.where(known > 0, we / np.where(known > 0, known, 1.0), np.nan)
    factor = np.where(is_e, class_factor[codes], 0.0)
    return EligibilityAdjustment(
        weights=w * factor,
        factor=factor,
        eligible_share=pd.Series(
            share, index=pd.Index(labels, name="class"), name="eligible_share"
        ),
    )
