"""Rao-Scott adjusted Pearson chi-square for a two-way table (R ``svychisq(statistic="F")``).

Rao & Scott (1984), second-order correction as in R survey ``svychisq.survey.design``:
with cell proportions p (design-based, covariance V) of the r x c table and C the
interaction contrasts (residuals of the saturated design on the main effects), the
design-effect matrix is Delta = (C' D^-1 C / N)^-1 (C' D^-1 V D^-1 C), D = diag(p), N the
number of rows of the design (R: ``nrow(mm)``, missing values included, of the domain's
design for a subset). The Pearson X^2 of the weighted table scaled to N is divided by
tr(Delta); F = X^2 / tr(Delta) is referred to F(d0, d0 * df) with
d0 = tr(Delta)^2 / tr(Delta^2) and df the design's degrees of freedom.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sid.errors import EstimationError
from sid.estimation.estimators import categories_of, design_rows
from sid.estimation.linear import ratio_estimate


def rao_scott(design, row: str, col: str) -> pd.DataFrame:
    """One-row frame: pearson (X^2), F, ndf, ddf, p, method, for the table ``row`` x ``col``.

    Respondents missing either variable are left out (R's ``na.rm=TRUE``).
    """
    rc, rcats = categories_of(design, row)
    cc, ccats = categories_of(design, col)
    nr, nc = rcats.shape[0], ccats.shape[0]
    if nr < 2 or nc < 2:
        raise EstimationError(f"chisq: {row!r} x {col!r} needs at least 2 categories each (has {nr} x {nc})")
    dom = design.domain & (rc >= 0) & (cc >= 0)
    cell = np.where(dom, rc + nr * cc, -1)  # row index varies fastest, as R's interaction()
    Y = np.zeros((cell.shape[0], nr * nc))
    ok = np.flatnonzero(cell >= 0)
    Y[ok, cell[ok]] = 1.0
    g = np.zeros(cell.shape[0], dtype=np.int64)
    res = ratio_estimate(Y, np.ones_like(Y), dom, g, 1, design.weights, **design.variance_args())
    p = res.estimate[0]
    V = res.vcov
    N = float(design_rows(design, np.where(design.domain, 0, -1), 1)[0])
    # Main-effects and saturated model matrices over the cells (R's expand.grid order).
    rows_f = np.tile(np.arange(nr), nc)
    cols_f = np.repeat(np.arange(nc), nr)
    X1 = np.column_stack([np.ones(nr * nc)] + [(rows_f == i).astype(float) for i in range(1, nr)]
                         + [(cols_f == j).astype(float) for j in range(1, nc)])
    inter = np.column_stack([((rows_f == i) & (cols_f == j)).astype(float)
                             for j in range(1, nc) for i in range(1, nr)])
    Q, _ = np.linalg.qr(X1)
    C = inter - Q @ (Q.T @ inter)
    iD = np.diag(np.where(p == 0, 0.0, 1.0 / np.where(p == 0, 1.0, p)))
    denom = C.T @ (iD / N) @ C
    numr = C.T @ iD @ V @ iD @ C
    delta = np.linalg.solve(denom, numr)
    tr = float(np.trace(delta))
    d0 = tr**2 / float(np.trace(delta @ delta))
    # Pearson X^2 of the weighted table rescaled to N respondents.
    table = p.reshape(nc, nr).T * N
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / N
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = float(np.nansum((table - expected) ** 2 / expected))
    F = pearson / tr
    ddf = d0 * design.degf
    return pd.DataFrame([{
        "row": row, "col": col, "pearson": pearson, "F": F, "ndf": d0, "ddf": ddf,
        "p": float(stats.f.sf(F, d0, ddf)), "method": design.method,
    }])
