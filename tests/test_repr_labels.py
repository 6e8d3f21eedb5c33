"""Short R-like reprs of a Design and a Wave, and labels=True in the Wave's estimator results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.estimation.design import Design
from tests.test_tables_stage import _make_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return _make_run(tmp_path_factory.mktemp("repr"))


def _df() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"st": np.repeat(["a", "b", "c"], 40), "w": np.repeat([2.0, 5.0, 9.0], 40),
                         "sex": rng.integers(1, 3, 120), "x": rng.normal(size=120)})


def test_design_repr_names_strata_and_calibration():
    df = _df()
    d = Design(df, weight="w", strata="st").calibrate({"sex": {1: 360.0, 2: 280.0}}, method="raking")
    text = repr(d)
    assert text.startswith("sid Design: 120 respondents, Taylor linearisation")
    assert "strata:      st (3 strata)" in text and "raking on 1 margin (sex)" in text
    assert "strata=False" not in text and "calibrations=0" not in text
    assert len(text) < 800 and "degf:        117" in text


def test_design_repr_of_given_replicates_says_what_they_carry():
    df = _df()
    W = df["w"].to_numpy()[:, None] * np.random.default_rng(1).uniform(0.5, 1.5, (120, 10))
    text = repr(Design.from_replicate_weights(df, "w", W, scale=1 / 9, type="bootstrap"))
    assert "10 replicate weights (bootstrap; scale 0.1111" in text and "carried by them" in text


def test_wave_repr_is_short_and_states_the_weight_stage(run):
    from sid.runfolder.wave import open_wave

    wave = open_wave(run["run"])
    text = repr(wave)
    assert len(text) < 1500 and str(len(wave.data)) in text.replace(",", "")
    assert "strata 'stratum'" in text and "40 replicate weights (subbootstrap" in text
    assert str(wave) == text


def test_labels_true_adds_category_and_domain_labels(run):
    from sid.runfolder.wave import open_wave

    wave = open_wave(run["run"], variance="taylor")
    plain = wave.proportion("q_lang_home", by="origin")
    got = wave.proportion("q_lang_home", by="origin", labels=True)
    assert "category_label" not in plain.columns
    assert list(got.columns[:3]) == [plain.columns[0], *[c for c in got.columns[1:3]]]
    row = got[(got["origin"] == "MAR") & (got["category"].astype(float) == 1)].iloc[0]
    assert row["category_label"] == "Nederlands" and row["origin_label"] == "Marokkaans"
    assert row["variable_label"] == "Taal die u thuis het meest spreekt"
    np.testing.assert_array_equal(got["estimate"], plain["estimate"])
    m = wave.mean("age", by="sex", labels=True)
    assert set(m["sex_label"]) == {"Man", "Vrouw"}
