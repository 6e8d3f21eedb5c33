"""Measurement invariance of a one-factor scale across groups: multi-group CFA by ML.

Three nested one-factor models are fitted to the item covariance matrices ``S_g`` and
means ``m_g`` of the groups (Jöreskog 1971; Meredith 1993; lavaan's ``cfa(group=,
group.equal=)`` defines the same models):

* configural: ``Sigma_g = l_g l_g' + diag(theta_g)`` with its own loadings per group
  (factor variance 1), means saturated;
* metric (weak): one loading vector for all groups, ``Sigma_g = phi_g l l' +
  diag(theta_g)`` with ``phi`` = 1 in the first group and free elsewhere;
* scalar (strong): metric plus one intercept vector, ``mu_g = tau + l kappa_g`` with
  ``kappa`` = 0 in the first group and free elsewhere.

Each is fitted by normal-theory maximum likelihood, minimising ``sum_g n_g F_g`` with
``F_g = log|Sigma_g| + tr(S_g Sigma_g^-1) - log|S_g| - k + (m_g - mu_g)' Sigma_g^-1
(m_g - mu_g)`` (Bollen 1989, ch. 4 and 8), with analytic gradients (BFGS; variances on
the log scale, residual variances floored at 1e-6 S_ii, so Sigma_g stays positive definite). The minimum
is the chi-square statistic; ``df`` = moments - parameters. Fit indices as lavaan's:
RMSEA ``sqrt(max(chi2 - df, 0) / (N df)) sqrt(G)`` (Steiger 1998 for G groups), CFI
against the independence model (free variances and means per group). Nested models are
compared by the chi-square difference and by the change in CFI (a drop of more than
0.01, Cheung & Rensvold 2002) and RMSEA (a rise of more than 0.015, Chen 2007); the
change criteria decide, since with ~750 respondents per group the difference test
rejects trivial departures.

The input moments are pairwise and, when a weight is given, survey-weighted
(:mod:`sid.scales.moments`); the chi-square is then a normal-theory discrepancy, not an
exact test (no Satorra-Bentler or design correction is made): the ``p`` values are
descriptive, as stated in the output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.stats import chi2 as chi2_dist

from sid.errors import DataError, EstimationError
from sid.scales.factor import fit_one_factor
from sid.scales.moments import item_moments
from sid.scales.reliability import row_weights
from sid.scales.scoring import prepare_items

LEVELS = ("configural", "metric", "scalar")
MAX_CFI_DROP, MAX_RMSEA_RISE = 0.01, 0.015
THETA_FLOOR = 1e-6


@dataclass(frozen=True)
class GroupFit:
    """One fitted multi-group model: ``loadings`` (G x k, item units), ``phi`` (G),
    ``theta`` (G x k), ``intercepts`` (G x k), ``kappa`` (G), ``chisq``, ``df``, ``npar``;
    ``heywood``: (group position, item position) pairs whose residual variance reached its
    floor (an improper solution)."""

    level: str
    loadings: np.ndarray
    phi: np.ndarray
    theta: np.ndarray
    intercepts: np.ndarray
    kappa: np.ndarray
    chisq: float
    df: int
    npar: int
    heywood: tuple = ()


@dataclass(frozen=True)
class _Layout:
    """Which parameters a model has: ``free_lam``/``free_tau`` (k booleans) mark the items
    whose loading / intercept is group-specific (all loadings in the configural model)."""

    level: str
    g: int
    k: int
    free_lam: np.ndarray
    free_tau: np.ndarray

    @property
    def has_phi(self) -> bool:
        return self.level != "configural"

    @property
    def has_means(self) -> bool:
        return self.level == "scalar"


def _unpack(p: np.ndarray, lay: _Layout, means: np.ndarray):
    g, k, fl, ft = lay.g, lay.k, lay.free_lam, lay.free_tau
    i = 0

    def take(size):
        nonlocal i
        out = p[i:i + size]
        i += size
        return out

    lam = np.empty((g, k))
    lam[:, ~fl] = take(int((~fl).sum()))
    lam[:, fl] = take(g * int(fl.sum())).reshape(g, -1)
    phi = np.concatenate([[1.0], take(g - 1)]) if lay.has_phi else np.ones(g)
    theta = take(g * k).reshape(g, k)
    if lay.has_means:
        tau = np.empty((g, k))
        tau[:, ~ft] = take(int((~ft).sum()))
        tau[:, ft] = take(g * int(ft.sum())).reshape(g, -1)
        kappa = np.concatenate([[0.0], take(g - 1)])
    else:  # saturated means: fitted exactly
        tau, kappa = means.copy(), np.zeros(g)
    return lam, phi, theta, tau, kappa


def _objective(p, lay: _Layout, covs, means, ns, logdet_s):
    """ML discrepancy summed over groups (n_j x F_ML,j) and its gradient in the packed
    parameters. Every group's k x k algebra is one batched numpy call (G x k x k stacks):
    the fit is called thousands of times per index, so per-group Python calls would cost
    more than the arithmetic."""
    k = lay.k
    lam, phi, theta, tau, kappa = _unpack(p, lay, means)
    diag = np.arange(k)
    sigma = phi[:, None, None] * lam[:, :, None] * lam[:, None, :]
    sigma[:, diag, diag] += theta
    chol = np.linalg.cholesky(sigma)
    inv = np.linalg.inv(sigma)
    d = means - (tau + lam * kappa[:, None])
    a = np.einsum("gij,gj->gi", inv, d)
    logdet = 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    fj = logdet + np.einsum("gij,gji->g", covs, inv) - logdet_s - k + (d * a).sum(axis=1)
    f = float(ns @ fj)
    gm = inv - inv @ (covs + d[:, :, None] * d[:, None, :]) @ inv
    gml = np.einsum("gij,gj->gi", gm, lam)
    g_lam = ns[:, None] * (2 * phi[:, None] * gml - 2 * kappa[:, None] * a)
    g_phi = ns * (lam * gml).sum(axis=1)
    g_theta = ns[:, None] * np.diagonal(gm, axis1=1, axis2=2)
    g_tau = ns[:, None] * -2 * a
    g_kappa = ns * -2 * (lam * a).sum(axis=1)
    fl, ft = lay.free_lam, lay.free_tau
    parts = [g_lam[:, ~fl].sum(axis=0), g_lam[:, fl].ravel()]
    if lay.has_phi:
        parts.append(g_phi[1:])
    parts.append(g_theta.ravel())
    if lay.has_means:
        parts += [g_tau[:, ~ft].sum(axis=0), g_tau[:, ft].ravel(), g_kappa[1:]]
    return f, np.concatenate(parts)


def _start(lay: _Layout, covs, means, prev: GroupFit | None) -> tuple[np.ndarray, list]:
    g, fl, ft = lay.g, lay.free_lam, lay.free_tau
    sd = np.sqrt(np.diagonal(covs, axis1=1, axis2=2))
    if prev is None:  # per-group minres loadings (standardised) in item units
        lam = np.array([fit_one_factor(c / np.outer(s, s)).loadings * s for c, s in zip(covs, sd, strict=True)])
        phi, kappa, level = np.ones(g), np.zeros(g), "configural"
    else:
        lam, phi, kappa, level = prev.loadings.copy(), prev.phi, prev.kappa, prev.level
    if lay.has_phi and level == "configural":
        # common loadings: group 1's, and each group's factor variance from its ratio
        ratio = np.median(lam / lam[0], axis=1)
        lam, phi = np.tile(lam[0], (g, 1)), np.maximum(ratio**2, 0.05)
    parts = [lam[0, ~fl], lam[:, fl].ravel()]
    bounds = [(None, None)] * (int((~fl).sum()) + g * int(fl.sum()))
    if lay.has_phi:
        parts.append(phi[1:])
        bounds += [(1e-6, None)] * (g - 1)
    theta = np.maximum(sd**2 - phi[:, None] * lam**2, 0.1 * sd**2)
    parts.append(theta.ravel())
    bounds += [(THETA_FLOOR * v, None) for v in (sd**2).ravel()]
    if lay.has_means:
        if prev is None or prev.level != "scalar":
            kappa = np.concatenate([[0.0], [np.median((means[j] - means[0]) / lam[0]) for j in range(1, g)]])
        tau = means - kappa[:, None] * lam  # exact for a group-specific intercept
        parts += [tau[:, ~ft].mean(axis=0), tau[:, ft].ravel(), kappa[1:]]
        bounds += [(None, None)] * (int((~ft).sum()) + g * int(ft.sum()) + g - 1)
    return np.concatenate(parts), bounds


def fit_multigroup(covs: np.ndarray, means: np.ndarray, ns: Sequence[float], level: str,
                   start_from: GroupFit | None = None, groups: Sequence[str] | None = None,
                   free_loadings: Sequence[int] = (), free_intercepts: Sequence[int] = ()) -> GroupFit:
    """Fit one invariance ``level`` to ``covs`` (G x k x k), ``means`` (G x k), ``ns`` (G).

    ``free_loadings`` / ``free_intercepts``: positions of items whose loading (metric,
    scalar) or intercept (scalar) is released to differ between groups (partial
    invariance, Byrne, Shavelson & Muthen 1989); at least one item must stay equal.
    """
    if level not in LEVELS:
        raise EstimationError(f"invariance level {level!r}: expected one of {LEVELS}")
    covs, means, ns = np.asarray(covs, float), np.asarray(means, float), np.asarray(ns, float)
    g, k = means.shape
    groups = list(groups) if groups is not None else [str(j + 1) for j in range(g)]
    if k < 3:
        raise EstimationError(f"multi-group CFA: a one-factor model needs at least 3 items, got {k}")
    free_lam, free_tau = np.zeros(k, bool), np.zeros(k, bool)
    free_lam[list(free_loadings)] = True
    free_tau[list(free_intercepts)] = True
    if level == "configural":
        free_lam[:] = True
    elif free_lam.all() or (level == "scalar" and (free_lam | free_tau).all()):
        raise EstimationError(f"multi-group CFA ({level}): every item released; keep at least one "
                              "equal across groups to identify the model")
    lay = _Layout(level=level, g=g, k=k, free_lam=free_lam, free_tau=free_tau)
    logdet_s = np.empty(g)
    for j in range(g):
        sign, logdet = np.linalg.slogdet(covs[j])
        if sign <= 0:
            raise EstimationError(f"group {groups[j]}: the item covariance matrix is not positive "
                                  "definite (pairwise missing data); ML fit impossible")
        logdet_s[j] = logdet
    x0, bounds = _start(lay, covs, means, start_from)
    scale = ns.sum()
    # Variances (theta, phi) are fitted on the log scale, floored at their lower bound,
    # so the problem is unconstrained: BFGS rather than L-BFGS-B, whose small BLAS calls
    # are two orders slower on a loaded multi-core machine (OpenBLAS threading).
    pos = np.array([lo is not None for lo, _ in bounds])
    floor = np.log(np.array([lo if lo is not None else 1.0 for lo, _ in bounds]))

    def natural(u):
        return np.where(pos, np.exp(np.maximum(u, floor)), u)

    def fun(u):
        x = natural(u)
        f, grad = _objective(x, lay, covs, means, ns, logdet_s)
        chain = np.where(pos, np.where(u > floor, x, 0.0), 1.0)
        return f / scale, grad * chain / scale

    u0 = np.where(pos, np.log(np.maximum(x0, np.exp(floor))), x0)
    res = minimize(fun, u0, jac=True, method="BFGS", options={"maxiter": 20_000, "gtol": 1e-9})
    grad = fun(res.x)[1]
    if not res.success and np.max(np.abs(grad)) > 1e-6:
        raise EstimationError(f"multi-group CFA ({level}) did not converge: {res.message}")
    res.x = natural(res.x)
    lam, phi, theta, tau, kappa = _unpack(res.x, lay, means)
    sign = 1.0 if lam[0].sum() >= 0 else -1.0
    if level == "configural":
        sign = np.where(lam.sum(axis=1) >= 0, 1.0, -1.0)[:, None]
    moments = g * (k * (k + 1) // 2 + k)
    npar = res.x.size + (0 if level == "scalar" else g * k)  # saturated means count as free
    sd2 = np.diagonal(covs, axis1=1, axis2=2)
    heywood = tuple((int(a), int(b)) for a, b in np.argwhere(theta <= THETA_FLOOR * sd2 * (1 + 1e-6)))
    return GroupFit(level=level, loadings=lam * sign, phi=phi, theta=theta, intercepts=tau,
                    kappa=kappa * (sign if np.ndim(sign) == 0 else 1.0),
                    chisq=float(max(res.fun * scale, 0.0)), df=moments - npar, npar=npar, heywood=heywood)


def _baseline(covs: np.ndarray, ns: np.ndarray) -> tuple[float, int]:
    """Independence model (free variances and means per group): chi-square and df."""
    g, k, _ = covs.shape
    stat = sum(n * (np.log(np.diag(c)).sum() - np.linalg.slogdet(c)[1]) for c, n in zip(covs, ns, strict=True))
    return float(stat), g * k * (k - 1) // 2


@dataclass(frozen=True)
class Invariance:
    """The comparison table (one row per level), the fitted models, a one-line verdict,
    and the per-item release tests (:func:`item_release_tests`; None when not run)."""

    table: pd.DataFrame
    fits: dict
    verdict: str
    items: pd.DataFrame | None = None


def item_release_tests(covs: np.ndarray, means: np.ndarray, ns: Sequence[float], fits: Mapping[str, GroupFit],
                       names: Sequence[str], groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Which item breaks invariance: for each item, the metric model with that item's
    loading released across groups, and the scalar model with its intercept released.

    One row per (parameter, item): ``delta_chisq`` = chi-square of the constrained model
    minus that of the model with the item released (a likelihood-ratio statistic on
    ``G - 1`` df; Byrne, Shavelson & Muthen 1989), its ``p`` (descriptive, as in the
    module doc), and ``share``: the part of the step's misfit (metric minus configural,
    or scalar minus metric chi-square) that releasing the item removes.
    """
    g, k = np.asarray(means).shape
    step = {"metric": fits["metric"].chisq - fits["configural"].chisq,
            "scalar": fits["scalar"].chisq - fits["metric"].chisq}
    rows = []
    for level, what, kw in (("metric", "loading", "free_loadings"), ("scalar", "intercept", "free_intercepts")):
        base = fits[level]
        for i, name in enumerate(names):
            fit = fit_multigroup(covs, means, ns, level, start_from=base, groups=groups, **{kw: [i]})
            delta = max(base.chisq - fit.chisq, 0.0)
            rows.append({"parameter": what, "item": name, "delta_chisq": delta, "delta_df": base.df - fit.df,
                         "p": float(chi2_dist.sf(delta, base.df - fit.df)),
                         "share": delta / step[level] if step[level] > 0 else np.nan})
    return pd.DataFrame(rows)


