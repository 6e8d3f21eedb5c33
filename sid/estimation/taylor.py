"""Taylor-linearisation variance of a multi-stage stratified design (R survey's svyrecvar).

The variance of an estimator is the design variance of its *influence values*: one
column per estimate, already multiplied by the final weight (R's ``x * pweights``).
:class:`StageIndex` holds, for one sampling stage, the integer codes that map rows to
clusters and clusters to strata, computed once per :class:`~sid.estimation.design.Design`
so that every estimate only does a sparse PSU-sum and a stratum centring.

Reference: Lumley T., survey package, ``multistage.R``: ``onestrat``/``onestage``/
``multistage`` (version 4.1): per stratum h with n_h design PSUs, PSU totals t_hi are
centred at their stratum mean and weighted by ``(1 - n_h/N_h) * n_h/(n_h - 1)``; later
stages add the within-PSU variance times the sampling fraction n_h/N_h of the stages
above (Särndal, Swensson & Wretman 1992, result 4.3.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sid.errors import EstimationError
from sid.estimation.blocks import Blocks

LONELY_PSU_RULES = ("fail", "adjust", "remove", "certainty")


@dataclass(frozen=True)
class StageIndex:
    """Row-to-cluster and cluster-to-stratum codes of one sampling stage.

    ``cluster`` (n,) int codes 0..C-1; ``cluster_stratum`` (C,) stratum code of each
    cluster; ``n_clusters`` (S,) design number of clusters per stratum; ``fraction`` (S,)
    finite-population correction 1 - n/N (1.0 without fpc); ``multiplier`` (S,) product of
    the sampling fractions of the stages above (1.0 at stage 1); ``labels`` (S,) stratum
    labels for error messages; ``summer`` sparse (C x n) cluster-sum matrix.
    """

    cluster: np.ndarray
    cluster_stratum: np.ndarray
    n_clusters: np.ndarray
    fraction: np.ndarray
    multiplier: np.ndarray
    labels: np.ndarray
    summer: sp.csr_matrix | None
    stage: int
    stratum_summer: sp.csr_matrix


def build_stage(
    stratum_codes: np.ndarray,
    stratum_labels: np.ndarray,
    cluster_codes: np.ndarray,
    popsize: np.ndarray | None,
    multiplier: np.ndarray,
    stage: int,
) -> StageIndex:
    """Index one stage: ``stratum_codes``/``cluster_codes`` (n,) ints, clusters nested in strata.

    ``popsize`` (n,) population number of clusters of the row's stratum at this stage (or
    None: sampling with replacement), ``multiplier`` (S,) sampling fraction of the stages
    above. Raises :class:`EstimationError` when a cluster lies in two strata or an fpc
    implies more than 100% sampling.
    """
    n = cluster_codes.shape[0]
    n_cl = int(cluster_codes.max()) + 1 if n else 0
    n_st = int(stratum_codes.max()) + 1 if n else 0
    cl_stratum = np.full(n_cl, -1, dtype=np.int64)
    cl_stratum[cluster_codes] = stratum_codes
    if np.any(cl_stratum[cluster_codes] != stratum_codes):
        bad = int(np.flatnonzero(cl_stratum[cluster_codes] != stratum_codes)[0])
        raise EstimationError(
            f"design stage {stage}: the cluster of row {bad} lies in more than one stratum; "
            "make cluster ids unique within strata (nest them)"
        )
    n_clusters = np.bincount(cl_stratum, minlength=n_st).astype(float)
    if popsize is None:
        fraction = np.ones(n_st)
    else:
        pop = np.full(n_st, np.nan)
        pop[stratum_codes] = popsize
        if np.any(pop[stratum_codes] != popsize):
            bad = int(np.flatnonzero(pop[stratum_codes] != popsize)[0])
            raise EstimationError(
                f"design stage {stage}: fpc varies within stratum {stratum_labels[stratum_codes[bad]]!r} "
                f"(row {bad}); give one population size per stratum"
            )
        if np.any(pop < n_clusters):
            h = int(np.flatnonzero(pop < n_clusters)[0])
            raise EstimationError(
                f"design stage {stage}: fpc {pop[h]:g} of stratum {stratum_labels[h]!r} is smaller than "
                f"its {int(n_clusters[h])} sampled clusters; fpc must be the population count"
            )
        fraction = np.where(np.isinf(pop), 1.0, (pop - n_clusters) / pop)
    # Every row its own cluster in row order (element sampling): no summing needed.
    identity = n_cl == n and np.array_equal(cluster_codes, np.arange(n))
    summer = None if identity else sp.csr_matrix(
        (np.ones(n), (cluster_codes, np.arange(n))), shape=(n_cl, n)
    )
    stratum_summer = sp.csr_matrix(
        (np.ones(n_cl), (cl_stratum, np.arange(n_cl))), shape=(n_st, n_cl)
    )
    return StageIndex(
        cluster_codes, cl_stratum, n_clusters, fraction, np.asarray(multiplier, float),
        np.asarray(stratum_labels), summer, stage, stratum_summer,
    )


def stage_scale(idx: StageIndex, lonely_psu: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-stratum factor ``f_h * n_h/(n_h-1)`` (times the multiplier of the stages above)
    and the lonely-stratum mask of one stage; raises for a lonely PSU under "fail"."""
    n_h = idx.n_clusters
    lonely = (n_h == 1) & (idx.fraction > 1e-7)
    if lonely.any() and lonely_psu == "fail":
        h = int(np.flatnonzero(lonely)[0])
        raise EstimationError(
            f"design stage {idx.stage}: stratum {idx.labels[h]!r} has only one PSU; choose "
            "lonely_psu='adjust', 'remove' or 'certainty' (R's options(survey.lonely.psu))"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n_h > 1, idx.fraction * n_h / (n_h - 1.0), idx.fraction)
    if lonely_psu in ("remove", "certainty"):
        scale = np.where(n_h == 1, 0.0, scale)
    scale = np.where(idx.fraction < 1e-7, 0.0, scale) * idx.multiplier
    return scale, lonely


