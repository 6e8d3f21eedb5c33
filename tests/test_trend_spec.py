"""The harmonisation spec (sid.spec.harmonisation), its checks against the waves'
questionnaires (sid.spec.check_harmonisation), the project file's ``trends:`` entry, and the
trend computation's one-wave rows and pooled-composition flag on small designs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from sid.cli import main
from sid.errors import SpecError
from sid.estimation.design import Design
from sid.project import load_project, wave_questionnaire
from sid.spec.check_harmonisation import check_harmonisation
from sid.spec.harmonisation import load_harmonisation, parse_harmonisation
from sid.trends import WaveInput, difference, trend_table
from tests.projects import ROOT, copy_project

WAVES = ["w1", "w2"]
GOOD = """\
domains:
  group:
    label: Groep
    waves: {w1: {variable: g}, w2: {variable: g}}
  pooled:
    label: Gepoold
    composed_of: group
    waves: {w1: {variable: p}, w2: {variable: p}}
concepts:
  score:
    label: Score
    statistic: mean
    waves: {w1: {variable: y}, w2: {variable: y}}
  agree:
    label: Akkoord
    statistic: share
    category: 1
    categories: {0: Nee, 1: Ja}
    break: schaal veranderd
    waves:
      w1: {variable: a, recode: {1: 0, 2: 0, 3: 1, 4: 1}}
      w2: {variable: a, recode: {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}}
