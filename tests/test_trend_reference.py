"""sid's trend 2017 -> 2022 against R (tests/reference/r/trend_contrast.R) and the hand formula.

The committed respondents of both demo waves (scale 0.3; tests/trend_reference.py exports
them from two run folders): 2017 as its clustered raked Taylor design, 2022 as its
replicate design, both built from the CSVs as the weight stage's run folders give them to
sid.open_wave. sid.trends.trend_table on them, with a harmonisation spec of three concepts
(a mean, a share, a share after a recode of a 4- vs 5-point scale) and two domains,
against R's svyby per wave stacked and svycontrast (block-diagonal vcov, df = Inf).

R's svyrecvar sweeps the raking residuals 10 times; sid's open_wave sweeps them to
convergence (sid.estimation.calvar), so the 2017 design here is built with
``rake_sweeps=10``, as tests/test_sid2017_run.py does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from sid.estimation.design import Design
from sid.spec.harmonisation import parse_harmonisation
from sid.trends import WaveInput, trend_table

sys.path.insert(0, str(Path(__file__).parent))
from trend_reference import read_2017, read_2022, replicate_columns  # noqa: E402

REF = Path(__file__).parent / "reference" / "r"
SPEC = """
domains:
  origin:
    label: Herkomst
    waves: {sid2017: {variable: herkomst}, sid2022: {variable: origin}}
  origin_vlim:
    label: Herkomst (VLIM)
    composed_of: origin
    waves: {sid2017: {variable: herkomst_vlim}, sid2022: {variable: origin_vlim}}
concepts:
  idx_language:
    label: Taalgebruik
    statistic: mean
    waves: {sid2017: {variable: idx_taal}, sid2022: {variable: idx_language}}
  dutch_home:
    label: Thuis Nederlands
    statistic: share
    category: 1
    waves: {sid2017: {variable: nl_thuis}, sid2022: {variable: dutch_home}}
  belong_be:
    label: Thuis in Belgie
    statistic: share
    category: 1
    categories: {0: Nee, 1: Ja}
    break: 4- versus 5-puntsschaal
    waves:
      sid2017: {variable: v_thuis_be, recode: {1: 0, 2: 0, 3: 1, 4: 1}}
      sid2022: {variable: q_belong_be, recode: {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}}
"""


@pytest.fixture(scope="module")
def trend():
    d17, margins = read_2017(REF)
    design17 = Design.calibrated(d17, weight="weight", prior="prior_weight", margins=margins, method="raking",
                                 strata="stratum", psu=["psu_1", "psu_2"], rake_sweeps=10)
    d22, info = read_2022(REF)
    design22 = Design.from_replicate_weights(d22, "weight", replicate_columns(d22), scale=info["scale"],
                                             rscales=info["rscales"], mse=info["mse"], type=info["type"])
    h = parse_harmonisation(SPEC, waves=["sid2017", "sid2022"])
    table = trend_table([WaveInput("sid2017", design17), WaveInput("sid2022", design22)], h)
    return table, json.loads((REF / "trend_contrast.json").read_text(encoding="utf-8"))


CASES = [(c, d) for c in ("idx_language", "dutch_home", "belong_be") for d in ("all", "origin", "origin_vlim")]


def _rows(table, concept, domain, keys):
    sel = table[(table.concept == concept) & (table.domain == ("overall" if domain == "all" else domain))]
    return sel.set_index("by_value").loc[list(keys)]


@pytest.mark.parametrize(("concept", "domain"), CASES)
def test_trend_difference_se_ci_p_match_R_svycontrast_on_stacked_svyby_of_two_designs(trend, concept, domain):
    """Per domain category in both waves: each wave's estimate and SE (2017 clustered raked
    Taylor, 2022 replicates), the difference, its SE, normal CI and p, to 1e-8 of R's."""
    table, ref = trend
    r = ref[f"{concept}_by_{domain}"]
    got = _rows(table, concept, domain, r["domain"])
    np.testing.assert_allclose(got.estimate_1, r["estimate_2017"], rtol=1e-10)
    np.testing.assert_allclose(got.estimate_2, r["estimate_2022"], rtol=1e-10)
    np.testing.assert_allclose(got.se_1, r["se_2017"], rtol=1e-8)
    np.testing.assert_allclose(got.se_2, r["se_2022"], rtol=1e-8)
    np.testing.assert_allclose(got.difference, r["difference"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got.se_difference, r["se"], rtol=1e-8)
    np.testing.assert_allclose(got.ci_low, r["ci_low"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got.ci_high, r["ci_high"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got.z, r["z"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got.p_value, r["p"], rtol=1e-7, atol=1e-12)
    assert set(got.reference) == {"normal"}


@pytest.mark.parametrize(("concept", "domain"), CASES)
def test_trend_se_of_difference_is_the_hand_formula_sqrt_se2017_squared_plus_se2022_squared(trend, concept, domain):
    """var(difference) = var_2017 + var_2022 (independent samples): sid's SE and R's from
    their per-wave SEs."""
    table, ref = trend
    r = ref[f"{concept}_by_{domain}"]
    got = _rows(table, concept, domain, r["domain"])
    np.testing.assert_allclose(got.se_difference, np.hypot(got.se_1, got.se_2), rtol=1e-14)
    np.testing.assert_allclose(got.se_difference, np.hypot(r["se_2017"], r["se_2022"]), rtol=1e-8)
    np.testing.assert_allclose(got.difference, np.subtract(r["estimate_2022"], r["estimate_2017"]), rtol=1e-8,
                               atol=1e-10)


def test_trend_group_of_2022_only_is_a_not_in_sid2017_row_as_R_finds_it_only_in_2022(trend):
    table, ref = trend
    only = ref["idx_language_by_origin"]["only_2022"]
    assert only == ["AFG"]
    for concept in ("idx_language", "dutch_home", "belong_be"):
        row = _rows(table, concept, "origin", only).iloc[0]
        assert np.isnan(row.estimate_1) and np.isfinite(row.estimate_2) and np.isnan(row.difference)
        assert "not_in_sid2017" in row.status.split(";") and row.suppressed
        assert row.wave_1 == "sid2017" and row.status_1 == "not_in_sid2017"


def test_trend_pooled_non_eu_category_lists_its_groups_per_wave_and_is_flagged(trend):
    table, _ = trend
    rows = table[(table.domain == "origin_vlim")].set_index(["concept", "by_value"])
    neu = rows.loc[("idx_language", "3")]
    assert neu.composition_1 == "COD, MAR, TUR" and neu.composition_2 == "AFG, COD, MAR, TUR"
    assert neu.composition_changed and "composition_changed" in neu.status
    eu = rows.loc[("idx_language", "2")]
    assert eu.composition_1 == eu.composition_2 == "POL, ROU" and not eu.composition_changed
    assert table.loc[table.concept == "belong_be", "break"].all()
    assert not table.loc[table.concept == "idx_language", "break"].any()
