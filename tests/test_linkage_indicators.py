"""Survey indicators by VLIM origin category: pooled estimates checked against hand
formulas (weighted mean over the pooled rows; population-weighted group means; the
stratified linearisation variance written out), disclosure, and bad input."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sid.errors import LinkageError, SpecError
from sid.linkage.indicators import survey_indicators
from sid.linkage.spec import load_linkage_spec

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "linkage" / "sid2022.yaml"
POP = {"BEL": 5_000_000, "MAR": 200_000, "TUR": 150_000, "POL": 60_000, "ROU": 50_000, "COD": 30_000, "AFG": 15_000}
DISCR = ["q_discr_work", "q_discr_housing", "q_discr_education", "q_discr_public", "q_discr_police", "q_discr_shops"]


def respondents(n: int = 2100, seed: int = 3) -> pd.DataFrame:
    """Synthetic respondents; weights calibrated so each group's weights sum to POP[group]."""
    rng = np.random.default_rng(seed)
    groups = np.array(list(POP))
    origin = groups[np.arange(n) % len(groups)]
    df = pd.DataFrame({
        "origin": origin,
        "generation": np.where(origin == "BEL", 0, rng.integers(1, 3, n)),
        "sex": rng.integers(1, 3, n), "age_band": rng.integers(1, 7, n),
        "region": rng.choice([1, 2], n, p=[0.8, 0.2]), "age": rng.integers(15, 86, n),
        "q_lang_home": rng.choice([1, 2, 3, 4, 5, -1], n).astype(float),
        "q_work12": rng.integers(1, 3, n),
        "idx_inclusion": rng.normal(60, 15, n), "idx_citizenship": rng.normal(50, 10, n),
    })
    for v in DISCR:
        df[v] = rng.integers(1, 5, n)
        df.loc[rng.uniform(size=n) < 0.1, v] = -2  # no answer (a declared missing code)
    df.loc[df["q_work12"] == 2, "q_discr_work"] = -3  # routed: asked only to those who worked
    u = rng.uniform(0.5, 1.5, n)
    mean_u = pd.Series(u).groupby(origin).transform("mean").to_numpy()
    n_g = pd.Series(origin).map(pd.Series(origin).value_counts()).to_numpy()
    df["weight"] = pd.Series(origin).map(POP).to_numpy() / n_g * u / mean_u
    return df


@pytest.fixture(scope="module")
def spec():
    return load_linkage_spec(SPEC, project=ROOT)


def _row(out, code, origin, **dims):
    sel = (out["indicator_code"] == code) & (out["origin"] == origin)
    for d in ("generation", "sex", "age_band"):
        sel &= out[d] == dims.get(d, "total")
    assert sel.sum() == 1
    return out[sel].iloc[0]


def test_pooled_EU_share_equals_hand_weighted_mean_over_POL_ROU(spec):
    df = respondents()
    out = survey_indicators(df, spec, strata="origin")
    row = _row(out, "SID_TAAL_NL_THUIS", "EU")
    # hand: domain = Flemish Region, 18+, answer known (q_lang_home -1 is a missing code)
    dom = df["origin"].isin(["POL", "ROU"]) & (df["region"] == 1) & (df["age"] >= 18) & (df["q_lang_home"] > 0)
    y = (df.loc[dom, "q_lang_home"] == 1).astype(float)
    w = df.loc[dom, "weight"]
    assert row["value"] == pytest.approx(100 * (w * y).sum() / w.sum(), rel=1e-12)
    assert row["n"] == dom.sum()
    assert row["se"] > 0
    assert row["ci_low"] < row["value"] < row["ci_high"]
    assert "POL, ROU" in row["note"] and "EU" in row["note"]


def test_discrimination_share_counts_unasked_items_as_no_experience_by_hand(spec):
    df = respondents()
    out = survey_indicators(df, spec, strata="origin")
    items = df[DISCR].where(df[DISCR] > 0)  # -2, -3 are missing codes of the questionnaire
    dom = (df["region"] == 1) & (df["age"] >= 18) & (items.notna().sum(axis=1) >= 4) & df["origin"].isin(["MAR", "TUR", "COD", "AFG"])
    y = (items[dom] >= 3).any(axis=1).astype(float)
    w = df.loc[dom, "weight"]
    row = _row(out, "SID_DISCR_12M", "NEU")
    assert row["value"] == pytest.approx(100 * (w * y).sum() / w.sum(), rel=1e-12)
    assert row["n"] == dom.sum()


