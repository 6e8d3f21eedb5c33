"""Survey indicators for VLIM: weighted estimates by VLIM origin category, with disclosure.

:func:`survey_indicators` is a pure function over a DataFrame of respondents (one row
each, with the final weight, the design columns and the variables the indicators read),
a :class:`sid.linkage.spec.LinkageSpec`, and the design column names. It returns the long
"VLIM shape" the indicator base stores: one row per indicator x geography x VLIM origin
category x breakdown cell.

Estimation goes through :class:`sid.estimation.design.Design` (Taylor linearisation, R
``survey`` semantics): a share is the weighted mean of a 0/1 indicator (the condition;
respondents where it is unknown are left out), with the logit interval of R's
``svyciprop(method="logit")``; a mean has R's ``confint(svymean)`` t-interval on the
design's degrees of freedom. Universe and geography are domains (``Design.subset``), never
filters, so the SEs keep the full design.

Pooled categories: the VLIM category is a by-variable built from the SID origin group.
The final weights are calibrated to each group's population, so the weighted estimate
over the union of groups (sum w y / sum w over the pooled rows) represents the pooled
population of those groups - and only of those groups: the ``note`` column says which
SID groups a category pools and what of the VLIM category they leave out.

Disclosure (DESIGN.md): where the unweighted n of a cell is below ``spec.min_n`` the
value, SE, CI and CV are suppressed (NULL) and flagged ``suppressed_n<min``; a CV above
``spec.max_cv`` is flagged ``cv>max`` (published with a warning, as VLIM does).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd

from sid.errors import EstimationError, LinkageError
from sid.estimation.design import Design
from sid.estimation.intervals import logit_interval
from sid.linkage.base import NOT_APPLICABLE, status_from_flags
from sid.linkage.schema import DIMENSIONS, GENERATION, ORIGIN, TOTAL, VALUE_COLUMNS
from sid.linkage.spec import LinkageSpec, SurveyIndicator, base_catalogue
from sid.spec.expr_nodes import to_array
from sid.spec.frame import FrameEnv, valid_array

_ORIGIN = "_vlim_origin"
#: a breakdown cell of which this share lies outside the universe is noted as cut by it
CUT_SHARE = 0.1


class _PlainEnv(Mapping[str, np.ndarray]):
    """Expression environment over a frame without a questionnaire (values as they are)."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self._cache: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._cache:
            if name not in self.df.columns:
                raise KeyError(name)
            self._cache[name] = to_array(self.df[name])
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(map(str, self.df.columns))

    def __len__(self) -> int:
        return len(self.df.columns)


def _check_columns(df: pd.DataFrame, spec: LinkageSpec, design_cols: list[str]) -> None:
    cols = set(map(str, df.columns))
    om = spec.origin_map
    for c in design_cols + [om.origin_variable]:
        if c not in cols:
            raise LinkageError(f"respondent data: design/origin column {c!r} is missing; "
                               "give the respondents with their final weight and origin group")
    for geo in spec.geographies:
        for name in sorted(geo.condition.names - cols):
            raise LinkageError(f"{spec.path}: geography {geo.code}: variable {name!r} is not in the respondent data")
    for ind in spec.indicators:
        needed = set(ind.names()) | {spec.dimensions[d] for bd in ind.breakdowns for d in bd}
        for name in sorted(needed - cols):
            raise LinkageError(f"{spec.path}: indicator {ind.code}: variable {name!r} is not in the "
                               "respondent data; fix the indicator or add the variable")


def _origin_codes(df: pd.DataFrame, spec: LinkageSpec) -> tuple[np.ndarray, dict[str, tuple[str, ...]]]:
    """VLIM category per respondent, and the SID groups present per category."""
    om = spec.origin_map
    groups = df[om.origin_variable].astype(object)
    if groups.isna().any():
        i = int(np.flatnonzero(groups.isna().to_numpy())[0])
        raise LinkageError(f"respondent data: row {i}: origin group ({om.origin_variable}) is missing")
    groups = groups.map(str)
    mapping = om.group_to_category()
    unmapped = sorted(set(groups.unique()) - set(mapping))
    if unmapped:
        n = int((groups == unmapped[0]).sum())
        raise LinkageError(f"{om.path}: origin group {unmapped[0]!r} ({n} respondents) has no VLIM "
                           "category; add it to a category's groups in the origin map")
    cats = groups.map(mapping).to_numpy(dtype=object)
    present = {c.code: tuple(g for g in c.groups if g in set(groups.unique())) for c in om.categories}
    return cats, present


def _as_text(values: pd.Series, labels: Mapping[str, str]) -> np.ndarray:
    """Codes as text (1.0 -> "1"), then their label where the spec gives one; None missing."""
    arr = to_array(values)
    if arr.dtype == object:
        text = arr  # text codes (origin-style); to_array already made blanks None
    else:
        ok = ~np.isnan(arr)
        whole = ok & (arr == np.round(arr))
        text = np.full(arr.shape, None, dtype=object)
        text[whole] = arr[whole].astype(np.int64).astype(str)
        text[ok & ~whole] = arr[ok & ~whole].astype(str)
    return _relabel(text, labels)


