"""Estimators of a Design as tables: mean, total, ratio, proportion, domain comparisons.

Each returns a DataFrame with (by-variables...), variable[, category], estimate, se,
ci_low, ci_high, cv, n (unweighted), weighted_n, deff, df, method, lonely_psu, and the
covariance of its rows in ``attrs["vcov"]`` (sid.estimation.contrast).
Design effects follow R's ``deff=TRUE`` (survey 4.1, ``svymean.survey.design2``): the
variance over that of simple random sampling without replacement of the same number of
respondents, var_srs = s_w^2 / n * (N - n) / N with s_w^2 the weighted variance with
divisor n - 1 (``svyvar``); for totals (``svytotal.survey.design2``) var_srs =
s_w^2 * N^2 / n * (N - n) / N, N the sum of the weights; a ratio's deff is that of the
total of its linearised variable (``svyratio``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sid.errors import EstimationError
from sid.estimation.contrast import attach
from sid.estimation.domains import as_list, check_columns
from sid.estimation.intervals import (
    PROPORTION_CI,
    korn_graubard_interval,
    logit_interval,
    t_interval,
)
from sid.estimation.linear import RatioResult, group_totals, ratio_estimate
from sid.estimation.multi import multi_ratio_estimate, srs_variances

# Columns per product with the replicate weights when several variables are asked: the
# dense (n x columns) blocks stay small (n = 385,000: 32 columns are 99 MB; results do not
# depend on the batching, each variable is computed as alone).
MAX_BATCH_COLUMNS = 32


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
    g, labels = design.group_codes(names)
    return g, labels, names


def _ratio_srs_variance(design, Y, X, dom, g, G, res: RatioResult) -> np.ndarray:
    """R's deff denominator per cell (G x 1) of a ratio: that of the total of its
    linearised variable (y - r x) / T_x (R ``svyratio``: ``deff(svytotal(r, design))``);
    means, totals and shares take theirs from ``multi.srs_variances``."""
    w = design.weights
    rows = np.flatnonzero(dom & (g >= 0))
    gr = g[rows]
    dev = (Y[rows] - res.estimate[gr] * X[rows]) / res.denominator[gr]  # weighted mean 0
    sq = np.zeros_like(Y)
    sq[rows] = dev**2
    n_g = res.n[:, None]
    N_g = res.weighted_n[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        svyvar = group_totals(sq, g, rows, G, w) / N_g * n_g / (n_g - 1)
        return svyvar * N_g**2 / n_g * (N_g - n_g) / N_g


def table(design, labels: pd.DataFrame, variable, res: RatioResult, level: float,
          srs: np.ndarray | None, ci=None, categories=None, dfs: np.ndarray | None = None) -> pd.DataFrame:
    """Assemble the output frame (one row per group x category, group-major)."""
    return tables(design, labels, [(variable, res, srs, ci, categories)], level, dfs)


def group_df(design, g: np.ndarray, labels: pd.DataFrame) -> np.ndarray:
    """Degrees of freedom (G,) of the intervals of each group: the design's df without
    by-variables, else each domain's own (R: ``degf`` of the domain's subset design, as
    ``svyby`` with ``svyciprop`` / ``svyquantile`` use)."""
    if labels.shape[1] == 0:
        return np.full(len(labels), float(design.degf))
    return design.group_degf(g, len(labels)).astype(float)


def design_rows(design, g: np.ndarray, G: int) -> np.ndarray:
    """Rows (G,) of each group's subset design, R's ``nrow(design)`` (missing values of
    the variable included). R's ``subset`` of a calibrated design keeps every row (zero
    weight outside the domain), so there it is the whole sample, as in R."""
    if design.method == "taylor" and design.calibrations:
        return np.full(G, float(len(design.data)))
    inside = design.domain & (g >= 0)
    return np.bincount(g[inside], minlength=G).astype(float)


def tables(design, labels: pd.DataFrame, items: list, level: float,
           dfs: np.ndarray | None = None) -> pd.DataFrame:
    """The frames of several estimates of one grouping, one after the other, built as one
    frame (``items``: (variable, res, srs, ci, categories) as the arguments of :func:`table`;
    ``dfs`` (G,) the degrees of freedom per group, default the design's)."""
    G = len(labels)
    dfs = np.full(G, float(design.degf)) if dfs is None else np.asarray(dfs, float)
    df_col = []
    cols: dict[str, list] = {c: [] for c in ("variable", "category", "estimate", "se", "ci_low", "ci_high",
                                             "cv", "n", "weighted_n", "deff")}
    rows = []
    for variable, res, srs, ci, categories in items:
        m = res.estimate.shape[1]
        estimate = res.estimate.ravel()
        se = np.sqrt(np.clip(np.diag(res.vcov), 0, None))
        df = np.repeat(dfs, m)
        df_col.append(df)
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
    new["df"] = np.concatenate(df_col)
    new["method"] = design.method
    new["lonely_psu"] = design.lonely_psu
    frame = pd.concat([out, pd.DataFrame(new, index=out.index)], axis=1)
    return attach(frame, [item[1].vcov for item in items])


def _run(design, Y, X, dom, g, G) -> RatioResult:
    if not (dom & (g >= 0)).any():
        raise EstimationError("estimate: no respondent in the domain has a value; nothing to estimate")
    return ratio_estimate(Y, X, dom, g, G, design.weights, **design.variance_args())


class Indicators:
    """The (n x k) 0/1 indicators of a variable's category codes (-1: missing), made only
    when its batch is estimated: a call on many categorical variables holds one batch's
    dense columns at a time, not every variable's (n x k) block."""

    def __init__(self, codes: np.ndarray, k: int):
        self.codes, self.shape = codes, (codes.shape[0], k)

    def dense(self) -> np.ndarray:
        Y = np.zeros(self.shape)
        ok = np.flatnonzero(self.codes >= 0)
        Y[ok, self.codes[ok]] = 1.0
        return Y


def _dense(block) -> np.ndarray:
    return block.dense() if isinstance(block, Indicators) else block


# name, Y (0 if missing; or its Indicators), non-missing, categories
Block = tuple[str, "np.ndarray | Indicators", np.ndarray, np.ndarray | None]


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
    dfs = group_df(design, g, labels)
    nrows = design_rows(design, g, G)
    parts = []
    for batch in _batches(blocks):
        Ys = [_dense(blocks[j][1]) for j in batch]
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
                                          **design.variance_args())
        srs_all = srs_variances(Y, M, var_of, g, G, design.weights, design.domain, res, kind)
        items = []
        start = 0
        for pos, j in enumerate(batch):
            name, _, _, cats = blocks[j]
            cols = np.arange(start, start + widths[pos])
            start += widths[pos]
            reps = None if res.replicates is None else res.replicates[:, cols]
            sub = RatioResult(res.estimate[:, cols], vcovs[pos], res.numerator[:, cols],
                              res.denominator[:, cols], res.n[:, cols[0]], res.weighted_n[:, cols[0]], None, reps)
            srs = srs_all[:, cols]
            items.append((name, sub, srs, _interval(ci, nrows, sub, design, level), cats))
        parts.append(tables(design, labels, items, level, dfs))
    frame = pd.concat(parts, ignore_index=True)
    return attach(frame, [b for p in parts for b in p.attrs["vcov"].blocks])


