"""Direct estimates per area with their design variances, through sid's Design.

``Design.mean(variable, by=area)`` is the domain estimator of the survey (Horvitz-
Thompson ratio mean, Taylor-linearised or replicate variance, calibration-aware); its
``se`` squared is the design variance psi_i the Fay-Herriot model takes as known. An
area with one respondent gets variance 0 there (a ratio mean of one value), which is why
the variances are smoothed (sid.smallarea.gvf) before the model sees them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sid.errors import EstimationError


def direct_estimates(design, variable: str, area: str, areas: Sequence | None = None) -> pd.DataFrame:
    """One row per area: area, estimate, se, variance (se^2), n (respondents with a value),
    deff (Kish design effect of unequal weighting of those respondents, n sum w^2 / (sum w)^2;
    for the "deff" variance smoothing of :mod:`sid.smallarea.gvf`).

    ``areas`` (optional) lists every area to report, in order: areas without respondents
    get n = 0 and NaN estimate and variance (they receive synthetic estimates).
    """
    if area not in design.data.columns:
        raise EstimationError(f"direct estimates: area column {area!r} is not in the data; "
                              "name a column of the design's data")
    res = design.mean(variable, by=area)
    out = pd.DataFrame({"area": res[area].to_numpy(), "estimate": res["estimate"].to_numpy(float),
                        "se": res["se"].to_numpy(float), "n": res["n"].to_numpy(np.int64)})
    out["variance"] = out["se"] ** 2
    w = np.asarray(design.weights, dtype=float)
    has = design.data[variable].notna().to_numpy() & np.isfinite(w) & design.domain
    g = pd.DataFrame({"a": design.data[area].to_numpy()[has], "w": w[has], "w2": w[has] ** 2}).groupby("a").sum()
    k = design.data[area][has].value_counts()
    kish = (k.reindex(g.index) * g["w2"] / g["w"] ** 2).reindex(out["area"]).to_numpy(float)
    out["deff"] = np.where(np.isfinite(kish), np.maximum(kish, 1.0), 1.0)
    if areas is not None:
        full = pd.DataFrame({"area": list(areas)})
        unknown = sorted(set(out["area"]) - set(full["area"]), key=str)
        if unknown:
            raise EstimationError(f"direct estimates ({variable}): area {unknown[0]!r} of column {area!r} is not "
                                  "among the areas given; add it to the area list (covariates)")
        out = full.merge(out, on="area", how="left")
        out["n"] = out["n"].fillna(0).astype(np.int64)
        out["deff"] = out["deff"].fillna(1.0)
    return out[["area", "estimate", "se", "variance", "n", "deff"]]
