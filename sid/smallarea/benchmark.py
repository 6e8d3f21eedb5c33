"""Benchmarking area estimates to the direct estimate of the whole region.

Rao & Molina (2015, section 6.2.6): with population shares w_i = N_i / N over *all*
areas (sampled ones with their EBLUP, the others with their synthetic estimate), the
benchmarked estimates satisfy sum_i w_i theta_i^B = theta_dir (the direct Flemish
estimate):

- ``"ratio"``: theta_i^B = theta_i x theta_dir / sum_j w_j theta_j (keeps signs and zeros;
  for positive quantities such as shares and 0-100 indices);
- ``"difference"``: theta_i^B = theta_i + (theta_dir - sum_j w_j theta_j) (the same shift
  for every area).

The MSEs reported with benchmarked estimates are those of the unbenchmarked EBLUP: the
extra MSE of benchmarking (Rao & Molina 6.2.6, of order 1/m) is not added.
"""

from __future__ import annotations

import numpy as np

from sid.errors import EstimationError

BENCHMARKS = ("ratio", "difference")


def benchmark(theta, weights, total: float, method: str = "ratio", name: str = "indicator") -> np.ndarray:
    """Benchmarked estimates: ``theta`` per area, population ``weights`` (counts or shares,
    normalised here), ``total`` the direct estimate of the whole region."""
    if method not in BENCHMARKS:
        raise EstimationError(f"benchmarking ({name}): method {method!r} is not one of {', '.join(BENCHMARKS)}")
    theta = np.asarray(theta, dtype=float)
    w = np.asarray(weights, dtype=float)
    if w.shape != theta.shape or (w < 0).any() or not w.sum() > 0:
        raise EstimationError(f"benchmarking ({name}): population weights must be >= 0, one per area, "
                              "with a positive sum")
    w = w / w.sum()
    agg = float(np.sum(w * theta))
    if method == "difference":
        return theta + (float(total) - agg)
    if agg == 0:
        raise EstimationError(f"benchmarking ({name}): the weighted sum of the area estimates is 0, so ratio "
                              "benchmarking is undefined; use method='difference'")
    return theta * (float(total) / agg)
