"""Replicate weights in which the weighting chain is redone, all replicate columns at once.

The replicate factors act on the GROSS sample (respondents and non-respondents alike):
Rao-Wu rescaling bootstrap (Rao & Wu 1988, JASA 83:231-241; Rao, Wu & Yue 1992, Survey
Methodology 18:209-217) or the stratified delete-one-PSU jackknife, from
:mod:`sid.estimation.replicates`. In every replicate column the chain's steps are
redone on the replicate design weights d * f (Valliant, Dever & Kreuter 2018, sec. 15.4:
replicate weights that repeat the adjustments carry their variance):

* eligibility: the unknown-eligibility weight passed on per stratum, from column sums;
* non-response: the class factors W_c / W_c,resp recomputed per column with one sparse
  class-indicator product C' W (classes x R). The propensity CLASSES are those of the
  full-sample model, held fixed: the logistic models are not re-fitted per replicate
  (the class factors, which carry nearly all of the adjustment's variance, are redone);
* calibration: every column calibrated to the group totals at once (calibrate takes
  (n, R) weights); with pooled margins, the one joint system (group margins crossed with
  the group + pooled margins) per column, all columns at once (:mod:`sid.weighting.pooled`);
* trimming: the full-sample rule applied to w / f (the weight without the unit's
  resampling multiplicity f), medians per column, trim / re-calibrate rounds on all
  columns at once (trim_and_recalibrate on (n, R)); a column that cannot meet both the
  bounds and the margins in max_rounds rounds keeps margin-meeting weights of its last
  round and is reported (:mod:`sid.weighting.group_trimming`).

Steps the spec leaves out of ``replicates.redo`` are applied as the full-sample factors:
trimming left out but calibration redone applies the full sample's trimming factors
before calibrating (so every replicate column meets the margins); calibration left out
applies the full sample's g = w / w_prior (trimming is then not redone either: it needs
re-calibration).
When every step works within the stratum, strata are processed one at a time (memory: one
stratum's (n_h x R) block), with the bootstrap draws in the same order as one call of
``bootstrap_factors`` over all strata; when every step works within one of several
stratum variables, its groups are the blocks.

Clustered designs: the factors are drawn for the stage-1 PSUs (``sample.psu``, ids taken
within their design stratum as R's ``nest=TRUE``) within design strata, and every sampled
person of a PSU carries its PSU's factor (Rao-Wu: n_h - 1 of the n_h PSUs of the stratum
drawn with replacement; JKn: one replicate per PSU). Later stages are not resampled (the
usual with-replacement approximation at stage 1). Without ``psu`` every sampled person
is its own PSU.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from sid.errors import EstimationError, WeightingError
from sid.estimation.replicates import bootstrap_factors, jkn_factors
from sid.progress import progress_iter
from sid.spec.weighting import WeightingSpec
from sid.weighting.chain import ChainResult, calibrate_groups, trim_groups
from sid.weighting.compress import group_codes
from sid.weighting.eligibility import ELIGIBLE, NOT_ELIGIBLE, UNKNOWN

__all__ = ["ReplicateWeights", "replicate_weights"]


@dataclass(frozen=True)
class ReplicateWeights:
    """``weights`` (n_resp x R, float32, respondents in the chain's order); the variance
    formula var = scale * sum_r rscales_r (theta_r - mean)^2 (R's svrVar with mse).
    ``trimming_unsettled``: per calibration group, the replicate columns (0-based) whose
    weights meet the margins but not every trimming bound after the spec's max_rounds
    (:mod:`sid.weighting.group_trimming`), with the largest relative excess over a bound."""

    weights: np.ndarray
    type: str
    scale: float
    rscales: np.ndarray
    mse: bool
    description: str
    trimming_unsettled: list[dict] = field(default_factory=list)


def _indicator(codes: np.ndarray, k: int) -> sp.csr_matrix:
    """Sparse (n x k) class indicator: C' W gives class sums of every column of W."""
    n = codes.shape[0]
    return sp.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, k))


