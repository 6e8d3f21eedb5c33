"""The trend power study's pure pieces (benchmarks/trend_power_stats.py): the join of a trend
table to the truth, the expected power, and the rates, on hand-made frames with rates and
powers computed by hand (the normal CDF from math.erf, not scipy)."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest

from benchmarks.trend_power_stats import (
    JoinError,
    aliases,
    expected_power,
    join_truth,
    per_cell,
    summarise,
)

ASKED = [("language", d) for d in ("overall", "origin", "vlim", "origin_generation")] + [("dutch_home", "origin")]

Z = 1.959963984540054  # Phi^-1(0.975)


def phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def power(d: float, se: float) -> float:
    return phi(-Z + abs(d) / se) + phi(-Z - abs(d) / se)


def test_expected_power_by_hand():
    assert expected_power(0.0, 1.0) == pytest.approx(0.05, abs=1e-12)
    assert expected_power(Z, 1.0) == pytest.approx(0.5 + phi(-2 * Z), abs=1e-12)
    got = expected_power(np.array([-3.0, 2.0]), np.array([1.5, 0.8]))
    np.testing.assert_allclose(got, [power(3, 1.5), power(2, 0.8)], rtol=1e-12)


def _trend_row(concept, domain, by_value, diff, se, status="ok", n=(100, 120)):
    return {"concept": concept, "domain": domain, "by_value": by_value, "category": None, "difference": diff,
            "se_difference": se, "p_value": 2 * (1 - phi(abs(diff) / se)) if se == se else np.nan,
            "ci_low": diff - Z * se, "ci_high": diff + Z * se, "n_1": n[0], "n_2": n[1], "status": status}


def _trend() -> pd.DataFrame:
    return pd.DataFrame([
        _trend_row("language", "overall", "all", 0.5, 1.0),
        _trend_row("language", "origin", "MAR", 3.0, 1.0),
        _trend_row("language", "origin", "AFG", np.nan, np.nan, "not_in_sid2017", (None, 80)),
        _trend_row("language", "vlim", "EU", -0.2, 1.0, n=(40, 25)),
        _trend_row("language", "origin_generation", "MAR:1", 1.0, 2.0),
        _trend_row("dutch_home", "origin", "MAR", 0.1, 0.02, "break"),
    ])


def _truth() -> pd.DataFrame:
    return pd.DataFrame({
        "concept": ["language"] * 4 + ["dutch_home", "dutch_home"],
        "domain": ["all", "origin", "vlim", "origin x generation", "origin", "origin x generation"],
        "group": ["ALL", "MAR", "EU", "MAR:1", "MAR", "MAR:1"],
        "difference": [0.4, 2.0, 0.0, 5.0, np.nan, np.nan],
        "se": 0.01,
        "status": ["composition", "planted", "unchanged", "planted", "break", "break"],
    })


def test_join_maps_domains_and_groups():
    j = join_truth(_trend(), _truth(), ASKED).set_index(["concept", "domain", "group"])
    # dutch_home MAR:1 is not a trend domain of dutch_home: left out, not an error; AFG: one wave only
    assert sorted(j.index) == [("dutch_home", "origin", "MAR"), ("language", "all", "ALL"),
                               ("language", "origin", "MAR"), ("language", "origin x generation", "MAR:1"),
                               ("language", "vlim", "EU")]
    mar = j.loc[("language", "origin", "MAR")]
    assert (mar["status"], mar["truth"], mar["difference"], mar["se"]) == ("planted", 2.0, 3.0, 1.0)
    assert mar["cover"] == 1.0  # 2 in 3 -+ 1.96
    assert j.loc[("language", "origin x generation", "MAR:1"), "cover"] == 0.0  # 5 not in 1 -+ 3.92
    assert j.loc[("language", "vlim", "EU"), "n_min"] == 25
    assert np.isnan(j.loc[("dutch_home", "origin", "MAR"), "cover"])  # a break has no truth


def test_join_fails_on_a_lost_or_extra_row():
    with pytest.raises(JoinError, match="truth row.*language / vlim / EU"):
        join_truth(_trend().drop(index=3), _truth(), ASKED)
    extra = pd.concat([_trend(), pd.DataFrame([_trend_row("language", "origin", "XYZ", 1.0, 1.0)])])
    with pytest.raises(JoinError, match="trend row.*XYZ"):
        join_truth(extra, _truth(), ASKED)
    with pytest.raises(JoinError, match="no truth domain"):
        join_truth(_trend(), _truth(), [*ASKED, ("language", "sex")])
    with pytest.raises(JoinError, match="no truth row for the asked"):
        join_truth(_trend(), _truth(), [*ASKED, ("discrimination", "origin")])
    unbroken = _trend()
    unbroken.loc[5, "status"] = "ok"
    with pytest.raises(JoinError, match="breaks differ"):
        join_truth(unbroken, _truth(), ASKED)


def _records() -> pd.DataFrame:
    """Two draws. Unchanged A (p .01, .5), B (.2, .3) and A2, A's alias (the same estimates);
    planted C (truth 2: p .001, .04), D (truth -1: .06, .01); composition E; break F."""
    rows = []
    spec = {  # cell: (status, truth, [(difference, se, p, cover) per draw])
        ("A", "origin"): ("unchanged", 0.0, [(2.6, 1.0, 0.01, 0), (0.1, 1.2, 0.5, 1)]),
        ("A", "vlim"): ("unchanged", 0.0, [(2.6, 1.0, 0.01, 0), (0.1, 1.2, 0.5, 1)]),
        ("B", "origin"): ("unchanged", 0.0, [(1.0, 0.8, 0.2, 1), (-0.5, 0.5, 0.3, 1)]),
        ("C", "origin"): ("planted", 2.0, [(1.0, 1.0, 0.001, 1), (3.0, 1.0, 0.04, 1)]),
        ("D", "origin"): ("planted", -1.0, [(-1.5, 0.5, 0.06, 1), (-0.5, 0.7, 0.01, 0)]),
        ("E", "origin"): ("composition", 0.3, [(0.3, 0.2, 0.04, 1), (0.2, 0.2, 0.2, 1)]),
        ("F", "origin"): ("break", np.nan, [(1.0, 0.2, 0.001, np.nan), (1.0, 0.3, 0.3, np.nan)]),
    }
    for (concept, domain), (status, truth, draws) in spec.items():
        for d, (diff, se, p, cover) in enumerate(draws):
            rows.append({"draw": d, "concept": "x", "domain": domain, "group": concept, "status": status,
                         "truth": truth, "difference": diff, "se": se, "p": p, "cover": cover, "n_min": 50})
    return pd.DataFrame(rows)


def test_aliases_counts_a_repeated_cell_once():
    a = aliases(_records())
    assert a[a].index.tolist() == [("x", "vlim", "A", "unchanged")]


def test_rates_by_hand():
    s = summarise(_records())
    u, pl, comp, br = s["unchanged"], s["planted"], s["composition"], s["break"]
    assert (u["cells"], u["aliases"], u["draws"], u["cell_draws"]) == (2, 1, 2, 4)
    assert u["rejection_rate"] == pytest.approx(1 / 4)  # A rejects in draw 0 only; B never
    # draw rates 1/2 and 0: SD 0.5 / sqrt(2), over sqrt(2) draws
    assert u["rejection_mc_se"] == pytest.approx(0.25)
    assert u["coverage"] == pytest.approx(3 / 4)
    assert pl["rejection_rate"] == pytest.approx(3 / 4)  # C twice, D once
    assert pl["coverage"] == pytest.approx(3 / 4)
    # expected power per planted cell: C mean SE 1, SD sqrt(2); D mean SE 0.6, SD sqrt(0.5)
    assert pl["expected_power_mean_se"] == pytest.approx((power(2, 1.0) + power(1, 0.6)) / 2, rel=1e-10)
    assert pl["expected_power_sd"] == pytest.approx((power(2, math.sqrt(2)) + power(1, math.sqrt(0.5))) / 2,
                                                    rel=1e-10)
    assert pl["se_ratio_median"] == pytest.approx((1 / math.sqrt(2) + 0.6 / math.sqrt(0.5)) / 2)
    assert comp["rejection_rate"] == pytest.approx(1 / 2) and comp["coverage"] == 1.0
    assert br["rejection_rate"] == pytest.approx(1 / 2) and "coverage" not in br
    # A: mean SE 1.1 / SD of (2.6, 0.1) = 2.5/sqrt(2); B: 0.65 / (1.5/sqrt(2)); C, D as above
    ratios = sorted([1.1 / (2.5 / math.sqrt(2)), 0.65 / (1.5 / math.sqrt(2)), 1 / math.sqrt(2),
                     0.6 / math.sqrt(0.5)])
    assert s["claimed"]["se_ratio_median"] == pytest.approx((ratios[1] + ratios[2]) / 2)


def test_per_cell_columns():
    c = per_cell(_records()).set_index("group")
    assert c.loc["C", "reject"] == 1.0 and c.loc["D", "reject"] == 0.5
    assert c.loc["C", "sd_difference"] == pytest.approx(math.sqrt(2))
    assert c.loc["D", "power_se"] == pytest.approx(power(1, 0.6))


def _state() -> dict:
    return {"cells": None, "draws": [], "failed": []}


def test_a_failed_draw_is_counted_not_raised():
    from benchmarks.trend_power import add_draw

    state = _state()
    line = add_draw(state, {"draw": 3, "seeds": [1, 2], "seconds": 0.5, "error": "ConvergenceError: raking"},
                    _truth(), ASKED)
    assert "FAILED" in line and state["draws"] == []
    assert state["failed"] == [{"draw": 3, "seeds": [1, 2], "seconds": 0.5, "error": "ConvergenceError: raking"}]
    # a table whose join fails is a failed draw too, with the join's message
    add_draw(state, {"draw": 4, "seeds": [3, 4], "seconds": 0.5, "table": _trend().drop(index=3)}, _truth(), ASKED)
    assert state["failed"][1]["draw"] == 4 and state["failed"][1]["error"].startswith("join: 1 truth row")


def test_draws_stored_and_read_back():
    from benchmarks.trend_power import add_draw, records_of

    state = _state()
    for d in (0, 1):
        add_draw(state, {"draw": d, "seeds": [d, d], "seconds": 1.0, "table": _trend()}, _truth(), ASKED)
    rec = records_of(state)
    assert len(rec) == 10 and sorted(rec["draw"].unique()) == [0, 1]
    mar = rec[(rec["group"] == "MAR") & (rec["concept"] == "language")]
    assert mar["difference"].tolist() == [3.0, 3.0] and mar["cover"].tolist() == [1.0, 1.0]
    assert summarise(rec)["planted"]["rejection_rate"] == 0.5  # MAR p 0.0027 rejects; MAR:1 p 0.62 does not


def test_one_draw_end_to_end():
    """One draw at scale 0.2 (about 12 s): both demo waves, their stages, the trend, joined to
    the truth with every planted and unchanged cell present."""
    from benchmarks.trend_power import HARMONISATION, run_draw
    from benchmarks.trend_power_stats import asked_pairs
    from sid.demo.trend_differences import true_differences
    from sid.spec.harmonisation import load_harmonisation

    r = run_draw(0, 12, 0.2)
    assert "error" not in r, r.get("error")
    assert "SID_QUIET" not in os.environ  # the draw's quiet progress does not leak into later tests
    h = load_harmonisation(HARMONISATION, waves=["sid2017", "sid2022"])
    cells = join_truth(r["table"], true_differences(per_group=2000), asked_pairs(h))
    counts = cells["status"].value_counts()
    assert (counts["planted"], counts["unchanged"]) == (13, 75)
    claimed = cells[cells["status"].isin(["planted", "unchanged"])]
    assert (claimed["se"] > 0).all() and claimed["p"].between(0, 1).all()
    # every concept, the common-item indices the benchmark adds among them, has its overall change
    overall = r["table"][r["table"]["domain"] == "overall"].set_index("concept")["difference"]
    assert sorted(overall.index) == sorted(h.concepts) and overall.abs().lt(30).all()
