"""Respondents to their register record, by the pseudonymous person key.

:func:`link_register` joins register variables onto the respondents (prefixed ``reg_``),
sets ``link_status`` per respondent and reports the link rate per origin group. The
linked frame is ordinary respondent data: an analyst combines register variables with
survey answers through the same estimation engine, e.g.
``Design(linked, weight="weight", strata="stratum").mean("discr_any", by="reg_employed")``
(respondents without a register record stay in the design with a missing by-value).

Status of a respondent: ``linked`` (key found exactly once in the register and once among
respondents), ``duplicate`` (key found more than once in the register or among
respondents: ambiguous, not linked), ``unlinked`` (key missing or not in the register).
Both files are refused when a column holds a raw national register number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sid.errors import LinkageError
from sid.io.keys import isin
from sid.io.pseudonym import refuse_raw_nrn

STATUSES = ("linked", "unlinked", "duplicate")


@dataclass(frozen=True)
class LinkResult:
    """``data``: respondents with ``link_status`` and ``reg_*`` columns; ``rates``: one row
    per origin group and one ``all`` row: n, linked, unlinked, duplicate, link_rate (0-1)."""

    data: pd.DataFrame
    rates: pd.DataFrame


def link_register(
    survey: pd.DataFrame,
    register: pd.DataFrame,
    *,
    key: str,
    origin: str,
    prefix: str = "reg_",
    where_survey: str = "respondents",
    where_register: str = "register",
) -> LinkResult:
    """Link respondents to register records on the pseudonymous ``key``; link rates per
    value of ``origin`` (the respondents' group variable)."""
    for frame, where, cols in ((survey, where_survey, [key, origin]), (register, where_register, [key])):
        for c in cols:
            if c not in frame.columns:
                raise LinkageError(f"{where}: column {c!r} is missing; the link needs the pseudonymous key "
                                   "(and the origin group on the respondents)")
    refuse_raw_nrn(survey, where_survey)
    refuse_raw_nrn(register, where_register)
    s_key = survey[key].astype(object).where(survey[key].notna(), None).reset_index(drop=True)
    r_key = register[key].astype(object).where(register[key].notna(), None).reset_index(drop=True)
    r_counts = r_key.value_counts(dropna=True)
    s_counts = s_key.value_counts(dropna=True)
    in_reg = s_key.map(r_counts).fillna(0).to_numpy(dtype=np.int64)
    in_svy = s_key.map(s_counts).fillna(0).to_numpy(dtype=np.int64)
    has_key = s_key.notna().to_numpy()
    dup = has_key & ((in_reg > 1) | (in_svy > 1))
    linked = has_key & (in_reg == 1) & (in_svy == 1)
    status = np.where(dup, "duplicate", np.where(linked, "linked", "unlinked")).astype(object)

    reg_cols = [c for c in register.columns if c != key]
    once = pd.Series(isin(r_key, r_counts.index[r_counts == 1]), index=r_key.index)
    reg = register.reset_index(drop=True).loc[once.to_numpy(), [key, *reg_cols]]
    reg = reg.rename(columns={c: f"{prefix}{c}" for c in reg_cols})
    clash = [c for c in reg.columns if c != key and c in survey.columns]
    if clash:
        raise LinkageError(f"{where_survey}: column {clash[0]!r} exists already; choose another prefix than {prefix!r}")
    data = survey.reset_index(drop=True).copy()
    data["link_status"] = status
    joined = pd.DataFrame({key: s_key.where(pd.Series(linked), None)}).merge(
        reg, how="left", on=key, validate="many_to_one")
    for c in reg.columns:
        if c != key:
            data[c] = joined[c].to_numpy()
    return LinkResult(data=data, rates=link_rates(data, origin))


def link_rates(data: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Counts of each link status per origin group and overall, and the link rate."""
    tab = pd.crosstab(data[origin].astype(object), data["link_status"]).reindex(columns=list(STATUSES), fill_value=0)
    tab.loc["all"] = tab.sum(axis=0)
    tab = tab.rename_axis(None, axis=1).reset_index(names=origin)
    tab.insert(1, "n", tab[list(STATUSES)].sum(axis=1))
    tab["link_rate"] = tab["linked"] / tab["n"]
    return tab
