"""Influence values of a calibrated design: residuals from the calibration model.

A calibrated estimator's linearisation replaces each influence value by its residual from
the weighted regression on the calibration variables (Deville & Särndal 1992; Lumley,
survey ``svyrecvar``): for ``calibrate()`` the design keeps ``qr(X * sqrt(w0))`` and
computes ``qr.resid(qr, x / (g sqrt(w0))) * g sqrt(w0)`` with prior weights w0 and
g-weights g; for ``rake()`` it applies ten sweeps of post-stratification residuals per
margin, ``x <- x - w * ave(x / w, margin)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp


@dataclass(frozen=True)
class GregResidualiser:
    """Projection on the calibration model, precomputed once per calibrated design.

    ``X`` sparse (n x p) calibration matrix, ``prior`` (n,) weights before calibration,
    ``final`` (n,) calibrated weights. The p x p weighted Gram matrix is factorised once
    (pseudo-inverse by SVD with R's qr tolerance 1e-7, because margins of several
    categorical variables are collinear through their shared total, as in R's
    ``qr.resid`` with pivoting).
    """

    X: sp.csr_matrix
    prior: np.ndarray
    final: np.ndarray
    gram_pinv: np.ndarray

    @classmethod
    def build(cls, X: sp.spmatrix, prior: np.ndarray, final: np.ndarray) -> GregResidualiser:
        X = sp.csr_matrix(X, dtype=float)
        gram = (X.T @ X.multiply(prior[:, None])).toarray()
        pinv = sla.pinvh(gram, rtol=1e-10)
        return cls(X, np.asarray(prior, float), np.asarray(final, float), pinv)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Residualise influence columns ``x`` (n x k, already times final weights)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(self.final[:, None] != 0, x / self.final[:, None], 0.0)
        beta = self.gram_pinv @ np.asarray(self.X.T @ (z * self.prior[:, None]))
        resid = z - np.asarray(self.X @ beta)
        return resid * self.final[:, None]


@dataclass(frozen=True)
class RakeResidualiser:
    """R's residuals for a raked design: ten sweeps of per-margin post-stratification.

    ``margins`` is a list of (n,) integer category codes, one per raking margin;
    ``final`` the raked weights (R keeps the weights after each margin's last
    post-stratification; at convergence these are the final weights).
    """

    margins: tuple[np.ndarray, ...]
    final: np.ndarray
    sweeps: int = 10

    def __call__(self, x: np.ndarray) -> np.ndarray:
        w = self.final[:, None]
        x = np.array(x, dtype=float)
        counts = [np.bincount(m).astype(float) for m in self.margins]
        safe_w = np.where(w != 0, w, 1.0)
        for _ in range(self.sweeps):
            for m, c in zip(self.margins, counts, strict=True):
                z = np.where(w != 0, x / safe_w, 0.0)
                cell = np.stack([np.bincount(m, weights=z[:, j], minlength=c.shape[0])
                                 for j in range(z.shape[1])], axis=1)
                x = x - w * (cell / np.maximum(c, 1.0)[:, None])[m]
        return x
