"""Calibration margins -> a sparse calibration matrix X (n x p) and its totals (p,).

A margin is either a categorical margin (one population total per category: one
indicator column per category) or a numeric margin (one population total of a numeric
variable: one column holding the variable). Interactions of categorical variables are
written ``"sex:age_band"`` with tuple keys ``{(1, 2): N}`` or string keys ``{"1:2": N}``.
A category written ``"5+6"`` (when no value of the variable is that text) is the union of
categories 5 and 6: a collapsed calibration cell (:mod:`sid.weighting.collapse`).

Unlike R's ``model.matrix`` (intercept plus k-1 dummies per factor), every category gets
its own column; the redundancy between several full categorical margins (each sums to
N) is resolved by :func:`sid.weighting.calibration.calibrate`, not by the caller.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from sid.errors import WeightingError

__all__ = ["calibration_matrix", "category_text", "categorical_codes"]


def _norm(value: object) -> str:
    """Canonical text of a category value, so 1, 1.0, np.int64(1) and "1" match."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    return str(value).strip()


def category_text(value: object) -> str:
    """The canonical text of a category in margin keys ("1" for 1, 1.0 and "1")."""
    return _norm(value)


def _codes(df: pd.DataFrame, margin: str, var: str) -> tuple[np.ndarray, dict[str, int], list]:
    """Integer codes of one categorical variable, and a map from canonical text to code."""
    if var not in df.columns:
        raise WeightingError(
            f"margin '{margin}': variable '{var}' is not in the data; add it or remove the margin"
        )
    col = df[var]
    missing = int(col.isna().sum())
    if missing:
        raise WeightingError(
            f"margin '{margin}': {missing} respondents have no value of '{var}'; "
            "impute or drop them before weighting"
        )
    codes, uniques = pd.factorize(col, sort=True)
    lookup: dict[str, int] = {}
    for i, u in enumerate(uniques):
        key = _norm(u)
        if key in lookup:
            raise WeightingError(
                f"margin '{margin}': variable '{var}' holds both {uniques[lookup[key]]!r} and "
                f"{u!r}, which cannot be told apart in margin keys; recode '{var}'"
            )
        lookup[key] = i
    return np.asarray(codes, dtype=np.int64), lookup, list(uniques)


def _key_parts(margin: str, key: object, nvars: int) -> tuple[str, ...]:
    """Split a margin key into one canonical text per variable of the margin."""
    if nvars == 1:
        parts: tuple = (key[0],) if isinstance(key, tuple) and len(key) == 1 else (key,)
    elif isinstance(key, tuple):
        parts = key
    elif isinstance(key, str):
        parts = tuple(key.split(":"))
    else:
        parts = (key,)
    if len(parts) != nvars:
        raise WeightingError(
            f"margin '{margin}': key {key!r} should name {nvars} categories "
            f"(a tuple or 'a:b' text), one per variable"
        )
    return tuple(_norm(p) for p in parts)