def _relabel(text: np.ndarray, labels: Mapping[str, str | None]) -> np.ndarray:
    """Map each distinct value through ``labels`` (unlisted values stay); None stays None.
    Vectorised: the mapping runs over the distinct values, then is indexed per row."""
    codes, uniq = pd.factorize(pd.Series(text, dtype=object), use_na_sentinel=True)
    mapped = np.array([labels.get(u, u) for u in uniq] + [None], dtype=object)
    return mapped[codes]


def _columns(df, spec, env) -> tuple[pd.DataFrame, dict[str, tuple[str, ...]]]:
    """The columns the estimation reads, under internal names (``_vlim_origin``,
    ``_bd_<dimension>``, ``_y<i>``), so they never clash with the respondents' own."""
    om = spec.origin_map
    cols: dict[str, np.ndarray] = {}
    cols[_ORIGIN], present = _origin_codes(df, spec)
    for dim, name in spec.dimensions.items():
        if name not in df.columns:
            continue  # only a breakdown that uses it needs it (checked by _check_columns)
        if dim == GENERATION:
            gen = _as_text(df[name], {})
            # codes the map does not list (0: Belgian origin) have no generation: missing
            keep = {code: om.generations.get(code) for code in pd.unique(gen[pd.notna(gen)])}
            cols[f"_bd_{dim}"] = _relabel(gen, keep)
        else:
            cols[f"_bd_{dim}"] = _as_text(df[name], spec.labels.get(dim, {}))
    n = len(df)
    q = spec.questionnaire
    for i, ind in enumerate(spec.indicators):
        if ind.statistic == "share":
            y = ind.condition.evaluate(env, n)
            if y.dtype == object or not np.isin(y[~np.isnan(y)], (0.0, 1.0)).all():
                raise LinkageError(f"{spec.path}: indicator {ind.code}: condition {ind.condition.source!r} "
                                   "is not true/false; write a comparison")
        else:
            codes = q.missing_codes_for(ind.variable) if q is not None and ind.variable in q.names() else ()
            y = valid_array(df[ind.variable], codes)
            if y.dtype == object:
                raise LinkageError(f"{spec.path}: indicator {ind.code}: variable {ind.variable!r} is text; "
                                   "a mean needs a numeric variable")
        cols[f"_y{i}"] = y
    return pd.DataFrame(cols), present


def _domain(ind: SurveyIndicator, geo_mask: np.ndarray, env, n: int) -> np.ndarray:
    mask = geo_mask.copy()
    if ind.universe is not None:
        mask &= ind.universe.holds(env, n)
    return mask


