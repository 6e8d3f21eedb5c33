"""How R's ``survey`` reads sid's replicate weights: the ``svrepdesign`` call.

sid's Rao-Wu bootstrap is labelled "subbootstrap" (its method), but R's
``svrepdesign(type=)`` does not accept that name for given weights. What reproduces sid's
SEs is ``type="bootstrap", scale=<scale>, rscales=<rscales>, mse=<mse>,
combined.weights=TRUE`` (for R bootstrap replicates, scale = 1/(R-1): 1/99 for 100).
"""

from __future__ import annotations

import numpy as np

R_TYPES = {"subbootstrap": "bootstrap", "bootstrap": "bootstrap", "JK1": "JK1", "JKn": "JKn"}


def svrepdesign_call(method: str, scale: float, rscales, mse: bool, replicates: int,
                     weight: str = "weight", prefix: str = "rep_", data: str = "d") -> str:
    """The R call that rebuilds the design of sid's replicate weights."""
    rs = np.atleast_1d(np.asarray(rscales, dtype=float))
    rtype = R_TYPES.get(method, "other")
    frac = f"1/{replicates - 1}" if rtype == "bootstrap" and np.isclose(scale, 1 / (replicates - 1)) else f"{scale:.10g}"
    rsc = f"{rs[0]:g}" if np.allclose(rs, rs[0]) else "rscales"
    return (f'svrepdesign(data = {data}, weights = ~{weight}, repweights = "^{prefix}[0-9]+$", '
            f'type = "{rtype}", scale = {frac}, rscales = {rsc}, mse = {"TRUE" if mse else "FALSE"}, '
            "combined.weights = TRUE)")
