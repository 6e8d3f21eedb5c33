"""The result of every weight adjustment that targets margins (calibration, raking)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CalibrationResult"]


@dataclass(frozen=True)
class CalibrationResult:
    """Calibrated weights and what it took.

    weights: calibrated weights, same shape as the input weights ((n,) or (n, R)).
    g: calibration factors weights / input weights (the factor also where a weight is 0).
    iterations: Newton (or IPF) iterations of the slowest column.
    max_abs_error: largest |X'w - totals| left, in units of the totals.
    """

    weights: np.ndarray
    g: np.ndarray
    iterations: int
    max_abs_error: float