def _centres(sums: np.ndarray, idx: StageIndex, lonely: np.ndarray, lonely_psu: str) -> np.ndarray:
    """Stratum centres of the cluster totals (S x k) from their stratum sums ``sums``."""
    n_h = idx.n_clusters
    means = sums / np.maximum(n_h, 1.0)[:, None]
    if lonely_psu == "adjust" and lonely.any():
        # survey 4.1's onestrat(): under "adjust" a stratum with one design PSU is not
        # centred at all (its total enters as it is, times f), at every stage.
        means[lonely] = 0.0
    return means


def stage_variance(x: np.ndarray, idx: StageIndex, lonely_psu: str) -> np.ndarray:
    """Covariance (k x k) contributed by one stage for dense influence columns ``x`` (n x k).

    R's ``onestage``: cluster totals centred at their stratum mean over the *design*
    number of clusters (clusters outside a domain count as zeros), times
    ``f_h * n_h/(n_h-1)``. A stratum with one cluster follows ``lonely_psu``: "fail"
    raises, "remove" and "certainty" contribute nothing, "adjust" adds its uncentred
    total squared times f (survey 4.1 ``onestrat``), at every stage. A stratum with
    f_h = 0 (sampled entirely) contributes 0. :func:`sparse_stage_variance` gives the
    same figures without centring an n x k array.
    """
    scale, lonely = stage_scale(idx, lonely_psu)
    totals = x if idx.summer is None else np.asarray(idx.summer @ x)
    st = idx.cluster_stratum
    means = _centres(np.asarray(idx.stratum_summer @ totals), idx, lonely, lonely_psu)
    centred = totals - means[st]
    weighted = centred * scale[st][:, None]
    return weighted.T @ centred


def row_scaled(m: sp.csr_matrix, c: np.ndarray) -> sp.csr_matrix:
    """diag(c) @ m for a CSR matrix, by scaling its stored values (no product)."""
    out = m.copy()
    out.data = out.data * np.repeat(c, np.diff(m.indptr))
    return out


def _totals_map(idx: StageIndex) -> tuple[sp.csr_matrix | None, np.ndarray]:
    """How rows become cluster totals at this stage: the summing matrix (None when every
    cluster is one row: the rows are the totals, in any order) and the stratum of each
    row of the totals."""
    if idx.summer is None:
        return None, idx.cluster_stratum
    if idx.cluster.shape[0] == idx.cluster_stratum.shape[0]:  # one row per cluster
        return None, idx.cluster_stratum[idx.cluster]
    return idx.summer, idx.cluster_stratum


def stratum_sums(T: sp.csr_matrix, row_stratum: np.ndarray, S: int) -> np.ndarray:
    """Sums (S x k) of the rows of sparse T per stratum: one bincount over (stratum,
    column) keys of the non-zeros."""
    k = T.shape[1]
    h = np.repeat(row_stratum.astype(np.int64), np.diff(T.indptr))
    return np.bincount(h * k + T.indices, weights=T.data, minlength=S * k).reshape(S, k)


