"""One spec index end to end: score, reporting scale, reliability and loadings by group.

:func:`compute_index` applies one ``indices:`` entry of the questionnaire spec
(docs/questionnaire-spec.md; :class:`sid.spec.questionnaire.Index` or any object with the
same attributes) to the clean data, in which declared missing codes are already NaN.
It composes :mod:`~sid.scales.scoring`, :mod:`~sid.scales.reliability` and
:mod:`~sid.scales.comparability`; the score stage of the pipeline calls it per index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sid.errors import SpecError
from sid.scales.comparability import DEFAULT_MAX_DIFF, flag_loadings, loadings_by_group
from sid.scales.reliability import DEFAULT_THRESHOLD, reliability_tables, row_weights
from sid.scales.scoring import rescale, resolve_item_ranges, row_score_range, score_index


@dataclass(frozen=True)
class IndexResult:
    """What scoring one index produced.

    ``score``: on the reporting scale (raw, POMP 0-100 or z); ``raw_score``: before
    rescaling; ``reason``: why a score is missing (NaN where scored); ``reasons``: counts
    of those reasons; ``reliability``: one row per group with ``flag``/``reason``
    (None without a group); ``loadings``/``loading_flags``: one-factor loadings per
    group and the long flag table (None without a group or with fewer than 3 items);
    ``flagged``: True if any group's reliability or any loading is flagged.
    """

    name: str
    score: pd.Series
    raw_score: pd.Series
    reason: pd.Series
    reasons: pd.Series
    reliability: pd.DataFrame | None
    item_reliability: pd.DataFrame | None
    loadings: pd.DataFrame | None
    loading_flags: pd.DataFrame | None
    flagged: bool


def item_ranges_from_spec(questionnaire: Any, items: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Each item's (min, max) from its spec entry: ``range`` if given, else the smallest
    and largest numeric category code (missing codes are not categories)."""
    ranges = {}
    for item in items:
        var = questionnaire.variable(item)
        if var.range is not None:
            ranges[item] = (float(var.range[0]), float(var.range[1]))
            continue
        codes = [c for c in var.categories if isinstance(c, (int, float)) and not isinstance(c, bool)]
        if len(codes) < 2:
            raise SpecError(f"{questionnaire.path or questionnaire.wave}: item {item}: neither a range nor "
                            "two numeric categories; declare its range to use it in an index")
        ranges[item] = (float(min(codes)), float(max(codes)))
    return ranges


def _reference_mask(df: pd.DataFrame, index: Any) -> np.ndarray:
    expr = index.reference_group
    if expr is None:
        raise SpecError(f"index {index.name}: scale 'z' needs a reference_group (e.g. \"origin == 'BEL'\")")
    env = {}
    for name in expr.names:
        if name not in df.columns:
            raise SpecError(f"index {index.name}: reference_group uses {name!r}, which is not in the data")
        col = df[name]
        env[name] = col.to_numpy(dtype=float, na_value=np.nan) if pd.api.types.is_numeric_dtype(col) \
            else col.to_numpy(dtype=object)
    return expr.holds(env, len(df))


def compute_index(
    df: pd.DataFrame,
    index: Any,
    *,
    item_ranges: Mapping[str, tuple[float, float]] | tuple[float, float] | None,
    weight: str | None = None,
    group: str | None = None,
    reference_mask: np.ndarray | None = None,
    max_loading_diff: float = DEFAULT_MAX_DIFF,
) -> IndexResult:
    """Score ``index`` on ``df`` and assess it per ``group`` (see module docstring).

    ``item_ranges``: per-item (min, max), e.g. from :func:`item_ranges_from_spec`.
    ``reference_mask`` overrides the spec's ``reference_group`` for scale ``z``.
    Reliability is computed on the items as scored: for ``count`` scoring on the 0/1
    indicators of the counted codes (alpha is then KR-20).
    """
    items = list(index.items)
    ranges = resolve_item_ranges(items, item_ranges)
    w = row_weights(df, weight)
    raw, reason = score_index(
        df[items], reverse=index.reverse, item_ranges=ranges or None, min_valid=index.min_valid,
        rule=index.scoring, count_values=index.count_values or None, weight=w,
    )
    if index.scale == "pomp":
        # the range of the items each respondent answered (items' ranges may differ)
        valid = df[items].notna().to_numpy()
        scaled = rescale(raw, "pomp", score_range=row_score_range(index.scoring, valid, ranges, items))
    elif index.scale == "z":
        mask = reference_mask if reference_mask is not None else _reference_mask(df, index)
        scaled = rescale(raw, "z", reference_mask=mask, weight=w)
    else:
        scaled = rescale(raw, index.scale)
    scaled.name = raw.name = index.name
    rel = item_rel = loads = flags = None
    flagged = False
    if group is not None:
        threshold = DEFAULT_THRESHOLD if index.reliability_min is None else index.reliability_min
        if index.scoring == "count":
            counted = np.asarray(index.count_values, dtype=float)
            data = df[items].apply(lambda c: c.isin(counted).astype(float).where(c.notna()))
            data[[group]] = df[[group]]
            rev, rng = (), None
        else:
            data, rev, rng = df, index.reverse, ranges or None
        if weight is not None:
            data = data.assign(**{weight: w})
        rel, item_rel = reliability_tables(data, items, group, reverse=rev, item_range=rng, weight=weight,
                                           threshold=threshold)
        flagged = bool(rel["flag"].any())
        if len(items) >= 3:
            loads = loadings_by_group(data, items, group, reverse=rev, item_range=rng, weight=weight,
                                     errors="nan")
            flags = flag_loadings(loads, max_diff=max_loading_diff)
            flagged = flagged or bool(flags["flag"].any())
    return IndexResult(
        name=index.name, score=scaled, raw_score=raw, reason=reason,
        reasons=reason.value_counts(), reliability=rel, item_reliability=item_rel, loadings=loads, loading_flags=flags,
        flagged=flagged,
    )
