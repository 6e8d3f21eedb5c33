"""AAPOR outcome rates against hand-computed figures (AAPOR Standard Definitions, 10th ed. 2023).

The expected numbers below were worked out by hand from the AAPOR formulas and are written
as exact fractions, with the arithmetic in the comments, so that a reader can check them
without running sid.
"""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pandas as pd
import pytest

from sid.errors import DataError, SpecError
from sid.fieldwork import OUTCOMES, RATES, aapor_rates, outcome_counts

# The hand example: I=400, P=50, R=200, NC=150, O=50, UH=100, UO=50, NE=100.
HAND = {"I": 400, "P": 50, "R": 200, "NC": 150, "O": 50, "UH": 100, "UO": 50, "NE": 100}
# I+P = 450; R+NC+O = 400; known eligible = 850; UH+UO = 150; contacted (I+P)+R+O = 700.
# e (proportional) = 850 / (850 + 100) = 17/19; e(UH+UO) = 150*17/19 = 2550/19,
# so the e-denominator 850 + 2550/19 = (16150 + 2550)/19 = 18700/19.
HAND_RATES = {
    "RR1": F(400, 1000),
    "RR2": F(450, 1000),
    "RR3": F(400 * 19, 18700),  # 76/187
    "RR4": F(450 * 19, 18700),  # 171/374
    "RR5": F(400, 850),
    "RR6": F(450, 850),
    "COOP1": F(400, 700),
    "COOP2": F(450, 700),
    "COOP3": F(400, 650),
    "COOP4": F(450, 650),
    "REF1": F(200, 1000),
    "REF2": F(200 * 19, 18700),  # 38/187
    "REF3": F(200, 850),
    "CON1": F(700, 1000),  # 700 / (700 + 150 + 150)
    "CON2": F(700 * 19, 18700),  # 133/187
    "CON3": F(700, 850),
}


def _counts(**rows: dict) -> pd.DataFrame:
    return pd.DataFrame([{"group": k, **v} for k, v in rows.items()])


def test_aapor_rates_match_hand_computed_example():
    out = aapor_rates(_counts(a=HAND), e="estimate").iloc[0]
    assert out["e"] == pytest.approx(17 / 19, rel=1e-12)
    assert "CASRO" in out["e_method"] and "NE" in out["e_method"]
    for name, expected in HAND_RATES.items():
        assert out[name] == pytest.approx(float(expected), rel=1e-12), name
    assert out["note"] == ""


def test_aapor_rates_fixed_e_matches_hand_computed_example():
    # e = 0.5: e(UH+UO) = 75, denominator 850 + 75 = 925.
    out = aapor_rates(_counts(a=HAND), e=0.5).iloc[0]
    assert out["RR3"] == pytest.approx(400 / 925, rel=1e-12)
    assert out["RR4"] == pytest.approx(450 / 925, rel=1e-12)
    assert out["REF2"] == pytest.approx(200 / 925, rel=1e-12)
    assert out["CON2"] == pytest.approx(700 / (700 + 150 + 75), rel=1e-12)
    assert out["e"] == 0.5 and "fixed" in out["e_method"]


def test_aapor_rates_e_none_leaves_e_rates_missing_and_says_so():
    out = aapor_rates(_counts(a=HAND), e=None).iloc[0]
    assert all(np.isnan(out[r]) for r in ("RR3", "RR4", "REF2", "CON2"))
    assert out["RR1"] == pytest.approx(0.4)
    assert "not given" in out["e_method"]


@pytest.mark.parametrize("bad", [1.2, -0.1, "proportional"])
def test_aapor_rates_rejects_bad_e(bad):
    with pytest.raises(SpecError, match="e="):
        aapor_rates(_counts(a=HAND), e=bad)


def test_aapor_rates_zero_denominators_give_nan_and_a_note():
    # Only unknown-eligibility and ineligible cases: nothing was contacted.
    row = {"I": 0, "P": 0, "R": 0, "NC": 0, "O": 0, "UH": 100, "UO": 50, "NE": 100}
    empty = dict.fromkeys(OUTCOMES, 0)
    out = aapor_rates(_counts(a=row, b=empty))
    a, b = out.iloc[0], out.iloc[1]
    assert a["RR1"] == 0.0 and a["CON1"] == 0.0  # 0 / 150
    assert a["e"] == 0.0  # 0 / (0 + 100), so the e-denominator 0 + 0*150 is zero too
    for name in ("RR3", "RR5", "RR6", "COOP1", "COOP4", "REF2", "REF3", "CON2", "CON3"):
        assert np.isnan(a[name]), name
        assert name in a["note"]
    assert all(np.isnan(b[r]) for r in RATES)
    assert "e not estimable" in b["note"] and "zero denominator" in b["note"]


