"""Small-area estimation: the Fay-Herriot area-level model for municipality figures.

Modules: direct (direct estimates and design variances through sid's Design), gvf
(variance smoothing for areas with few respondents), register_gvf (design variances from
the register composition of each area, or from the realised weights), fh (REML/ML fit, EBLUP, Prasad-Rao
and Datta-Lahiri MSE, synthetic estimates), transform (arcsine scale for shares),
benchmark (ratio/difference benchmarking to the regional direct estimate), estimate (the
chain for one indicator, with diagnostics). Source of the formulas: Rao & Molina (2015),
*Small Area Estimation*, 2nd ed., chapter 6.
"""

from sid.smallarea.benchmark import benchmark
from sid.smallarea.direct import direct_estimates
from sid.smallarea.estimate import diagnostics, fay_herriot
from sid.smallarea.fh import FHFit, eblup, fit_fh, gamma, mse, synthetic
from sid.smallarea.gvf import gvf, smooth_variances
from sid.smallarea.register_gvf import (
           anticipated_variances,
           group_moments,
           realised_variances,
           register_cells,
)
from sid.smallarea.transform import from_arcsine, to_arcsine

__all__ = ["FHFit", "anticipated_variances", "benchmark", "diagnostics", "direct_estimates", "eblup", "fay_herriot",
           "fit_fh", "from_arcsine", "gamma", "group_moments", "gvf", "mse", "realised_variances", "register_cells",
           "smooth_variances", "synthetic", "to_arcsine"]
