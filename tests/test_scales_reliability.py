"""sid.reliability against R: psych 2.2.9 (alpha, scoreItems, omega) and survey::svycralpha."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sid
from sid.errors import DataError, EstimationError, SpecError
from sid.scales.reliability import reliability_by_group, reliability_tables

AGREE = ["A1", "A2", "A3", "A4", "A5"]
RTOL = 1e-9


@pytest.fixture(scope="module")
def bfi(reference_dir) -> pd.DataFrame:
    return pd.read_csv(reference_dir / "bfi.csv")


@pytest.fixture(scope="module")
def apistrat(reference_dir) -> pd.DataFrame:
    return pd.read_csv(reference_dir / "apistrat.csv")


def test_alpha_pairwise_matches_R_psych_alpha_bfi_agree_A1_reversed(bfi, reliability_ref):
    ref = reliability_ref["bfi_agree_alpha_A1_reversed"]
    rel = sid.reliability(bfi, AGREE, reverse=["A1"], item_range=(1, 6), missing="pairwise")
    assert rel.alpha == pytest.approx(ref["raw_alpha"], rel=RTOL)
    assert rel.std_alpha == pytest.approx(ref["std_alpha"], rel=RTOL)
    assert rel.average_r == pytest.approx(ref["average_r"], rel=RTOL)
    np.testing.assert_allclose(rel.alpha_if_dropped.to_numpy(), ref["alpha_if_dropped"], rtol=RTOL)
    np.testing.assert_allclose(rel.item_rest_r.to_numpy(), ref["item_rest_r_drop"], rtol=RTOL)
    assert list(rel.alpha_if_dropped.index) == AGREE
    assert rel.n == len(bfi)
    assert rel["alpha"] == rel.alpha  # dict-like access


def test_alpha_complete_cases_matches_R_psych_alpha_bfi_agree_n2709(bfi, reliability_ref):
    ref = reliability_ref["bfi_agree_alpha_complete_cases"]
    rel = sid.reliability(bfi, AGREE, reverse=["A1"], item_range=(1, 6), missing="complete")
    assert rel.n == ref["n"]
    assert rel.alpha == pytest.approx(ref["raw_alpha"], rel=RTOL)
    assert rel.std_alpha == pytest.approx(ref["std_alpha"], rel=RTOL)


def test_alpha_per_keyed_scale_matches_R_psych_scoreItems_bfi_five_scales(bfi, reliability_ref):
    ref = reliability_ref["bfi_scale_scores_mean_of_available_items"]
    for name, keys in ref["keys"].items():
        items = [k.lstrip("-") for k in keys]
        reverse = [k[1:] for k in keys if k.startswith("-")]
        rel = sid.reliability(bfi, items, reverse=reverse, item_range=(ref["item_min"], ref["item_max"]))
        assert rel.alpha == pytest.approx(ref["alpha"][name], rel=RTOL), name


def test_omega_total_matches_R_psych_omega_one_factor_bfi_agree_to_1e7(bfi, reliability_ref):
    # psych's minres stops its optim() a little short of the exact minimum that sid's
    # solver reaches: agreement is ~6e-9 relative, far beyond psych's printed 2 digits.
    ref = reliability_ref["bfi_agree_omega_total_one_factor"]
    rel = sid.reliability(bfi, AGREE, reverse=["A1"], item_range=(1, 6))
    assert rel.omega_total == pytest.approx(ref, rel=1e-7)
    # omega flips negatively loading items itself, so the unreversed scale agrees too
    assert sid.reliability(bfi, AGREE).omega_total == pytest.approx(ref, rel=1e-7)


def test_weighted_alpha_matches_R_survey_svycralpha_apistrat(apistrat, reliability_ref):
    ref = reliability_ref["apistrat_weighted_alpha"]
    rel = sid.reliability(apistrat, ref["items"], weight=ref["weight"])
    assert rel.weighted
    assert rel.alpha == pytest.approx(ref["svycralpha"], rel=RTOL)
    assert rel.alpha_unweighted == pytest.approx(ref["unweighted"], rel=RTOL)
    unweighted = sid.reliability(apistrat, ref["items"])
    assert unweighted.alpha == pytest.approx(ref["unweighted"], rel=RTOL)
    # weight given as an array: same figure
    arr = sid.reliability(apistrat, ref["items"], weight=apistrat["pw"].to_numpy())
    assert arr.alpha == pytest.approx(ref["svycralpha"], rel=RTOL)


def test_reversal_without_range_gives_same_reliability_as_reflection_R_psych_alpha(bfi, reliability_ref):
    ref = reliability_ref["bfi_agree_alpha_A1_reversed"]
    rel = sid.reliability(bfi, AGREE, reverse=["A1"])
    assert rel.alpha == pytest.approx(ref["raw_alpha"], rel=RTOL)


def test_reliability_by_group_rows_match_R_alpha_overall_and_flag_noise_group(bfi, reliability_ref):
    rng = np.random.default_rng(7)
    df = bfi[AGREE].copy()
    df["origin"] = np.where(np.arange(len(df)) % 2 == 0, "BEL", "MAR")
    # A third group answering at random: its alpha is near zero and must be flagged.
    noise = pd.DataFrame(rng.integers(1, 7, size=(400, 5)).astype(float), columns=AGREE)
    noise["origin"] = "TUR"
    df = pd.concat([df, noise], ignore_index=True)
    table = reliability_by_group(df, AGREE, "origin", reverse=["A1"], item_range=(1, 6), threshold=0.6)
    assert list(table["group"]) == ["(all)", "BEL", "MAR", "TUR"]
    by = table.set_index("group")
    assert by.loc["TUR", "flag"] and "alpha" in by.loc["TUR", "reason"]
    assert not by.loc["BEL", "flag"] and not by.loc["MAR", "flag"]
    assert by.loc["BEL", "n"] + by.loc["MAR", "n"] == len(bfi)
    # each group's row is the reliability of that group alone
    bel = sid.reliability(df[df.origin == "BEL"], AGREE, reverse=["A1"], item_range=(1, 6))
    assert by.loc["BEL", "alpha"] == pytest.approx(bel.alpha, rel=1e-12)
    # the pooled bfi subset alone reproduces R's figure
    only_bfi = reliability_by_group(df.iloc[: len(bfi)], AGREE, "origin", reverse=["A1"], item_range=(1, 6))
    assert only_bfi.loc[0, "alpha"] == pytest.approx(reliability_ref["bfi_agree_alpha_A1_reversed"]["raw_alpha"])


def test_reliability_by_group_reports_uncomputable_group_with_reason(bfi):
    df = bfi[AGREE].iloc[:300].copy()
    df["g"] = "a"
    df.loc[df.index[:1], "g"] = "tiny"  # one respondent: no covariance
    table = reliability_by_group(df, AGREE, "g", reverse=["A1"], item_range=(1, 6)).set_index("group")
    assert table.loc["tiny", "flag"]
    assert table.loc["tiny", "reason"].startswith("not computable")
    assert np.isnan(table.loc["tiny", "alpha"])


def test_reliability_rejects_bad_input_with_sid_errors(bfi):
    with pytest.raises(DataError, match=r"item A1, row .*outside its range"):
        sid.reliability(bfi.assign(A1=bfi["A1"].where(bfi.index != 5, -1)), AGREE, item_range=(1, 6))
    with pytest.raises(SpecError, match="reverse"):
        sid.reliability(bfi, AGREE, reverse=["C1"])
    with pytest.raises(DataError, match="no such column"):
        sid.reliability(bfi, ["A1", "ZZ"])
    with pytest.raises(DataError, match="weight"):
        sid.reliability(bfi, AGREE, weight=np.r_[np.nan, np.ones(len(bfi) - 1)])
    with pytest.raises(EstimationError, match="missing="):
        sid.reliability(bfi, AGREE, missing="listwise")
    with pytest.raises(EstimationError, match="no variance"):
        sid.reliability(bfi.assign(A2=3.0), AGREE)


def test_item_table_by_group_overall_rows_match_R_psych_r_drop_and_alpha_drop(bfi, reliability_ref):
    ref = reliability_ref["bfi_agree_alpha_A1_reversed"]
    df = bfi[AGREE].assign(origin=np.where(np.arange(len(bfi)) % 3 == 0, "BEL", "MAR"))
    scales, items = reliability_tables(df, AGREE, "origin", reverse=["A1"], item_range=(1, 6))
    overall = items[items["group"] == "(all)"].set_index("item")
    np.testing.assert_allclose(overall.loc[AGREE, "item_rest_r"], ref["item_rest_r_drop"], rtol=RTOL)
    np.testing.assert_allclose(overall.loc[AGREE, "alpha_if_dropped"], ref["alpha_if_dropped"], rtol=RTOL)
    assert len(items) == 3 * len(AGREE) and list(scales["group"]) == ["(all)", "BEL", "MAR"]
