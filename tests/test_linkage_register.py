"""Respondents linked to register records: link rates counted by hand, register variables
combined with survey answers through Design (checked against hand weighted means)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.errors import LinkageError
from sid.estimation.design import Design
from sid.linkage.register_link import link_register


def frames():
    survey = pd.DataFrame({
        "person_key": ["a", "b", "c", "d", "e", "e", None, "g"],
        "origin": ["BEL", "BEL", "MAR", "MAR", "MAR", "TUR", "TUR", "TUR"],
        "discr": [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0],
        "weight": [10.0, 20.0, 5.0, 5.0, 6.0, 3.0, 2.0, 4.0],
    })
    register = pd.DataFrame({
        "person_key": ["a", "b", "c", "c", "e", "g", "zz"],
        "employed": [1, 0, 1, 1, 0, 1, 0],
    })
    return survey, register


def test_link_status_and_rates_per_origin_group_by_hand():
    survey, register = frames()
    res = link_register(survey, register, key="person_key", origin="origin")
    # a, b linked; c duplicate in register; d not in register; e twice among respondents;
    # None no key; g linked
    assert res.data["link_status"].tolist() == ["linked", "linked", "duplicate", "unlinked",
                                                "duplicate", "duplicate", "unlinked", "linked"]
    rates = res.rates.set_index("origin")
    assert rates.loc["BEL", ["n", "linked", "unlinked", "duplicate"]].tolist() == [2, 2, 0, 0]
    assert rates.loc["MAR", ["n", "linked", "unlinked", "duplicate"]].tolist() == [3, 0, 1, 2]
    assert rates.loc["TUR", ["n", "linked", "unlinked", "duplicate"]].tolist() == [3, 1, 1, 1]
    assert rates.loc["all", ["n", "linked"]].tolist() == [8, 3]
    assert rates.loc["TUR", "link_rate"] == pytest.approx(1 / 3)
    assert res.data["reg_employed"].tolist()[:2] == [1, 0]
    assert np.isnan(res.data["reg_employed"].iloc[2])  # duplicate: register values not attached


def test_register_variable_as_domain_matches_hand_weighted_mean():
    survey, register = frames()
    data = link_register(survey, register, key="person_key", origin="origin").data
    est = Design(data, weight="weight").mean("discr", by="reg_employed")
    linked = data[data["link_status"] == "linked"]
    for emp in (0.0, 1.0):
        g = linked[linked["reg_employed"] == emp]
        hand = (g["weight"] * g["discr"]).sum() / g["weight"].sum()
        assert est.loc[est["reg_employed"] == emp, "estimate"].item() == pytest.approx(hand, rel=1e-12)


def test_raw_nrn_in_register_is_refused():
    survey, register = frames()
    register["rrn"] = "85.07.31-003.28"  # valid mod-97 (1985-07-31, sequence 003)
    with pytest.raises(LinkageError, match="register: column 'rrn' holds 7 raw national register number"):
        link_register(survey, register, key="person_key", origin="origin")