def _interval(ci: str | None, nrows: np.ndarray, res: RatioResult, design, level: float):
    """The CI function of proportions (None: t intervals); ``nrows`` (G,) the rows of
    each group's design (Korn-Graubard's n, R's ``nrow(design)``). On a replicate design
    the logit interval takes its SE on the logit scale from the replicates' logits, as
    R's ``svyciprop`` (a quasibinomial ``svyglm`` refitted per replicate) does; on a
    Taylor design that SE is the delta method's se(p) / (p (1 - p)), R's sandwich."""
    if ci is None:
        return None
    if ci == "logit":
        se_logit = None
        if res.replicates is not None:
            G, m, R = res.replicates.shape
            with np.errstate(divide="ignore", invalid="ignore"):
                logit_r = np.log(res.replicates / (1 - res.replicates)).reshape(G * m, R).T
                logit = np.log(res.estimate / (1 - res.estimate)).ravel()
            # A cell whose share is 0 or 1 in some replicate (R's refit then stops near
            # logit -20 or 20, an artefact) keeps the delta method on the replicate
            # variance of p; p = 0 or 1 itself is the point.
            finite = np.isfinite(logit) & np.isfinite(logit_r).all(axis=0)
            se_logit = np.full(G * m, np.nan)
            if finite.any():
                V = design.replicate_vcov(logit_r[:, finite], logit[finite])
                se_logit[finite] = np.sqrt(np.clip(np.diag(V), 0, None))

        def interval(p, se, df):
            return logit_interval(p, se, df, level, se_logit=se_logit)
        return interval
    n_cell = np.repeat(nrows, res.estimate.shape[1])

    def kg(p, se, df):
        return korn_graubard_interval(p, se, n_cell, df, level)
    return kg


