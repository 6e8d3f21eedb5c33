"""The Python API refuses input that would give NaN or inf estimates with only warnings:
weights all zero or not finite, a confidence level outside (0, 1), an infinite value in an
analysis variable. One-line EstimationError naming the weight/variable and the row; the
data frame is left as it was."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.errors import EstimationError, SidError
from sid.estimation.design import Design


@pytest.fixture
def df() -> pd.DataFrame:
    rng = np.random.default_rng(16)
    n = 40
    return pd.DataFrame({"y": rng.normal(10, 2, n), "x": rng.uniform(1, 2, n),
                         "g": np.repeat(["a", "b"], n // 2), "c": rng.integers(1, 4, n),
                         "s": np.tile(["s1", "s2"], n // 2), "w": rng.uniform(1, 3, n)})


def _refused(call, error, *patterns) -> str:
    with pytest.raises(error) as info:
        call()
    msg = str(info.value)
    assert "\n" not in msg, msg
    for p in patterns:
        assert p in msg, msg
    return msg


def test_all_zero_weights_are_refused_by_every_constructor(df):
    df["w"] = 0.0
    df["pw"] = 1.0
    before = df.copy()
    _refused(lambda: Design(df, weight="w", strata="s"), EstimationError, "Design: weight 'w' is 0 in all 40 rows",
             "total weight is 0")
    _refused(lambda: Design.from_replicate_weights(df, "w", np.ones((40, 3)), scale=1.0), EstimationError,
             "weight 'w' is 0 in all 40 rows")
    _refused(lambda: Design.calibrated(df, weight="w", prior="pw", margins={"g": {"a": 20, "b": 20}}),
             EstimationError, "Design.calibrated: weight 'w' is 0 in all 40 rows")
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan, -1.0])
def test_weights_not_finite_or_negative_name_the_row(df, bad):
    df.loc[7, "w"] = bad
    _refused(lambda: Design(df, weight="w"), EstimationError, "weight 'w' is missing, infinite or negative in row 7")


def test_weights_computed_from_fpc_are_checked_too(df):
    df["N"] = 100.0
    d = Design(df, fpc="N")  # weights N / n, finite and > 0
    assert np.allclose(d.weights, 100 / 40)


CALLS = {
    "mean": lambda d, lv: d.mean("y", level=lv),
    "mean_list": lambda d, lv: d.mean(["y", "x"], level=lv),
    "total": lambda d, lv: d.total("y", by="g", level=lv),
    "ratio": lambda d, lv: d.ratio("y", "x", level=lv),
    "proportion": lambda d, lv: d.proportion("c", level=lv),
    "quantile": lambda d, lv: d.quantile("y", 0.5, level=lv),
    "compare": lambda d, lv: d.compare("y", "g", level=lv),
}


@pytest.mark.parametrize("level", [2, 1, 0, -0.5, 1.5, float("nan"), "95%", True])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_level_outside_zero_one_is_refused_by_every_estimator(df, call, level):
    d = Design(df, weight="w", strata="s")
    _refused(lambda: CALLS[call](d, level), EstimationError, f"level={level!r} is not a confidence level",
             "level=0.95")


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_level_inside_zero_one_gives_finite_intervals(df, call):
    res = CALLS[call](Design(df, weight="w", strata="s"), 0.9)
    assert np.isfinite(res["ci_low"].to_numpy(float)).all() and np.isfinite(res["ci_high"].to_numpy(float)).all()


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
@pytest.mark.parametrize("call", ["mean", "mean_list", "total", "ratio", "quantile", "compare"])
def test_infinite_value_in_an_analysis_variable_names_it_and_the_first_row(df, call, bad):
    df.loc[[12, 30], "y"] = bad
    before = df.copy()
    d = Design(df, weight="w", strata="s")
    _refused(lambda: CALLS[call](d, 0.95), EstimationError, "variable 'y' is infinite in row 12 (2 rows)")
    pd.testing.assert_frame_equal(df, before)


def test_missing_values_are_still_left_out_not_refused(df):
    df.loc[12, "y"] = np.nan
    res = Design(df, weight="w").mean("y")
    assert res["n"].iloc[0] == 39 and np.isfinite(res["estimate"].iloc[0])


def test_infinite_value_in_a_numeric_calibration_margin_is_refused(df):
    df.loc[5, "x"] = np.inf
    _refused(lambda: Design(df, weight="w").calibrate({"x": 60.0}), SidError, "margin 'x'",
             "infinite in row 5")
