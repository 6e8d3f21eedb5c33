"""Estimators of a Design as tables: mean, total, ratio, proportion, domain comparisons.

Each returns a DataFrame with (by-variables...), variable[, category], estimate, se,
ci_low, ci_high, cv, n (unweighted), weighted_n, deff, df, method, lonely_psu.
Design effects follow R's ``deff=TRUE`` (survey 4.1, ``svymean.survey.design2``): the
variance over that of simple random sampling without replacement of the same number of
respondents, var_srs = s_w^2 / n * (N - n) / N with s_w^2 the weighted variance with
divisor n - 1 (``svyvar``); for totals var_srs = s_w^2 * sum(w^2) * (N - n) / N.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sid.errors import EstimationError
from sid.estimation.domains import as_list, check_columns, group_codes
from sid.estimation.intervals import (
    PROPORTION_CI,
    korn_graubard_interval,
    logit_interval,
    t_interval,
)
from sid.estimation.linear import RatioResult, group_totals, ratio_estimate
from sid.estimation.multi import multi_ratio_estimate, srs_variances

# Columns per product with the replicate weights when several variables are asked: the
# dense (n x columns) blocks stay small (n = 350,000: 64 columns are 180 MB).
MAX_BATCH_COLUMNS = 64


def numeric(design, variable: str) -> np.ndarray:
    """The numeric column ``variable`` as float (NaN for missing); raises if not numeric or
    if a value is infinite."""
    check_columns(design.data, [variable], "estimate")
    col = design.data[variable]
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
        raise EstimationError(
            f"variable {variable!r} is not numeric (dtype {col.dtype}); use proportion() for categories"
        )
    y = col.to_numpy(dtype=float, na_value=np.nan)
    inf = np.isinf(y)
    if inf.any():  # NaN is missing; +-inf would turn every sum into inf or NaN
        raise EstimationError(f"variable {variable!r} is infinite in row {int(np.flatnonzero(inf)[0])} "
                              f"({int(inf.sum())} rows); recode or set those values missing")
    return y


def groups(design, by) -> tuple[np.ndarray, pd.DataFrame, list[str]]:
    """Group codes, group label frame and the by-names for ``by``."""
    names = as_list(by)
    key = tuple(names)
    if key not in design._group_cache:
        check_columns(design.data, names, "by")
        design._group_cache[key] = group_codes(design.data, names)
    g, labels = design._group_cache[key]
    return g, labels, names


def _srs_variance(design, Y, X, dom, g, G, res: RatioResult, kind: str) -> np.ndarray:
    """R's deff denominator per cell (G x m), for "mean" or "total" (ratio: total of lin)."""
    w = design.weights
    rows = np.flatnonzero(dom & (g >= 0))
    gr = g[rows]
    est = res.estimate
    if X is None:
        mean_y = res.numerator / np.where(res.weighted_n > 0, res.weighted_n, np.nan)[:, None]
        dev = Y[rows] - mean_y[gr]
    elif kind == "total":  # ratio: linearised variable (y - r x) / T_x, weighted mean 0
        dev = (Y[rows] - est[gr] * X[rows]) / res.denominator[gr]
    else:
        dev = Y[rows] - est[gr] * X[rows]
    sq = np.zeros_like(Y)
    sq[rows] = dev**2
    n_g = res.n[:, None]
    N_g = res.weighted_n[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        svyvar = group_totals(sq, g, rows, G, w) / N_g * n_g / (n_g - 1)
        fpc = (N_g - n_g) / N_g
        if kind == "mean":
            return svyvar / n_g * fpc
        w2 = np.bincount(gr, weights=w[rows] ** 2, minlength=G)[:, None]
        return svyvar * w2 * fpc


def table(design, labels: pd.DataFrame, variable, res: RatioResult, level: float,
          srs: np.ndarray | None, ci=None, categories=None) -> pd.DataFrame:
    """Assemble the output frame (one row per group x category, group-major)."""
    return tables(design, labels, [(variable, res, srs, ci, categories)], level)


def tables(design, labels: pd.DataFrame, items: list, level: float) -> pd.DataFrame:
    """The frames of several estimates of one grouping, one after the other, built as one
    frame (``items``: (variable, res, srs, ci, categories) as the arguments of :func:`table`)."""
    df = float(design.degf)
    G = len(labels)
    cols: dict[str, list] = {c: [] for c in ("variable", "category", "estimate", "se", "ci_low", "ci_high",
                                             "cv", "n", "weighted_n", "deff")}
    rows = []
    for variable, res, srs, ci, categories in items:
        m = res.estimate.shape[1]
        estimate = res.estimate.ravel()
        se = np.sqrt(np.clip(np.diag(res.vcov), 0, None))
        lo, hi = ci(estimate, se, df) if ci is not None else t_interval(estimate, se, df, level)
        rows.append(np.repeat(np.arange(G), m))
        cols["variable"].append(np.full(G * m, variable, dtype=object))
        if categories is not None:
            cols["category"].append(np.tile(np.asarray(categories, dtype=object), G))
        with np.errstate(divide="ignore", invalid="ignore"):
            cols["estimate"].append(estimate)
            cols["se"].append(se)
            cols["ci_low"].append(lo)
            cols["ci_high"].append(hi)
            cols["cv"].append(se / estimate)
            cols["n"].append(np.repeat(res.n, m).astype(np.int64))
            cols["weighted_n"].append(np.repeat(res.weighted_n, m))
            cols["deff"].append(se**2 / srs.ravel() if srs is not None else np.full(G * m, np.nan))
    if cols["category"] and len(cols["category"]) < len(items):
        raise EstimationError("tables: give categories for every item or for none")
    out = labels.iloc[np.concatenate(rows)].reset_index(drop=True)
    new = {c: np.concatenate(v) for c, v in cols.items() if v}
    new["df"] = np.full(len(out), df)
    new["method"] = design.method
    new["lonely_psu"] = design.lonely_psu
    return pd.concat([out, pd.DataFrame(new, index=out.index)], axis=1)


def _run(design, Y, X, dom, g, G) -> RatioResult:
    if not (dom & (g >= 0)).any():
        raise EstimationError("estimate: no respondent in the domain has a value; nothing to estimate")
    return ratio_estimate(Y, X, dom, g, G, design.weights, **design._variance_args())


Block = tuple[str, np.ndarray, np.ndarray, np.ndarray | None]  # name, Y (0 if missing), non-missing, categories


def _batches(blocks: list[Block]) -> list[list[int]]:
    """Consecutive runs of the variables' column blocks of at most MAX_BATCH_COLUMNS columns."""
    out: list[list[int]] = [[]]
    width = 0
    for j, (_, block, _, _) in enumerate(blocks):
        if out[-1] and width + block.shape[1] > MAX_BATCH_COLUMNS:
            out.append([])
            width = 0
        out[-1].append(j)
        width += block.shape[1]
    return out


def _several(design, blocks: list[Block], by, kind: str, level: float, ci: str | None = None) -> pd.DataFrame:
    """Tables of several variables, one estimate per batch of columns (multi_ratio_estimate).

    ``blocks``: per variable (name, Y (n x m_j) with 0 where missing, its non-missing mask
    (n,), its categories or None);
    rows as separate calls, variable after variable.
    """
    g, labels, _ = groups(design, by)
    G = len(labels)
    valid = g >= 0
    parts = []
    for batch in _batches(blocks):
        Ys = [blocks[j][1] for j in batch]
        masks = []
        for j in batch:
            name, _, ok, _ = blocks[j]
            mask = design.domain & ok
            if not (mask & valid).any():
                raise EstimationError(f"estimate: no respondent in the domain has a value of {name!r}; nothing to estimate")
            masks.append(mask)
        Y = np.concatenate(Ys, axis=1)
        M = np.column_stack(masks).astype(float)
        widths = [b.shape[1] for b in Ys]
        var_of = np.repeat(np.arange(len(batch)), widths)
        res, vcovs = multi_ratio_estimate(Y, M, var_of, kind, design.domain, g, G, design.weights,
                                          **design._variance_args())
        srs_all = srs_variances(Y, M, var_of, g, G, design.weights, design.domain, res, kind)
        items = []
        start = 0
        for pos, j in enumerate(batch):
            name, _, _, cats = blocks[j]
            cols = np.arange(start, start + widths[pos])
            start += widths[pos]
            sub = RatioResult(res.estimate[:, cols], vcovs[pos], res.numerator[:, cols],
                              res.denominator[:, cols], res.n[:, cols[0]], res.weighted_n[:, cols[0]], None)
            srs = srs_all[:, cols]
            items.append((name, sub, srs, _interval(ci, sub, level), cats))
        parts.append(tables(design, labels, items, level))
    return pd.concat(parts, ignore_index=True)


def _interval(ci: str | None, res: RatioResult, level: float):
    """The CI function of proportions (None: t intervals)."""
    if ci is None:
        return None
    if ci == "logit":
        def interval(p, se, df):
            return logit_interval(p, se, df, level)
        return interval
    n_cell = np.repeat(res.n, res.estimate.shape[1])

    def kg(p, se, df):
        return korn_graubard_interval(p, se, n_cell, df, level)
    return kg


def _numeric_blocks(design, variables: list[str]) -> list[Block]:
    out = []
    for v in variables:
        y = numeric(design, v)
        out.append((v, np.nan_to_num(y)[:, None], ~np.isnan(y), None))
    return out


def _as_variables(variable) -> list[str] | None:
    """A list of variable names, or None for one name (the single-variable path)."""
    if isinstance(variable, str):
        return None
    names = list(variable)
    if not names or not all(isinstance(v, str) for v in names):
        raise EstimationError(f"estimate: give a variable name or a non-empty list of names, got {variable!r}")
    if len(set(names)) < len(names):
        raise EstimationError(f"estimate: variables {names!r} name one variable twice; give each once")
    return names


def mean(design, variable: str | list[str], by=None, level: float = 0.95) -> pd.DataFrame:
    """Domain means of a numeric variable (R ``svyby(~y, ~by, design, svymean, deff=TRUE)``);
    a list of variables: one long frame, one pass over the replicate weights (multi.py)."""
    names = _as_variables(variable)
    if names is not None:
        return _several(design, _numeric_blocks(design, names), by, "mean", level)
    y = numeric(design, variable)
    g, labels, _ = groups(design, by)
    dom = design.domain & ~np.isnan(y)
    Y = np.nan_to_num(y)[:, None]
    res = _run(design, Y, np.ones_like(Y), dom, g, len(labels))
    srs = _srs_variance(design, Y, None, dom, g, len(labels), res, "mean")
    return table(design, labels, variable, res, level, srs)


def total(design, variable: str | list[str], by=None, level: float = 0.95) -> pd.DataFrame:
    """Domain totals of a numeric variable (R ``svytotal``); a list: as :func:`mean`."""
    names = _as_variables(variable)
    if names is not None:
        return _several(design, _numeric_blocks(design, names), by, "total", level)
    y = numeric(design, variable)
    g, labels, _ = groups(design, by)
    dom = design.domain & ~np.isnan(y)
    Y = np.nan_to_num(y)[:, None]
    res = _run(design, Y, None, dom, g, len(labels))
    srs = _srs_variance(design, Y, None, dom, g, len(labels), res, "total")
    return table(design, labels, variable, res, level, srs)


def ratio(design, numerator: str, denominator: str, by=None, level: float = 0.95) -> pd.DataFrame:
    """Domain ratios of totals (R ``svyratio``); rows missing either variable are left out."""
    y, x = numeric(design, numerator), numeric(design, denominator)
    g, labels, _ = groups(design, by)
    dom = design.domain & ~np.isnan(y) & ~np.isnan(x)
    Y, X = np.nan_to_num(y)[:, None], np.nan_to_num(x)[:, None]
    res = _run(design, Y, X, dom, g, len(labels))
    srs = _srs_variance(design, Y, X, dom, g, len(labels), res, "total")
    return table(design, labels, f"{numerator}/{denominator}", res, level, srs)


def categories_of(design, variable: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes (n,) (-1 missing) and the sorted categories of a categorical variable."""
    check_columns(design.data, [variable], "proportion")
    col = design.data[variable]
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy().astype(np.int64), np.asarray(col.cat.categories)
    codes, cats = pd.factorize(col, sort=True)
    return codes.astype(np.int64), np.asarray(cats)


def _category_block(design, variable: str) -> Block:
    codes, cats = categories_of(design, variable)
    if cats.shape[0] == 0:
        raise EstimationError(f"proportion: variable {variable!r} has no non-missing values")
    Y = np.zeros((codes.shape[0], cats.shape[0]))
    ok = np.flatnonzero(codes >= 0)
    Y[ok, codes[ok]] = 1.0
    return variable, Y, codes >= 0, cats


def proportion(design, variable: str | list[str], by=None, ci: str = "logit",
               level: float = 0.95) -> pd.DataFrame:
    """Share of each category in each domain; CI by ``ci``: "logit" or "korn-graubard";
    a list of variables: as :func:`mean`."""
    if ci not in PROPORTION_CI:
        raise EstimationError(f"proportion: ci={ci!r} is not one of {', '.join(PROPORTION_CI)}")
    names = _as_variables(variable)
    if names is not None:
        return _several(design, [_category_block(design, v) for v in names], by, "share", level, ci)
    codes, cats = categories_of(design, variable)
    if cats.shape[0] == 0:
        raise EstimationError(f"proportion: variable {variable!r} has no non-missing values")
    g, labels, _ = groups(design, by)
    dom = design.domain & (codes >= 0)
    Y = np.zeros((codes.shape[0], cats.shape[0]))
    ok = np.flatnonzero(codes >= 0)
    Y[ok, codes[ok]] = 1.0
    res = _run(design, Y, np.ones_like(Y), dom, g, len(labels))
    srs = _srs_variance(design, Y, None, dom, g, len(labels), res, "mean")
    n_cell = np.repeat(res.n, cats.shape[0])
    if ci == "logit":
        def interval(p, se, df):
            return logit_interval(p, se, df, level)
    else:
        def interval(p, se, df):
            return korn_graubard_interval(p, se, n_cell, df, level)
    return table(design, labels, variable, res, level, srs, ci=interval, categories=cats)


def compare(design, variable: str, by, reference=None, level: float = 0.95) -> pd.DataFrame:
    """Each domain mean minus the ``reference`` domain's (default: the first), with SE from
    the joint covariance of the domain means, a t-test on the design's df, and its p-value.
    """
    y = numeric(design, variable)
    g, labels, names = groups(design, by)
    if not names:
        raise EstimationError("compare: give by= (the domains to compare)")
    dom = design.domain & ~np.isnan(y)
    Y = np.nan_to_num(y)[:, None]
    res = _run(design, Y, np.ones_like(Y), dom, g, len(labels))
    key = labels[names[0]].astype(str) if len(names) == 1 else labels[names].astype(str).agg(":".join, axis=1)
    if reference is None:
        r = 0
    else:
        hits = np.flatnonzero(key.to_numpy() == str(reference))
        if hits.size == 0:
            raise EstimationError(f"compare: reference {reference!r} is not a domain of {by!r}; domains: {', '.join(key)}")
        r = int(hits[0])
    e = res.estimate[:, 0]
    V = res.vcov
    diff = e - e[r]
    se = np.sqrt(np.clip(np.diag(V) + V[r, r] - 2 * V[:, r], 0, None))
    df = float(design.degf)
    lo, hi = t_interval(diff, se, df, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = diff / se
    out = labels.copy()
    out["variable"] = variable
    out["reference"] = key.iloc[r]
    out["estimate"] = e
    out["difference"] = diff
    out["se"] = se
    out["ci_low"] = lo
    out["ci_high"] = hi
    out["t"] = t
    out["df"] = df
    out["p"] = 2 * stats.t.sf(np.abs(t), df)
    out["method"] = design.method
    return out.drop(index=r).reset_index(drop=True)