def survey_indicators(
    data: pd.DataFrame | Design,
    spec: LinkageSpec,
    *,
    weight: str = "weight",
    strata: str | None = None,
    psu: str | None = None,
    fpc: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """The spec's survey indicators over the respondents, long (VLIM shape).

    ``data``: a DataFrame of respondents (a Design is built from ``weight``, ``strata``,
    ``psu``, ``fpc``), or a Design (e.g. ``sid.open_wave(run).design``: the weight stage's
    replicate weights or calibration-aware Taylor SEs; its data must hold the variables).

    Columns: sid.linkage.schema.VALUE_COLUMNS: indicator_code, period, geography, origin
    (VLIM category), the breakdown dimensions (generation, sex, age_band; ``total`` where
    not broken down, each fed by the survey variable the spec's ``dimensions`` names), value (percent for shares), se, ci_low,
    ci_high (at ``level``), cv, n (unweighted respondents in the cell), numerator,
    denominator (NULL: survey values are not counts), flags, note (origin coverage), and the
    SDMX attributes (obs_status Q/U/A and conf_status C/F from the flags; unit_mult 0;
    decimals 1 for a share in percent, 2 for a mean).
    """
    if isinstance(data, Design):
        df = data.data.reset_index(drop=True)
        _check_columns(df, spec, [])
    else:
        design_cols = list(dict.fromkeys(c for c in (weight, strata, psu, fpc) if c))
        _check_columns(data, spec, design_cols)
        df = data.reset_index(drop=True)
    n = len(df)
    env = FrameEnv(df, spec.questionnaire) if spec.questionnaire is not None else _PlainEnv(df)
    cols, present = _columns(df, spec, env)
    if isinstance(data, Design):
        # The estimation columns are added to the given design's rows (same order): weights,
        # strata, PSUs, replicates and calibration residuals carry over unchanged.
        design = data.with_columns(cols)
    else:
        work = pd.concat([df[design_cols], cols], axis=1)
        design = Design(work, weight=weight, strata=strata, psu=psu, fpc=fpc)
    notes = {code: spec.origin_map.note(code, groups) for code, groups in present.items() if groups}
    parts = []
    for geo in spec.geographies:
        geo_mask = geo.condition.holds(env, n)
        for i, ind in enumerate(spec.indicators):
            domain = _domain(ind, geo_mask, env, n)
            sub = design.subset(domain)
            for bd in ind.breakdowns:
                by = [_ORIGIN, *(f"_bd_{d}" for d in bd)]
                try:
                    est = sub.mean(f"_y{i}", by=by, level=level)
                except EstimationError as exc:
                    raise LinkageError(f"indicator {ind.code}, geography {geo.code}: {exc}") from None
                if ind.universe is not None:
                    est = est.merge(_coverage(cols, by, geo_mask, domain), on=by, how="left")
                parts.append(_shape(est, ind, geo.code, bd, spec, level, notes))
    out = pd.concat(parts, ignore_index=True)
    return out[list(VALUE_COLUMNS)]


def _coverage(cols: pd.DataFrame, by: list[str], geo_mask: np.ndarray, domain: np.ndarray) -> pd.DataFrame:
    """Per cell of ``by`` (in the geography): respondents (``_in_geo``) and those in the
    indicator's universe (``_in_universe``)."""
    frame = cols.loc[geo_mask, by].assign(_in_geo=1, _in_universe=domain[geo_mask].astype(int))
    return frame.groupby(by, dropna=True, as_index=False)[["_in_geo", "_in_universe"]].sum()


def _universe_flags(est: pd.DataFrame, ind: SurveyIndicator, bd: tuple[str, ...], flags: np.ndarray,
                    note: pd.Series) -> pd.Series:
    """Mark cells outside the indicator's universe ``not_applicable`` (in ``flags``): the
    cell has respondents in the geography, none in the universe, so no value can exist
    (an indicator on ages 20-64 has none for 65-85). Where a breakdown cuts the universe
    (a cell of which at least :data:`CUT_SHARE` of the respondents lie outside it, while
    another cell of the breakdown lies (all but that share) in it or wholly out), the partial cell's note
    says that it counts only those in the universe (the band 15-24 of that indicator
    holds 20-24 year olds only). The share keeps a universe's item non-response (a few
    per cent everywhere) from being taken for a cut. Returns the notes."""
    if "_in_geo" not in est.columns:
        return note
    in_geo = est["_in_geo"].fillna(0).to_numpy(dtype=np.int64)
    in_uni = est["_in_universe"].fillna(0).to_numpy(dtype=np.int64)
    outside = (in_geo > 0) & (in_uni == 0)
    flags[outside] = NOT_APPLICABLE
    partial = (in_uni > 0) & (in_geo - in_uni >= CUT_SHARE * in_geo)
    inside = (in_geo > 0) & (in_geo - in_uni < CUT_SHARE * in_geo)
    if bd and partial.any() and (inside | outside).any():
        label = ind.universe_label or ind.universe.source
        cat = base_catalogue()
        text = pd.Series([cat("indicator_base.cut_note", label=label, inside=u, all=g)
                          for u, g in zip(in_uni, in_geo, strict=True)], index=note.index)
        joined = note.where(note.isna(), note + "; " + text).where(note.notna(), text)
        note = joined.where(pd.Series(partial, index=note.index), note)
    return note


def _shape(est: pd.DataFrame, ind: SurveyIndicator, geo: str, bd: tuple[str, ...],
           spec: LinkageSpec, level: float, notes: Mapping[str, str]) -> pd.DataFrame:
    """One Design result -> base rows, with percent scaling and disclosure."""
    p = est["estimate"].to_numpy(dtype=float)
    se = est["se"].to_numpy(dtype=float)
    if ind.statistic == "share":
        lo, hi = logit_interval(p, se, est["df"].to_numpy(dtype=float), level)
        scale = 100.0
    else:
        lo, hi = est["ci_low"].to_numpy(dtype=float), est["ci_high"].to_numpy(dtype=float)
        scale = 1.0
    nn = est["n"].to_numpy(dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = se / np.abs(p)
    small = nn < spec.min_n
    flags = np.where(small, f"suppressed_n<{spec.min_n}", "").astype(object)
    noisy = ~small & (cv > spec.max_cv)
    flags[noisy] = f"cv>{spec.max_cv:g}"
    out = pd.DataFrame({
        "indicator_code": ind.code,
        "period": spec.period,
        "geography": geo,
        ORIGIN: est[_ORIGIN].to_numpy(dtype=object),
    })
    for dim in DIMENSIONS:
        out[dim] = est[f"_bd_{dim}"].to_numpy(dtype=object) if dim in bd else TOTAL
    hide = np.where(small, np.nan, 1.0)
    out["value"] = p * scale * hide
    out["se"] = se * scale * hide
    out["ci_low"] = lo * scale * hide
    out["ci_high"] = hi * scale * hide
    out["cv"] = cv * hide
    out["n"] = nn
    out["numerator"] = np.nan
    out["denominator"] = np.nan
    out["note"] = _universe_flags(est, ind, bd, flags, out[ORIGIN].map(notes))
    out["flags"] = flags
    out["obs_status"], out["conf_status"] = status_from_flags(out["flags"])
    out["unit_mult"] = 0
    out["decimals"] = 1 if ind.statistic == "share" else 2
    return out
