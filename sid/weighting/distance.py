"""Calibration functions g = F(u) of the GREG/CALMAR family and their derivatives.

Deville & Särndal (1992), "Calibration estimators in survey sampling", JASA 87:376-382;
the same three functions as R's ``survey::calibrate`` (``cal.linear``, ``cal.raking``,
``cal.logit``). ``u = x'lambda`` is the linear predictor of a respondent; the calibrated
weight is ``w = d * F(u)`` with ``F(0) = 1``. Bounds ``(L, U)`` act on ``g = w / d``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from sid.errors import WeightingError

__all__ = ["GFunction", "g_function", "METHODS"]

METHODS = ("linear", "raking", "logit")

# exp() overflows just above 709; a predictor this large means the solver is diverging,
# which the residual check reports, so capping it only keeps the arithmetic finite.
_MAX_EXP = 700.0


@dataclass(frozen=True)
class GFunction:
    """F and F' of one calibration method with its bounds (lower, upper on g)."""

    method: str
    lower: float
    upper: float

    def g(self, u: np.ndarray) -> np.ndarray:
        """g = F(u), the calibration factor of each respondent."""
        lo, hi = self.lower, self.upper
        if self.method == "linear":
            return np.clip(1.0 + u, lo, hi)
        if self.method == "raking":
            return np.clip(np.exp(np.minimum(u, _MAX_EXP)), lo, hi)
        return lo + (hi - lo) * self._s(u)

    def dg(self, u: np.ndarray) -> np.ndarray:
        """F'(u); zero where a clipped function sits on a bound (no slack left there)."""
        lo, hi = self.lower, self.upper
        if self.method == "linear":
            v = 1.0 + u
            return ((v > lo) & (v < hi)).astype(float)
        if self.method == "raking":
            v = np.exp(np.minimum(u, _MAX_EXP))
            return np.where((v > lo) & (v < hi), v, 0.0)
        s = self._s(u)
        return (hi - lo) * self._a * s * (1.0 - s)

    @property
    def clipped(self) -> bool:
        """Linear or raking with a finite bound: g is flat (F' = 0) beyond the bounds."""
        return self.method != "logit" and bool(np.isfinite(self.lower) or np.isfinite(self.upper))

    def dg_raw(self, u: np.ndarray) -> np.ndarray:
        """F'(u) of the function before clipping (a scale for damping flat directions)."""
        if self.method == "linear":
            return np.ones_like(u)
        if self.method == "raking":
            return np.exp(np.minimum(u, _MAX_EXP))
        return np.ones_like(u)  # logit: F'(0) = 1, the slope before saturation

    def psi(self, u: np.ndarray) -> np.ndarray:
        """Psi(u) = integral of F from 0 to u: the dual objective is sum d Psi(x'lambda) - T'lambda.

        Convex since F is non-decreasing; used to judge Newton steps where F is flat.
        """
        lo, hi = self.lower, self.upper
        if self.method == "logit":
            a = self._a
            c = np.log((1.0 - lo) / (hi - 1.0))
            return lo * u + (hi - lo) / a * (np.logaddexp(0.0, a * u + c) - np.logaddexp(0.0, c))
        with np.errstate(divide="ignore"):
            if self.method == "linear":
                v = np.clip(u, lo - 1.0, hi - 1.0)
                inner = v + 0.5 * v * v
            else:
                v = np.clip(np.minimum(u, _MAX_EXP), np.log(max(lo, 0.0)), np.log(hi))
                inner = np.exp(v) - 1.0
        # beyond a bound, Psi grows linearly with the bound's slope
        return inner + self.g(u) * (u - v)

    # logit: g = L + (U - L) * expit(A u + c), A = (U-L)/((U-1)(1-L)), c = log((1-L)/(U-1)).
    # This is Deville & Särndal's form rewritten so that exp() never overflows.
    @property
    def _a(self) -> float:
        lo, hi = self.lower, self.upper
        return (hi - lo) / ((hi - 1.0) * (1.0 - lo))

    def _s(self, u: np.ndarray) -> np.ndarray:
        lo, hi = self.lower, self.upper
        return expit(self._a * u + np.log((1.0 - lo) / (hi - 1.0)))


def g_function(method: str, bounds: tuple[float, float] | None) -> GFunction:
    """Validate ``method`` and ``bounds`` and return the calibration function."""
    if method not in METHODS:
        raise WeightingError(
            f"calibration method {method!r} is unknown; use one of {', '.join(METHODS)}"
        )
    if bounds is None:
        if method == "logit":
            raise WeightingError(
                "calibration method 'logit' needs bounds (L, U) on g = w/d with L < 1 < U, "
                "e.g. bounds=(0.7, 1.7)"
            )
        return GFunction(method, -np.inf, np.inf)
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise WeightingError(f"calibration bounds {bounds!r} are not two numbers (L, U)") from None
    if method == "logit":
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < 1.0 < hi):
            raise WeightingError(
                f"calibration bounds {bounds!r}: 'logit' needs finite L < 1 < U on g = w/d"
            )
    elif not (lo <= 1.0 <= hi and lo < hi):
        raise WeightingError(
            f"calibration bounds {bounds!r}: need L <= 1 <= U on g = w/d (g = 1 keeps the "
            "design weight)"
        )
    if method == "raking" and lo < 0:
        lo = 0.0  # exp(u) > 0: a negative lower bound on a raking factor never binds
    return GFunction(method, lo, hi)
