"""Design (base) weights of a stratified simple random sample: d = N_h / n_h.

For SID the gross sample is drawn from the national register, stratified by origin
group with equal allocation, so the design weight of every sampled person in stratum h
is the stratum's population size over its number of sampled persons (Horvitz &
Thompson 1952; Cochran 1977, Sampling Techniques, ch. 5). n_h counts the whole gross
sample (respondents and non-respondents): the later steps move weight between them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sid.errors import WeightingError
from sid.weighting.compress import group_codes

__all__ = ["DesignWeights", "design_weights"]


@dataclass(frozen=True)
class DesignWeights:
    """Per sampled unit: design weight N_h/n_h, stratum population N_h (R's ``fpc``), n_h."""

    weights: np.ndarray
    population: np.ndarray
    sample_size: np.ndarray


def design_weights(
    strata: np.ndarray | pd.Series,
    population: Mapping[object, float],
    sample_size: Mapping[object, float] | None = None,
    *,
    with_replacement: bool = False,
) -> DesignWeights:
    """Design weights d_i = N_h / n_h of a stratified SRS (without replacement by default).

    strata: (n,) stratum of every unit of the gross sample. population: N_h per stratum.
    sample_size: n_h per stratum; by default counted in ``strata`` (the gross sample).
    with_replacement: the strata were sampled with replacement (Hansen-Hurwitz: d_i =
    N_h / n_h still, n_h may exceed N_h, and there is no finite population correction:
    ``population`` is returned as infinite). Raises WeightingError for a unit in a
    stratum without population size, a missing stratum value, a population stratum
    without sampled units, or n_h > N_h without replacement.
    """
    codes, labels = group_codes(strata, "design weights: stratum")
    counts = np.bincount(codes, minlength=len(labels)).astype(float)
    pop = pd.Series({k: v for k, v in population.items()}, dtype=float)
    unknown = [lab for lab in labels if lab not in pop.index]
    if unknown:
        raise WeightingError(
            f"design weights: strata {', '.join(map(str, unknown[:5]))} have sampled units but "
            "no population size; add them to the strata's population sizes"
        )
    unsampled = [k for k in pop.index if k not in set(labels)]
    if unsampled:
        raise WeightingError(
            f"design weights: strata {', '.join(map(str, unsampled[:5]))} have a population size "
            "but no sampled units; the sample cannot represent them (drop them or check the sample)"
        )
    N = pop.reindex(labels).to_numpy()
    if sample_size is not None:
        given = pd.Series(dict(sample_size.items()), dtype=float)
        missing = [lab for lab in labels if lab not in given.index]
        if missing:
            raise WeightingError(
                f"design weights: no sample size for strata {', '.join(map(str, missing[:5]))}"
            )
        counts = given.reindex(labels).to_numpy()
    bad = ~np.isfinite(N) | (N <= 0) | (counts <= 0)
    if not with_replacement:
        bad |= counts > N
    if bad.any():
        h = int(np.flatnonzero(bad)[0])
        hint = "" if with_replacement else (
            " (a sample drawn with replacement: set sample.with_replacement: true)"
        )
        raise WeightingError(
            f"design weights: stratum {labels[h]!r} has population size {N[h]:g} and sample size "
            f"{counts[h]:g}; need 0 < n_h <= N_h{hint}"
        )
    fpc_population = np.full_like(N, np.inf) if with_replacement else N
    return DesignWeights(
        weights=(N / counts)[codes], population=fpc_population[codes], sample_size=counts[codes]
    )