def invariance_tests(covs: np.ndarray, means: np.ndarray, ns: Sequence[float],
                     groups: Sequence[str] | None = None) -> Invariance:
    """Configural, metric and scalar models, their fit, and their comparisons (module doc)."""
    covs, means, ns = np.asarray(covs, float), np.asarray(means, float), np.asarray(ns, float)
    g = means.shape[0]
    if g < 2:
        raise EstimationError(f"invariance needs at least 2 groups, got {g}")
    b_chisq, b_df = _baseline(covs, ns)
    n_total = ns.sum()
    fits, rows, prev = {}, [], None
    for level in LEVELS:
        fit = fit_multigroup(covs, means, ns, level, start_from=prev, groups=groups)
        fits[level], prev = fit, fit
        excess = max(fit.chisq - fit.df, 0.0)
        rmsea = np.sqrt(excess / (n_total * fit.df)) * np.sqrt(g) if fit.df > 0 else 0.0
        denom = max(b_chisq - b_df, fit.chisq - fit.df, 0.0)
        cfi = 1.0 - excess / denom if denom > 0 else 1.0
        rows.append({"model": level, "chisq": fit.chisq, "df": fit.df,
                     "p": float(chi2_dist.sf(fit.chisq, fit.df)) if fit.df > 0 else np.nan,
                     "cfi": cfi, "rmsea": rmsea, "npar": fit.npar})
    table = pd.DataFrame(rows)
    for col in ("chisq", "df", "cfi", "rmsea"):
        table[f"delta_{col}"] = table[col].diff()
    table["delta_p"] = [np.nan] + [float(chi2_dist.sf(c, d)) for c, d in
                                   zip(table["delta_chisq"][1:], table["delta_df"][1:], strict=True)]
    holds = (table["delta_cfi"] >= -MAX_CFI_DROP) & (table["delta_rmsea"] <= MAX_RMSEA_RISE)
    table["supported"] = [True] + list(holds[1:])
    table["groups"] = g
    table["n"] = int(n_total)
    table["note"] = ("normal-theory ML on pairwise moments; p values descriptive; supported: "
                     f"delta CFI >= -{MAX_CFI_DROP} and delta RMSEA <= {MAX_RMSEA_RISE}")
    reached = "configural"
    for level, ok in zip(LEVELS[1:], table["supported"][1:], strict=True):
        if not ok:
            break
        reached = level
    improper = [f"{lvl}: {groups[j] if groups is not None else j + 1}/item {i + 1}"
                for lvl, f in fits.items() for j, i in f.heywood]
    if improper:
        table["note"] = table["note"] + "; Heywood case (residual variance at its floor) in " + ", ".join(improper)
    conf = table.iloc[0]
    verdict = (f"{reached} invariance (configural CFI {conf['cfi']:.3f}, RMSEA {conf['rmsea']:.3f}"
               + ("; the configural model itself fits poorly" if conf["cfi"] < 0.90 else "") + ")")
    return Invariance(table=table, fits=fits, verdict=verdict)


