"""The trend the demo plants between SID 2017 and SID 2022 (sid.demo.trend_truth): the two
waves' truth files against the true differences, per concept and domain."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.demo import make_demo, make_sid2017
from sid.demo.trend_differences import true_differences
from sid.demo.trend_truth import CONCEPTS, DOMAINS, PLANTED_CHANGES, planted_shift

KEY = ["concept", "domain", "group"]


@pytest.fixture(scope="module")
def truths(tmp_path_factory):
    """The two waves' trend_truth.csv (the truth does not depend on --scale) and the true differences."""
    base = tmp_path_factory.mktemp("trend")
    t22 = pd.read_csv(make_demo(base / "d22", scale=0.05)["trend_truth.csv"])
    t17 = pd.read_csv(make_sid2017(base / "d17", scale=0.05)["trend_truth.csv"])
    return t22, t17, true_differences()


def test_trend_truth_files_hold_every_concept_and_domain(truths):
    t22, t17, _ = truths
    for t, wave, origins in ((t22, "sid2022", 7), (t17, "sid2017", 6)):
        assert set(t["concept"]) == {c.name for c in CONCEPTS}
        assert set(t["domain"]) == {" x ".join(d) for d in DOMAINS}
        assert set(t["quantity"]) == {c.quantity[wave] for c in CONCEPTS}
        assert (t.query("domain == 'origin'").groupby("concept").size() == origins).all()
        assert t[KEY].duplicated().sum() == 0 and t["value"].notna().all()
        assert (t["se"] > 0).all() and (t["se"] < 0.8).all() and (t["n"] > 0).all()
    # the Monte Carlo error stated in sid.demo.trend_truth: about 0.07-0.15 point per origin group
    assert t17.query("domain == 'origin' and concept != 'dutch_home'")["se"].between(0.05, 0.2).all()
    assert "AFG" not in set(t17["group"]) and "AFG" in set(t22["group"])


def test_true_differences_are_the_planted_changes(truths):
    d = truths[2]
    comparable = {c.name for c in CONCEPTS if c.comparable}
    assert set(d.loc[d["status"] != "break", "concept"]) == comparable
    assert d.loc[d["status"] == "break", "difference"].isna().all()
    assert not d["group"].str.startswith("AFG").any()
    # nothing planted: the same persons and draws give the same answers (up to count rounding)
    assert d.loc[d["status"] == "unchanged", "difference"].abs().max() < 0.02
    planted = d[d["status"] == "planted"].set_index(["concept", "domain", "group"])["difference"]
    assert planted.loc[("language", "origin x generation", "MAR:1")] == pytest.approx(5.3, abs=0.3)
    assert planted.loc[("discrimination", "origin", "COD")] == pytest.approx(4.8, abs=0.3)
    assert planted.loc[("citizenship_common", "origin x generation", "POL:1")] == pytest.approx(-3.7, abs=0.3)
    # every planted (trait, origin, generation) shows up as a planted origin x generation row
    rows = d.query("domain == 'origin x generation' and status == 'planted'")
    trait = {c.name: c.trait for c in CONCEPTS if c.comparable}
    want = {(n, f"{o}:{g}") for ch in PLANTED_CHANGES for n, t in trait.items() if t == ch.trait
            for o in ch.origins for g in ch.generations}
    assert set(zip(rows["concept"], rows["group"], strict=True)) == want
    assert (rows["difference"].abs() > 2.0).all()


def test_the_two_waves_truth_files_differ_by_the_true_differences_within_mc_error(truths):
    """truth 2022 - truth 2017 from the demos' files against true_differences, every
    comparable concept x domain, within 4.5 combined Monte Carlo SEs; and the planted
    rows far from 0 (a 2017 generator without the planted changes fails)."""
    t22, t17, d = truths
    m = t22.merge(t17, on=KEY, suffixes=("22", "17")).merge(d[d["status"] != "break"], on=KEY)
    assert len(m) == (d["status"] != "break").sum() > 300
    obs = m["value22"] - m["value17"]
    z = (obs - m["difference"]) / np.sqrt(m["se22"] ** 2 + m["se17"] ** 2 + m["se"] ** 2)
    assert z.abs().max() < 4.5, m.loc[z.abs().idxmax(), KEY].tolist()
    assert abs(z.mean()) < 0.3 and 0.6 < z.std() < 1.3
    large = (m["status"] == "planted") & (m["difference"].abs() > 2)  # not MAR:1 (15-24: mostly gen 2)
    assert large.sum() > 30
    assert (obs[large].abs() / np.sqrt(m["se22"] ** 2 + m["se17"] ** 2)[large] > 3).all()


def test_planted_shift_is_the_changes_of_a_persons_origin_and_generation():
    persons = pd.DataFrame({"origin": ["MAR", "MAR", "COD", "BEL", "POL", "AFG"],
                            "generation": [1, 2, 2, 0, 1, 1]})
    s = planted_shift(persons)
    np.testing.assert_allclose(s, [[0.3, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0.25, 0, 0, 0],
                                   [0, 0, 0, 0, 0], [0, 0, 0, 0, -0.2], [0, 0, 0, 0, 0]])
