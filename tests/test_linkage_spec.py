"""Linkage spec and origin map: the shipped files load; mistakes give one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sid.errors import SpecError
from sid.linkage.spec import load_linkage_spec, load_origin_map
from sid.project import load_project

ROOT = Path(__file__).resolve().parents[1]
MAP = """origin_variable: origin
categories:
  - {code: BEL, label: Belgisch, groups: [BEL]}
  - {code: EU, label: EU, groups: [POL, ROU], coverage: "other EU origins are not sampled"}
"""
SPEC = """wave: w
period: 2022
base: b.duckdb
origin_map: map.yaml
geographies: [{code: VLG, name: Vlaams Gewest, condition: "region == 1"}]
indicators:
  - {code: A, name: a, theme: t, statistic: share, condition: "x == 1", definition: d}
"""


def write(tmp_path, spec=SPEC, omap=MAP):
    (tmp_path / "map.yaml").write_text(omap, encoding="utf-8")
    (tmp_path / "s.yaml").write_text(spec, encoding="utf-8")
    return tmp_path / "s.yaml"


def test_shipped_spec_loads_with_its_origin_map_and_questionnaire():
    spec = load_linkage_spec(load_project(ROOT).wave("sid2022").linkage, project=ROOT)
    assert spec.wave == "sid2022" and spec.period == 2022 and spec.min_n == 30
    assert spec.origin_map.group_to_category() == {"BEL": "BEL", "POL": "EU", "ROU": "EU", "MAR": "NEU",
                                                   "TUR": "NEU", "COD": "NEU", "AFG": "NEU"}
    assert spec.origin_map.generations == {"1": "first", "2": "second"}
    assert spec.base == ROOT / "data" / "vlim.duckdb"
    # the survey variable of each breakdown dimension of the base: data of the spec
    assert spec.dimensions == {"generation": "generation", "sex": "sex", "age_band": "age_band"}
    assert len(spec.files) == 3 and len(spec.spec_hash) == 64
    defs = spec.indicator_table()
    assert set(defs["source_type"]) == {"survey"} and defs["code"].is_unique


def test_the_2017_spec_has_its_own_origin_map():
    spec = load_linkage_spec(ROOT / "linkage" / "sid2017.yaml", project=ROOT)
    assert spec.wave == "sid2017" and spec.period == 2017
    om = spec.origin_map
    assert (om.origin_variable, om.generation_variable) == ("herkomst", "generatie")
    assert om.group_to_category() == {"BEL": "BEL", "POL": "EU", "ROU": "EU", "MAR": "NEU",
                                      "TUR": "NEU", "COD": "NEU"}


def test_spec_hash_changes_with_the_origin_map(tmp_path):
    h1 = load_linkage_spec(write(tmp_path)).spec_hash
    h2 = load_linkage_spec(write(tmp_path, omap=MAP.replace("not sampled", "not in SID"))).spec_hash
    assert h1 != h2


@pytest.mark.parametrize("spec, omap, message", [
    (SPEC.replace("statistic: share", "statistic: sahre"), MAP, r"s.yaml:7: indicators\[0\].statistic: 'sahre' is not one of share, mean"),
    (SPEC.replace(', condition: "x == 1"', ""), MAP, "a share needs a condition"),
    (SPEC.replace('condition: "x == 1"', 'condition: "x === 1"'), MAP, "indicators\\[0\\].condition"),
    (SPEC + "  - {code: A, name: b, theme: t, statistic: mean, variable: y, definition: d}\n", MAP, "indicator code 'A' appears twice"),
    (SPEC.replace("period: 2022", "perod: 2022"), MAP, "unknown key; did you mean 'period'"),
    (SPEC, MAP + "  - {code: X, label: x, groups: [ROU]}\n", "SID group 'ROU' is already mapped to 'EU'"),
    (SPEC, MAP.replace("groups: [BEL]", "groups: []"), "a category needs at least one SID origin group"),
    (SPEC.replace("map.yaml", "nomap.yaml"), MAP, "origin map .*nomap.yaml not found"),
])
def test_spec_mistakes_give_one_line_errors(tmp_path, spec, omap, message):
    with pytest.raises(SpecError, match=message) as exc:
        load_linkage_spec(write(tmp_path, spec, omap))
    assert "\n" not in str(exc.value)


def test_generation_codes_must_map_to_first_or_second(tmp_path):
    (tmp_path / "m.yaml").write_text(MAP + "generations: {1: eerste}\n", encoding="utf-8")
    with pytest.raises(SpecError, match="code 1 maps to 'eerste'; use first or second"):
        load_origin_map(tmp_path / "m.yaml")


@pytest.mark.parametrize("spec, omap, message", [
    # a breakdown needs the survey variable that feeds it, declared in the spec
    (SPEC + "breakdowns: [[], [sex]]\n", MAP, r"breakdowns\[1\]: breakdown 'sex' has no survey variable; "
     r"declare it under dimensions \(sex: VARIABLE\)"),
    (SPEC + "dimensions: {gender: geslacht}\n", MAP, r"dimensions.gender: unknown key"),
    (SPEC + "breakdowns: [[region]]\n", MAP, r"breakdown 'region' is not one of the indicator base's dimensions"),
    (SPEC + "dimensions: {generation: gen}\n", MAP + "generation_variable: generation\n",
     r"dimensions.generation: 'gen', but the origin map .*map.yaml says generation_variable 'generation'"),
    (SPEC, MAP.replace("origin_variable: origin\n", ""), r"origin_variable: no origin variable"),
])
def test_breakdown_dimensions_and_the_origin_variable_are_declared(tmp_path, spec, omap, message):
    with pytest.raises(SpecError, match=message) as exc:
        load_linkage_spec(write(tmp_path, spec, omap))
    assert "\n" not in str(exc.value)


def test_a_breakdown_reads_the_variable_its_dimension_names(tmp_path):
    spec = load_linkage_spec(write(tmp_path, SPEC + "dimensions: {sex: geslacht, age_band: lft}\n"
                                   "breakdowns: [[], [sex], [age_band]]\n"))
    assert spec.dimensions == {"sex": "geslacht", "age_band": "lft"}
    assert spec.indicators[0].breakdowns == ((), ("sex",), ("age_band",))
    # the origin map without origin_variable takes the project's reporting group
    omap = tmp_path / "m.yaml"
    omap.write_text(MAP.replace("origin_variable: origin\n", ""), encoding="utf-8")
    assert load_origin_map(omap, group="herkomst").origin_variable == "herkomst"
    assert load_origin_map(omap, group="herkomst").generation_variable is None
