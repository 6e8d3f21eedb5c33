"""Sampling stages of a Design: fpc columns to population sizes, stage indices per stage.

R equivalents: ``as.fpc`` (fractions or population counts per stage) and the stage
recursion of ``svydesign`` / ``multistage`` (Lumley, survey ``multistage.R``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.errors import EstimationError
from sid.estimation.domains import nested_codes
from sid.estimation.taylor import StageIndex, build_stage


def popsize(df: pd.DataFrame, col: str, s_codes: np.ndarray | None, clusters: list[np.ndarray],
            j: int) -> np.ndarray:
    """Population sizes (n,) at stage ``j`` from fpc column ``col``: counts of clusters per
    stratum, or sampling fractions <= 1 turned into counts n_h / f (R's ``as.fpc``)."""
    f = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(f).all() and not np.isinf(f).all():
        raise EstimationError(f"Design: fpc {col!r} is missing in row {int(np.flatnonzero(np.isnan(f))[0])}")
    if (f <= 1).all() and (f > 0).all():
        # Sampling fractions: R's as.fpc turns them into population sizes n/f.
        strata = s_codes if j == 0 else clusters[j - 1]
        cl = clusters[j]
        n_h = _count_clusters(strata, cl)
        return n_h[strata] / f
    if (f < 1).any():
        raise EstimationError(f"Design: fpc {col!r} mixes fractions (< 1) and population sizes; use one kind")
    return f


def build_stages(s_codes: np.ndarray, s_labels: np.ndarray, clusters: list[np.ndarray],
                 popsizes: list[np.ndarray]) -> tuple[list[StageIndex], list[np.ndarray]]:
    """Stage indices of a design and the sampled numbers of clusters per row and stage.

    Stage j > 1 enters only with its fpc (R: later stages add variance only when their
    population sizes are known); its strata are the clusters of the stage above, with the
    sampling fraction of the stages above as multiplier (R's ``multistage``)."""
    stages: list[StageIndex] = []
    sampsize = []
    strata, labels = s_codes, s_labels
    mult = np.ones(int(strata.max()) + 1)
    n_stages = len(clusters) if popsizes else 1
    for j in range(n_stages):
        nested = nested_codes(strata, clusters[j])
        pop = popsizes[j] if j < len(popsizes) else None
        if j > 0 and pop is None:
            break  # no fpc at this stage: sampled completely below, R adds nothing
        idx = build_stage(strata, labels, nested, pop, mult, j + 1)
        stages.append(idx)
        n_h = idx.n_clusters[strata]
        sampsize.append(n_h)
        if pop is not None and j + 1 < len(clusters):
            pop_h = np.zeros(idx.n_clusters.shape[0])
            pop_h[strata] = pop
            cl_mult = (mult * idx.n_clusters / pop_h)[idx.cluster_stratum]
            strata, labels, mult = nested, np.arange(nested.max() + 1).astype(str), cl_mult
    return stages, sampsize


def _count_clusters(strata: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    codes = nested_codes(strata, clusters)
    first = np.zeros(codes.max() + 1, dtype=np.int64)
    first[codes] = strata
    return np.bincount(first, minlength=strata.max() + 1).astype(float)
