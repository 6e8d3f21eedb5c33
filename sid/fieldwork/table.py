"""The fieldwork outcome-rate table: overall, per reporting group, per design stratum (when
it is finer than the group), per mode, per group x mode.

One long table (the ``rates.csv`` of a run's ``fieldwork`` folder) with a row per level and
group, unweighted and, when design weights are given, design-weighted. SID's strata (origin
groups) are sampled with equal allocation, so inclusion probabilities differ by a factor of
about 100 between groups: an unweighted overall rate describes the fieldwork (how many of the
cases approached responded), a design-weighted one estimates the response rate of the
population (AAPOR Standard Definitions 2023, on weighted rates for unequal-probability
samples). Both are reported and labelled in ``basis``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.errors import DataError, SpecError
from sid.fieldwork.rates import RATES, aapor_rates, class_codes, outcome_counts
from sid.spec.dispositions import OUTCOMES

#: ``level`` of a row: pooled, per reporting group (the ``group`` column; SID: origin
#: group), per design stratum (:data:`STRATUM_LEVEL`, present only when the strata are not
#: the reporting groups; the stratum's label in ``group``), per mode, per group x mode.
STRATUM_LEVEL = "design_stratum"
LEVELS: tuple[str, ...] = ("overall", "group", STRATUM_LEVEL, "mode", "group×mode")

#: Label of the ``group`` / ``mode`` column in rows that pool over that dimension.
ALL = "all"
#: Label of cases whose mode is missing (e.g. never-contacted cases no mode was tried on).
NO_MODE = "(no mode)"

COLUMNS: tuple[str, ...] = (
    "level", "group", "mode", "basis", "n", *OUTCOMES, *RATES, "e", "e_method", "note",
)  # fmt: skip


def outcome_rates_table(
    cases: pd.DataFrame,
    group: str,
    mode: str | None = "mode",
    weight: str | np.ndarray | pd.Series | None = None,
    e: float | str | None = "estimate",
    e_scope: str = "row",
    stratum: str | None = None,
) -> pd.DataFrame:
    """AAPOR counts and rates overall, per ``group``, per ``stratum``, per ``mode`` and per
    group x mode.

    ``cases``: one row per case of the gross sample with the column ``outcome`` (AAPOR
    class, from :func:`sid.spec.dispositions.map_dispositions`), the ``group`` column
    (e.g. the design stratum) and, unless ``mode`` is None, the ``mode`` column. A case with no mode
    (missing or blank) is counted in a mode row labelled ``"(no mode)"`` (stated, not
    dropped); a case with no group raises :class:`DataError`. Per-mode rates are AAPOR
    rates only when every case carries the mode it was approached in; when the agency
    records a mode for respondents only, the mode rows describe where the interviews
    came from, and the non-respondents are all in ``"(no mode)"``.

    ``weight``: design (base) weights, a column name or an array; when given, every row is
    reported twice, ``basis`` "unweighted" and "design-weighted (<name>)", with the counts
    I..NE as sums of weights. ``n`` is always the unweighted number of cases.

    ``stratum``: the column of the design stratum when it differs from ``group`` (SID
    2017: origin x province within origin); its rows have level ``"design_stratum"`` and the
    stratum's label in ``group``. None: no stratum rows.

    ``e``: as in :func:`sid.fieldwork.rates.aapor_rates`, stated in ``e`` and ``e_method``.
    With ``e="estimate"``, ``e_scope`` says where the proportional (CASRO) estimate is made:

    * ``"row"`` (default): within each row of the table, from that row's own counts;
    * ``"group"``: within each reporting group g, e_g = (I+P+R+NC+O)_g /
      (I+P+R+NC+O+NE)_g, and carried to the group's stratum and mode rows; a row pooling
      several groups (overall, mode) gets the e implied by the summed eligible unknowns,
      e = sum_g e_g (UH+UO)_{g,row} / sum_g (UH+UO)_{g,row}. Eligibility is a property of
      the person (still living in the region, alive), not of the mode the case ended in:
      this keeps a mode row whose unknown-eligibility cases have no known-eligibility cases
      beside them (e.g. never-reached cases with no mode) from getting e = 0.

    Returns the columns :data:`COLUMNS`: ``level`` (one of :data:`LEVELS`), ``group`` and
    ``mode`` (``"all"`` where pooled), ``basis``, ``n``, the eight counts, the 16 rates,
    ``e``, ``e_method``, ``note``.
    """
    if group not in cases.columns:
        raise DataError(f"gross sample: no group column {group!r} (columns: {list(cases.columns)})")
    no_group = cases[group].isna().to_numpy()
    if no_group.any():
        raise DataError(
            f"gross sample: {int(no_group.sum())} case(s) have no {group!r} "
            f"(first rows: {list(cases.index[no_group][:5])}): every case needs its stratum"
        )
    # classes and groups as categoricals once, so the 2 x 4 groupings below work on integer codes
    outcome = pd.Categorical.from_codes(class_codes(cases["outcome"]), categories=list(OUTCOMES))
    frame = pd.DataFrame({"outcome": outcome, "_group": _text_categorical(cases[group])})
    levels: list[tuple[str, list[str]]] = [("overall", []), ("group", ["_group"])]
    finest = ["_group"]
    if stratum is not None:
        if stratum not in cases.columns:
            raise DataError(f"gross sample: no stratum column {stratum!r} (columns: {list(cases.columns)})")
        if cases[stratum].isna().any():
            raise DataError(f"gross sample: {int(cases[stratum].isna().sum())} case(s) have no {stratum!r}: "
                            "every case needs its stratum")
        frame["_stratum"] = _text_categorical(cases[stratum])
        levels.append((STRATUM_LEVEL, ["_stratum"]))
        finest.append("_stratum")
    if mode is not None:
        if mode not in cases.columns:
            raise DataError(f"dispositions: no mode column {mode!r} (columns: {list(cases.columns)})")
        # an empty string is how SPSS and CSV files write a missing string value
        frame["_mode"] = _text_categorical(cases[mode], blank=NO_MODE)
        levels += [("mode", ["_mode"]), ("group×mode", ["_group", "_mode"])]
        finest.append("_mode")

    bases: list[tuple[str, str | np.ndarray | None]] = [("unweighted", None)]
    if weight is not None:
        if isinstance(weight, str):
            if weight not in cases.columns:
                raise DataError(f"gross sample: weight column {weight!r} not found")
            frame["_w"] = cases[weight].to_numpy(dtype=float, na_value=np.nan)
            bases.append((f"design-weighted ({weight})", "_w"))
        else:
            w_arr = np.asarray(weight, dtype=float)
            if w_arr.shape != (len(cases),):
                raise DataError(f"weight has shape {w_arr.shape}: give one design weight per case ({len(cases)})")
            frame["_w"] = w_arr
            bases.append(("design-weighted", "_w"))

    if e_scope not in ("row", "group"):
        raise SpecError(f"e_scope={e_scope!r}: give 'row' or 'group'")
    if e_scope == "group" and not (isinstance(e, str) and e == "estimate"):
        raise SpecError(f"e_scope='group' applies to e='estimate' only (got e={e!r})")
    by_group = e_scope == "group" and isinstance(e, str) and e == "estimate"
    counted: dict[tuple[tuple[str, ...], str | None], pd.DataFrame] = {}  # e's counts, per grouping
    parts = []
    for level, by in levels:
        for basis, w in bases:
            counts = outcome_counts(frame, by=by, weight=w)
            counts.insert(0, "level", level)
            counts["group"] = (counts["_group"].astype(str) if "_group" in counts else
                               counts["_stratum"].astype(str) if "_stratum" in counts else ALL)
            counts["mode"] = counts["_mode"].astype(str) if "_mode" in counts else ALL
            counts["basis"] = basis
            if by_group:
                rated = aapor_rates(counts, e=_pooled_group_e(frame, by, finest, w, counted))
                rated["e_method"] = E_BY_GROUP if stratum is None else E_BY_GROUP_STRATA.format(group=group)
            else:
                rated = aapor_rates(counts, e=e)
            parts.append(rated)
    table = pd.concat(parts, ignore_index=True)
    return table.loc[:, list(COLUMNS)]


def _text_categorical(values: pd.Series, blank: str | None = None) -> pd.Categorical:
    """Categorical of the values as text, categories sorted: with ``blank`` given, values
    stripped of surrounding blanks and missing or empty ones labelled ``blank``.

    The same as ``pd.Categorical`` of the per-case text, computed on the distinct values
    (one hash pass over the cases, no per-case string conversion).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(uniques).astype(str)
    if blank is not None:
        text = text.str.strip()
    labels = text.to_numpy(dtype=object)
    missing = codes < 0
    if blank is not None:
        labels = np.where(labels == "", blank, labels)
        if missing.any():
            labels = np.append(labels, blank)
            codes = np.where(missing, len(labels) - 1, codes)
    elif missing.any():  # no label for a missing value: as pd.Categorical has it
        return pd.Categorical(values.astype(str).to_numpy())
    categories = sorted(set(labels))
    position = pd.Index(categories).get_indexer(labels)
    return pd.Categorical.from_codes(position[codes], categories=pd.Index(categories))


