"""The demo's register extract (sid.demo.register_extract): levels per VLIM origin category
against the demo's own administrative indicators (sid.demo.admin, 2022), codes and their
consistency, missing and duplicated keys, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.demo.admin import admin_indicators
from sid.demo.population import population_counts
from sid.demo.register_extract import CODES, DUPLICATE_RATE, register_extract
from sid.demo.sample import draw_gross_sample

VLIM = {"BEL": "BEL", "POL": "EU", "ROU": "EU", "MAR": "NEU", "TUR": "NEU", "COD": "NEU", "AFG": "NEU"}


@pytest.fixture(scope="module")
def sample():
    return draw_gross_sample(population_counts(), 2500, np.random.default_rng(11))


@pytest.fixture(scope="module")
def extract(sample):
    return register_extract(sample, np.random.default_rng(12))


@pytest.fixture(scope="module")
def persons(sample, extract):
    once = extract.drop_duplicates("person_key", keep="first")
    m = sample.merge(once, on="person_key", how="inner", validate="one_to_one")
    m["vlim"] = m["origin"].map(VLIM)
    return m


def _weighted_share(df: pd.DataFrame, flag: pd.Series) -> pd.Series:
    """Design-weighted share of ``flag`` per VLIM category (percent): the gross sample is a
    stratified SRS, so N_h / n_h weights pool the origin groups into their category."""
    w = df["design_weight"]
    return 100 * (w * flag).groupby(df["vlim"]).sum() / w.groupby(df["vlim"]).sum()


@pytest.mark.parametrize(("code", "universe", "flag", "tol"), [
    ("ADM_WERKZAAMHEID_20_64", lambda d: d["age"].between(20, 64), lambda d: d["employment_status"] == 1, 4.0),
    ("ADM_WERKLOOSHEID", lambda d: d["age"].between(15, 64) & d["employment_status"].isin([1, 2]),
     lambda d: d["employment_status"] == 2, 2.5),
    ("ADM_LEEFLOON", lambda d: d["age"].between(18, 64), lambda d: d["leefloon"] == 1, 1.0),
    ("ADM_SOCIALE_HUUR", lambda d: d["age"] >= 0, lambda d: d["social_housing"] == 1, 2.0),
])
def test_register_extract_levels_match_demo_admin_indicators_2022(persons, code, universe, flag, tol):
    admin = admin_indicators(2022)
    ref = admin[(admin["indicator_code"] == code) & (admin["period"] == 2022) & (admin["generation"] == "total")]
    d = persons[universe(persons)]
    got = _weighted_share(d, flag(d))
    for _, row in ref.iterrows():
        assert abs(got[row["origin"]] - row["value"]) < tol, (code, row["origin"], got[row["origin"]], row["value"])
    assert got["BEL"] != got["NEU"]


def test_register_extract_codes_are_documented_and_consistent(persons, extract):
    for col, codes in CODES.items():
        values = set(extract[col].dropna().astype(int))
        assert values == set(codes), col  # every documented code occurs, no other
    emp = persons["employment_status"] == 1
    assert ((persons["wage_band"] > 0) == emp).all()  # a wage band for the employed only
    assert (persons.loc[~persons["age"].between(18, 64), "leefloon"] == 0).all()
    assert (persons.loc[persons["age"] < 18, "diploma"].dropna() == 1).all()
    young = persons["age"] < 18
    assert (persons.loc[young, "employment_status"] == 4).mean() > 0.85
    assert (persons.loc[persons["age"] >= 70, "employment_status"].isin([3, 5])).mean() > 0.9
    # a diploma obtained abroad is often unknown to the register; a Belgian one rarely
    unknown = persons["diploma"].isna().groupby(persons["generation"]).mean()
    assert unknown[1] > 0.2 and unknown[0] < 0.05 and unknown[2] < 0.05
    # higher diploma, higher wage band among the employed
    wage = persons[emp].groupby("diploma")["wage_band"].mean()
    assert wage[1.0] < wage[2.0] < wage[3.0]


def test_register_extract_missing_and_duplicated_keys(sample, extract):
    keys = extract["person_key"]
    assert keys.isin(sample["person_key"]).all()
    assert keys.is_monotonic_increasing  # delivered sorted by key
    missing = ~sample["person_key"].isin(keys)
    assert 0.01 < missing.mean() < 0.03
    first_gen_eu = sample["origin"].isin(["POL", "ROU"]) & (sample["generation"] == 1)
    assert missing[first_gen_eu].mean() > 2 * missing[sample["origin"] == "BEL"].mean()  # emigration
    twice = keys[keys.duplicated()]
    assert len(twice) == round(DUPLICATE_RATE * len(sample)) and keys.value_counts().max() == 2
    pairs = extract[keys.isin(twice)].groupby("person_key")
    fixed = ["leefloon", "social_housing", "diploma"]  # the copy redraws the position only
    assert (pairs[fixed].nunique(dropna=False) == 1).all().all()
    assert len(extract) == len(sample) - missing.sum() + len(twice)


def test_register_extract_is_deterministic_from_its_generator(sample, extract):
    again = register_extract(sample, np.random.default_rng(12))
    pd.testing.assert_frame_equal(again, extract)
    other = register_extract(sample, np.random.default_rng(13))
    assert not other["employment_status"].equals(extract["employment_status"])