def _categorical(
    df: pd.DataFrame, margin: str, spec: Mapping, coded_vars: dict | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Column index (into this margin's categories) of every respondent, totals, names.

    ``coded_vars``: codes of variables already coded for an earlier margin (a cache, so a
    variable in several interactions is factorised once).
    """
    variables = [v.strip() for v in margin.split(":")]
    if coded_vars is None:
        coded_vars = {}
    coded = []
    for v in variables:
        if v not in coded_vars:
            coded_vars[v] = _codes(df, margin, v)
        coded.append(coded_vars[v])
    sizes = [len(c[2]) for c in coded]
    cell = np.ravel_multi_index([c[0] for c in coded], sizes) if len(coded) > 1 else coded[0][0]
    ncell = int(np.prod(sizes))
    col_of_cell = np.full(ncell, -1, dtype=np.int64)
    names: list[str] = []
    present = np.bincount(cell, minlength=ncell) > 0
    totals_list: list[float] = []
    for key, raw_total in spec.items():
        parts = _key_parts(margin, key, len(variables))
        total = _total(margin, key, raw_total)
        options: list[list[int]] = []
        for part, (_, lookup, _), var in zip(parts, coded, variables, strict=True):
            # "5+6": a collapsed category, the union of categories 5 and 6
            alts = part.split("+") if part not in lookup and "+" in part else [part]
            idx = [lookup[a] for a in alts if a in lookup]
            if not idx:
                if total == 0:
                    break  # an empty population cell without respondents: nothing to meet
                raise WeightingError(
                    f"margin '{margin}': category {key!r} has no respondents "
                    f"('{var}' never takes the value {part}); merge it with a neighbouring "
                    "category or drop it from the margin"
                )
            options.append(idx)
        if len(options) < len(parts):
            continue
        grid = np.array(list(itertools.product(*options)), dtype=np.int64)
        c = np.ravel_multi_index(tuple(grid.T), sizes) if len(sizes) > 1 else grid[:, 0]
        if not present[c].any():
            if total == 0:
                continue
            raise WeightingError(
                f"margin '{margin}': category {key!r} has no respondents; "
                "merge it with a neighbouring category or drop it from the margin"
            )
        if total == 0:
            raise WeightingError(
                f"margin '{margin}': category {key!r} has population total 0 but "
                f"{int(np.isin(cell, c).sum())} respondents; check the margin or the respondents' values"
            )
        if (col_of_cell[c] >= 0).any():
            raise WeightingError(f"margin '{margin}': category {key!r} is given twice")
        col_of_cell[c] = len(names)
        totals_list.append(total)
        names.append(f"{margin}={':'.join(parts)}")
    totals = np.asarray(totals_list, dtype=float)
    cols = col_of_cell[cell]
    if (cols < 0).any():
        first = int(np.flatnonzero(cols < 0)[0])
        absent = np.unique(cell[cols < 0])
        labels = []
        for a in absent[:5]:
            idx = np.unravel_index(int(a), sizes) if len(sizes) > 1 else (int(a),)
            labels.append(":".join(_norm(coded[k][2][i]) for k, i in enumerate(idx)))
        raise WeightingError(
            f"margin '{margin}': respondents have categories {', '.join(labels)} that the margin "
            f"lacks ({int((cols < 0).sum())} respondents, first at row {first}); "
            "add them to the margin or recode them"
        )
    return cols, totals, names


def _total(margin: str, key: object, total: object) -> float:
    try:
        value = float(total)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise WeightingError(
            f"margin '{margin}': total of {key!r} is {total!r}, not a number"
        ) from None
    if not np.isfinite(value) or value < 0:
        raise WeightingError(
            f"margin '{margin}': total of {key!r} is {total!r}; a population total must be a "
            "finite number >= 0"
        )
    return value


def _numeric(df: pd.DataFrame, margin: str) -> np.ndarray:
    if margin not in df.columns:
        raise WeightingError(
            f"margin '{margin}': variable '{margin}' is not in the data; add it or remove the margin"
        )
    try:
        values = pd.to_numeric(df[margin], errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise WeightingError(
            f"margin '{margin}': a single total was given but '{margin}' is not numeric; "
            "give one total per category instead"
        ) from None
    missing = int(np.isnan(values).sum())
    if missing:
        raise WeightingError(
            f"margin '{margin}': {missing} respondents have no value; "
            "impute or drop them before weighting"
        )
    inf = np.isinf(values)
    if inf.any():
        raise WeightingError(
            f"margin '{margin}': '{margin}' is infinite in row {int(np.flatnonzero(inf)[0])} "
            f"({int(inf.sum())} rows); recode those values"
        )
    return values


def calibration_matrix(
    df: pd.DataFrame,
    margins: Mapping[str, Mapping | float],
    *,
    total_tol: float = 1e-9,
) -> tuple[sp.csr_matrix, np.ndarray, list[str]]:
    """Build the calibration matrix X (n x p, CSR), the population totals (p,) and names.

    ``margins`` maps a variable (or ``"a:b"`` interaction) to ``{category: total}``, or a
    numeric variable to its population total. Column names are ``"stype=E"``,
    ``"sex:age_band=1:2"`` and ``"api99"``. All categorical margins must describe the same
    population: their sums must agree within ``total_tol`` (relative), else
    :class:`~sid.errors.WeightingError` names the two margins and their sums.
    """
    if not margins:
        raise WeightingError("no calibration margins given; name at least one margin")
    n = len(df)
    rows, cols, vals = [], [], []
    totals: list[np.ndarray] = []
    names: list[str] = []
    offset = 0
    first_sum: tuple[str, float] | None = None
    coded_vars: dict = {}
    for margin, spec in margins.items():
        margin = str(margin)
        if isinstance(spec, pd.Series):
            spec = spec.to_dict()
        if isinstance(spec, Mapping):
            if not spec:
                raise WeightingError(f"margin '{margin}' has no categories")
            c, t, nm = _categorical(df, margin, spec, coded_vars)
            rows.append(np.arange(n))
            cols.append(c + offset)
            vals.append(np.ones(n))
            s = float(t.sum())
            if first_sum is None:
                first_sum = (margin, s)
            elif abs(s - first_sum[1]) > total_tol * max(abs(s), abs(first_sum[1]), 1.0):
                raise WeightingError(
                    f"margins disagree: '{first_sum[0]}' sums to {first_sum[1]:.10g} but "
                    f"'{margin}' sums to {s:.10g}; categorical margins must describe the same "
                    "population"
                )
        else:
            x = _numeric(df, margin)
            nz = np.flatnonzero(x)
            rows.append(nz)
            cols.append(np.full(nz.size, offset))
            vals.append(x[nz])
            t = np.array([_number(margin, spec)])
            nm = [margin]
        totals.append(t)
        names.extend(nm)
        offset += len(nm)
    if all(r.shape[0] == n for r in rows) and all(isinstance(v, Mapping | pd.Series) for v in margins.values()):
        # categorical margins only: one entry per row and margin, already in column order
        indices = np.column_stack(cols).ravel() if n else np.zeros(0, np.int64)
        X = sp.csr_matrix((np.ones(indices.size), indices, np.arange(0, indices.size + 1, len(cols))),
                          shape=(n, offset))
    else:
        X = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, offset)
        )
    X.sort_indices()
    return X, np.concatenate(totals), names


def categorical_codes(X: sp.csr_matrix, n_margins: int) -> list[np.ndarray]:
    """Category codes (n,) of each margin, from X of :func:`calibration_matrix` built on
    ``n_margins`` categorical margins only (one indicator per margin in every row).

    A row's sorted column indices are one per margin in margin order; every column has a
    respondent, so a margin's smallest index is its first column. The codes are the
    margin's column index minus that first column.
    """
    n = X.shape[0]
    if X.nnz != n * n_margins:
        raise WeightingError(
            f"the calibration matrix has {X.nnz} entries, not one per respondent and margin "
            f"({n} x {n_margins}); categorical_codes needs categorical margins only"
        )
    idx = X.indices.reshape(n, n_margins)
    return [idx[:, j] - idx[:, j].min() for j in range(n_margins)] if n else [idx[:, j] for j in range(n_margins)]


def _number(margin: str, total: object) -> float:
    """A numeric margin's total (may be negative: a sum of a signed variable)."""
    try:
        value = float(total)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise WeightingError(f"margin '{margin}': total {total!r} is not a number") from None
    if not np.isfinite(value):
        raise WeightingError(f"margin '{margin}': total {total!r} is not finite")
    return value
