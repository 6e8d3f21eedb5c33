"""Index scores from items: reflection, the k-of-n rule, scoring rules, reporting scales.

Pure functions over DataFrames and arrays; NaN is a missing answer (declared missing
codes must be set to NaN before scoring: a value outside an item's range is an error,
never a score). The spec's ``indices:`` entries (docs/questionnaire-spec.md) map onto
:func:`score_index` (items, reverse, min_valid, scoring, count_values) and
:func:`rescale` (scale, reference_group, weight).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sid.errors import DataError, EstimationError, SpecError

RULES = ("mean", "sum", "count", "factor")
SCALES = ("raw", "pomp", "z")
REASON_TOO_FEW = "too few valid items"

ItemRange = tuple[float, float] | Mapping[str, tuple[float, float]] | None


def reflect(x: np.ndarray | pd.Series | float, lo: float, hi: float):
    """Reverse-score ``x`` within its own range: ``x' = lo + hi - x`` (NaN stays NaN)."""
    return lo + hi - x


def resolve_item_ranges(items: Sequence[str], item_range: ItemRange) -> dict[str, tuple[float, float]]:
    """One ``(min, max)`` per item from a common range or a per-item mapping."""
    if item_range is None:
        return {}
    if isinstance(item_range, Mapping):
        unknown = sorted(set(item_range) - set(items))
        if unknown:
            raise SpecError(f"item_range: {unknown} are not items of the scale {list(items)}")
        ranges = {k: tuple(v) for k, v in item_range.items()}
    else:
        lo_hi = tuple(item_range)
        ranges = {item: lo_hi for item in items}
    for item, rng in ranges.items():
        if len(rng) != 2 or not rng[0] < rng[1]:
            raise SpecError(f"item_range of {item}: expected (min, max) with min < max, got {rng}")
    return ranges


def prepare_items(
    df: pd.DataFrame, items: Sequence[str], reverse: Sequence[str] = (), item_range: ItemRange = None
) -> np.ndarray:
    """Numeric ``(n, k)`` array of ``items`` with reversed items reflected (NaN = missing).

    Values outside an item's declared range raise :class:`DataError` (usually a missing
    code not set to NaN). A reversed item without a range is reflected by a change of
    sign, which is only fit for covariance-based statistics (reliability, loadings).
    """
    items = list(items)
    missing_cols = [c for c in items if c not in df.columns]
    if missing_cols:
        raise DataError(f"items {missing_cols}: no such column(s) in the data")
    unknown = sorted(set(reverse) - set(items))
    if unknown:
        raise SpecError(f"reverse: {unknown} are not items of the scale {items}")
    ranges = resolve_item_ranges(items, item_range)
    out = np.empty((len(df), len(items)))
    for j, item in enumerate(items):  # a loop over the k items, not over respondents
        col = df[item]
        if not pd.api.types.is_numeric_dtype(col) and not col.isna().all():
            raise DataError(f"item {item}: not numeric (dtype {col.dtype}); give numeric codes with NaN for missing")
        x = col.to_numpy(dtype=float, na_value=np.nan)
        if item in ranges:
            lo, hi = ranges[item]
            bad = (x < lo) | (x > hi)
            if bad.any():
                i = np.flatnonzero(bad)[0]
                raise DataError(
                    f"item {item}, row {df.index[i]!r}: value {x[i]:g} outside its range [{lo:g}, {hi:g}]; "
                    "set missing codes to NaN before scoring"
                )
            if item in reverse:
                x = reflect(x, lo, hi)
        elif item in reverse:
            x = -x
        out[:, j] = x
    return out


