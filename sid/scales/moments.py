"""Item covariance and correlation matrices with missing values, optionally weighted.

Pure functions over an ``(n, k)`` float array whose NaN cells are missing answers. Every
matrix is built from ``k x k`` masked matrix products (no loop over respondents, no
``n x n`` matrix), so 350,000 respondents cost a few matrix products.

Conventions (those of R, so that psych and survey figures are reproduced):

* ``missing="pairwise"``: the covariance of items i and j uses the respondents who
  answered both, with means taken over those respondents; the variance of item i uses
  every respondent who answered i. This is R's ``cov(x, use="pairwise")``.
* ``missing="complete"``: only respondents who answered every item are used
  (``use="complete.obs"``).
* Weights: the weighted covariance is ``sum w (x - xbar_w)(y - ybar_w) / sum w`` times
  ``m / (m - 1)`` with ``m`` the number of respondents used, as ``survey::svyvar``
  does; with unit weights it is the ordinary ``n - 1`` covariance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sid.errors import EstimationError

MISSING_MODES = ("pairwise", "complete")


@dataclass(frozen=True)
class Moments:
    """Covariance matrix of k items and what it was computed from.

    ``cov``: k x k covariances (item units squared); ``pair_cor``: R's pairwise
    correlation (``cor(x, use="pairwise")``: each pair's own means and SDs);
    ``n_pair``: k x k respondent counts behind each entry; ``n``: respondents with at
    least one valid item (pairwise) or with all items (complete).
    """

    cov: np.ndarray
    pair_cor: np.ndarray
    n_pair: np.ndarray
    n: int


def cov2cor(cov: np.ndarray) -> np.ndarray:
    """Scale a covariance matrix to a correlation matrix (R's ``cov2cor``)."""
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def item_moments(
    x: np.ndarray,
    weight: np.ndarray | None = None,
    missing: str = "pairwise",
    names: list[str] | None = None,
) -> Moments:
    """Covariance and pairwise correlation of the columns of ``x`` (NaN = missing).

    ``weight``: one non-negative weight per row (rows with a missing weight must be
    removed by the caller). Raises :class:`EstimationError` when a pair of items has
    fewer than two respondents in common or an item has no variance.
    """
    if missing not in MISSING_MODES:
        raise EstimationError(f"missing={missing!r}: expected one of {MISSING_MODES}")
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise EstimationError(f"items: expected a 2-d array, got {x.ndim} dimension(s)")
    names = names or [f"item {i + 1}" for i in range(x.shape[1])]
    w = np.ones(x.shape[0]) if weight is None else np.asarray(weight, dtype=float)
    if w.shape != (x.shape[0],):
        raise EstimationError(f"weight: expected {x.shape[0]} values, got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise EstimationError("weight: missing, infinite or negative weights; drop or fix those rows first")
    valid = ~np.isnan(x)
    if missing == "complete":
        keep = valid.all(axis=1)
        x, w, valid = x[keep], w[keep], valid[keep]
        n = int(keep.sum())
    else:
        n = int(valid.any(axis=1).sum())
    # Centre each column on its overall mean first: covariances do not change, and the
    # one-pass formulas below then lose no precision to large item means.
    m = valid.astype(float)
    counts = m.sum(axis=0)
    few = np.flatnonzero(counts < 2)
    if few.size:
        raise EstimationError(
            f"item {names[few[0]]}: {int(counts[few[0]])} valid answer(s) among the respondents used; "
            "need at least 2 (drop the item or use more data)"
        )
    centre = np.where(valid, x, 0.0).sum(axis=0) / counts
    xc = np.where(valid, x - centre, 0.0)
    wm = m * w[:, None]
    n_pair = m.T @ m  # respondents who answered both i and j
    sw = wm.T @ m  # sum of weights over those respondents (symmetric)
    s = (xc * w[:, None]).T @ m  # s[i, j]: weighted sum of x_i where j is also valid
    sxy = (xc * w[:, None]).T @ xc  # weighted cross products (zeros where missing)
    sxx = (xc * xc * w[:, None]).T @ m  # weighted sum of x_i^2 where j is also valid
    bad = n_pair < 2
    if np.any(bad):
        i, j = np.argwhere(bad)[0]
        raise EstimationError(
            f"items {names[i]} and {names[j]}: fewer than two respondents answered both; "
            "drop one of them or use more data"
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_i = s / sw  # mean of x_i over the pair
        corr_factor = n_pair / (n_pair - 1)
        cov_pair = (sxy / sw - mean_i * mean_i.T) * corr_factor
        var_i_pair = (sxx / sw - mean_i**2) * corr_factor  # var of x_i over the pair
    cov = cov_pair.copy()
    np.fill_diagonal(cov, np.diag(var_i_pair))
    if np.any(np.diag(cov) <= 0):
        i = int(np.argmin(np.diag(cov)))
        raise EstimationError(f"item {names[i]}: no variance among the respondents used; drop it from the scale")
    with np.errstate(invalid="ignore", divide="ignore"):
        pair_cor = cov_pair / np.sqrt(var_i_pair * var_i_pair.T)
    np.fill_diagonal(pair_cor, 1.0)
    return Moments(cov=cov, pair_cor=pair_cor, n_pair=n_pair, n=n)
