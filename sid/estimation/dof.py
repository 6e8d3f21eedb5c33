"""Degrees of freedom of a design restricted to rows: per domain, as R's ``degf`` of a
subset design.

R survey 4.1: ``degf.survey.design2`` counts the stage-1 PSUs minus the strata among the
rows of non-zero weight, and ``svyby`` / ``subset`` hand each domain's estimator the
domain's own design, so ``svyciprop`` and ``svyquantile`` (and any ``confint(...,
df = degf(design))``) use the domain's PSUs. For a replicate design ``[.svyrep.design``
recomputes ``degf`` as the rank of the domain rows' replicate weights minus one.
"""

from __future__ import annotations

import numpy as np

from sid.estimation.domains import dense_codes
from sid.estimation.replicates import replicate_rank


def _distinct_per_group(g: np.ndarray, codes: np.ndarray, G: int) -> np.ndarray:
    """Number of distinct values of ``codes`` in each group of ``g`` (rows with g >= 0)."""
    if g.shape[0] == 0:
        return np.zeros(G, dtype=np.int64)
    size = int(codes.max()) + 1
    cells, _ = dense_codes(g.astype(np.int64) * size + codes, G * size)
    return np.bincount(cells // size, minlength=G)


def group_degf(design, g: np.ndarray, G: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Degrees of freedom (G,) of each group ``g`` (codes 0..G-1, -1 outside) of the
    design's domain, optionally only over the rows of ``mask``: #PSUs - #strata among
    the rows of non-zero weight (Taylor), or the rank of their replicate weights - 1."""
    inset = design.domain & (design.weights != 0) & (g >= 0)
    if mask is not None:
        inset &= mask
    rows = np.flatnonzero(inset)
    if design.replicate_weights is not None:
        W = design.replicate_weights
        every = np.count_nonzero(design.weights > 0)
        out = np.empty(G, dtype=np.int64)
        gr = g[rows]
        for k in range(G):  # loop over domains, each a rank of (rows x R)
            own = rows[gr == k]
            out[k] = design.degf if own.shape[0] == every else replicate_rank(W, own) - 1
        return out
    gr = g[rows]
    psu = design.psu_codes[rows]
    strata = design.strata_codes[rows]
    return _distinct_per_group(gr, psu, G) - _distinct_per_group(gr, strata, G)