def score_range(rule: str, item_ranges: Mapping[str, tuple[float, float]], items: Sequence[str]) -> tuple[float, float]:
    """Possible (min, max) of an index score, for POMP: mean -> mean of the item minima
    and maxima, sum -> their sums, count -> (0, number of items)."""
    if rule == "count":
        return 0.0, float(len(items))
    if rule not in ("mean", "sum"):
        raise SpecError(f"scoring {rule!r}: has no fixed score range; report it raw or as z")
    missing = [i for i in items if i not in item_ranges]
    if missing:
        raise SpecError(f"items {missing}: no range given; a POMP score needs each item's (min, max)")
    lo = np.array([item_ranges[i][0] for i in items])
    hi = np.array([item_ranges[i][1] for i in items])
    agg = np.mean if rule == "mean" else np.sum
    return float(agg(lo)), float(agg(hi))


def row_score_range(rule: str, valid: np.ndarray, item_ranges: Mapping[str, tuple[float, float]],
                    items: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per respondent, the possible (min, max) of a ``mean`` or ``sum`` score given the
    items they answered (``valid``: n x k booleans), for POMP.

    With items of different ranges, the range of a mean of the *valid* items is the mean
    of *their* minima and maxima, so POMP = ``100 sum_valid(x - lo) / sum_valid(hi - lo)``
    stays within 0-100 for a respondent missing an item; on complete answers it equals
    :func:`score_range`. ``count`` gives (0, number of items) for everyone.
    """
    n = valid.shape[0]
    if rule == "count":
        return np.zeros(n), np.full(n, float(len(items)))
    lo_all, hi_all = score_range(rule, item_ranges, items)  # validates rule and ranges
    lo = np.array([item_ranges[i][0] for i in items])
    hi = np.array([item_ranges[i][1] for i in items])
    m = valid.astype(float)
    n_valid = m.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        row_lo, row_hi = m @ lo / n_valid, m @ hi / n_valid
    if rule == "sum":  # the prorated sum is the mean times the number of items
        row_lo, row_hi = row_lo * len(items), row_hi * len(items)
    return row_lo, row_hi


def score_index(
    items: pd.DataFrame,
    *,
    reverse: Sequence[str] = (),
    item_ranges: ItemRange = None,
    min_valid: int,
    rule: str = "mean",
    count_values: Sequence[float] | None = None,
    weight: np.ndarray | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Score an index from its item columns; returns ``(score, reason)`` on ``items.index``.

    Rules: ``mean`` of the valid items; ``sum`` of the valid items prorated to all
    ``n`` items (mean x n, so a respondent missing an item allowed by the k-of-n rule
    stays on the scale of a full sum); ``count`` of valid items whose code is in
    ``count_values``; ``factor``: regression factor score of a one-factor minres model
    fitted to the items' pairwise correlations (weighted if ``weight``), in standard
    units (see :mod:`sid.scales.factor`). A respondent with fewer than ``min_valid``
    valid items gets NaN and the reason ``"too few valid items"``; scored rows have a
    missing reason.
    """
    cols = list(items.columns)
    n_items = len(cols)
    if rule not in RULES:
        raise SpecError(f"scoring {rule!r}: expected one of {RULES}")
    if not isinstance(min_valid, (int, np.integer)) or not 1 <= min_valid <= n_items:
        raise SpecError(f"min_valid {min_valid!r}: expected a whole number from 1 to {n_items} (the number of items)")
    ranges = resolve_item_ranges(cols, item_ranges)
    no_range = [c for c in reverse if c not in ranges]
    if no_range:
        raise SpecError(f"reverse {no_range}: a reversed item needs its (min, max) in item_ranges to be reflected")
    if rule == "count":
        if not count_values:
            raise SpecError("scoring 'count': give count_values (the codes that count as 'yes')")
        if reverse:
            raise SpecError(f"scoring 'count' with reverse {list(reverse)}: list the codes that count in count_values instead")
    x = prepare_items(items, cols, reverse=reverse, item_range=ranges or None)
    valid = ~np.isnan(x)
    n_valid = valid.sum(axis=1)
    enough = n_valid >= min_valid
    with np.errstate(invalid="ignore", divide="ignore"):
        if rule == "mean":
            score = np.nansum(x, axis=1) / n_valid
        elif rule == "sum":
            score = np.nansum(x, axis=1) / n_valid * n_items
        elif rule == "count":
            score = np.isin(x, np.asarray(count_values, dtype=float)).sum(axis=1).astype(float)
        else:
            score = _factor_score(x, cols, weight)
    score = np.where(enough, score, np.nan)
    reason = pd.Series(np.where(enough, None, REASON_TOO_FEW), index=items.index, name="reason", dtype="str")
    return pd.Series(score, index=items.index, name="score"), reason


def _factor_score(x: np.ndarray, names: list[str], weight: np.ndarray | None) -> np.ndarray:
    from sid.scales.factor import factor_scores, fit_one_factor
    from sid.scales.moments import item_moments

    mom = item_moments(x, weight=weight, names=names)
    valid = ~np.isnan(x)
    w = np.ones(len(x)) if weight is None else np.asarray(weight, dtype=float)
    means = (np.where(valid, x, 0.0) * w[:, None]).sum(axis=0) / (valid * w[:, None]).sum(axis=0)
    model = fit_one_factor(mom.pair_cor, names=names)
    return factor_scores(x, means, np.sqrt(np.diag(mom.cov)), mom.pair_cor, model)


def rescale(
    score: pd.Series | np.ndarray,
    scale: str = "raw",
    score_range: tuple[float, float] | None = None,
    reference_mask: np.ndarray | pd.Series | None = None,
    weight: np.ndarray | pd.Series | None = None,
) -> pd.Series | np.ndarray:
    """Put an index score on its reporting scale.

    ``raw``: unchanged. ``pomp``: percent of maximum possible, ``100 (s - lo)/(hi - lo)``
    (Cohen, Cohen, Aiken & West 1999) with ``score_range=(lo, hi)``, two numbers or two
    arrays of one bound per score (:func:`row_score_range`). ``z``:
    ``(s - m)/sd`` with the mean and SD of the valid scores inside ``reference_mask``
    (weighted by ``weight`` when given; SD with the m/(m-1) correction, m = respondents
    used). The reference group must be stated: z is never computed within each group.
    """
    if scale not in SCALES:
        raise SpecError(f"scale {scale!r}: expected one of {SCALES}")
    s = np.asarray(score, dtype=float)
    if scale == "raw":
        out = s.copy()
    elif scale == "pomp":
        if score_range is None:
            raise SpecError("scale 'pomp': give score_range=(min, max) of the score")
        lo, hi = (np.asarray(b, dtype=float) for b in score_range)
        if not np.all((lo < hi) | np.isnan(lo) | np.isnan(hi)):
            raise SpecError(f"scale 'pomp': score_range {score_range} needs min < max")
        with np.errstate(invalid="ignore"):
            out = 100.0 * (s - lo) / (hi - lo)
    else:
        if reference_mask is None:
            raise SpecError("scale 'z': state the reference group (reference_mask); sid never standardises silently")
        ref = np.asarray(reference_mask, dtype=bool)
        w = np.ones_like(s) if weight is None else np.asarray(weight, dtype=float)
        if ref.shape != s.shape or w.shape != s.shape:
            raise SpecError(f"scale 'z': reference_mask and weight need {s.size} values, one per score")
        use = ref & ~np.isnan(s) & np.isfinite(w) & (w > 0)
        m = int(use.sum())
        if m < 2:
            raise EstimationError(f"scale 'z': {m} valid score(s) in the reference group; need at least 2")
        ws, ss = w[use], s[use]
        mean = np.sum(ws * ss) / ws.sum()
        var = np.sum(ws * (ss - mean) ** 2) / ws.sum() * m / (m - 1)
        if var <= 0:
            raise EstimationError("scale 'z': the score has no variance in the reference group")
        out = (s - mean) / np.sqrt(var)
    if isinstance(score, pd.Series):
        return pd.Series(out, index=score.index, name=score.name)
    return out
