"""The long AAPOR rates table (overall, origin, mode, origin x mode; unweighted and
design-weighted) on a gross sample whose rates were computed by hand from the AAPOR
Standard Definitions (10th ed., 2023) formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_fieldwork_dispositions import MAPPING
from test_fieldwork_rates import HAND, HAND_RATES

from sid.errors import DataError, SpecError
from sid.fieldwork import OUTCOMES, build_cases, outcome_rates_table

# (origin, mode, agency code, number of cases). BEL holds the hand example of
# test_fieldwork_rates (I=400, P=50, R=200, NC=150, O=50, UH=100, UO=50, NE=100);
# MAR adds I=5, R=3, NC=1, O=1, all web.
CELLS = [
    ("BEL", "web", 11, 300), ("BEL", "web", 12, 50), ("BEL", "web", 22, 50),
    ("BEL", "capi", 11, 100), ("BEL", "capi", 21, 150), ("BEL", "capi", 31, 150),
    ("BEL", "capi", 42, 50),
    ("BEL", None, 51, 100), ("BEL", None, 52, 50), ("BEL", None, 61, 100),
    ("MAR", "web", 11, 5), ("MAR", "web", 21, 3), ("MAR", "web", 31, 1), ("MAR", "web", 41, 1),
]  # fmt: skip
DESIGN_WEIGHT = {"BEL": 1.0, "MAR": 100.0}


@pytest.fixture(scope="module")
def files() -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    sizes = np.array([c[3] for c in CELLS])
    n = int(sizes.sum())
    keys = np.array([f"K{i:05d}" for i in range(n)])
    origin = np.repeat([c[0] for c in CELLS], sizes)
    gross = pd.DataFrame(
        {
            "person_key": keys,
            "origin": origin,
            "sex": np.tile([1, 2], n // 2),
            "pw": pd.Series(origin).map(DESIGN_WEIGHT).to_numpy(),
        }
    )
    disp = pd.DataFrame(
        {
            "person_key": keys,
            "disposition": np.repeat([float(c[2]) for c in CELLS], sizes),
            "mode": np.repeat(np.array([c[1] for c in CELLS], dtype=object), sizes),
        }
    ).iloc[::-1]  # the agency's file in another order than the gross sample
    with_data = disp["disposition"].isin([11.0, 12.0, 22.0]).to_numpy()
    return gross, disp, disp["person_key"][with_data].tolist()


@pytest.fixture(scope="module")
def table(files) -> pd.DataFrame:
    gross, disp, survey = files
    cases = build_cases(gross, disp, MAPPING, key="person_key", disposition="disposition", survey_keys=survey)
    return outcome_rates_table(cases, group="origin", mode="mode", weight="pw")


def _row(table, level, group="all", mode="all", basis="unweighted"):
    hit = table[(table["level"] == level) & (table["group"] == group) & (table["mode"] == mode) & (table["basis"] == basis)]
    assert len(hit) == 1, (level, group, mode, basis)
    return hit.iloc[0]


def test_table_has_every_level_once_per_basis(table):
    assert len(table) == 20  # (1 overall + 2 origin + 3 mode + 4 origin x mode) x 2 bases
    assert table["basis"].unique().tolist() == ["unweighted", "design-weighted (pw)"]
    assert table["level"].unique().tolist() == ["overall", "group", "mode", "group×mode"]
    assert set(table["mode"]) == {"all", "web", "capi", "(no mode)"}


def test_origin_row_matches_hand_computed_example(table):
    bel = _row(table, "group", group="BEL")
    assert bel[list(OUTCOMES)].tolist() == [HAND[k] for k in OUTCOMES]
    for name, expected in HAND_RATES.items():
        assert bel[name] == pytest.approx(float(expected), rel=1e-12), name
    mar = _row(table, "group", group="MAR")
    assert mar["RR1"] == pytest.approx(5 / 10) and mar["COOP1"] == pytest.approx(5 / 9)
    assert mar["e"] == 1.0  # 10 known eligible, 0 NE


def test_overall_unweighted_matches_hand_computation(table):
    row = _row(table, "overall")
    # I=405, P=50, R=203, NC=151, O=51, UH=100, UO=50, NE=100: known eligible 860
    assert row["n"] == 1110
    assert row["e"] == pytest.approx(860 / 960, rel=1e-12)
    assert row["RR1"] == pytest.approx(405 / 1010, rel=1e-12)
    assert row["RR2"] == pytest.approx(455 / 1010, rel=1e-12)
    assert row["RR3"] == pytest.approx(405 / (860 + 150 * 860 / 960), rel=1e-12)  # 405 / 994.375
    assert row["RR5"] == pytest.approx(405 / 860, rel=1e-12)


def test_overall_design_weighted_matches_hand_computation(table):
    row = _row(table, "overall", basis="design-weighted (pw)")
    # MAR counts x 100: I=900, P=50, R=500, NC=250, O=150, UH=100, UO=50, NE=100
    assert row[list(OUTCOMES)].tolist() == [900, 50, 500, 250, 150, 100, 50, 100]
    assert row["n"] == 1110
    assert row["e"] == pytest.approx(37 / 39, rel=1e-12)  # 1850 / 1950
    assert row["RR1"] == pytest.approx(0.45, rel=1e-12)  # 900 / 2000
    assert row["RR3"] == pytest.approx(117 / 259, rel=1e-12)  # 900*39 / (1850*39 + 150*37)
    assert row["COOP1"] == pytest.approx(9 / 16, rel=1e-12)  # 900 / 1600
    assert row["CON1"] == pytest.approx(0.8, rel=1e-12)  # 1600 / 2000


def test_mode_rows_match_hand_computation(table):
    web = _row(table, "mode", mode="web")
    assert web["RR1"] == pytest.approx(305 / 410, rel=1e-12)  # I=305, P=50, R=53, NC=1, O=1
    web_w = _row(table, "mode", mode="web", basis="design-weighted (pw)")
    assert web_w["RR1"] == pytest.approx(800 / 1400, rel=1e-12)  # I=800, P=50, R=350, NC=100, O=100
    capi = _row(table, "mode", mode="capi")
    assert capi["RR1"] == pytest.approx(100 / 450) and capi["COOP1"] == pytest.approx(100 / 300)
    none = _row(table, "mode", mode="(no mode)")
    assert none["RR1"] == 0.0 and np.isnan(none["RR5"]) and "RR5" in none["note"]
    assert _row(table, "group×mode", group="MAR", mode="web")["RR1"] == pytest.approx(0.5)


def test_counts_of_each_level_add_up_to_overall(table):
    for basis in table["basis"].unique():
        t = table[table["basis"] == basis]
        total = t.loc[t["level"] == "overall", list(OUTCOMES)].to_numpy()
        for level in ("group", "mode", "group×mode"):
            summed = t.loc[t["level"] == level, list(OUTCOMES)].sum().to_numpy()
            np.testing.assert_allclose(summed, total[0], rtol=1e-12)


def test_table_without_weight_or_mode(files):
    gross, disp, _ = files
    cases = build_cases(gross, disp, MAPPING, key="person_key", disposition="disposition")
    t = outcome_rates_table(cases, group="origin", mode=None)
    assert t["level"].tolist() == ["overall", "group", "group"]
    assert (t["basis"] == "unweighted").all() and (t["mode"] == "all").all()
    # a blank mode (how SPSS writes a missing string) is "no mode", like a missing one
    blank = outcome_rates_table(cases.assign(mode=cases["mode"].fillna("  ")), group="origin")
    assert blank.loc[blank["level"] == "mode", "mode"].tolist() == ["(no mode)", "capi", "web"]
    assert _row(blank, "mode", mode="(no mode)")["n"] == 250


def test_e_estimated_within_origin_and_pooled_matches_hand_computation(files):
    gross, disp, _ = files
    cases = build_cases(gross, disp, MAPPING, key="person_key", disposition="disposition")
    t = outcome_rates_table(cases, group="origin", weight="pw", e_scope="group")
    assert "within each group g" in t["e_method"].iloc[0]
    # BEL: e = 850/950 = 17/19; MAR has no unknowns. Every unknown is BEL's, so every
    # pooled row with unknowns gets e = 17/19 too.
    overall = _row(t, "overall")
    assert overall["e"] == pytest.approx(17 / 19, rel=1e-12)
    # 405 / (860 + 150*17/19) = 405*19 / (16340 + 2550)
    assert overall["RR3"] == pytest.approx(405 * 19 / 18890, rel=1e-12)
    assert _row(t, "group", group="BEL")["RR3"] == pytest.approx(float(HAND_RATES["RR3"]), rel=1e-12)
    none = _row(t, "mode", mode="(no mode)")
    assert none["e"] == pytest.approx(17 / 19) and none["RR3"] == 0.0  # row scope gave e = 0
    web = _row(t, "group×mode", group="BEL", mode="web")
    assert np.isnan(web["e"]) and "no case of unknown eligibility" in web["note"]
    assert web["RR3"] == web["RR5"] == pytest.approx(300 / 400)
    w = _row(t, "overall", basis="design-weighted (pw)")
    assert w["e"] == pytest.approx(17 / 19, rel=1e-12)  # MAR's weight does not touch BEL's unknowns
    # 900 / (1850 + 150*17/19) = 900*19 / (35150 + 2550)
    assert w["RR3"] == pytest.approx(900 * 19 / 37700, rel=1e-12)


def test_table_rejects_bad_options(files):
    gross, disp, _ = files
    cases = build_cases(gross, disp, MAPPING, key="person_key", disposition="disposition")
    with pytest.raises(SpecError, match="e_scope"):
        outcome_rates_table(cases, group="origin", e=0.5, e_scope="group")
    with pytest.raises(SpecError, match="e_scope"):
        outcome_rates_table(cases, group="origin", e_scope="mode")
    with pytest.raises(DataError, match="one design weight per case"):
        outcome_rates_table(cases, group="origin", weight=np.ones(3))
    with pytest.raises(DataError, match="have no 'origin'"):
        outcome_rates_table(cases.assign(origin=None), group="origin")