def test_pooled_NEU_mean_equals_population_weighted_group_means(spec):
    """Weights calibrated to each group's population: the pooled mean is the average of the
    group means weighted by the groups' (weighted) domain populations."""
    df = respondents()
    out = survey_indicators(df, spec, strata="origin")
    dom = (df["region"] == 1) & (df["age"] >= 18)
    d = df[dom & df["origin"].isin(["MAR", "TUR", "COD", "AFG"])]
    by = d.groupby("origin")
    n_pop = by["weight"].sum()  # each group's estimated domain population
    means = by.apply(lambda g: np.average(g["idx_inclusion"], weights=g["weight"]))
    expected = float((means * n_pop).sum() / n_pop.sum())
    assert _row(out, "SID_INCLUSIE_IDX", "NEU")["value"] == pytest.approx(expected, rel=1e-12)


def test_pooled_mean_se_equals_stratified_linearisation_by_hand(spec):
    """SE of a domain mean, stratified by origin, with-replacement PSUs (R svymean without
    fpc): v = sum_h n_h/(n_h-1) sum_i (z_hi - zbar_h)^2, z_i = w_i d_i (y_i - ybar) / sum w d."""
    df = respondents()
    out = survey_indicators(df, spec, strata="origin")
    row = _row(out, "SID_BURGERSCHAP_IDX", "EU")
    d = ((df["region"] == 1) & (df["age"] >= 18) & df["origin"].isin(["POL", "ROU"])).to_numpy(float)
    w, y = df["weight"].to_numpy(), df["idx_citizenship"].to_numpy()
    ybar = (w * d * y).sum() / (w * d).sum()
    z = w * d * (y - ybar) / (w * d).sum()
    v = 0.0
    for h in POP:  # 7 strata
        zh = z[df["origin"].to_numpy() == h]
        v += len(zh) / (len(zh) - 1) * ((zh - zh.mean()) ** 2).sum()
    assert row["value"] == pytest.approx(ybar, rel=1e-12)
    assert row["se"] == pytest.approx(np.sqrt(v), rel=1e-9)


def test_generation_breakdown_leaves_out_belgian_origin_and_maps_first_second(spec):
    out = survey_indicators(respondents(), spec, strata="origin")
    gen = out[(out["generation"] != "total")]
    assert set(gen["generation"]) == {"first", "second"}
    assert "BEL" not in set(gen["origin"])
    assert set(out[out["sex"] != "total"]["sex"]) == {"man", "vrouw"}
    notes = dict(zip(out["origin"], out["note"], strict=True))
    # the base's notes are Dutch (sid.messages indicator_base.*), the coverage the origin map's
    assert notes["BEL"] == "Belgische herkomst: SID-herkomstgroep BEL"
    assert notes["NEU"] == ("Niet-EU-herkomst: alleen de SID-herkomstgroepen MAR, TUR, COD, AFG (andere niet-EU-"
                            "herkomsten zitten niet in de SID-steekproef)")


def test_cells_below_min_n_are_suppressed_and_flagged(spec):
    df = respondents()
    strict = dataclasses.replace(spec, min_n=60)
    out = survey_indicators(df, strict, strata="origin")
    small = out["n"] < 60
    assert small.any() and (~small).any()
    assert out.loc[small, ["value", "se", "ci_low", "ci_high", "cv"]].isna().all().all()
    assert (out.loc[small, "flags"] == "suppressed_n<60").all()
    assert out.loc[~small, "value"].notna().all()
    assert not out.loc[~small, "flags"].str.startswith("suppressed").any()


def test_high_cv_is_flagged_not_suppressed(spec):
    out = survey_indicators(respondents(), dataclasses.replace(spec, max_cv=0.05), strata="origin")
    noisy = out["cv"] > 0.05
    assert noisy.any()
    assert (out.loc[noisy, "flags"] == "cv>0.05").all()
    assert out.loc[noisy, "value"].notna().all()


def test_origin_group_without_mapping_is_refused(spec):
    df = respondents()
    df.loc[df.index[:5], "origin"] = "SYR"
    with pytest.raises(LinkageError, match=r"origin group 'SYR' \(5 respondents\) has no VLIM category"):
        survey_indicators(df, spec, strata="origin")


def test_indicator_over_variable_missing_from_data_is_refused(spec):
    df = respondents().drop(columns=["idx_citizenship"])
    with pytest.raises(LinkageError, match="SID_BURGERSCHAP_IDX: variable 'idx_citizenship' is not in the respondent data"):
        survey_indicators(df, spec, strata="origin")


def test_indicator_over_undeclared_variable_is_refused_at_spec_load(tmp_path):
    text = SPEC.read_text(encoding="utf-8").replace("variable: idx_inclusion", "variable: idx_inclusoin")
    (tmp_path / "sid2022.yaml").write_text(text.replace("../questionnaires/", str(ROOT / "questionnaires") + "/"),
                                           encoding="utf-8")
    (tmp_path / "origin_map.yaml").write_text((ROOT / "linkage" / "origin_map.yaml").read_text(encoding="utf-8"),
                                              encoding="utf-8")
    with pytest.raises(SpecError, match="unknown variable 'idx_inclusoin'.*did you mean 'idx_inclusion'"):
        load_linkage_spec(tmp_path / "sid2022.yaml")