def group_moments(df: pd.DataFrame, items: Sequence[str], group: str, reverse: Sequence[str] = (),
                  item_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
                  weight: str | None = None, errors: str = "raise",
                  ) -> tuple[list, np.ndarray, np.ndarray, np.ndarray, dict]:
    """Per level of ``group``: pairwise (weighted) covariance matrices with divisor n (as
    lavaan's maximum likelihood), item means and the
    respondents with at least one valid item. Returns ``(levels, covs, means, ns,
    excluded)``; a level whose moments cannot be computed (too few answers, an item
    without variance) raises, or with ``errors="skip"`` is left out and named with the
    reason in ``excluded``."""
    items = list(items)
    if group not in df.columns:
        raise DataError(f"group {group!r}: no such column; name a grouping variable of the data")
    levels = sorted(pd.unique(df[group].dropna()), key=str)
    covs, means, ns, kept, excluded = [], [], [], [], {}
    for level in levels:
        sub = df[(df[group] == level).to_numpy()]
        x = prepare_items(sub, items, reverse=reverse, item_range=item_range)
        w = row_weights(sub, weight)
        try:
            mom = item_moments(x, weight=w, names=items)
        except EstimationError as exc:
            if errors != "skip":
                raise EstimationError(f"{group} = {level!r}: {exc}") from exc
            excluded[str(level)] = str(exc)
            continue
        kept.append(level)
        valid = ~np.isnan(x)
        ww = np.ones(len(x)) if w is None else w
        means.append((np.where(valid, x, 0.0) * ww[:, None]).sum(axis=0) / (valid * ww[:, None]).sum(axis=0))
        # lavaan's ML fit uses covariances with divisor n (the likelihood's), not the
        # unbiased n - 1 of item_moments: undo its n/(n-1) factor, per pair of items.
        covs.append(mom.cov * (mom.n_pair - 1) / mom.n_pair)
        ns.append(mom.n)
    return kept, np.array(covs), np.array(means), np.array(ns, float), excluded


def invariance_by_group(df: pd.DataFrame, items: Sequence[str], group: str, reverse: Sequence[str] = (),
                        item_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
                        weight: str | None = None, item_tests: bool = True) -> Invariance:
    """:func:`invariance_tests` on the groups of ``df`` (reversed items reflected first),
    with :func:`item_release_tests` when ``item_tests``.

    A group whose moments cannot be computed is left out of the models and named, with
    the reason, in the verdict and the table's ``note``."""
    if len(items) < 3:
        raise EstimationError(f"multi-group CFA: a one-factor model needs at least 3 items, got {len(items)}")
    levels, covs, means, ns, excluded = group_moments(df, items, group, reverse, item_range, weight, errors="skip")
    names = [str(v) for v in levels]
    res = invariance_tests(covs, means, ns, groups=names)
    items_table = item_release_tests(covs, means, ns, res.fits, list(items), groups=names) if item_tests else None
    table, verdict = res.table, res.verdict
    if excluded:
        left_out = "; ".join(f"{g} left out ({why})" for g, why in excluded.items())
        table = table.assign(note=table["note"] + "; " + left_out)
        verdict = f"{verdict}; {left_out}"
    return Invariance(table=table, fits=res.fits, verdict=verdict, items=items_table)
