"""The weighting chain of DESIGN.md on the gross sample, as one pure function.

1. design weights d = N_h / n_h per stratum (:mod:`sid.weighting.design_weights`);
2. eligibility: not eligible leave, the weight of unknown eligibility is passed on to the
   eligible in the known-eligible share per stratum (:mod:`sid.weighting.eligibility`);
3. non-response: response-propensity classes (logistic model within the group, cut at
   quantiles; adjacent classes of fewer than ``nonresponse.min_respondents`` respondents
   merged) or weighting classes (:mod:`sid.weighting.nonresponse`);
4. calibration to the frame's totals within each calibration group (SID: origin group),
   margins like ``sex:age_band`` counted in the register frame for that group
   (:mod:`sid.weighting.calibration`); with ``calibration.collapse`` sparse cells are
   first merged with a neighbour, once here on the full sample, and the replicates
   calibrate to the same cells (:mod:`sid.weighting.collapse`); with ``calibration.pooled``
   margins over all groups are met jointly with the groups' margins in one calibration
   (:mod:`sid.weighting.pooled`);
5. trimming to bounds relative to the group's median (or absolute), alternated with
   re-calibration until both hold (:mod:`sid.weighting.group_trimming`).

Calibrating each origin group to its own margins is the same as calibrating the whole
sample to the margins crossed with the group (``stratum:sex:age_band``): the groups share
no respondent and no margin column. Doing it group by group gives per-group iterations
and errors that name the group. References: Valliant, Dever & Kreuter (2018), Practical
Tools for Designing and Weighting Survey Samples, 2nd ed., ch. 13-14 (the chain);
Deville & Särndal (1992) (calibration).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from sid.errors import WeightingError
from sid.spec.weighting import CalibrationSpec, WeightingSpec
from sid.weighting.calibration import calibration_matrix
from sid.weighting.collapse import Collapse, collapse_group, merge_propensity_classes
from sid.weighting.design_weights import design_weights
from sid.weighting.eligibility import ELIGIBLE, NOT_ELIGIBLE, UNKNOWN, adjust_eligibility
from sid.weighting.frame import checked_frame
from sid.weighting.group_trimming import trim_bounds, trim_groups
from sid.weighting.groups import GroupMargins
from sid.weighting.margins import category_text
from sid.weighting.nonresponse import propensity_adjustment, weighting_class_adjustment
from sid.weighting.pooled import (
    JOINT,
    POOLED,
    check_coherent,
    crossed_margins,
    joint_convergence,
    pooled_totals,
)

__all__ = ["STATUS_OF_OUTCOME", "GroupMargins", "ChainResult", "eligibility_status",
           "frame_margins", "frame_uses", "calibrate_groups", "trim_bounds", "trim_groups", "run_chain"]

#: AAPOR outcome class -> eligibility status (AAPOR Standard Definitions, 10th ed.)
STATUS_OF_OUTCOME = {"I": ELIGIBLE, "P": ELIGIBLE, "R": ELIGIBLE, "NC": ELIGIBLE, "O": ELIGIBLE,
                     "UH": UNKNOWN, "UO": UNKNOWN, "NE": NOT_ELIGIBLE}
ALL = "all"  # the one calibration group when the spec calibrates without `within`


@dataclass
class ChainResult:
    """The chain's weights and what the replicate chain and the diagnostics reuse.

    Gross-sample arrays (n,): ``stratum``, ``design_weight``, ``status``,
    ``eligibility_factor``, ``responded``, ``nr_class`` (class label of eligible units,
    None otherwise), ``nonresponse_factor``. ``resp``: gross-sample positions of the
    respondents; respondent arrays: ``prior`` (before calibration), ``calibrated``
    (before trimming), ``weight`` (final), ``trimmed``, ``cal_group``, ``trim_group``.
    ``convergence``: one dict per calibration group. ``margins``: the calibrated cells as
    whole-sample margins (``{"stratum:sex:age_band": {"BEL:1:1": N}}``) for
    :meth:`sid.estimation.design.Design.calibrated` (collapsed cells keyed ``"BEL:1:5+6"``).
    ``collapses``: the calibration cells merged on the full sample (spec
    ``calibration.collapse``), one :class:`~sid.weighting.collapse.Collapse` each;
    ``nr_merged``: the propensity classes merged (spec ``nonresponse.min_respondents``).
    With ``calibration.pooled``: ``joint``, the one system of all respondents (group
    margins crossed with the group + pooled margins) that was calibrated and trimmed,
    ``pooled``, the pooled margins alone (diagnostics); ``margins`` then holds both kinds.
    """

    stratum: np.ndarray
    design_weight: np.ndarray
    status: np.ndarray
    eligibility_factor: np.ndarray
    responded: np.ndarray
    nr_class: np.ndarray
    nonresponse_factor: np.ndarray
    resp: np.ndarray
    prior: np.ndarray
    calibrated: np.ndarray
    weight: np.ndarray
    trimmed: np.ndarray
    cal_group: np.ndarray
    trim_group: np.ndarray
    groups: list[GroupMargins]
    convergence: list[dict] = field(default_factory=list)
    margins: dict = field(default_factory=dict)
    collapses: list[Collapse] = field(default_factory=list)
    nr_merged: list[dict] = field(default_factory=list)
    joint: GroupMargins | None = None
    pooled: GroupMargins | None = None

    def calibration_units(self) -> tuple[list[GroupMargins], str | None]:
        """The systems calibrated (and re-calibrated after trimming): the groups, or the
        one joint system when the spec has pooled margins; and the where-text of errors
        (None: the spec's ``within``)."""
        return (self.groups, None) if self.joint is None else ([self.joint], JOINT)


def eligibility_status(outcome: pd.Series | np.ndarray) -> np.ndarray:
    """Eligibility status ("eligible", "not_eligible", "unknown") of AAPOR outcome classes."""
    s = pd.Series(np.asarray(outcome, dtype=object))
    status = s.map(STATUS_OF_OUTCOME)
    if status.isna().any():
        raise WeightingError(f"eligibility: outcome class {s[status.isna()].iloc[0]!r} is not an "
                             f"AAPOR class ({', '.join(STATUS_OF_OUTCOME)})")
    return status.to_numpy(dtype=object)


def _labels(values: pd.Series, what: str) -> np.ndarray:
    if values.isna().any():
        raise WeightingError(f"{what}: {int(values.isna().sum())} sampled persons have no value of "
                             f"'{values.name}'; every person of the gross sample needs one")
    codes, uniques = pd.factorize(values)  # canonical text of the distinct values only
    return np.array([category_text(u) for u in uniques], dtype=object)[codes]


def frame_margins(frame: pd.DataFrame, count: str, within: str | None,
                  margins: tuple[tuple[str, ...], ...]) -> dict[str, dict[str, dict[str, float]]]:
    """Population totals per group: ``{group: {"sex:age_band": {"1:2": N, ...}, ...}}``.

    frame: register counts, one row per cell, ``count`` column; within: the frame's
    group column (None: one group "all"); margins: variable tuples of the spec. Frame
    rows without a value of a margin variable drop out of that margin only, so that
    margins then disagree and calibration says so.
    """
    need = [count] + ([within] if within else []) + [v for m in margins for v in m]
    lacking = [c for c in dict.fromkeys(need) if c not in frame.columns]
    if lacking:
        raise WeightingError(f"frame: no column {lacking[0]!r}; the calibration margins need it")
    f = frame.assign(_group=frame[within].map(category_text) if within else ALL)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for m in margins:
        name = ":".join(m)
        sums = f.groupby(["_group", *m], dropna=True, observed=True)[count].sum()
        for key, total in sums.items():
            g, *cats = key
            out.setdefault(str(g), {}).setdefault(name, {})[
                ":".join(category_text(c) for c in cats)] = float(total)
    return out


def _margin_codes(X: sp.csr_matrix, T: np.ndarray, names: list[str]):
    """Per categorical margin: each row's category code, the totals, the margin's name.

    The columns of one margin are consecutive and named ``"margin=category"``; every row
    has exactly one of them (calibration_matrix's layout).
    """
    margin = np.array([n.split("=", 1)[0] for n in names], dtype=object)
    starts = np.flatnonzero(np.r_[True, margin[1:] != margin[:-1]])
    ends = np.r_[starts[1:], len(names)]
    Xc = X.tocsc()
    codes, totals, labels = [], [], []
    for a, b in zip(starts, ends, strict=True):
        block = Xc[:, a:b].tocsr()
        if not (np.diff(block.indptr) == 1).all() or not (block.data == 1).all():
            return (), (), ()  # a numeric margin: Newton calibration only
        codes.append(block.indices.astype(np.int64))
        totals.append(T[a:b])
        labels.append(str(margin[a]))
    return tuple(codes), tuple(totals), tuple(labels)


def _group_error(exc: WeightingError, where: str) -> WeightingError:
    return type(exc)(f"{where}: {exc}")


def calibrate_groups(W: np.ndarray, groups: list[GroupMargins], cal: CalibrationSpec,
                     within: str) -> tuple[np.ndarray, list[dict]]:
    """Calibrate the rows of every group to its totals; W (n,) or (n, R) prior weights.

    Returns the calibrated weights and, per group, iterations and the largest remaining
    margin error (units of the totals). Errors name the group and the margin.
    """
    out = np.empty_like(W, dtype=float)
    info = []
    for g in groups:
        try:
            res = g.calibrate(W[g.rows], cal)
        except WeightingError as exc:
            raise _group_error(exc, f"calibration, {within} {g.label!r}") from None
        out[g.rows] = res.weights
        info.append({"group": g.label, "iterations": res.iterations,
                     "max_abs_error": res.max_abs_error})
    return out, info


def _group_of(gross: pd.DataFrame, spec: WeightingSpec, within: str | None, what: str) -> np.ndarray:
    if within is None:
        return np.full(len(gross), ALL, dtype=object)
    if within not in gross.columns:
        raise WeightingError(f"{what}: within variable {within!r} is not in the gross sample")
    return _labels(gross[within], what)


def _frame_name(spec: WeightingSpec, var: str | None) -> str | None:
    """The frame's column for a gross-sample variable (strata may be named differently)."""
    if var is None:
        return None
    s = spec.sample
    return s.frame_strata[s.strata.index(var)] if var in s.strata else var


def _nonresponse(gross, spec, w_elig, elig, responded, stratum):
    nr = spec.nonresponse
    n = len(gross)
    factor = np.zeros(n)
    cls = np.full(n, None, dtype=object)
    if nr.method == "none":
        factor[elig & responded] = 1.0
        cls[elig] = "all"
        return factor, cls, []
    group = _group_of(gross, spec, nr.within, "non-response")
    lacking = [v for v in nr.predictors if v not in gross.columns]
    if lacking:
        raise WeightingError(f"non-response: predictor {lacking[0]!r} is not in the gross sample")
    e = np.flatnonzero(elig)
    merged: list[dict] = []
    if nr.method == "propensity_classes":
        adj = propensity_adjustment(w_elig[e], responded[e], gross.iloc[e][list(nr.predictors)],
                                    group[e], n_classes=int(nr.classes))
        if nr.min_respondents is not None:  # decided once here; the replicates reuse the classes
            merged_cls, merged = merge_propensity_classes(adj.cls, responded[e], nr.min_respondents)
            adj = weighting_class_adjustment(w_elig[e], responded[e], merged_cls)
    else:
        parts = [group[e]] + [_labels(gross[v].iloc[e], "non-response") for v in nr.predictors]
        labels = parts[0].astype(str)
        for p in parts[1:]:
            labels = np.char.add(np.char.add(labels, ":"), p.astype(str))
        adj = weighting_class_adjustment(w_elig[e], responded[e], labels)
    factor[e] = adj.factor
    cls[e] = adj.cls
    return factor, cls, merged


def frame_uses(spec: WeightingSpec) -> str:
    """What the frame's counts enter, in words (for errors about a count or a cell)."""
    cal = spec.calibration
    names = list(cal.margin_names()) + (list(cal.pooled.margin_names()) if cal.pooled is not None else [])
    return f"the design weights per {', '.join(spec.sample.frame_strata)} and the margins {', '.join(names)}"


def run_chain(gross: pd.DataFrame, outcome: pd.Series | np.ndarray, responded: np.ndarray,
              frame: pd.DataFrame, spec: WeightingSpec, frame_where: str = "frame") -> ChainResult:
    """Weights of the respondents from the gross sample, their outcomes and the frame.

    gross: the register extract of the gross sample (strata, predictors and margin
    variables); outcome: AAPOR class per sampled person (``sid.fieldwork.build_cases``);
    responded: (n,) bool, respondents kept by cleaning (must be eligible); frame: the
    register counts (``spec.sample.frame_count``), one row per cell (checked by
    :func:`sid.weighting.frame.checked_frame`; ``frame_where`` names it in errors).
    Raises WeightingError naming the step, group and margin of any infeasible or
    inconsistent input.
    """
    s = spec.sample
    if len(s.strata) != 1:
        raise WeightingError(f"weighting: strata {list(s.strata)}: one stratum variable is "
                             "supported; combine them into one column of the gross sample")
    var = s.strata[0]
    stratum = _group_of(gross, spec, var, "design weights")
    if s.frame_count not in frame.columns or s.frame_strata[0] not in frame.columns:
        raise WeightingError(f"{frame_where}: needs columns {s.frame_strata[0]!r} and {s.frame_count!r}")
    frame = checked_frame(frame, s.frame_count, frame_where, frame_uses(spec))
    pop = frame.groupby(frame[s.frame_strata[0]].map(category_text))[s.frame_count].sum()
    d = design_weights(stratum, pop.to_dict(), with_replacement=s.with_replacement).weights
    status = eligibility_status(outcome)
    responded = np.asarray(responded, dtype=bool)
    bad = responded & (status != ELIGIBLE)
    if bad.any():
        raise WeightingError(f"eligibility: {int(bad.sum())} respondents have a not-eligible or "
                             f"unknown-eligibility disposition (first: row {int(np.flatnonzero(bad)[0])} "
                             "of the gross sample); correct the dispositions")
    el = adjust_eligibility(d, status, stratum)
    elig = status == ELIGIBLE
    nr_factor, nr_class, nr_merged = _nonresponse(gross, spec, el.weights, elig, responded, stratum)
    resp = np.flatnonzero(responded)
    prior = el.weights[resp] * nr_factor[resp]

    cal = spec.calibration
    within = cal.within
    cal_group = _group_of(gross, spec, within, "calibration")[resp]
    totals = frame_margins(frame, s.frame_count, _frame_name(spec, within), cal.margins)
    rdf = gross.iloc[resp].reset_index(drop=True)
    ptotals = None
    if cal.pooled is not None:  # raw frame totals checked before any collapsing
        ptotals = pooled_totals(frame, s.frame_count, gross, cal)
        check_coherent(ptotals, totals, str(within))
    groups = []
    collapses: list[Collapse] = []
    for label in sorted(pd.unique(cal_group)):
        rows = np.flatnonzero(cal_group == label)
        if label not in totals:
            raise WeightingError(f"calibration: {within} {label!r} has respondents but no "
                                 "population in the frame")
        if cal.collapse_min is not None:  # decided once here; the replicates reuse the cells
            totals[label], merged = collapse_group(rdf.iloc[rows], totals[label], cal.collapse_min,
                                                   str(label))
            collapses.extend(merged)
        try:
            X, T, names = calibration_matrix(rdf.iloc[rows], totals[label])
        except WeightingError as exc:
            raise _group_error(exc, f"calibration, {within or 'sample'} {label!r}") from None
        groups.append(GroupMargins(str(label), rows, X, T, names, *_margin_codes(X, T, names)))
    missing = sorted(set(totals) - set(map(str, cal_group)))
    if missing:
        raise WeightingError(f"calibration: {within} {missing[0]!r} has a population in the frame "
                             "but no respondents; the weights cannot represent it")
    crossed = crossed_margins(totals, [g.label for g in groups], within)
    joint = pooled = None
    if ptotals is not None:
        all_rows = np.arange(resp.size)
        if cal.collapse_min is not None:  # pooled cells: min_respondents over all groups
            ptotals, merged = collapse_group(rdf, ptotals, cal.collapse_min, POOLED)
            collapses.extend(merged)
        try:
            X, T, names = calibration_matrix(rdf, ptotals)
            pooled = GroupMargins(POOLED, all_rows, X, T, names)
            X, T, names = calibration_matrix(rdf, {**crossed, **ptotals})
        except WeightingError as exc:
            raise _group_error(exc, "calibration, pooled margins") from None
        joint = GroupMargins(f"{within} margins + pooled margins", all_rows, X, T, names,
                             *_margin_codes(X, T, names))
        crossed = {**crossed, **ptotals}
    where = within or "sample"
    units = groups if joint is None else [joint]
    if joint is not None:
        where = JOINT
    calibrated, conv = calibrate_groups(prior, units, cal, where)
    trim_group = _group_of(gross, spec, spec.trimming.within if spec.trimming else None,
                           "trimming")[resp]
    weight, trimmed = calibrated, np.zeros(resp.size, dtype=bool)
    rounds: list[int] = []
    if spec.trimming is not None:
        weight, trimmed, rounds, errors, _ = trim_groups(calibrated, units, cal, spec.trimming,
                                                      trim_group, where)
        for c, r, e in zip(conv, rounds, errors, strict=True):
            c.update(trim_rounds=r, max_abs_error_after_trimming=e)
    if joint is not None:
        conv = joint_convergence(groups, pooled, calibrated, weight, conv[0]["iterations"],
                                 rounds[0] if spec.trimming is not None else None)
    return ChainResult(
        stratum=stratum, design_weight=d, status=status, eligibility_factor=el.factor,
        responded=responded, nr_class=nr_class, nonresponse_factor=nr_factor, resp=resp,
        prior=prior, calibrated=calibrated, weight=weight, trimmed=trimmed,
        cal_group=cal_group, trim_group=trim_group, groups=groups, convergence=conv,
        margins=crossed, collapses=collapses, nr_merged=nr_merged, joint=joint, pooled=pooled,
    )
