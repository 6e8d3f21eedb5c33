"""Arcsine-square-root scale for shares (an option of the Fay-Herriot estimator).

For a share p with design variance psi, z = arcsin(sqrt(p)) has, by the delta method,
variance psi / (4 p (1 - p)) = 1 / (4 n_eff), n_eff = p (1 - p) / psi the effective sample
size (Rao & Molina 2015, section 6.4 on transformations; Jiang, Lahiri, Wan and Wu 2001 for
the arcsine FH model). The model is fitted on z; an area's p enters through n_eff, which
is undefined when p is 0 or 1, so pass the effective sample sizes from a GVF then.

Back-transformation (stated): the **naive** back-transform p = sin^2(z_EBLUP), which
ignores the bias from the curvature (E sin^2(z) != sin^2(E z)); the CI is the back-
transform of z +- q sqrt(mse_z), clipped to [0, pi/2] (so it stays within [0, 1] and is
asymmetric); the MSE on the share scale is the delta-method mse_z x sin^2(2 z).
"""

from __future__ import annotations

import numpy as np

from sid.errors import EstimationError


def to_arcsine(p, psi, n_eff=None, name: str = "indicator") -> tuple[np.ndarray, np.ndarray]:
    """(z, psi_z): arcsin(sqrt(p)) and its variance 1 / (4 n_eff); n_eff defaults to
    p (1 - p) / psi and must then be defined (0 < p < 1, psi > 0)."""
    p = np.asarray(p, dtype=float)
    if ((p < 0) | (p > 1)).any():
        raise EstimationError(f"arcsine transformation ({name}): a share of area {int(np.flatnonzero((p < 0) | (p > 1))[0])} "
                              "is outside [0, 1]; the transformation is for shares")
    if n_eff is None:
        psi = np.asarray(psi, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff = p * (1 - p) / psi
        bad = ~(np.isfinite(n_eff) & (n_eff > 0))
        if bad.any():
            raise EstimationError(f"arcsine transformation ({name}): area {int(np.flatnonzero(bad)[0])} has share "
                                  "0 or 1 or no variance, so no effective sample size; pass n_eff (e.g. from the GVF)")
    n_eff = np.asarray(n_eff, dtype=float)
    return np.arcsin(np.sqrt(p)), 1.0 / (4.0 * n_eff)


def from_arcsine(z, mse_z, q: float = 1.959963984540054) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(p, mse_p, ci_low, ci_high) on the share scale: naive sin^2 back-transform, delta-
    method MSE, back-transformed CI z +- q sqrt(mse_z) clipped to [0, pi/2]."""
    z = np.asarray(z, dtype=float)
    se = np.sqrt(np.asarray(mse_z, dtype=float))
    lo = np.clip(z - q * se, 0.0, np.pi / 2)
    hi = np.clip(z + q * se, 0.0, np.pi / 2)
    return np.sin(z) ** 2, np.asarray(mse_z) * np.sin(2 * z) ** 2, np.sin(lo) ** 2, np.sin(hi) ** 2
