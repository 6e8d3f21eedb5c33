"""Estimated counts per category, weighted crosstabs and population variances.

R equivalents (survey 4.1): ``svytotal(~factor(x))`` / ``svyby(~x, ~by, svytotal)``
(:func:`count`), ``svytable(~row + col, Ntotal=)`` (:func:`crosstab`) and ``svyvar``
(:func:`variance`): the estimate of the population variance of y is the domain mean of
z = (y - ybar)^2 n/(n - 1), n the rows of non-zero weight of the (domain's) design, and
its SE is that of this mean with ybar held fixed, as R computes it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.errors import EstimationError
from sid.estimation import estimators as est
from sid.estimation.domains import as_list


def count(design, variable: str | list[str], by=None, level: float = 0.95) -> pd.DataFrame:
    """Estimated population count of each category of ``variable`` in each domain, with
    SE, CI, cv, n and deff (rows missing the variable left out, R's ``na.rm=TRUE``)."""
    names = [variable] if isinstance(variable, str) else list(variable)
    return est.category_totals(design, names, by, level)


def crosstab(design, row: str, col: str, total: float | None = None) -> pd.DataFrame:
    """Weighted table of ``row`` x ``col`` (R ``svytable``): sums of the weights of the
    domain's respondents with both values, categories of ``row`` as the index and of
    ``col`` as the columns; ``total`` rescales the table to sum to it (R ``Ntotal``)."""
    rc, rcats = est.categories_of(design, row)
    cc, ccats = est.categories_of(design, col)
    ok = design.domain & (rc >= 0) & (cc >= 0)
    if not ok.any():
        raise EstimationError(f"crosstab: no respondent in the domain has both {row!r} and {col!r}")
    nr, nc = rcats.shape[0], ccats.shape[0]
    cells = np.bincount(rc[ok] * nc + cc[ok], weights=design.weights[ok], minlength=nr * nc).reshape(nr, nc)
    if total is not None:
        cells = cells * float(total) / cells.sum()
    return pd.DataFrame(cells, index=pd.Index(rcats, name=row), columns=pd.Index(ccats, name=col))


def variance(design, variable: str, by=None, level: float = 0.95) -> pd.DataFrame:
    """Estimated population variance of ``variable`` per domain (R ``svyvar`` /
    ``svyby(..., svyvar)``), with SE, CI and counts; deff is not defined (NaN)."""
    y = est.numeric(design, variable)
    g, labels, _ = est.groups(design, by)
    G = len(labels)
    means = est.mean(design, variable, by, level)
    xbar = np.full(G, np.nan)
    xbar[:] = means["estimate"].to_numpy()
    inside = design.domain & (g >= 0) & (design.weights != 0)
    n = np.bincount(g[inside], minlength=G).astype(float)  # R: missing rows counted too
    with np.errstate(divide="ignore", invalid="ignore"):
        gg = np.maximum(g, 0)
        z = np.where(g >= 0, (y - xbar[gg]) ** 2 * (n / (n - 1))[gg], np.nan)
    name = f"__svyvar_{variable}"
    out = est.mean(design.with_columns({name: z}), name, as_list(by) or None, level)
    out["variable"] = variable
    out["deff"] = np.nan
    return out