E_BY_GROUP = (
    "proportional (CASRO) within each group g: e_g = (I+P+R+NC+O)_g/(I+P+R+NC+O+NE)_g; "
    "pooled rows: e = sum_g e_g(UH+UO)_g / sum_g(UH+UO)_g"
)
#: e_method of a table with stratum rows: e is still estimated per reporting group.
E_BY_GROUP_STRATA = (
    "proportional (CASRO) within each reporting group g ({group}): e_g = (I+P+R+NC+O)_g/"
    "(I+P+R+NC+O+NE)_g, carried to its strata; pooled rows: e = sum_g e_g(UH+UO)_g / sum_g(UH+UO)_g"
)


def _pooled_group_e(frame: pd.DataFrame, by: list[str], finest: list[str], w: str | None,
                     counted: dict | None = None) -> np.ndarray:
    """Per-row e from per-group estimates, pooled over the cells of each row.

    Returns one value per group of ``outcome_counts(frame, by)``, in the same order.
    ``counted``: a cache of the (read-only) group and cell counts, shared by the calls of
    one table (every level and basis needs the same two).
    """
    counted = {} if counted is None else counted

    def counts_by(cols: list[str]) -> pd.DataFrame:
        key = (tuple(cols), w)
        if key not in counted:
            counted[key] = outcome_counts(frame, by=cols, weight=w)
        return counted[key]

    per_group = counts_by(["_group"])
    known = per_group[["I", "P", "R", "NC", "O"]].sum(axis=1).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        e_g = pd.Series(known / (known + per_group["NE"].to_numpy()), index=per_group["_group"].astype(str))
    cells = counts_by(finest)
    unknown = (cells["UH"] + cells["UO"]).to_numpy()
    cell_e = e_g.reindex(cells["_group"].astype(str)).to_numpy()
    # a cell without unknowns adds nothing, even where its group's e is not estimable;
    # NaN (unknowns in a group with no known-eligibility case) propagates through bincount
    eu_cell = np.where(unknown == 0, 0.0, cell_e * unknown)
    if by:
        gid = cells.groupby(by, dropna=False, sort=True).ngroup().to_numpy()
    else:
        gid = np.zeros(len(cells), dtype=np.int64)
    u = np.bincount(gid, weights=unknown)
    eu = np.bincount(gid, weights=eu_cell)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(u > 0, eu / np.where(u > 0, u, 1.0), np.nan)
