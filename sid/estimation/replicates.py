"""Replicate weight factors (jackknife, Rao-Wu bootstrap) and replicate variance.

Each constructor returns :class:`ReplicateFactors`: an (n x R) array of factors by which
the full-sample weights are multiplied to give the R replicate weights, the overall
``scale`` and the per-replicate ``rscales``, so that

    var(theta) = scale * sum_r rscales_r (theta_r - c)^2,

with c = theta (``mse=True``) or the mean of the theta_r (``mse=False``, R's default
``options(survey.replicates.mse=FALSE)``).

References: Lumley, survey ``surveyrep.R`` (``jk1weights``, ``jknweights``,
``as.svrepdesign``, ``svrVar``) and ``bootstrap.R`` (``subbootweights``: Rao & Wu 1988
rescaling bootstrap drawing n_h - 1 of n_h PSUs; ``bootweights``: Canty & Davison 1999
with-replacement bootstrap of n_h PSUs).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from sid.errors import EstimationError, EstimationWarning


class ReplicateFactors(NamedTuple):
    """``factors`` (n x R) weight multipliers, ``scale`` float, ``rscales`` (R,).

    With ``by_psu=True`` the constructors return the factors per PSU (P x R) and ``psu``
    (n,), the factor row of every row: ``factors[psu]`` is the n x R array.
    """

    factors: np.ndarray
    scale: float
    rscales: np.ndarray
    psu: np.ndarray | None = None


def _codes(values) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..k-1 in sorted label order (as ``np.unique(return_inverse=True)``) and labels.

    Non-negative integer labels of modest range (a design's own codes) are counted with
    one ``np.bincount`` instead of a sort: the same codes, linear time.
    """
    values = np.asarray(values).ravel()
    if values.dtype.kind in "iu" and values.size and values.min() >= 0 and values.max() <= 4 * values.size:
        present = np.bincount(values) > 0
        code_of = np.cumsum(present) - 1
        return code_of[values].astype(np.int64), np.flatnonzero(present).astype(values.dtype)
    uniq, codes = np.unique(values, return_inverse=True)
    return codes.ravel().astype(np.int64), uniq


def _nested_codes(strata, psu) -> np.ndarray:
    """Integer codes of PSUs made unique within strata (R's ``nest=TRUE``).

    Codes follow (stratum, PSU) order, so the PSUs of a stratum are consecutive codes.
    One 1-D integer key stratum * (number of PSU labels) + PSU, factorised.
    """
    s_codes = _codes(strata)[0]
    p_codes, p_uniq = _codes(psu)
    return _codes(s_codes * p_uniq.shape[0] + p_codes)[0]


def jk1_factors(psu, fpc=None, dtype=np.float64, by_psu: bool = False) -> ReplicateFactors:
    """Delete-one-PSU jackknife of an unstratified design (R ``as.svrepdesign(type="JK1")``).

    ``psu`` (n,) cluster labels; ``fpc`` optional population number of PSUs (a scalar or
    an (n,) constant array). Replicate r drops PSU r and multiplies the others by
    n/(n-1); scale = (1 - n/N) (n-1)/n, rscales = 1.
    """
    codes, uniq = _codes(psu)
    n_psu = uniq.shape[0]
    if n_psu < 2:
        raise EstimationError("JK1 replicates: the design has fewer than 2 PSUs; a jackknife needs at least 2")
    f = 1.0
    if fpc is not None:
        pop = np.unique(np.asarray(fpc, float))
        if pop.shape[0] != 1:
            raise EstimationError("JK1 replicates: fpc varies between rows; an unstratified design has one population size")
        if pop[0] < n_psu:
            raise EstimationError(f"JK1 replicates: fpc {pop[0]:g} is smaller than the {n_psu} sampled PSUs")
        f = (pop[0] - n_psu) / pop[0]
    row_p = np.arange(n_psu) if by_psu else codes
    factors = np.full((row_p.shape[0], n_psu), n_psu / (n_psu - 1.0), dtype=dtype)
    factors[np.arange(row_p.shape[0]), row_p] = 0.0
    return ReplicateFactors(factors, float(f * (n_psu - 1) / n_psu), np.ones(n_psu), codes if by_psu else None)