def _eligibility(Dr: np.ndarray, status: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """Eligible units' weights (rows of eligible units only) after passing on the weight
    of unknown eligibility, per stratum and column: factor 1 + W_U / (W_E + W_NE)."""
    codes, labels = group_codes(strata, "replicate eligibility: stratum")
    n, k = codes.shape[0], len(labels)

    def sums(mask: np.ndarray) -> np.ndarray:  # class sums of the masked rows, (k, R)
        C = sp.csr_matrix((mask.astype(float), (codes, np.arange(n))), shape=(k, n))
        return np.asarray(C @ Dr)

    is_e = status == ELIGIBLE
    known = sums(is_e | (status == NOT_ELIGIBLE))
    wu = sums(status == UNKNOWN)
    stuck = (known <= 0) & (wu > 0)
    if stuck.any():
        h, r = (int(v[0]) for v in np.nonzero(stuck))
        raise WeightingError(f"replicate eligibility: stratum {labels[h]!r}, replicate {r + 1}: no unit "
                             "of known eligibility; use more sampled units per stratum")
    factor = 1.0 + wu / np.where(known > 0, known, 1.0)
    return Dr[is_e] * factor[codes[is_e]]


def _nonresponse(Wel: np.ndarray, classes: np.ndarray, responded: np.ndarray) -> np.ndarray:
    """Class factors W_c / W_c,resp per column (classes held fixed); (n_resp x R) weights."""
    codes, labels = group_codes(classes, "replicate non-response: class")
    C = _indicator(codes, len(labels))
    total = C.T @ Wel
    resp = C.T @ (Wel * responded[:, None])
    empty = (resp <= 0) & (total > 0)
    if empty.any():
        c, r = (int(v[0]) for v in np.nonzero(empty))
        raise WeightingError(f"replicate non-response: class {labels[c]!r} has no responding weight in "
                             f"replicate {r + 1}; use fewer propensity classes")
    factor = total / np.where(resp > 0, resp, 1.0)
    return Wel[responded] * factor[codes[responded]]


def _psu_population(strata: np.ndarray, psu: np.ndarray, fpc: np.ndarray) -> np.ndarray:
    """Stage-1 population sizes (n,) from fpc values: counts as given, or sampling
    fractions (all <= 1) turned into counts n_h / f (R's ``as.fpc``), n_h the sampled
    PSUs of the stratum."""
    f = np.asarray(fpc, float)
    if not (f <= 1).all():
        return f
    p_codes = group_codes(psu, "replicates: PSU")[0]
    pairs = np.unique(np.stack([strata, p_codes]), axis=1)
    return np.bincount(pairs[0], minlength=int(strata.max()) + 1)[strata] / f


def _factors(chain: ChainResult, spec: WeightingSpec, psu: np.ndarray, blocks: list[np.ndarray],
             fpc: np.ndarray | None = None):
    """Replicate factors per block (generator), the variance constants and a description."""
    rep = spec.replicates
    strata = group_codes(chain.stratum, "replicates: stratum")[0]  # integers: fast np.unique
    if rep.method == "bootstrap":
        rng = np.random.default_rng(rep.seed)

        def gen():
            for rows in blocks:  # strata in sorted order: the draws of one call over all strata
                try:
                    yield bootstrap_factors(strata[rows], psu[rows], rep.replicates, rng,
                                            method="subbootstrap").factors
                except EstimationError as exc:
                    raise WeightingError(f"replicates: {exc}") from None
        consts = ("subbootstrap", 1.0 / (rep.replicates - 1), np.ones(rep.replicates))
        text = (f"Rao-Wu rescaling bootstrap, {rep.replicates} replicates of n_h - 1 PSUs drawn "
                f"with replacement per stratum (seed {rep.seed})")
        return gen(), consts, text
    n_psu = np.unique(np.stack([strata, group_codes(psu, "replicates: PSU")[0]]), axis=1).shape[1]
    if n_psu > rep.replicates:
        raise WeightingError(f"replicates: the delete-one-PSU jackknife needs one replicate per PSU, "
                             f"{n_psu} here, more than replicates: {rep.replicates} in the spec; "
                             "use method: bootstrap or a clustered design (sample.psu)")
    try:
        jk = jkn_factors(strata, psu, None if fpc is None else _psu_population(strata, psu, fpc))
    except EstimationError as exc:
        raise WeightingError(f"replicates: {exc}") from None
    consts = ("JKn", 1.0, jk.rscales)
    return (jk.factors[rows] for rows in blocks), consts, \
        f"stratified delete-one-PSU jackknife (JKn), {jk.factors.shape[1]} replicates"


def _blocks(chain: ChainResult, spec: WeightingSpec) -> list[np.ndarray]:
    """Rows of the gross sample processed together (memory: one block's n_b x R arrays).

    When every step works within one variable whose groups are unions of design strata
    (the stratum variable itself, or one of several stratum variables), each group is a
    block (bootstrap draws block after block, strata in sorted order within a block);
    with the stratum variable alone the blocks are the strata in sorted order, so the
    draws are those of one call over all strata. Otherwise one block of all rows.
    """
    n = chain.stratum.shape[0]
    s, nr = spec.sample, spec.nonresponse
    withins = ([nr.within] if nr.method != "none" else []) + [spec.calibration.within] + (
        [spec.trimming.within] if spec.trimming else [])  # None: the whole sample, one group
    w = withins[0]
    if w is None or w not in s.strata or any(x != w for x in withins):
        return [np.arange(n)]
    # the strata themselves, or the groups of one of several stratum variables (each a
    # union of design strata); rows of a block in gross-sample order
    labels = chain.stratum if s.strata == (w,) else chain.cal_group_gross
    codes, _ = group_codes(labels, "replicates: block")
    order = np.argsort(codes, kind="stable")
    return np.split(order, np.cumsum(np.bincount(codes))[:-1])


def replicate_weights(chain: ChainResult, spec: WeightingSpec, psu: np.ndarray | None = None,
                      fpc: np.ndarray | None = None) -> ReplicateWeights:
    """Replicate weights of the respondents with the chain redone per column.

    chain: the full-sample :class:`~sid.weighting.chain.ChainResult`; spec: the weighting
    spec (``replicates``: method, number, seed, redo); psu: (n_gross,) stage-1 PSU labels
    (None: every sampled person is a PSU); fpc: (n_gross,) stage-1 population size of
    the person's design stratum (number of PSUs, or persons when unclustered; None: none),
    which enters the jackknife's rscales (1 - n_h/N_h)(n_h - 1)/n_h as R's JKn; the
    Rao-Wu bootstrap does not use it (as R's subbootweights). Raises WeightingError when a replicate column cannot
    be adjusted (naming the step, class or margin and the replicate).
    """
    rep = spec.replicates
    if rep is None:
        raise WeightingError("replicates: the spec has no replicates section")
    n = chain.stratum.shape[0]
    psu = np.arange(n) if psu is None else np.asarray(psu)
    units, joint_where = chain.calibration_units()
    blocks = _blocks(chain, spec) if chain.joint is None else [np.arange(n)]  # joint: all at once
    factors, (kind, scale, rscales), text = _factors(chain, spec, psu, blocks, fpc)
    redo = set(rep.redo)
    resp_pos = np.full(n, -1)
    resp_pos[chain.resp] = np.arange(chain.resp.size)
    out: np.ndarray | None = None
    unsettled: list[dict] = []
    where = joint_where or spec.calibration.within or "sample"
    for rows, F in progress_iter(zip(blocks, factors, strict=True), "replicate weights", len(blocks)):
        Dr = F * chain.design_weight[rows, None]
        F_resp = F[chain.responded[rows]]
        del F
        Wel = _eligibility(Dr, chain.status[rows], chain.stratum[rows])
        del Dr
        responded = chain.responded[rows]
        local = resp_pos[rows[responded]]  # positions among all respondents
        e = chain.status[rows] == ELIGIBLE  # Wel has the eligible rows only
        if "nonresponse" in redo and spec.nonresponse.method != "none":
            W = _nonresponse(Wel, chain.nr_class[rows][e], responded[e])
        else:
            W = Wel[responded[e]] * chain.nonresponse_factor[rows[responded], None]
        del Wel
        mine = np.zeros(chain.resp.size, dtype=bool)
        mine[local] = True
        groups = [replace(g, rows=np.searchsorted(local, g.rows)) for g in units if mine[g.rows].all()]
        trimming = spec.trimming is not None
        if "calibration" in redo:
            if trimming and "trimming" not in redo:
                # the full sample's trimming factors, then calibration: margins still hold
                W = W * (chain.weight / chain.calibrated)[local, None]
            W, _ = calibrate_groups(W, groups, spec.calibration, where)
            if trimming and "trimming" in redo:
                W, *_, lost = trim_groups(W, groups, spec.calibration, spec.trimming,
                                          chain.trim_group[local], where, factors=F_resp)
                unsettled.extend(lost)
        else:  # the full sample's calibration (and trimming) factors g = w / w_prior
            W = W * (chain.weight / chain.prior)[local, None]
        if out is None:
            out = np.empty((chain.resp.size, W.shape[1]), dtype=np.float32)
        out[local] = W
    held = ("propensity classes of the full-sample model held fixed in every replicate "
            "(models not re-fitted); class factors redone") if "nonresponse" in redo else \
        "non-response factors of the full sample"
    description = f"{text}; steps redone per replicate: {', '.join(sorted(redo)) or 'none'}; {held}"
    if spec.trimming is not None and {"calibration", "trimming"} <= redo:
        cols = sorted({c for u in unsettled for c in u["columns"]})
        description += (f"; trimming in replicates: the full-sample rule on w/f with re-calibration, at most "
                        f"{spec.trimming.max_rounds} rounds, margins always met; {len(cols)} of {out.shape[1]} "
                        "columns keep weights outside a trimming bound after the last round")
    return ReplicateWeights(out, kind, float(scale), np.asarray(rscales, float), False, description,
                            unsettled)
