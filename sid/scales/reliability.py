"""Reliability of a multi-item scale: alpha, standardised alpha, omega, item statistics.

Definitions follow R's psych ``alpha`` (Revelle, psych 2.2.9, ``alpha.R``) and
``survey::svycralpha`` (Lumley, survey 4.1.1):

* raw alpha ``k/(k-1) (1 - tr(C)/sum(C))`` on the item covariance matrix ``C``
  (Cronbach 1951); weighted, ``C`` is the survey-weighted covariance (svycralpha);
* standardised alpha ``k/(k-1) (1 - k/sum(R))`` with ``R = cov2cor(C)``;
* average inter-item correlation ``(sum(R) - k) / (k (k-1))``;
* alpha if an item is dropped: raw alpha of ``C`` without that item;
* item-rest correlation (psych ``r.drop``): ``(sum C[, i] - C[i, i]) /
  sqrt(C[i, i] * sum C[-i, -i])``, the correlation of the item with the sum of the others;
* omega total from a one-factor minres model (see :mod:`sid.scales.factor`) on R's
  pairwise correlation matrix, as psych ``omega(nfactors=1)``.

With ``missing="pairwise"`` (psych's default) every entry of ``C`` uses the respondents
who answered the pair; with ``"complete"`` only respondents who answered every item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sid.errors import DataError, EstimationError
from sid.scales.factor import fit_one_factor, omega_total
from sid.scales.moments import cov2cor, item_moments
from sid.scales.scoring import prepare_items

DEFAULT_THRESHOLD = 0.6


@dataclass(frozen=True)
class Reliability:
    """Reliability of one scale. Weighted statistics when a weight was given.

    ``alpha`` is raw Cronbach's alpha (survey-weighted if ``weighted``) and
    ``alpha_unweighted`` the same without weights; ``n`` counts the respondents used
    (with at least one valid item under pairwise, all items under complete).
    ``omega_total`` and ``loadings`` are NaN for a 2-item scale, where a one-factor
    model is not identified. ``heywood_items``: items whose loading reached the bound
    (uniqueness 0.005), where the one-factor solution, and so omega, is improper.
    """

    items: list[str]
    alpha: float
    std_alpha: float
    omega_total: float
    alpha_if_dropped: pd.Series
    item_rest_r: pd.Series
    average_r: float
    n: int
    alpha_unweighted: float
    loadings: pd.Series
    heywood_items: list[str]
    weighted: bool
    missing: str

    def __getitem__(self, key: str):
        """Dict-like access: ``rel["alpha"]``."""
        return getattr(self, key)


def _alpha(c: np.ndarray) -> float:
    k = c.shape[0]
    return k / (k - 1) * (1.0 - np.trace(c) / c.sum())


def row_weights(df: pd.DataFrame, weight: str | np.ndarray | pd.Series | None) -> np.ndarray | None:
    """One weight per row of ``df`` from a column name or an array; None stays None.

    Missing or negative weights raise :class:`DataError` naming the first row.
    """
    if weight is None:
        return None
    if isinstance(weight, str):
        if weight not in df.columns:
            raise DataError(f"weight {weight!r}: no such column; name a weight variable of the data")
        w = pd.to_numeric(df[weight], errors="coerce").to_numpy(float)
        label = weight
    else:
        w = np.asarray(weight, dtype=float)
        label = "weight"
        if w.shape != (len(df),):
            raise DataError(f"weight: {w.size} values for {len(df)} rows; give one weight per row")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        row = df.index[np.flatnonzero(bad)[0]]
        raise DataError(
            f"{label}: {int(bad.sum())} missing or negative weight(s), first at row {row!r}; "
            "fix the weights or drop those rows"
        )
    return w


def reliability(
    df: pd.DataFrame,
    items: Sequence[str],
    reverse: Sequence[str] = (),
    item_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
    weight: str | np.ndarray | pd.Series | None = None,
    missing: str = "pairwise",
) -> Reliability:
    """Reliability statistics of the scale formed by ``items`` (NaN = missing).

    ``reverse`` items are reflected within their ``item_range`` (one ``(min, max)`` for
    all items or one per item; ``x' = min + max - x``). Without ``item_range`` a
    reversed item is reflected by a change of sign, which gives the same reliability
    figures. ``weight``: a column name or one weight per row (survey-weighted
    covariances, as ``survey::svycralpha``). See the module docstring for formulas.
    """
    items = list(items)
    if len(items) < 2:
        raise EstimationError(f"scale {items}: reliability needs at least 2 items")
    x = prepare_items(df, items, reverse=reverse, item_range=item_range)
    w = row_weights(df, weight)
    mom = item_moments(x, weight=w, missing=missing, names=items)
    c = mom.cov
    r = cov2cor(c)
    k = len(items)
    total = c.sum()
    alpha = _alpha(c)
    std_alpha = k / (k - 1) * (1.0 - k / r.sum())
    average_r = (r.sum() - k) / (k * (k - 1))
    keep = ~np.eye(k, dtype=bool)
    if k > 2:
        dropped = [_alpha(c[np.ix_(keep[i], keep[i])]) for i in range(k)]
    else:
        # psych: with two items, "alpha if dropped" is the inter-item correlation.
        dropped = [r[0, 1], r[0, 1]]
    rest_total = total - 2 * c.sum(axis=0) + np.diag(c)  # sum of C without row/col i
    item_rest = (c.sum(axis=0) - np.diag(c)) / np.sqrt(np.diag(c) * rest_total)
    if k >= 3:
        model = fit_one_factor(mom.pair_cor, names=items)
        omega = omega_total(mom.pair_cor, model)
        loadings = model.loadings
        heywood = [item for item, h in zip(items, model.heywood, strict=True) if h]
    else:
        omega, loadings, heywood = np.nan, np.full(k, np.nan), []
    alpha_unw = alpha if w is None else _alpha(item_moments(x, missing=missing, names=items).cov)
    return Reliability(
        items=items,
        alpha=float(alpha),
        std_alpha=float(std_alpha),
        omega_total=float(omega),
        alpha_if_dropped=pd.Series(dropped, index=items, name="alpha_if_dropped"),
        item_rest_r=pd.Series(item_rest, index=items, name="item_rest_r"),
        average_r=float(average_r),
        n=mom.n,
        alpha_unweighted=float(alpha_unw),
        loadings=pd.Series(loadings, index=items, name="loading"),
        heywood_items=heywood,
        weighted=w is not None,
        missing=missing,
    )


def reliability_tables(
    df: pd.DataFrame,
    items: Sequence[str],
    group: str,
    reverse: Sequence[str] = (),
    item_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
    weight: str | None = None,
    missing: str = "pairwise",
    threshold: float = DEFAULT_THRESHOLD,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reliability overall (group ``"(all)"``) and per level of ``group``: two tables.

    The scale table has one row per group: group, n, alpha (weighted if ``weight``),
    alpha_unweighted, std_alpha, omega_total, average_r, min_item_rest_r, flag, reason;
    ``flag`` is True where alpha is below ``threshold`` or cannot be computed (reason
    says which); ``reason`` also notes a Heywood case, which is not flagged by itself. The item table has one row per group and item: item_rest_r,
    alpha_if_dropped, loading. Respondents with a missing group count in "(all)" only.
    """
    if group not in df.columns:
        raise DataError(f"group {group!r}: no such column; name a grouping variable of the data")
    levels = pd.unique(df[group].dropna())
    try:
        levels = sorted(levels)
    except TypeError:  # mixed types: keep order of appearance
        pass
    subsets = [("(all)", df)] + [(lvl, df[df[group] == lvl]) for lvl in levels]
    rows, item_rows = [], []
    for name, sub in subsets:
        row = {"group": name, "n": 0, "alpha": np.nan, "alpha_unweighted": np.nan, "std_alpha": np.nan,
               "omega_total": np.nan, "average_r": np.nan, "min_item_rest_r": np.nan}
        try:
            rel = reliability(sub, items, reverse=reverse, item_range=item_range, weight=weight, missing=missing)
        except EstimationError as exc:
            # Kept in the table with its reason rather than dropped: the flag is the point.
            row.update(flag=True, reason=f"not computable: {exc}")
        else:
            row.update(
                n=rel.n, alpha=rel.alpha, alpha_unweighted=rel.alpha_unweighted, std_alpha=rel.std_alpha,
                omega_total=rel.omega_total, average_r=rel.average_r,
                min_item_rest_r=float(rel.item_rest_r.min()),
                flag=bool(rel.alpha < threshold),
                reason="; ".join(
                ([f"alpha {rel.alpha:.3f} < {threshold}"] if rel.alpha < threshold else [])
                + ([f"Heywood case (omega improper) at {rel.heywood_items}"] if rel.heywood_items else [])
                ),
            )
            item_rows.append(pd.DataFrame({
                "group": name, "item": rel.items, "item_rest_r": rel.item_rest_r.to_numpy(),
                "alpha_if_dropped": rel.alpha_if_dropped.to_numpy(), "loading": rel.loadings.to_numpy(),
            }))
        rows.append(row)
    item_table = pd.concat(item_rows, ignore_index=True) if item_rows else pd.DataFrame(
        columns=["group", "item", "item_rest_r", "alpha_if_dropped", "loading"])
    return pd.DataFrame(rows), item_table


def reliability_by_group(
    df: pd.DataFrame,
    items: Sequence[str],
    group: str,
    reverse: Sequence[str] = (),
    item_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
    weight: str | None = None,
    missing: str = "pairwise",
    threshold: float = DEFAULT_THRESHOLD,
) -> pd.DataFrame:
    """The scale table of :func:`reliability_tables` (one row per group, with ``flag``)."""
    return reliability_tables(df, items, group, reverse=reverse, item_range=item_range, weight=weight,
                              missing=missing, threshold=threshold)[0]
