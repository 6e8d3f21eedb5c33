"""Survey-weighted generalised linear models: ``Design.glm`` (R survey's ``svyglm``).

The coefficients are those of the weighted GLM (weights rescaled to mean 1, as
``svyglm(rescale=TRUE)``; R's IRLS iterates, :mod:`sid.estimation.glm_fit`). Their
covariance is design-based:

- Taylor: the sandwich of ``svy.varcoef``, the design covariance of the influence
  columns ``x_i r_i w_i A^-1`` (working residuals r, working weights w of the last IRLS
  fit, A^-1 = (X' W X)^-1), through :meth:`Design.influence_vcov`, so strata, PSUs, fpc,
  lonely PSUs and calibrations count as for every estimator;
- replicate: the model refitted on every replicate weight column (normalised to sum 1,
  started at the full-sample coefficients, as ``svyglm.svyrep.design``), all columns at
  once, and :meth:`Design.replicate_vcov` of the replicate coefficients.

t-tests and intervals use df = degf + 1 - p (R's ``df.residual``; degf over the rows of
the fit for Taylor designs, over the domain for replicate designs, as R computes it);
:meth:`SurveyGLM.wald` is ``regTermTest`` (F on (k, df), or chi-square when df is
infinite), :meth:`SurveyGLM.predict` is ``predict.svyglm`` and
:meth:`SurveyGLM.predmeans` is ``svypredmeans``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sid.errors import EstimationError
from sid.estimation.glm_family import Family, family
from sid.estimation.glm_fit import cross_products, irls
from sid.estimation.glm_formula import ModelFrame, model_frame, new_matrix
from sid.estimation.intervals import t_quantile


@dataclass(frozen=True)
class SurveyGLM:
    """A fitted survey GLM. ``table``: one row per coefficient (term, estimate, se, t,
    df, p, ci_low, ci_high; with a logit link also odds_ratio, or_ci_low, or_ci_high);
    ``coef`` and ``vcov`` labelled by R's coefficient names; ``df`` the residual df;
    ``n`` rows used; ``replicates`` the replicate coefficients (R x p) of a replicate
    design."""

    formula: str
    family: str
    coef: pd.Series
    vcov: pd.DataFrame
    df: float
    n: int
    method: str
    table: pd.DataFrame
    replicates: np.ndarray | None
    frame: ModelFrame = field(repr=False)
    design: object = field(repr=False)
    level: float = 0.95

    def wald(self, terms, df: float | None = None) -> pd.DataFrame:
        """Wald test that every coefficient of ``terms`` is 0 (R ``regTermTest``):
        ``terms`` a term name, a list of them or a formula such as ``"~ stype + ell"``.
        One row: terms, F, ndf, ddf, p (F on the model's df, or ``df`` given), or with
        ``df=inf`` chisq, ndf, p."""
        names = _term_names(terms)
        known = {_canonical(t): t for t in self.frame.terms}
        missing = [t for t in names if _canonical(t) not in known]
        if missing:
            raise EstimationError(f"wald: term {missing[0]!r} is not in the model; terms: {', '.join(known.values())}")
        index = np.sort(np.concatenate([self.frame.terms[known[_canonical(t)]] for t in names]))
        beta = self.coef.to_numpy()[index]
        V = self.vcov.to_numpy()[np.ix_(index, index)]
        chisq = float(beta @ np.linalg.solve(V, beta))
        k = index.shape[0]
        ddf = self.df if df is None else float(df)
        row = {"terms": " + ".join(known[_canonical(t)] for t in names), "ndf": k}
        if np.isinf(ddf):
            row.update(chisq=chisq, p=float(stats.chi2.sf(chisq, k)))
        else:
            row.update(F=chisq / k, ddf=ddf, p=float(stats.f.sf(chisq / k, k, ddf)))
        return pd.DataFrame([row])

    def predict(self, newdata: pd.DataFrame, type: str = "link") -> pd.DataFrame:
        """Predictions for the rows of ``newdata`` with SEs (R ``predict.svyglm``):
        ``type`` "link" (x b, se sqrt(x V x')) or "response" (mu, delta method)."""
        if type not in ("link", "response"):
            raise EstimationError(f"predict: type={type!r} is not 'link' or 'response'")
        X = new_matrix(self.frame, newdata)
        eta = X @ self.coef.to_numpy()
        var = np.einsum("ij,jk,ik->i", X, self.vcov.to_numpy(), X)
        fam = family(self.family)
        if type == "link":
            return pd.DataFrame({"estimate": eta, "se": np.sqrt(var)})
        d = fam.mu_eta(eta)
        return pd.DataFrame({"estimate": fam.linkinv(eta), "se": np.sqrt(var) * np.abs(d)})

    def predmeans(self, by: str) -> pd.DataFrame:
        """Predicted means per level of ``by`` adjusted for the model's terms (R
        ``svypredmeans(model, ~by)``): the model is refitted with ``+ by``; for each
        level, every respondent's prediction with ``by`` set to it, averaged; the
        variance adds the model's (g' V g) to that of the average of the predictions."""
        return predicted_means(self, by)


def _term_names(terms) -> list[str]:
    if isinstance(terms, str):
        text = terms.split("~", 1)[1] if "~" in terms else terms
        names = [t.strip() for t in text.split("+") if t.strip()]
    else:
        names = [str(t) for t in terms]
    if not names:
        raise EstimationError("wald: give at least one term")
    return names


def _canonical(term: str) -> str:
    return ":".join(sorted(p.strip() for p in term.split(":")))


def _prior_weights(design, rows: np.ndarray) -> np.ndarray:
    """The fit's prior weights at ``rows``: the design's weights over their mean over the
    rows of the (domain's) design, R's ``rescale=TRUE``."""
    from sid.estimation.estimators import design_rows

    w = design.weights
    dom = design.domain
    n_rows = design_rows(design, np.where(dom, 0, -1), 1)[0]
    return w[rows] / (w[dom].sum() / n_rows)


def _replicate_coefs(design, frame: ModelFrame, fam: Family, beta: np.ndarray) -> np.ndarray:
    """Coefficients (R x p) refitted on every replicate column at once (NaN for a
    replicate without weight on the rows of the fit)."""
    W = design.replicate_weights[frame.rows]
    sums = W.sum(axis=0)
    ok = sums > 0
    out = np.full((W.shape[1], beta.shape[0]), np.nan)
    if ok.any():
        out[ok] = irls(frame.X, frame.y, W[:, ok] / sums[ok], fam, start=beta).coef
    return out


def fit_glm(design, formula: str, family_name: str = "gaussian", level: float = 0.95) -> SurveyGLM:
    """Fit ``formula`` on ``design`` (its domain); see the module docstring."""
    fam = family(family_name)
    frame = model_frame(formula, design.data, np.flatnonzero(design.domain))
    fam.check(frame.y, f"glm {formula!r}")
    prior = _prior_weights(design, frame.rows)
    fit = irls(frame.X, frame.y, prior[:, None], fam)
    beta = fit.coef[0]
    p = beta.shape[0]
    g = np.where(design.domain, 0, -1)
    if design.replicate_weights is None:
        wt = fit.working[:, 0]
        eta = fit.eta[:, 0]
        resid = (frame.y - fit.mu[:, 0]) / fam.mu_eta(eta)
        A = cross_products(frame.X, wt[:, None])[0]
        d = np.sqrt(np.diag(A))
        Ainv = np.linalg.inv(A / np.outer(d, d)) / np.outer(d, d)
        U = np.zeros((design.data.shape[0], p))
        U[frame.rows] = (frame.X * (resid * wt)[:, None]) @ Ainv
        V = design.influence_vcov(U)
        replicates = None
        used = np.zeros(design.data.shape[0], dtype=bool)
        used[frame.rows] = True
        degf = design.group_degf(g, 1, mask=used)[0]
    else:
        replicates = _replicate_coefs(design, frame, fam, beta)
        V = design.replicate_vcov(replicates, beta)
        degf = design.group_degf(g, 1)[0]
    df = float(degf + 1 - p)
    names = frame.names
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = beta / se
    pval = 2 * stats.t.sf(np.abs(t), df) if df > 0 else np.full(p, np.nan)
    q = t_quantile(level, df) if df > 0 else np.nan
    table = pd.DataFrame({"term": names, "estimate": beta, "se": se, "t": t, "df": df, "p": pval,
                          "ci_low": beta - q * se, "ci_high": beta + q * se})
    if fam.link == "logit":
        table["odds_ratio"] = np.exp(beta)
        table["or_ci_low"] = np.exp(table["ci_low"])
        table["or_ci_high"] = np.exp(table["ci_high"])
    table["method"] = design.method
    return SurveyGLM(formula, fam.name, pd.Series(beta, index=names), pd.DataFrame(V, index=names, columns=names),
                     df, int(frame.rows.shape[0]), design.method, table, replicates, frame, design, level)


def predicted_means(model: SurveyGLM, by: str) -> pd.DataFrame:
    """R's ``svypredmeans``: see :meth:`SurveyGLM.predmeans`."""
    design = model.design
    if by not in design.data.columns:
        raise EstimationError(f"predmeans: variable {by!r} is not in the data")
    sub_design = design.subset(np.isin(np.arange(design.data.shape[0]), model.frame.rows))
    full = fit_glm(sub_design, f"{model.formula} + {by}", model.family, model.level)
    fam = family(model.family)
    rows = full.frame.rows
    data = design.data.iloc[rows]
    levels = sorted(pd.unique(data[by].dropna()), key=lambda v: (str(type(v)), v))
    w = design.weights[rows]
    b = full.coef.to_numpy()
    fits = np.empty((rows.shape[0], len(levels)))
    grad = np.empty((b.shape[0], len(levels)))
    for j, level in enumerate(levels):  # loop over the levels of by, each vectorised
        X = new_matrix(full.frame, data.assign(**{by: level}))
        eta = X @ b
        fits[:, j] = fam.linkinv(eta)
        grad[:, j] = (w * fam.mu_eta(eta)) @ X / w.sum()
    est = w @ fits / w.sum()
    if design.replicate_weights is None:
        U = np.zeros((design.data.shape[0], len(levels)))
        U[rows] = w[:, None] * (fits - est) / w.sum()
        cond = design.influence_vcov(U)
    else:
        W = design.replicate_weights[rows]
        thetas = (W.T @ fits) / W.sum(axis=0)[:, None]
        cond = design.replicate_vcov(thetas, est)
    V = grad.T @ full.vcov.to_numpy() @ grad + cond
    return pd.DataFrame({by: levels, "estimate": est, "se": np.sqrt(np.diag(V)), "method": design.method})
