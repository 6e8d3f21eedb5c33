"""Comparability of a scale across groups: one-factor loadings per group, side by side.

A scale measures the same thing in every origin group only if its items relate to the
common factor alike. This is a screening step short of a formal invariance test (which
needs a multi-group CFA): the standardised loadings of a one-factor minres model
(:mod:`sid.scales.factor`, psych's ``fa(nfactors=1, fm="minres")``) are fitted to the
pooled sample and to each group separately, on the pairwise (weighted, if a weight is
given) correlation matrix, and an item is flagged in a group where its loading differs
from the pooled loading by more than ``max_diff`` (default 0.2) or changes sign.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sid.errors import DataError, EstimationError
from sid.scales.factor import fit_one_factor
from sid.scales.moments import item_moments
from sid.scales.reliability import row_weights
from sid.scales.scoring import prepare_items

POOLED = "(pooled)"
DEFAULT_MAX_DIFF = 0.2


def _loadings(sub: pd.DataFrame, items: list[str], reverse, item_range, weight, missing) -> np.ndarray:
    x = prepare_items(sub, items, reverse=reverse, item_range=item_range)
    mom = item_moments(x, weight=row_weights(sub, weight), missing=missing, names=items)
    return fit_one_factor(mom.pair_cor, names=items).loadings


def loadings_by_group(
    df: pd.DataFrame,
    items: Sequence[str],
    group: str,
    reverse: Sequence[str] = (),
    item_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
    weight: str | None = None,
    missing: str = "pairwise",
    errors: str = "raise",
) -> pd.DataFrame:
    """Standardised one-factor loadings: rows = items, columns = "(pooled)" then groups.

    Each model is signed so that its loadings sum to a positive number; a group whose
    model cannot be fitted (too few respondents, no variance) raises
    :class:`EstimationError` naming the group, or with ``errors="nan"`` gets NaN
    loadings and the reason in ``DataFrame.attrs["not_computable"]`` (``{group: why}``),
    which :func:`flag_loadings` turns into flags.
    """
    if errors not in ("raise", "nan"):
        raise EstimationError(f"errors={errors!r}: expected 'raise' or 'nan'")
    items = list(items)
    if group not in df.columns:
        raise DataError(f"group {group!r}: no such column; name a grouping variable of the data")
    levels = pd.unique(df[group].dropna())
    try:
        levels = sorted(levels)
    except TypeError:  # mixed types: keep the order of appearance
        pass
    columns = {POOLED: _loadings(df, items, reverse, item_range, weight, missing)}
    failed = {}
    for level in levels:
        try:
            columns[level] = _loadings(df[df[group] == level], items, reverse, item_range, weight, missing)
        except EstimationError as exc:
            if errors == "raise":
                raise EstimationError(f"{group} = {level!r}: {exc}") from exc
            columns[level], failed[level] = np.full(len(items), np.nan), str(exc)
    out = pd.DataFrame(columns, index=pd.Index(items, name="item"))
    out.attrs["not_computable"] = failed
    return out


def flag_loadings(loadings: pd.DataFrame, max_diff: float = DEFAULT_MAX_DIFF) -> pd.DataFrame:
    """Long table of every item x group with its loading, the pooled loading, the
    difference, and ``flag``/``reason`` where |difference| > ``max_diff`` or the sign
    differs from the pooled loading. ``loadings`` is the output of
    :func:`loadings_by_group`."""
    if POOLED not in loadings.columns:
        raise EstimationError(f"loadings: no {POOLED!r} column; pass the table of loadings_by_group")
    pooled = loadings[POOLED]
    failed = loadings.attrs.get("not_computable", {})
    groups = loadings.drop(columns=[POOLED, *failed])
    long = groups.stack().rename("loading").reset_index()
    long.columns = ["item", "group", "loading"]
    long["pooled"] = pooled.reindex(long["item"]).to_numpy()
    long["difference"] = long["loading"] - long["pooled"]
    sign_change = np.sign(long["loading"]) * np.sign(long["pooled"]) < 0
    too_far = long["difference"].abs() > max_diff
    long["flag"] = sign_change | too_far
    sign_text, far_text = "sign differs from pooled", f"differs from pooled by more than {max_diff}"
    long["reason"] = np.select(
        [sign_change & too_far, sign_change, too_far], [f"{sign_text}; {far_text}", sign_text, far_text], ""
    )
    if failed:  # groups whose model could not be fitted are flagged, not dropped
        rows = pd.DataFrame([{"item": i, "group": g, "loading": np.nan, "pooled": pooled[i], "difference": np.nan,
                              "flag": True, "reason": f"not computable: {why}"}
                             for g, why in failed.items() for i in loadings.index])
        long = pd.concat([long, rows], ignore_index=True)
    return long
