"""compute_index: one spec index end to end, against R's psych figures and definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.errors import SpecError
from sid.scales.index import compute_index
from sid.spec.expr import parse
from sid.spec.questionnaire import Index

AGREE = ("A1", "A2", "A3", "A4", "A5")


@pytest.fixture(scope="module")
def bfi(reference_dir) -> pd.DataFrame:
    df = pd.read_csv(reference_dir / "bfi.csv")
    rng = np.random.default_rng(1)
    df["origin"] = np.where(np.arange(len(df)) % 2 == 0, "BEL", "MAR")
    df["pw"] = rng.uniform(1, 5, len(df))
    return df


def _index(**kw) -> Index:
    base = dict(name="idx_agree", label="Agree", theme="inclusion", items=AGREE, reverse=("A1",), min_valid=1)
    base.update(kw)
    return Index(**base)


def test_pomp_index_matches_R_psych_scoreItems_first5_agree_rescaled(bfi, reliability_ref):
    ref = reliability_ref["bfi_scale_scores_mean_of_available_items"]
    res = compute_index(bfi, _index(scale="pomp"), item_ranges=(1, 6), group="origin")
    expected = (np.array(ref["first5_agree"]) - 1) / 5 * 100
    np.testing.assert_allclose(res.score.iloc[:5], expected, rtol=1e-12)
    assert res.raw_score.mean() == pytest.approx(ref["mean_score"]["agree"], rel=1e-12)
    rel = res.reliability.set_index("group")
    assert rel.loc["(all)", "alpha"] == pytest.approx(ref["alpha"]["agree"], rel=1e-9)
    assert list(res.loadings.columns) == ["(pooled)", "BEL", "MAR"]
    assert not res.flagged
    assert res.score.name == "idx_agree"


def test_k_of_n_reasons_are_counted(bfi):
    res = compute_index(bfi, _index(min_valid=5), item_ranges=(1, 6))
    n_short = int((bfi[list(AGREE)].notna().sum(axis=1) < 5).sum())
    assert n_short > 0
    assert res.reasons.to_dict() == {"too few valid items": n_short}
    assert res.score.isna().sum() == n_short


def test_z_index_has_weighted_mean_0_sd_1_in_the_stated_reference_group(bfi):
    idx = _index(scale="z", reference_group=parse("origin == 'BEL'"))
    res = compute_index(bfi, idx, item_ranges=(1, 6), weight="pw")
    ref = (bfi["origin"] == "BEL").to_numpy() & res.score.notna().to_numpy()
    z, w = res.score.to_numpy()[ref], bfi["pw"].to_numpy()[ref]
    m = ref.sum()
    assert np.average(z, weights=w) == pytest.approx(0.0, abs=1e-12)
    assert np.average(z**2, weights=w) * m / (m - 1) == pytest.approx(1.0, rel=1e-12)
    with pytest.raises(SpecError, match="reference_group"):
        compute_index(bfi, _index(scale="z"), item_ranges=(1, 6))


def test_count_index_reliability_is_KR20_of_the_counted_codes(bfi):
    items = ("A2", "A3", "A4", "A5")
    idx = _index(items=items, reverse=(), scoring="count", count_values=(5, 6), min_valid=4, scale="pomp")
    res = compute_index(bfi, idx, item_ranges=(1, 6), group="origin")
    full = bfi[list(items)].dropna()
    yes = full.isin([5, 6]).astype(float)
    np.testing.assert_allclose(res.score.loc[full.index], yes.sum(axis=1) / 4 * 100)
    # KR-20 (Kuder & Richardson 1937) on complete cases, computed from p and the total
    # variance; sid's pairwise alpha equals it on data without missing values.
    p = yes.mean()
    kr20 = 4 / 3 * (1 - (p * (1 - p)).sum() * len(yes) / (len(yes) - 1) / yes.sum(axis=1).var())
    only = compute_index(bfi.loc[full.index], idx, item_ranges=(1, 6), group="origin")
    assert only.reliability.loc[0, "alpha"] == pytest.approx(kr20, rel=1e-10)
    assert res.reliability.shape[0] == 3


SPEC = """
wave: t
title: T
key: id
missing_codes:
  -1: {meaning: dont_know, label: "Weet niet"}
variables:
  - {name: id, label: Id, type: numeric, source: register}
  - {name: q_a, label: A, type: ordinal, categories: {1: "nooit", 2: "soms", 3: "vaak", 4: "altijd"}}
  - {name: q_b, label: B, type: numeric, range: [0, 10]}
  - {name: q_c, label: C, type: text}
"""


def test_item_ranges_from_spec_use_categories_or_range_never_missing_codes():
    from sid.scales.index import item_ranges_from_spec
    from sid.spec.questionnaire_parse import parse_questionnaire
    from sid.spec.yamlfile import parse_yaml

    q = parse_questionnaire(parse_yaml(SPEC, where="t.yaml"), "t.yaml")
    assert item_ranges_from_spec(q, ["q_a", "q_b"]) == {"q_a": (1.0, 4.0), "q_b": (0.0, 10.0)}
    with pytest.raises(SpecError, match="q_c"):
        item_ranges_from_spec(q, ["q_c"])