def jkn_factors(strata, psu, fpc=None, lonely_psu: str = "fail", dtype=np.float64,
                by_psu: bool = False) -> ReplicateFactors:
    """Stratified delete-one-PSU jackknife (R ``as.svrepdesign(type="JKn")``).

    ``strata``, ``psu`` (n,) labels (PSUs nested in strata); ``fpc`` optional (n,)
    population number of PSUs of the row's stratum. One replicate per PSU: its PSU gets
    0, the other PSUs of its stratum n_h/(n_h-1), other strata 1; rscales
    (1 - f_h)(n_h-1)/n_h, scale 1. Strata sampled entirely (f_h = 0) get no replicate;
    single-PSU strata follow ``lonely_psu`` like R's ``jknweights``.
    """
    s_codes, s_uniq = _codes(strata)
    p_codes = _nested_codes(strata, psu)
    psu_stratum = np.zeros(p_codes.max() + 1, dtype=np.int64)
    psu_stratum[p_codes] = s_codes
    n_h = np.bincount(psu_stratum, minlength=s_uniq.shape[0]).astype(float)
    if fpc is None:
        f_h = np.ones_like(n_h)
    else:
        pop = np.zeros_like(n_h)
        pop[s_codes] = np.asarray(fpc, float)
        f_h = (pop - n_h) / pop
    keep = f_h > 0
    lonely = keep & (n_h == 1)
    if lonely.any() and lonely_psu == "fail":
        raise EstimationError(
            f"JKn replicates: stratum {s_uniq[np.flatnonzero(lonely)[0]]!r} has only one PSU; choose "
            "lonely_psu='adjust', 'remove' or 'certainty'"
        )
    cols = np.flatnonzero(keep[psu_stratum] & (n_h[psu_stratum] > 1))
    # the rows the factors are built for: every row, or one per PSU (by_psu)
    row_s, row_p = (psu_stratum, np.arange(psu_stratum.shape[0])) if by_psu else (s_codes, p_codes)
    same = row_s[:, None] == psu_stratum[cols][None, :]
    nh_col = n_h[psu_stratum[cols]]
    factors = np.where(same, nh_col / np.maximum(nh_col - 1.0, 1.0), 1.0).astype(dtype)
    factors[row_p[:, None] == cols[None, :]] = 0.0
    rscales = f_h[psu_stratum[cols]] * (nh_col - 1.0) / nh_col
    if lonely.any() and lonely_psu == "adjust":
        n_str = s_uniq.shape[0]
        extra = np.where(row_s[:, None] == np.flatnonzero(lonely)[None, :], 0.0, n_str / (n_str - 1.0))
        factors = np.hstack([factors, extra.astype(dtype)])
        rscales = np.concatenate([rscales, np.full(int(lonely.sum()), (n_str - 1.0) / n_str)])
    if factors.shape[1] == 0:
        raise EstimationError("JKn replicates: every stratum was sampled entirely; there is no sampling variance")
    return ReplicateFactors(factors, 1.0, rscales, p_codes if by_psu else None)


def bootstrap_factors(
    strata,
    psu,
    replicates: int,
    rng: np.random.Generator,
    method: str = "subbootstrap",
    dtype=np.float64,
    by_psu: bool = False,
) -> ReplicateFactors:
    """Rescaling bootstrap of PSUs within strata (R ``as.svrepdesign(type=...)``).

    ``method="subbootstrap"`` (Rao-Wu): each replicate draws n_h - 1 PSUs with
    replacement in each stratum, factor = times drawn * n_h/(n_h - 1); scale 1/(R-1).
    ``method="bootstrap"`` (Canty-Davison): draws n_h, factor = times drawn; scale
    nbar/((nbar-1)(R-1)), nbar the harmonic mean of the n_h. rscales = 1.
    Draws are vectorised over replicates (:func:`_psu_multiplicities`).
    """
    if method not in ("subbootstrap", "bootstrap"):
        raise EstimationError(f"bootstrap replicates: unknown method {method!r}; use 'subbootstrap' or 'bootstrap'")
    if replicates < 2:
        raise EstimationError(f"bootstrap replicates: replicates={replicates}; give at least 2")
    s_codes, s_uniq = _codes(strata)
    p_codes = _nested_codes(strata, psu)
    psu_stratum = np.zeros(p_codes.max() + 1, dtype=np.int64)
    psu_stratum[p_codes] = s_codes
    n_h = np.bincount(psu_stratum, minlength=s_uniq.shape[0])
    if method == "subbootstrap" and np.any(n_h < 2):
        h = int(np.flatnonzero(n_h < 2)[0])
        raise EstimationError(f"bootstrap replicates: stratum {s_uniq[h]!r} has one PSU; the Rao-Wu bootstrap needs 2")
    draws = n_h - 1 if method == "subbootstrap" else n_h
    mult = n_h / (n_h - 1.0) if method == "subbootstrap" else np.ones(n_h.shape[0])
    psu_factors = _psu_multiplicities(n_h, draws, mult[psu_stratum], replicates, rng, dtype)
    if method == "subbootstrap":
        scale = 1.0 / (replicates - 1)
    else:
        nbar = 1.0 / np.mean(1.0 / n_h)
        scale = nbar / ((nbar - 1.0) * (replicates - 1))
    if by_psu:
        return ReplicateFactors(psu_factors, float(scale), np.ones(replicates), p_codes)
    if p_codes.shape[0] == psu_factors.shape[0] and np.array_equal(p_codes, np.arange(p_codes.shape[0])):
        factors = psu_factors  # every row its own PSU, in order: no n x R gather
    else:
        factors = psu_factors[p_codes]
    return ReplicateFactors(factors, float(scale), np.ones(replicates))


