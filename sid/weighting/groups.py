"""One calibration group of the weighting chain: its respondents, calibration matrix and totals.

Shared by the chain (sid.weighting.chain, which builds the groups) and group trimming
(sid.weighting.group_trimming, which re-calibrates them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sid.spec.weighting import CalibrationSpec
from sid.weighting.calibration import calibrate
from sid.weighting.ipf import rake
from sid.weighting.result import CalibrationResult

__all__ = ["GroupMargins"]


@dataclass(frozen=True)
class GroupMargins:
    """One calibration group: its respondents (``rows``, positions among the respondents),
    its calibration matrix X (rows x p), population totals (p,) and column names."""

    label: str
    rows: np.ndarray
    X: sp.csr_matrix
    totals: np.ndarray
    names: list[str]
    codes: tuple[np.ndarray, ...] = ()
    margin_totals: tuple[np.ndarray, ...] = ()
    margin_names: tuple[str, ...] = ()

    def calibrate(self, W: np.ndarray, cal: CalibrationSpec) -> CalibrationResult:
        """Calibrate W ((rows,) or (rows, R)) to this group's totals.

        Unbounded raking runs as iterative proportional fitting on the margins' cell
        codes (:func:`sid.weighting.ipf.rake`: the same solution as calibrate's raking,
        Deville, Särndal & Sautory 1993, and robust where Newton's line search stalls a
        hair above the tolerance after trimming); other methods use calibrate.
        """
        if cal.method == "raking" and cal.bounds is None and self.codes:
            return rake(W, list(self.codes), list(self.margin_totals), tol=cal.tolerance,
                        max_iter=cal.max_iter, names=list(self.margin_names))
        return calibrate(W, self.X, self.totals, method=cal.method, bounds=cal.bounds,
                         tol=cal.tolerance, max_iter=cal.max_iter, names=self.names)