def test_aapor_rates_inequalities_hold_on_random_counts():
    rng = np.random.default_rng(20231)
    counts = pd.DataFrame(rng.integers(0, 50, size=(500, 8)), columns=list(OUTCOMES))
    counts["I"] += 1  # keep every denominator positive
    for e in ("estimate", 0.0, 0.3, 1.0):
        r = aapor_rates(counts, e=e)
        tol = 1e-12
        chains = [
            ("RR1", "RR2"), ("RR1", "RR3"), ("RR3", "RR5"), ("RR2", "RR4"), ("RR4", "RR6"),
            ("RR3", "RR4"), ("RR5", "RR6"), ("RR2", "RR6"),
            ("COOP1", "COOP2"), ("COOP1", "COOP3"), ("COOP3", "COOP4"), ("COOP2", "COOP4"),
            ("REF1", "REF2"), ("REF2", "REF3"), ("CON1", "CON2"), ("CON2", "CON3"),
            ("RR5", "COOP1"), ("RR6", "COOP2"),
        ]  # fmt: skip
        for lo, hi in chains:
            assert (r[lo] <= r[hi] + tol).all(), (e, lo, hi)
        assert ((r[list(RATES)] >= 0) & (r[list(RATES)] <= 1)).all().all()
        # response + refusal never exceed 1 on the same base
        assert (r["RR2"] + r["REF1"] <= 1 + tol).all()
    r1 = aapor_rates(counts, e=1.0)
    assert np.allclose(r1["RR3"], r1["RR1"]) and np.allclose(r1["CON2"], r1["CON1"])
    r0 = aapor_rates(counts, e=0.0)
    assert np.allclose(r0["RR3"], r0["RR5"]) and np.allclose(r0["REF2"], r0["REF3"])


def test_aapor_rates_rejects_negative_or_missing_counts():
    bad = dict(HAND, NC=-1)
    with pytest.raises(DataError, match="negative"):
        aapor_rates(_counts(a=bad))
    with pytest.raises(DataError, match="missing"):
        aapor_rates(pd.DataFrame({"I": [1]}))


def _case_frame(counts: dict, **cols) -> pd.DataFrame:
    outcome = np.repeat(list(counts), list(counts.values()))
    return pd.DataFrame({"outcome": outcome, **cols})


def test_outcome_counts_by_group_and_weighted_match_hand_tally():
    a = _case_frame(HAND, g="a", w=1.0)
    b = _case_frame({"I": 5, "R": 3, "NC": 1, "O": 1}, g="b", w=100.0)
    cases = pd.concat([a, b], ignore_index=True)
    per_group = outcome_counts(cases, by=["g"]).set_index("g")
    assert per_group.loc["a", list(OUTCOMES)].tolist() == [HAND[k] for k in OUTCOMES]
    assert per_group.loc["b", ["I", "P", "R", "NC", "O", "UH", "UO", "NE"]].tolist() == [5, 0, 3, 1, 1, 0, 0, 0]
    assert per_group["n"].tolist() == [1100, 10]
    overall_w = outcome_counts(cases, weight="w").iloc[0]
    # 400+500, 50, 200+300, 150+100, 50+100, 100, 50, 100
    assert overall_w[list(OUTCOMES)].tolist() == [900, 50, 500, 250, 150, 100, 50, 100]
    assert overall_w["n"] == 1110
    same = outcome_counts(cases, weight=cases["w"].to_numpy()).iloc[0]
    assert same[list(OUTCOMES)].tolist() == overall_w[list(OUTCOMES)].tolist()


def test_outcome_counts_keeps_missing_group_and_rejects_bad_weights():
    cases = _case_frame({"I": 2, "NC": 1}, m=["web", None, "web"])
    out = outcome_counts(cases, by=["m"])
    assert len(out) == 2 and out["m"].isna().sum() == 1
    with pytest.raises(DataError, match="negative"):
        outcome_counts(cases, weight=np.array([1.0, -1.0, 1.0]))
    with pytest.raises(DataError, match="no AAPOR outcome class"):
        outcome_counts(pd.DataFrame({"outcome": ["I", "X"]}))