def _psu_multiplicities(
    n_h: np.ndarray, draws: np.ndarray, factor: np.ndarray, replicates: int, rng: np.random.Generator, dtype
) -> np.ndarray:
    """Times each PSU is drawn, times its ``factor`` (P,): a P x R array. Per replicate,
    ``draws[h]`` draws with replacement among the ``n_h[h]`` PSUs of stratum h (the PSUs
    of a stratum have consecutive codes).

    The same distribution as one ``multinomial(draws_h, [1/n_h] * n_h)`` per stratum and
    replicate: draw the PSU of every draw uniformly (``rng.integers``, vectorised over
    replicates) and count them with one ``np.bincount`` over PSU x replicate. Strata are
    drawn one after another in code order, each from its own calls on ``rng``, so calls
    on consecutive blocks of strata with one generator give the same factors as one call
    on all of them (sid.weighting.replicate_chain draws that way). Replicates go in
    blocks of ~2 million draws (16 MB).
    """
    P, R = int(n_h.sum()), replicates
    out = np.empty((P, R), dtype=dtype)
    start = 0
    for k, m in zip(n_h.tolist(), draws.tolist(), strict=True):  # loop over strata, not respondents
        rows = slice(start, start + k)
        start += k
        if m == 0:
            out[rows] = 0.0
            continue
        block = max(1, min(R, (1 << 21) // m))
        for r0 in range(0, R, block):
            rc = min(block, R - r0)
            pos = rng.integers(0, k, size=(rc, m), dtype=np.int32).astype(np.int64)
            pos *= rc
            pos += np.arange(rc)[:, None]  # flat index PSU * rc + replicate: counts come out k x rc
            counts = np.bincount(pos.ravel(), minlength=k * rc).reshape(k, rc)
            np.multiply(counts, factor[rows, None], out=out[rows, r0:r0 + rc], casting="unsafe")
    return out


def replicate_variance(
    thetas: np.ndarray, theta: np.ndarray, scale: float, rscales: np.ndarray, mse: bool = False
) -> np.ndarray:
    """Covariance (k x k) from replicate estimates ``thetas`` (R x k): R's ``svrVar``.

    Replicate estimates that are NaN (a domain with no weight in that replicate) are left
    out with an :class:`~sid.errors.EstimationWarning`, as ``svrVar``'s ``na.omit`` does
    (scale unchanged). R drops a replicate from the whole call; sid's call holds every
    domain at once, so each covariance uses the replicates where both of its estimates
    exist, centred at the mean of each estimate's own replicates: per domain the same as
    R's ``svyby``, whose calls are per domain. All replicates NaN raises, unless the
    estimate itself is NaN (an empty domain: its variance is NaN).
    """
    thetas = np.asarray(thetas, float)
    rs = np.sqrt(np.asarray(rscales, float))[:, None]
    missing = np.isnan(thetas)
    if not missing.any():
        centre = np.asarray(theta, float) if mse else thetas.mean(axis=0)
        dev = (thetas - centre) * rs
        return scale * (dev.T @ dev)
    ok = ~missing
    counts = ok.sum(axis=0)
    # An estimate that is NaN itself (an empty domain) has NaN variance: nothing to drop.
    estimable = ~np.isnan(np.broadcast_to(np.asarray(theta, float), counts.shape))
    if (estimable & (counts == 0)).any():
        raise EstimationError(
            f"replicate variance: all {thetas.shape[0]} replicate estimates of estimate "
            f"{int(np.flatnonzero(estimable & (counts == 0))[0])} are missing; its domain has no weight in any replicate"
        )
    hit = missing & estimable
    dropped = int(hit.any(axis=1).sum())
    if dropped:
        per = hit.sum(axis=0)
        # With many domains in one call, each replicate may miss a different small domain:
        # say how many estimates lost replicates and the most any one lost, not only the union.
        detail = (f"; {int((per > 0).sum())} of {per.size} estimates affected, none losing more than "
                  f"{int(per.max())} replicates" if (per > 0).sum() > 1 else "")
        warnings.warn(f"{dropped} of {thetas.shape[0]} replicates gave NaN estimates (a domain without weight "
                      f"in them) and were left out of the variance, as R's svrVar does{detail}", EstimationWarning,
                      stacklevel=4)
    counts = np.maximum(counts, 1)
    filled = np.where(ok, thetas, 0.0)
    centre = np.asarray(theta, float) if mse else filled.sum(axis=0) / counts
    dev = np.where(ok, (filled - centre) * rs, 0.0)
    return scale * (dev.T @ dev)


def replicate_rank(W: np.ndarray, rows: np.ndarray) -> int:
    """Rank of the replicate weights or factors ``W`` (n x R) over ``rows`` (R's degf + 1).

    ``rows``: one row per PSU, or the rows of positive weight (scaling a row does not
    change the rank). Exact and cheap for many rows: a subset of 4R rows already of full
    column rank R proves the rank is R; only otherwise is the rank taken over all rows.
    """
    R = W.shape[1]
    if rows.shape[0] > 4 * R:
        sample = np.sort(np.random.default_rng(0).choice(rows, 4 * R, replace=False))
        if np.linalg.matrix_rank(W[sample]) == R:
            return R
    return int(np.linalg.matrix_rank(W[rows]))
