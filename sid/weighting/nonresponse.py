"""Non-response adjustment: weighting classes and response-propensity classes.

Weighting classes (Kalton & Flores-Cervantes 2003, "Weighting methods", J. Official
Statistics 19:81-97): within class c the respondents' weights are multiplied by
sum(w, eligible units in c) / sum(w, respondents in c), the inverse of the weighted
response rate; non-respondents get weight 0.

Propensity classes (Little 1986, "Survey nonresponse adjustments for estimates of
means", Int. Stat. Review 54:139-157): within each group (SID: origin group) a logistic
model of response on frame variables, fitted with statsmodels' GLM with the design
weights as frequency weights (same point estimates as R's ``svyglm``), gives every
eligible unit a response propensity; the units are cut into classes at the propensity
quantiles (quintiles by default) within the group, and the classes are used as
weighting classes. Classes rather than 1/propensity keep the factors stable.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    PerfectSeparationError,
    PerfectSeparationWarning,
)

from sid.errors import WeightingError
from sid.weighting.compress import group_codes

__all__ = ["NonresponseAdjustment", "weighting_class_adjustment", "propensity_adjustment"]


@dataclass(frozen=True)
class NonresponseAdjustment:
    """weights: adjusted (0 for non-respondents); factor per unit; cls: class label per unit;
    propensity: estimated response propensity per unit (NaN for plain weighting classes)."""

    weights: np.ndarray
    factor: np.ndarray
    cls: np.ndarray
    propensity: np.ndarray


def _responded(responded: np.ndarray | pd.Series, n: int) -> np.ndarray:
    r = np.asarray(responded)
    if r.shape != (n,):
        raise WeightingError(f"non-response: {r.size} response flags for {n} units")
    if r.dtype.kind == "f" and np.isnan(r).any():
        raise WeightingError(f"non-response: {int(np.isnan(r).sum())} units have no response flag")
    if not np.isin(r, [0, 1, True, False]).all():
        raise WeightingError("non-response: response flags must be 0/1 or True/False")
    return r.astype(bool)


def _weights(weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or not np.isfinite(w).all() or (w < 0).any():
        raise WeightingError("non-response: weights must be a finite (n,) array >= 0")
    return w


def weighting_class_adjustment(
    weights: np.ndarray, responded: np.ndarray | pd.Series, classes: np.ndarray | pd.Series
) -> NonresponseAdjustment:
    """Adjust eligible units' weights for non-response within weighting classes.

    weights: (n,) weights of the eligible units (after the eligibility adjustment);
    responded: (n,) bool; classes: (n,) class label. Respondents get factor
    W_c / W_{c,resp}; non-respondents 0. Raises WeightingError for a class with eligible
    weight but no responding weight (name it; collapse it with a neighbour).
    """
    w = _weights(weights)
    r = _responded(responded, w.size)
    codes, labels = group_codes(classes, "non-response: weighting class")
    k = len(labels)
    total = np.bincount(codes, weights=w, minlength=k)
    resp = np.bincount(codes, weights=w * r, minlength=k)
    empty = (resp <= 0) & (total > 0)
    if empty.any():
        c = int(np.flatnonzero(empty)[0])
        raise WeightingError(
            f"non-response: weighting class {labels[c]!r} has "
            f"{int(np.bincount(codes, minlength=k)[c])} eligible units but no respondent "
            "with a positive weight; collapse it with a neighbouring class"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        class_factor = np.where(resp > 0, total / np.where(resp > 0, resp, 1.0), 0.0)
    factor = np.where(r, class_factor[codes], 0.0)
    return NonresponseAdjustment(
        weights=w * factor,
        factor=factor,
        cls=labels[codes],
        propensity=np.full(w.size, np.nan),
    )


def _model_matrix(covariates: pd.DataFrame) -> np.ndarray:
    """Intercept, numeric columns as they are, other columns as k-1 dummies (first dropped)."""
    na = covariates.isna().sum()
    if na.any():
        var = na[na > 0].index[0]
        raise WeightingError(
            f"non-response model: frame variable '{var}' is missing for {int(na[var])} units; "
            "impute it or leave it out of the response model"
        )
    parts = [np.ones((len(covariates), 1))]
    for name, col in covariates.items():
        if pd.api.types.is_numeric_dtype(col) and not isinstance(col.dtype, pd.CategoricalDtype):
            parts.append(col.to_numpy(dtype=float)[:, None])
        else:
            dummies = pd.get_dummies(col.astype(str), prefix=str(name), drop_first=True)
            parts.append(dummies.to_numpy(dtype=float))
    return np.hstack(parts)


def _propensity(y: np.ndarray, Xg: np.ndarray, w: np.ndarray, group: object) -> np.ndarray:
    if y.all() or not y.any():
        raise WeightingError(
            f"non-response model, group {group!r}: all units {'responded' if y.all() else 'failed to respond'}; "
            "a response model needs both respondents and non-respondents"
        )
    # drop dummy columns that are constant within the group (a category absent here)
    keep = np.ones(Xg.shape[1], dtype=bool)
    keep[1:] = Xg[:, 1:].std(axis=0) > 0
    Xg = Xg[:, keep]
    if np.linalg.matrix_rank(Xg) < Xg.shape[1]:
        raise WeightingError(
            f"non-response model, group {group!r}: the frame variables are collinear in this "
            "group; drop or merge variables of the response model"
        )
    with warnings.catch_warnings():
        # perfect separation and non-convergence must not pass silently
        for category in (PerfectSeparationWarning, ConvergenceWarning, RuntimeWarning):
            warnings.simplefilter("error", category)
        try:
            fit = sm.GLM(y.astype(float), Xg, family=sm.families.Binomial(), freq_weights=w).fit()
        except (
            PerfectSeparationWarning,
            PerfectSeparationError,
            ConvergenceWarning,
            RuntimeWarning,
            np.linalg.LinAlgError,
        ) as exc:
            raise WeightingError(
                f"non-response model, group {group!r}: the logistic fit failed "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no message'}); "
                "merge sparse categories of the frame variables"
            ) from None
    return np.asarray(fit.predict(Xg))


def propensity_adjustment(
    weights: np.ndarray,
    responded: np.ndarray | pd.Series,
    covariates: pd.DataFrame,
    groups: np.ndarray | pd.Series,
    *,
    n_classes: int = 5,
) -> NonresponseAdjustment:
    """Response-propensity classes within groups, then weighting-class adjustment.

    weights: (n,) weights of the eligible units; responded: (n,) bool; covariates: frame
    variables of every eligible unit (respondents and non-respondents; categorical
    columns are dummy-coded); groups: (n,) group in which a separate model is fitted and
    classes are cut (SID: origin group); n_classes: propensity classes per group, cut at
    the unweighted propensity quantiles (ties stay together). Class labels are
    "<group>:<k>", k = 1 (lowest propensity) .. n_classes.
    """
    w = _weights(weights)
    r = _responded(responded, w.size)
    if len(covariates) != w.size:
        raise WeightingError(
            f"non-response model: {len(covariates)} covariate rows for {w.size} units"
        )
    if n_classes < 1:
        raise WeightingError("non-response: n_classes must be at least 1")
    X = _model_matrix(covariates.reset_index(drop=True))
    gcodes, glabels = group_codes(groups, "non-response: group")
    propensity = np.empty(w.size)
    klass = np.empty(w.size, dtype=np.int64)
    for j, label in enumerate(glabels):  # one model per group (a handful), not per unit
        idx = np.flatnonzero(gcodes == j)
        p = _propensity(r[idx], X[idx], w[idx], label)
        propensity[idx] = p
        edges = np.quantile(p, np.linspace(0, 1, n_classes + 1)[1:-1])
        klass[idx] = np.searchsorted(edges, p, side="right")
    # renumber so that empty quantile classes (ties) leave no gaps: 1..k within a group
    key = gcodes * (n_classes + 1) + klass
    _, dense = np.unique(key, return_inverse=True)
    first_of_group = np.full(len(glabels), np.iinfo(np.int64).max)
    np.minimum.at(first_of_group, gcodes, dense)
    rank = dense - first_of_group[gcodes] + 1
    labels = np.char.add(np.char.add(np.asarray(glabels, dtype=str)[gcodes], ":"), rank.astype(str))
    adj = weighting_class_adjustment(w, r, labels)
    return NonresponseAdjustment(
        weights=adj.weights, factor=adj.factor, cls=adj.cls, propensity=propensity
    )
