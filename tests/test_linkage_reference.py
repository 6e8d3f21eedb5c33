"""survey_indicators against R's survey package on apistrat (tests/reference): school type
plays the origin group, a VLIM-style category pooling all three types gives R's overall
svymean / svyciprop, one category per type gives svyby(~api00, ~stype, svymean)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.linkage.indicators import survey_indicators
from sid.linkage.spec import load_linkage_spec

SPEC = """
wave: api
period: 2000
base: api.duckdb
origin_map: {map}
disclosure: {{min_n: 1}}
geographies: [{{code: CA, name: California, condition: "pw > 0"}}]
breakdowns: [[]]
indicators:
  - {{code: API00, name: api00, theme: t, statistic: mean, variable: api00, definition: mean api00}}
  - {{code: SCHWIDE, name: sch.wide, theme: t, statistic: share, condition: "sch_wide == 'Yes'",
     definition: share meeting the school-wide target}}
"""


def _spec(tmp_path, categories: str):
    (tmp_path / "map.yaml").write_text(f"origin_variable: stype\ncategories:\n{categories}", encoding="utf-8")
    (tmp_path / "api.yaml").write_text(SPEC.format(map="map.yaml"), encoding="utf-8")
    return load_linkage_spec(tmp_path / "api.yaml", project=tmp_path)


@pytest.fixture(scope="module")
def apistrat(reference_dir):
    return pd.read_csv(reference_dir / "apistrat.csv").rename(columns={"sch.wide": "sch_wide"})


def test_category_pooling_all_strata_matches_R_svymean_and_svyciprop_apistrat(tmp_path, apistrat, survey_ref):
    spec = _spec(tmp_path, "  - {code: ALL, label: all schools, groups: [E, H, M]}\n")
    out = survey_indicators(apistrat, spec, weight="pw", strata="stype", fpc="fpc").set_index("indicator_code")
    ref = survey_ref["apistrat_mean_api00"]
    assert out.loc["API00", "value"] == pytest.approx(ref["estimate"], rel=1e-10)
    assert out.loc["API00", "se"] == pytest.approx(np.ravel(ref["se"])[0], rel=1e-8)
    prop = survey_ref["apistrat_prop_schwide_yes_logit"]
    # R svyciprop(method="logit") fits a glm: its estimate agrees to about 1e-9
    assert out.loc["SCHWIDE", "value"] / 100 == pytest.approx(prop["estimate"], rel=1e-8)
    assert out.loc["SCHWIDE", "ci_low"] / 100 == pytest.approx(prop["ci"][0], rel=1e-6)
    assert out.loc["SCHWIDE", "ci_high"] / 100 == pytest.approx(prop["ci"][1], rel=1e-6)
    assert out.loc["API00", "n"] == len(apistrat)


def test_one_category_per_stratum_matches_R_svyby_apistrat(tmp_path, apistrat, survey_ref):
    spec = _spec(tmp_path, "".join(f"  - {{code: {t}, label: {t}, groups: [{t}]}}\n" for t in "EHM"))
    out = survey_indicators(apistrat, spec, weight="pw", strata="stype", fpc="fpc")
    api = out[out["indicator_code"] == "API00"].set_index("origin")
    ref = survey_ref["apistrat_mean_api00_by_stype"]
    for i, t in enumerate(ref["stype"]):
        assert api.loc[t, "value"] == pytest.approx(ref["estimate"][i], rel=1e-10)
        assert api.loc[t, "se"] == pytest.approx(ref["se"][i], rel=1e-8)
