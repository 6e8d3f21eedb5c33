"""IRLS of a GLM on several weight columns at once: R's ``glm.fit``, vectorised.

``irls(X, y, W, family)`` fits one model per column of the prior weights ``W`` (n x K):
the full sample (K = 1) or every replicate (K = R) in one pass, with no Python loop over
columns. Each iteration forms the K weighted p x p cross-products with one matrix
product, solves them as a batch (columns equilibrated, plus one step of iterative
refinement on the data), and keeps per column R's own stopping rule,
|dev - dev_old| / (|dev| + 0.1) < epsilon, so that every column stops at the iterate
where R's ``glm.fit`` stops (R: ``control = glm.control(epsilon = 1e-8, maxit = 25)``).
Starting values are R's: the family's ``mustart`` or, as ``svyglm`` does for replicates,
the full-sample coefficients. Non-convergence raises (R only warns).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sid.errors import EstimationError
from sid.estimation.glm_family import Family

# Rows per block of the (rows x p^2) cross-product array: ~16 MB at p = 10.
_BLOCK_ELEMENTS = 2_000_000


@dataclass(frozen=True)
class IrlsFit:
    """``coef`` (K x p); ``working`` (n x K) the working weights of the last fit (R's
    ``glm$weights``); ``eta``, ``mu`` (n x K) at the returned coefficients;
    ``iterations`` (K,)."""

    coef: np.ndarray
    working: np.ndarray
    eta: np.ndarray
    mu: np.ndarray
    iterations: np.ndarray


def cross_products(X: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """X' diag(wt_k) X for every column k of ``wt`` (n x K): a (K x p x p) array, by
    blocks of rows (one product of (p^2 x rows) with (rows x K) per block)."""
    n, p = X.shape
    K = wt.shape[1]
    out = np.zeros((p * p, K))
    step = max(1, _BLOCK_ELEMENTS // max(p * p, 1))
    for start in range(0, n, step):  # blocks of rows, not single rows
        xb = X[start:start + step]
        outer = (xb[:, :, None] * xb[:, None, :]).reshape(xb.shape[0], p * p)
        out += outer.T @ wt[start:start + step]
    return out.T.reshape(K, p, p)


def weighted_solve(X: np.ndarray, wt: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares b_k = argmin sum_i wt_ik (z_ik - x_i b)^2 for every column
    k (K x p), and the cross-products (K x p x p). Equilibrated normal equations plus one
    refinement step on the data residuals (as accurate as a QR for these designs)."""
    G = cross_products(X, wt)
    d = np.sqrt(np.einsum("kii->ki", G))
    if (d <= 0).any():
        k, j = np.argwhere(d <= 0)[0]
        raise EstimationError(f"glm: model column {j} is zero over the rows with weight (fit {k}); "
                              "drop the term or check the domain")
    Gs = G / d[:, :, None] / d[:, None, :]
    cond = np.linalg.cond(Gs)
    if (~np.isfinite(cond) | (cond > 1e13)).any():
        raise EstimationError("glm: the model matrix is rank deficient (collinear columns); "
                              "drop a term or a level that another term determines")

    def solve(rhs: np.ndarray) -> np.ndarray:  # rhs (p x K) -> (K x p)
        return np.linalg.solve(Gs, (rhs.T / d)[:, :, None])[:, :, 0] / d

    b = solve(X.T @ (wt * z))
    resid = z - X @ b.T
    b = b + solve(X.T @ (wt * resid))
    return b, G


def irls(X: np.ndarray, y: np.ndarray, W: np.ndarray, fam: Family, start: np.ndarray | None = None,
         epsilon: float = 1e-8, maxit: int = 25) -> IrlsFit:
    """Fit the GLM of ``y`` (n,) on ``X`` (n x p) with prior weights ``W`` (n x K), one fit
    per column; ``start`` (p,) starting coefficients for every column (None: the
    family's starting values, R's ``mustart``). Raises EstimationError when a column
    does not converge in ``maxit`` iterations or its deviance is not finite."""
    n, p = X.shape
    K = W.shape[1]
    binary = bool(((y == 0) | (y == 1)).all())
    Y = y[:, None]  # broadcast against the n x K arrays
    if start is None:
        eta = fam.linkfun(fam.mustart(np.broadcast_to(Y, (n, K)), W))
    else:
        eta = np.repeat((X @ start)[:, None], K, axis=1)
    mu = fam.linkinv(eta)
    devold = _deviance(fam, Y, mu, W, binary)
    coef = np.zeros((K, p))
    working = np.zeros((n, K))
    iterations = np.zeros(K, dtype=np.int64)
    active = np.arange(K)
    for it in range(1, maxit + 1):
        every = active.size == K  # all columns still iterate: views, no copies
        cols = slice(None) if every else active
        Wa, ea, ma = W[:, cols], eta[:, cols], mu[:, cols]
        mu_eta = fam.mu_eta(ea)
        good = (Wa > 0) & (mu_eta != 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(good, ea + (Y - ma) / mu_eta, 0.0)
            wt = np.where(good, Wa * (mu_eta * mu_eta) / fam.variance(ma), 0.0)
        del mu_eta, good
        b, _ = weighted_solve(X, wt, z)
        del z
        new_eta = X @ b.T
        new_mu = fam.linkinv(new_eta)
        dev = _deviance(fam, Y, new_mu, Wa, binary)
        if not np.isfinite(dev).all():
            raise EstimationError(f"glm: the deviance is not finite at iteration {it}; "
                                  "the model does not fit these data (check the outcome and the family)")
        coef[cols], working[:, cols] = b, wt
        eta[:, cols], mu[:, cols] = new_eta, new_mu
        iterations[cols] = it
        done = np.abs(dev - devold[cols]) / (np.abs(dev) + 0.1) < epsilon
        devold[cols] = dev
        active = active[~done]
        if active.size == 0:
            return IrlsFit(coef, working, eta, mu, iterations)
    raise EstimationError(f"glm: IRLS did not converge in {maxit} iterations for {active.size} of {K} fits; "
                          "the outcome may be separated by a predictor (fitted probabilities 0 or 1)")


def _deviance(fam: Family, Y: np.ndarray, mu: np.ndarray, W: np.ndarray, binary: bool) -> np.ndarray:
    """Deviance (K,) of every column: sum_i dev_resid(y_i, mu_ik, w_ik)."""
    if binary and fam.name in ("binomial", "quasibinomial"):
        with np.errstate(divide="ignore"):
            return -2.0 * np.einsum("nk,nk->k", W, np.log(np.where(Y == 1, mu, 1.0 - mu)))
    return fam.dev_resids(np.broadcast_to(Y, mu.shape), mu, W).sum(axis=0)
