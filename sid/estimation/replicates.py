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

from typing import NamedTuple

import numpy as np

from sid.errors import EstimationError


class ReplicateFactors(NamedTuple):
    """``factors`` (n x R) weight multipliers, ``scale`` float, ``rscales`` (R,)."""

    factors: np.ndarray
    scale: float
    rscales: np.ndarray


def _codes(values) -> tuple[np.ndarray, np.ndarray]:
    uniq, codes = np.unique(np.asarray(values), return_inverse=True)
    return codes.ravel(), uniq


def _nested_codes(strata, psu) -> np.ndarray:
    """Integer codes of PSUs made unique within strata (R's ``nest=TRUE``)."""
    pairs = np.stack([_codes(strata)[0], _codes(psu)[0]], axis=1)
    return np.unique(pairs, axis=0, return_inverse=True)[1].ravel()


def jk1_factors(psu, fpc=None, dtype=np.float64) -> ReplicateFactors:
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
    factors = np.full((codes.shape[0], n_psu), n_psu / (n_psu - 1.0), dtype=dtype)
    factors[np.arange(codes.shape[0]), codes] = 0.0
    return ReplicateFactors(factors, float(f * (n_psu - 1) / n_psu), np.ones(n_psu))


def jkn_factors(strata, psu, fpc=None, lonely_psu: str = "fail", dtype=np.float64) -> ReplicateFactors:
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
    same = s_codes[:, None] == psu_stratum[cols][None, :]
    nh_col = n_h[psu_stratum[cols]]
    factors = np.where(same, nh_col / np.maximum(nh_col - 1.0, 1.0), 1.0).astype(dtype)
    factors[p_codes[:, None] == cols[None, :]] = 0.0
    rscales = f_h[psu_stratum[cols]] * (nh_col - 1.0) / nh_col
    if lonely.any() and lonely_psu == "adjust":
        n_str = s_uniq.shape[0]
        extra = np.where(s_codes[:, None] == np.flatnonzero(lonely)[None, :], 0.0, n_str / (n_str - 1.0))
        factors = np.hstack([factors, extra.astype(dtype)])
        rscales = np.concatenate([rscales, np.full(int(lonely.sum()), (n_str - 1.0) / n_str)])
    if factors.shape[1] == 0:
        raise EstimationError("JKn replicates: every stratum was sampled entirely; there is no sampling variance")
    return ReplicateFactors(factors, 1.0, rscales)


def bootstrap_factors(
    strata,
    psu,
    replicates: int,
    rng: np.random.Generator,
    method: str = "subbootstrap",
    dtype=np.float64,
) -> ReplicateFactors:
    """Rescaling bootstrap of PSUs within strata (R ``as.svrepdesign(type=...)``).

    ``method="subbootstrap"`` (Rao-Wu): each replicate draws n_h - 1 PSUs with
    replacement in each stratum, factor = times drawn * n_h/(n_h - 1); scale 1/(R-1).
    ``method="bootstrap"`` (Canty-Davison): draws n_h, factor = times drawn; scale
    nbar/((nbar-1)(R-1)), nbar the harmonic mean of the n_h. rscales = 1.
    Draws are per stratum and vectorised over replicates (``rng.multinomial``).
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
    psu_factors = np.empty((psu_stratum.shape[0], replicates), dtype=dtype)
    for h in range(s_uniq.shape[0]):  # loop over strata, not respondents
        members = np.flatnonzero(psu_stratum == h)
        k = members.shape[0]
        draws = k - 1 if method == "subbootstrap" else k
        counts = rng.multinomial(draws, np.full(k, 1.0 / k), size=replicates).T
        psu_factors[members] = counts * (k / (k - 1.0) if method == "subbootstrap" else 1.0)
    if method == "subbootstrap":
        scale = 1.0 / (replicates - 1)
    else:
        nbar = 1.0 / np.mean(1.0 / n_h)
        scale = nbar / ((nbar - 1.0) * (replicates - 1))
    return ReplicateFactors(psu_factors[p_codes], float(scale), np.ones(replicates))


def replicate_variance(
    thetas: np.ndarray, theta: np.ndarray, scale: float, rscales: np.ndarray, mse: bool = False
) -> np.ndarray:
    """Covariance (k x k) from replicate estimates ``thetas`` (R x k): R's ``svrVar``."""
    thetas = np.asarray(thetas, float)
    centre = np.asarray(theta, float) if mse else thetas.mean(axis=0)
    dev = (thetas - centre) * np.sqrt(np.asarray(rscales, float))[:, None]
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