def sparse_stage_variance(x: sp.spmatrix, idx: StageIndex, lonely_psu: str,
                          correction: Correction | None = None, blocks: Blocks | None = None) -> np.ndarray:
    """:func:`stage_variance` of influence columns ``x - A @ beta`` with ``x`` sparse (n x k).

    ``correction`` (optional) is the calibration term: ``A`` sparse (n x p) fixed per
    design, ``beta`` dense (p x k). With cluster totals T, stratum sums S_h, centres m_h
    and the stratum factor c_h, sum_c c_h (T_c - m_h)(T_c - m_h)' equals
    T' diag(c) T - sum_h c_h (S_h m_h' + m_h S_h' - n_h m_h m_h'): a sparse cross-product
    plus small S x k terms, O(nnz) instead of O(n k^2) work and no n x k dense array.
    ``blocks``: the layout of ``x`` (one group per row), used when the rows are the
    cluster totals (element sampling).
    """
    scale, lonely = stage_scale(idx, lonely_psu)
    summer, row_stratum = _totals_map(idx)
    T = sp.csr_matrix(x if summer is None else summer @ x)
    c = scale[row_stratum]
    blocks = blocks if summer is None else None
    cross = blocks.cross(c) if blocks is not None else np.asarray((T.T @ row_scaled(T, c)).toarray())
    sums = stratum_sums(T, row_stratum, idx.n_clusters.shape[0])
    if correction is not None:
        TAc, sumsA, gramA = correction.stage_terms(idx, c, lonely_psu)
        beta = correction.beta
        mixed = (blocks.left(TAc).T if blocks is not None else np.asarray((T.T @ TAc).toarray())) @ beta
        cross += beta.T @ gramA @ beta - mixed - mixed.T
        sums = sums - sumsA @ beta
    means = _centres(sums, idx, lonely, lonely_psu)
    sm = sums.T @ (means * scale[:, None])
    return cross - sm - sm.T + (means * (scale * idx.n_clusters)[:, None]).T @ means


@dataclass
class Correction:
    """Calibration term of influence columns ``x - A @ beta``: ``A`` sparse (n x p), the
    same for every estimate of a design, ``beta`` dense (p x k). ``cache`` (shared by the
    corrections of one residualiser) keeps per stage the cluster totals of A, their
    stratum sums and ``A' diag(c) A``, which do not depend on the estimate."""

    A: sp.csr_matrix
    beta: np.ndarray
    cache: dict

    def stage_terms(self, idx: StageIndex, c: np.ndarray,
                    lonely_psu: str) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray]:
        """diag(c) T_A (C x p, CSR) with T_A the cluster totals of A, the stratum sums of
        T_A (S x p) and T_A' diag(c) T_A (p x p)."""
        key = (id(idx), lonely_psu)
        hit = self.cache.get(key)
        if hit is None or hit[0] is not idx:
            summer, row_stratum = _totals_map(idx)
            TA = sp.csr_matrix(self.A if summer is None else summer @ self.A)
            TAc = row_scaled(TA, c)
            sumsA = stratum_sums(TA, row_stratum, idx.n_clusters.shape[0])
            gramA = np.asarray((TA.T @ TAc).toarray())
            hit = self.cache[key] = (idx, TAc, sumsA, gramA)
        return hit[1:]


def recvar(x, stages: list[StageIndex], lonely_psu: str, correction: Correction | None = None,
           blocks: Blocks | None = None) -> np.ndarray:
    """Design covariance (k x k) of the totals of influence columns ``x`` (n x k), all stages.

    ``x`` dense, or scipy.sparse with an optional calibration ``correction`` (columns
    ``x - A @ beta``) and its block layout ``blocks`` (:class:`~sid.estimation.blocks.Blocks`). Later stages are included only when the design has an fpc (R:
    ``one.stage`` unless population sizes are known);
    :class:`~sid.estimation.design.Design` builds ``stages`` accordingly.
    """
    if sp.issparse(x):
        v = np.zeros((x.shape[1], x.shape[1]))
        for idx in stages:
            v += sparse_stage_variance(x, idx, lonely_psu, correction, blocks)
        return v
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    v = np.zeros((x.shape[1], x.shape[1]))
    for idx in stages:
        v += stage_variance(x, idx, lonely_psu)
    return v