def _numeric_blocks(design, variables: list[str]) -> list[Block]:
    out = []
    for v in variables:
        y = numeric(design, v)
        out.append((v, np.nan_to_num(y)[:, None], ~np.isnan(y), None))
    return out


def _variables(variable) -> list[str]:
    """The variable names asked: one name is a list of one."""
    if isinstance(variable, str):
        return [variable]
    names = list(variable)
    if not names or not all(isinstance(v, str) for v in names):
        raise EstimationError(f"estimate: give a variable name or a non-empty list of names, got {variable!r}")
    if len(set(names)) < len(names):
        raise EstimationError(f"estimate: variables {names!r} name one variable twice; give each once")
    return names


def mean(design, variable: str | list[str], by=None, level: float = 0.95) -> pd.DataFrame:
    """Domain means of a numeric variable (R ``svyby(~y, ~by, design, svymean, deff=TRUE)``);
    a list of variables: one long frame, one pass over the replicate weights (multi.py).
    One variable is a list of one: a single estimation path."""
    return _several(design, _numeric_blocks(design, _variables(variable)), by, "mean", level)


def total(design, variable: str | list[str], by=None, level: float = 0.95) -> pd.DataFrame:
    """Domain totals of a numeric variable (R ``svytotal``); a list: as :func:`mean`."""
    return _several(design, _numeric_blocks(design, _variables(variable)), by, "total", level)


def ratio(design, numerator: str, denominator: str, by=None, level: float = 0.95) -> pd.DataFrame:
    """Domain ratios of totals (R ``svyratio``); rows missing either variable are left out."""
    y, x = numeric(design, numerator), numeric(design, denominator)
    g, labels, _ = groups(design, by)
    dom = design.domain & ~np.isnan(y) & ~np.isnan(x)
    Y, X = np.nan_to_num(y)[:, None], np.nan_to_num(x)[:, None]
    res = _run(design, Y, X, dom, g, len(labels))
    srs = _ratio_srs_variance(design, Y, X, dom, g, len(labels), res)
    return table(design, labels, f"{numerator}/{denominator}", res, level, srs, dfs=group_df(design, g, labels))


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
    return variable, Indicators(codes, cats.shape[0]), codes >= 0, cats


def proportion(design, variable: str | list[str], by=None, ci: str = "logit",
               level: float = 0.95) -> pd.DataFrame:
    """Share of each category in each domain; CI by ``ci``: "logit" or "korn-graubard";
    a list of variables: as :func:`mean`."""
    if ci not in PROPORTION_CI:
        raise EstimationError(f"proportion: ci={ci!r} is not one of {', '.join(PROPORTION_CI)}")
    blocks = [_category_block(design, v) for v in _variables(variable)]
    return _several(design, blocks, by, "share", level, ci)


def category_totals(design, variables: list[str], by=None, level: float = 0.95) -> pd.DataFrame:
    """Totals of the category indicators of each of ``variables`` per domain (R
    ``svytotal(~factor(x))``): estimated counts, one row per group x category."""
    if not variables or not all(isinstance(v, str) for v in variables):
        raise EstimationError(f"count: give a variable name or a list of names, got {variables!r}")
    return _several(design, [_category_block(design, v) for v in variables], by, "total", level)


def compare(design, variable: str, by, reference=None, level: float = 0.95) -> pd.DataFrame:
    """Each domain mean minus the ``reference`` domain's (default: the first), with SE from
    the joint covariance of the domain means, a t-test and its p-value.

    The t-tests are those of the coefficients of ``svyglm(y ~ by)``: df = degf + 1 - G
    with G domains and degf over the rows with y and by (R's ``df.residual``); for two
    domains that is ``svyttest``'s degf - 1.
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
    used = np.where(g >= 0, 0, -1)
    df = float(design.group_degf(used, 1, mask=~np.isnan(y))[0] + 1 - len(labels))
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