"""


def _error(text: str, waves=WAVES) -> str:
    with pytest.raises(SpecError) as e:
        parse_harmonisation(text, where="h.yaml", waves=waves)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("h.yaml")
    return msg


def test_good_spec_loads_with_waves_domains_concepts_in_file_order():
    h = parse_harmonisation(GOOD, where="h.yaml", waves=WAVES)
    assert h.waves == ("w1", "w2") and list(h.domains) == ["group", "pooled"]
    assert list(h.concepts) == ["score", "agree"]
    assert h.concepts["agree"].waves["w2"].recode[5] == 1 and h.concepts["agree"].break_note == "schaal veranderd"
    assert h.domains["pooled"].composed_of == "group"
    assert parse_harmonisation(GOOD).waves == ("w1", "w2")  # the first concept's waves


@pytest.mark.parametrize(("old", "new", "wanted"), [
    ("    statistic: mean\n", "    statisitc: mean\n", ["h.yaml:12:", "concepts.score.statisitc", "did you mean 'statistic'"]),
    ("statistic: mean", "statistic: median", ["'median' is not one of mean, share, shares"]),
    ("waves: {w1: {variable: y}, w2: {variable: y}}", "waves: {w1: {variable: y}, w3: {variable: y}}",
     ["concepts.score.waves.w3", "unknown key; allowed: w1, w2"]),
    ("waves: {w1: {variable: y}, w2: {variable: y}}", "waves: {w1: {variable: y}}",
     ["concepts.score.waves", "no entry for wave w2"]),
    ("    category: 1\n", "", ["concepts.agree.statistic", "a share needs the category"]),
    ("statistic: mean\n", "statistic: mean\n    category: 1\n", ["concepts.score.category", "only a share"]),
    ("{1: 0, 2: 0, 3: 0, 4: 1, 5: 1}", "{1: 0, 2: 0, 3: 0, 4: 1, 5: 2}",
     ["concepts.agree.waves.w2.recode", "recodes to 2", "not one of the concept's categories"]),
    ("    categories: {0: Nee, 1: Ja}\n", "", ["concepts.agree.waves", "give the concept's categories"]),
    ("composed_of: group", "composed_of: grop", ["domains.pooled", "'grop' is not a domain", "did you mean 'group'"]),
    ("    break: schaal veranderd\n", "    break: schaal veranderd\n    domains: [groep]\n",
     ["concepts.agree.domains[0]", "'groep' is not a domain", "did you mean 'group'"]),
    ("{w1: {variable: y}, w2: {variable: y}}", "{w1: {variable: y, recod: {1: 2}}, w2: {variable: y}}",
     ["concepts.score.waves.w1.recod", "did you mean 'recode'"]),
    ("categories: {0: Nee, 1: Ja}", "categories: {0: Nee, 1: [Ja]}", ["concepts.agree.categories.1", "expected a label"]),
])
def test_harmonisation_errors_name_file_line_key_and_say_what_to_do(old, new, wanted):
    assert old in GOOD
    msg = _error(GOOD.replace(old, new, 1))
    for w in wanted:
        assert w in msg, msg


def test_harmonisation_file_errors_are_one_line(tmp_path):
    with pytest.raises(SpecError, match="spec file not found"):
        load_harmonisation(tmp_path / "none.yaml")
    bad = tmp_path / "h.yaml"
    bad.write_text("concepts: [a, b]\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"h.yaml:1: concepts: expected a mapping of concepts names"):
        load_harmonisation(bad)
    bad.write_text(GOOD + "  twice:\n    label: x\n    statistic: mean\n    waves: {w1: y}\n", encoding="utf-8")
    with pytest.raises(SpecError, match="maps waves w1, the spec's first concept w1, w2"):
        load_harmonisation(bad)


def test_the_repository_harmonisation_checks_clean_against_both_questionnaires():
    project = load_project(ROOT)
    t = project.trends
    assert t is not None and t.waves == ("sid2017", "sid2022")
    h = load_harmonisation(t.harmonisation, waves=t.waves)
    qs = {w: wave_questionnaire(project.waves[w]) for w in t.waves}
    assert check_harmonisation(h, qs) == []
    assert {"idx_language", "idx_discrimination", "idx_inclusion", "idx_religiosity", "idx_citizenship",
            "dutch_home"} <= set(h.concepts)
    assert {"origin", "origin_vlim", "generation"} == set(h.domains)


@pytest.mark.parametrize(("old", "new", "wanted"), [
    ("{variable: idx_taal}", "{variable: idx_tall}", ["concepts.idx_language.waves.sid2017.variable", "idx_tall",
                                                      "did you mean 'idx_taal'"]),
    ("{variable: generatie}", "{variable: leeftijd}", ["domains.generation.waves.sid2017.variable",
                                                       "numeric, not categorical"]),
    ("recode: {1: 0, 2: 0, 3: 1, 4: 1}", "recode: {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}",
     ["concepts.belong_be.waves.sid2017.recode", "code 5 is not a category of v_thuis_be"]),
    ("sid2017: {variable: v_vertr_gerecht}", "sid2017: {variable: v_taal_thuis}",
     ["concepts.trust_justice", "the waves' categories differ (sid2017: 1, 2, 3, 4, 5, 6; sid2022: 1, 2, 3, 4, 5)",
      "break:"]),
    ("sid2017: {variable: v_discr_werk, recode: &ever_recode {1: 0, 2: 1, 3: 1, 4: 1}}",
     "sid2017: {variable: v_taal_thuis, recode: &ever_recode {1: 0, 2: 1, 3: 1, 4: 1}}",
     ["concepts.discr_work.waves.sid2017", "code(s) 5, 6 that are not the concept's categories"]),
    ("    category: 1\n    break: \"2017 had", "    category: 7\n    break: \"2017 had",
     ["concepts.dutch_home.category", "7 is not a category of nl_thuis"]),
])
def test_check_names_the_spec_entry_whose_variable_or_codes_the_wave_lacks(tmp_path, old, new, wanted):
    proj = copy_project(tmp_path / "proj")
    spec = proj / "questionnaires" / "harmonisation.yaml"
    text = spec.read_text(encoding="utf-8")
    assert old in text
    spec.write_text(text.replace(old, new, 1), encoding="utf-8")
    project = load_project(proj)
    h = load_harmonisation(project.trends.harmonisation, waves=project.trends.waves)
    found = check_harmonisation(h, {w: wave_questionnaire(project.waves[w]) for w in project.trends.waves})
    assert len(found) >= 1
    text = str(found[0])
    for w in wanted:
        assert w in text, text
    assert "harmonisation.yaml:" in text


def test_sid_check_reports_the_harmonisation_and_exits_1(tmp_path, capsys):
    proj = copy_project(tmp_path / "proj")
    spec = proj / "questionnaires" / "harmonisation.yaml"
    before = spec.read_text(encoding="utf-8").replace("{variable: herkomst}", "{variable: herkmst}")
    spec.write_text(before, encoding="utf-8")
    assert main(["check", "--project", str(proj)]) == 1
    out = capsys.readouterr().out
    assert "herkmst" in out and "did you mean 'herkomst'" in out
    assert spec.read_text(encoding="utf-8") == before


def test_sid_check_of_the_harmonisation_file_alone_checks_it_against_the_questionnaires_beside_it(tmp_path, capsys):
    proj = copy_project(tmp_path / "proj")
    spec = proj / "questionnaires" / "harmonisation.yaml"
    assert main(["check", str(spec)]) == 0
    spec.write_text(spec.read_text(encoding="utf-8").replace("{variable: q_trust_police}",
                                                             "{variable: q_trust_polce}"), encoding="utf-8")
    capsys.readouterr()
    assert main(["check", str(spec)]) == 1
    out = capsys.readouterr().out
    assert "concepts.trust_police.waves.sid2022.variable" in out and "did you mean 'q_trust_police'" in out


@pytest.mark.parametrize(("trends", "wanted"), [
    ({"harmonisation": "questionnaires/harmonisation.yaml", "waves": ["sid2017"]}, "two or more waves"),
    ({"harmonisation": "questionnaires/harmonisation.yaml", "waves": ["sid2017", "sid2023"]},
     "'sid2023' is not a wave of the project; did you mean 'sid2022'?"),
    ({"harmonisation": "questionnaires/harmonisatie.yaml", "waves": ["sid2017", "sid2022"]},
     "harmonisatie.yaml: no such file"),
    ({"harmonisation": "questionnaires/harmonisation.yaml", "waves": ["sid2017", "sid2022"], "run_fldr": "x"},
     "trends.run_fldr: unknown key; did you mean 'run_folder'?"),
])
def test_project_trends_entry_errors(tmp_path, trends, wanted):
    proj = copy_project(tmp_path / "proj")
    doc = yaml.safe_load((proj / "sid.yaml").read_text(encoding="utf-8"))
    doc["trends"] = trends
    (proj / "sid.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SpecError) as e:
        load_project(proj)
    assert wanted in str(e.value) and "sid.yaml:" in str(e.value) and "\n" not in str(e.value)


def test_sid_trend_without_a_trends_entry_says_how_to_add_one(tmp_path, capsys):
    proj = copy_project(tmp_path / "proj")
    doc = yaml.safe_load((proj / "sid.yaml").read_text(encoding="utf-8"))
    del doc["trends"]
    (proj / "sid.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert main(["trend", "--project", str(proj)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no trends entry" in err and "\n" not in err


# -- the computation on small designs ---------------------------------------------------------------


def _design(groups: list[str], pooled: dict[str, int], n: int, seed: int, shift: float = 0.0) -> Design:
    rng = np.random.default_rng(seed)
    g = np.array(groups)[rng.integers(0, len(groups), n)]
    a = rng.integers(1, 5 if shift == 0 else 6, n).astype(float)
    df = pd.DataFrame({"g": g, "p": pd.Series(g).map(pooled).to_numpy(dtype=float),
                       "y": rng.normal(50 + shift, 10, n), "a": a, "w": rng.uniform(1, 3, n),
                       "s": pd.Series(g).map({x: i for i, x in enumerate(groups)}).to_numpy()})
    df.loc[rng.integers(0, n, 5), "y"] = np.nan
    return Design(df, weight="w", strata="s")


@pytest.fixture(scope="module")
def small():
    h = parse_harmonisation(GOOD, waves=WAVES)
    d1 = _design(["A", "B", "C"], {"A": 1, "B": 2, "C": 2}, 600, 1)
    d2 = _design(["A", "B", "C", "D"], {"A": 1, "B": 2, "C": 2, "D": 2}, 800, 2, shift=1.0)
    return trend_table([WaveInput("w1", d1, min_n=30), WaveInput("w2", d2, min_n=30)], h), d1, d2


def test_a_group_of_the_later_wave_only_gets_an_explicit_not_in_row_never_dropped(small):
    t, _, d2 = small
    rows = t[(t.domain == "group") & (t.by_value == "D")]
    assert set(rows.concept) == {"score", "agree"}
    assert (rows.status_1 == "not_in_w1").all() and rows.status.str.contains("not_in_w1").all()
    assert rows.estimate_1.isna().all() and rows.difference.isna().all() and rows.suppressed.all()
    direct = d2.mean("y", by="g").set_index("g").loc["D"]
    assert rows.set_index("concept").loc["score", "estimate_2"] == pytest.approx(direct.estimate, rel=1e-12)


def test_a_pooled_category_whose_groups_differ_between_waves_says_them_and_is_flagged(small):
    t, _, _ = small
    two = t[(t.domain == "pooled") & (t.by_value == "2")]
    assert (two.composition_1 == "B, C").all() and (two.composition_2 == "B, C, D").all()
    assert two.composition_changed.all() and two.status.str.contains("composition_changed").all()
    one = t[(t.domain == "pooled") & (t.by_value == "1")]
    assert (one.composition_1 == "A").all() and not one.composition_changed.any()
    assert t.loc[t.concept == "agree", "break"].all() and not t.loc[t.concept == "score", "break"].any()


def test_difference_is_later_minus_earlier_with_the_independent_samples_se_and_normal_p(small):
    t, d1, d2 = small
    row = t[(t.concept == "score") & (t.domain == "overall")].iloc[0]
    m1, m2 = d1.mean("y").iloc[0], d2.mean("y").iloc[0]
    assert row.difference == pytest.approx(m2.estimate - m1.estimate, rel=1e-12)
    assert row.se_difference == pytest.approx(np.hypot(m1.se, m2.se), rel=1e-12)
    from scipy import stats

    assert row.p_value == pytest.approx(2 * stats.norm.sf(abs(row.difference / row.se_difference)), rel=1e-12)
    assert row.ci_high - row.difference == pytest.approx(stats.norm.ppf(0.975) * row.se_difference, rel=1e-12)
    share = t[(t.concept == "agree") & (t.domain == "overall")].iloc[0]
    p1 = (d1.data["a"] >= 3).astype(float).where(d1.data["a"].notna())
    direct = d1.with_columns({"ind": p1}).mean("ind").iloc[0]
    assert share.estimate_1 == pytest.approx(direct.estimate, rel=1e-12)
    assert share.se_1 == pytest.approx(direct.se, rel=1e-10)
    d = difference([1.0], [0.3], [1.5], [0.4])
    assert d["se"][0] == pytest.approx(0.5) and d["difference"][0] == pytest.approx(0.5)


def test_waves_out_of_time_order_or_unknown_are_refused(small):
    from sid.errors import EstimationError

    h = parse_harmonisation(GOOD, waves=WAVES)
    _, d1, d2 = small
    with pytest.raises(EstimationError, match="not in the time order"):
        trend_table([WaveInput("w2", d2), WaveInput("w1", d1)], h)
    with pytest.raises(EstimationError, match="'w9' is not one of the spec's waves"):
        trend_table([WaveInput("w1", d1), WaveInput("w9", d2)], h)


def test_three_waves_give_each_wave_with_the_next_and_the_first_with_the_last(small):
    _, d1, d2 = small
    text = GOOD.replace("w2: {variable: g}}", "w2: {variable: g}, w3: {variable: g}}").replace(
        "w2: {variable: p}}", "w2: {variable: p}, w3: {variable: p}}").replace(
        "w2: {variable: y}}", "w2: {variable: y}, w3: {variable: y}}").replace(
        "      w2: {variable: a, recode: {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}}\n",
        "      w2: {variable: a, recode: {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}}\n"
        "      w3: {variable: a, recode: {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}}\n")
    h = parse_harmonisation(text, waves=["w1", "w2", "w3"])
    d3 = _design(["A", "B", "C", "D"], {"A": 1, "B": 2, "C": 2, "D": 2}, 700, 3, shift=2.0)
    t = trend_table([WaveInput("w1", d1), WaveInput("w2", d2), WaveInput("w3", d3)], h)
    pairs = set(zip(t.wave_1, t.wave_2, strict=True))
    assert pairs == {("w1", "w2"), ("w2", "w3"), ("w1", "w3")}
    overall = t[(t.concept == "score") & (t.domain == "overall")].set_index(["wave_1", "wave_2"])
    assert overall.loc[("w1", "w3"), "difference"] == pytest.approx(
        overall.loc[("w1", "w2"), "difference"] + overall.loc[("w2", "w3"), "difference"], rel=1e-12)
