"""``sid trend`` on the two demo waves (scale 0.3; each run to its score stage): trend.csv,
its internal twin and the manifest; the defaults of sid.yaml's trends entry; and bad input
(a missing run folder, a folder that is no run, a wave the trend does not compare, the same
wave twice, a missing stage output, a harmonisation naming an unknown variable): one line,
exit 2, inputs byte-identical, nothing half-written (an earlier trend stays whole). And
``sid run``'s trend after a wave: run when the other wave's run folder is there, said and
skipped when it is not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sid.cli import main
from sid.project import load_project
from sid.trends.output import read_trend_csv
from tests.trend_runs import RUNS, SCALE, _hashes  # noqa: F401  (the session fixtures waves, trend: conftest.py)


def test_sid_trend_writes_trend_csv_internal_and_manifest_and_leaves_run_folders_alone(trend):
    import json

    out = trend["out"]
    assert trend["unchanged"]
    assert sorted(p.name for p in (out / "trend").rglob("*") if p.is_file()) == [
        "trend.csv", "trend.html", "trend.parquet", "trend_internal.csv"]
    entry = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stages"]["trend"]
    assert entry["params"]["waves"] == ["sid2017", "sid2022"]
    assert entry["params"]["variance"]["sid2017"] == "taylor"
    assert entry["params"]["variance"]["sid2022"] != "taylor"
    assert {o["path"] for o in entry["outputs"]} == {"trend/trend.csv", "trend/trend.html", "trend/trend.parquet",
                                                    "trend/internal/trend_internal.csv"}
    t = trend["published"]
    assert set(t.concept) == set(load_harmonisation_concepts(out.parent))
    assert set(t.unit) <= {"share_0_1", "index_points_0_100", "variable_units"}
    assert (t.loc[t.concept == "idx_language", "unit"] == "index_points_0_100").all()
    assert (t.loc[t.concept == "dutch_home", "unit"] == "share_0_1").all()
    assert set(t.wave_1) == {"sid2017"} and set(t.period_2) == {"2022"}


def load_harmonisation_concepts(proj: Path) -> list[str]:
    doc = yaml.safe_load((proj / "questionnaires" / "harmonisation.yaml").read_text(encoding="utf-8"))
    return list(doc["concepts"])


def test_published_trend_is_the_internal_one_rounded_and_suppressed(trend):
    pub, internal = trend["published"], trend["internal"]
    assert len(pub) == len(internal) and list(pub.concept) == list(internal.concept)
    low = internal.n_1.astype(float) < 30
    assert pub.loc[low.to_numpy(), "estimate_1"].isna().all()
    assert pub.loc[internal.suppressed.to_numpy(), "difference"].isna().all()
    ok = ~internal.suppressed.to_numpy()
    share = (internal.unit == "share_0_1").to_numpy() & ok
    np.testing.assert_allclose(pub.difference[share], internal.difference[share].round(4), atol=1e-12)
    index = (internal.unit == "index_points_0_100").to_numpy() & ok
    np.testing.assert_allclose(pub.difference[index], internal.difference[index].round(2), atol=1e-12)
    assert (pub.status == internal.status).all()


def test_afghan_origin_has_not_in_sid2017_rows_and_non_eu_says_its_groups(trend):
    t = trend["published"]
    afg = t[(t.domain == "origin") & (t.by_value == "AFG")]
    assert set(afg.concept) == set(t.concept[t.domain == "origin"])  # never dropped
    assert afg.status.str.contains("not_in_sid2017").all() and afg.estimate_1.isna().all()
    assert afg.estimate_2.notna().any() and afg.by_label.eq("Afghaans").all()
    neu = t[(t.domain == "origin_vlim") & (t.by_value == "3")]
    # the demo's groups may change; Afghan origin is non-EU in 2022 only
    assert neu.composition_2.str.split(", ").map(lambda g: "AFG" in g).all()
    assert not neu.composition_1.str.split(", ").map(lambda g: "AFG" in g).any()
    assert (neu.composition_2.str.replace("AFG, ", "") == neu.composition_1).all()
    assert neu.composition_changed.all() and neu.status.str.contains("composition_changed").all()
    lang6 = t[(t.concept == "lang_home") & (t.category == "6")]
    assert len(lang6) and lang6.status.str.contains("not_in_sid2022").all()
    assert t.loc[t.concept == "idx_inclusion", "break"].all()
    assert not t.loc[t.concept == "idx_language", "break"].any()


def test_runs_given_in_any_order_give_the_same_trend(waves, trend, tmp_path):
    out = tmp_path / "t2"
    assert main(["trend", "--project", str(waves["proj"]), "--runs", str(waves["r22"]), str(waves["r17"]),
                 "--out", str(out)]) == 0
    assert (out / "trend" / "trend.csv").read_bytes() == (trend["out"] / "trend" / "trend.csv").read_bytes()


def _fails(capsys, argv, *names) -> str:
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()  # progress lines, then the error
    errors = [line for line in lines if line.startswith("sid: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0] and "Traceback" not in "".join(lines)
    err = errors[0]
    for n in names:
        assert n in err, err
    return err


def _bad_cases(waves, tmp_path):
    r17, r22, proj = waves["r17"], waves["r22"], waves["proj"]
    no_score = tmp_path / "r22_no_score"
    shutil.copytree(r22, no_score)
    shutil.rmtree(no_score / "score")
    return {
        "missing": ([str(tmp_path / "nowhere"), str(r22)], ["nowhere", "not found"]),
        "not_a_run": ([str(proj / "questionnaires"), str(r22)], ["questionnaires", "not a sid run folder"]),
        "same_wave": ([str(r22), str(r22)], ["same wave sid2022"]),
        "no_score": ([str(r17), str(no_score)], ["indices.parquet", "sid score"]),
    }


@pytest.mark.parametrize("case", ["missing", "not_a_run", "same_wave", "no_score"])
def test_bad_run_folders_are_one_line_errors_and_leave_the_earlier_trend_whole(waves, trend, tmp_path, capsys,
                                                                             case):
    runs, names = _bad_cases(waves, tmp_path)[case]
    out = trend["out"]
    before, inputs = _hashes(out), {k: _hashes(waves[k]) for k in ("r17", "r22")}
    _fails(capsys, ["trend", "--project", str(waves["proj"]), "--runs", *runs, "--out", str(out)], *names)
    assert _hashes(out) == before and inputs == {k: _hashes(waves[k]) for k in ("r17", "r22")}
    fresh = tmp_path / "fresh"
    _fails(capsys, ["trend", "--project", str(waves["proj"]), "--runs", *runs, "--out", str(fresh)], *names)
    assert not (fresh / "trend").exists() and not (fresh / "manifest.json").exists()
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name or p.name.startswith(".")]


def test_a_run_folder_of_a_wave_the_trend_does_not_compare_is_refused(waves, tmp_path, capsys):
    proj = tmp_path / "proj"
    shutil.copytree(waves["proj"], proj, ignore=shutil.ignore_patterns("r17", "r22", "out-trend"))
    doc = yaml.safe_load((proj / "sid.yaml").read_text(encoding="utf-8"))
    doc["waves"]["sid2099"] = doc["waves"]["sid2022"]
    doc["trends"]["waves"] = ["sid2017", "sid2099"]
    (proj / "sid.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    _fails(capsys, ["trend", "--project", str(proj), "--runs", str(waves["r17"]), str(waves["r22"]),
                    "--out", str(tmp_path / "t")], "wave 'sid2022'", "sid2017, sid2099")
    assert not (tmp_path / "t" / "trend").exists()


def test_a_harmonisation_naming_an_unknown_variable_fails_sid_trend_and_sid_check(waves, tmp_path, capsys):
    proj = tmp_path / "proj"
    shutil.copytree(waves["proj"], proj, ignore=shutil.ignore_patterns("r17", "r22", "out-trend"))
    spec = proj / "questionnaires" / "harmonisation.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("{variable: idx_taal}", "{variable: idx_tall}"),
                    encoding="utf-8")
    err = _fails(capsys, ["trend", "--project", str(proj), "--runs", str(waves["r17"]), str(waves["r22"]),
                          "--out", str(tmp_path / "t")], "harmonisation.yaml:", "idx_tall", "did you mean 'idx_taal'")
    assert "concepts.idx_language.waves.sid2017" in err
    assert not (tmp_path / "t" / "trend").exists()
    assert main(["check", "--project", str(proj)]) == 1
    out = capsys.readouterr().out
    assert "idx_tall" in out and "harmonisation.yaml:" in out


def test_sid_run_computes_the_trend_when_the_other_waves_run_folder_is_there(waves, tmp_path, capsys):
    from sid.pipeline.run import _trend

    project = load_project(waves["proj"])
    shutil.rmtree(waves["proj"] / "out-trend", ignore_errors=True)
    timing = _trend(project, project.wave("sid2022"), waves["r22"])
    assert timing.skipped is None and (waves["proj"] / "out-trend" / "trend" / "trend.csv").is_file()
    elsewhere = tmp_path / "r22_elsewhere"  # this run's folder need not be the default
    shutil.copytree(waves["r22"], elsewhere)
    assert _trend(project, project.wave("sid2022"), elsewhere).skipped is None


def test_sid_run_says_and_skips_the_trend_when_another_waves_run_folder_is_absent(waves, tmp_path, capsys):
    from sid.pipeline.run import _trend, summary

    proj = tmp_path / "proj"
    shutil.copytree(waves["proj"], proj, ignore=shutil.ignore_patterns("r17", "out-trend"))
    project = load_project(proj)
    timing = _trend(project, project.wave("sid2022"), proj / "r22")
    assert timing.skipped is not None and "r17" in timing.skipped and "sid run --wave sid2017" in timing.skipped
    assert "trend skipped" in capsys.readouterr().err
    assert not (proj / "out-trend").exists()
    assert "trend" in summary([timing], "out")


def test_trend_csv_reads_back_with_codes_as_text(trend):
    t = trend["published"]
    assert t.category.dropna().map(type).eq(str).all()
    assert t.loc[t.statistic == "mean", "category"].isna().all()
    assert pd.api.types.is_bool_dtype(t["break"])


def test_the_trend_page_takes_the_latest_waves_template_override(waves, tmp_path, capsys):
    """A project's templates folder (sid.yaml templates: of the latest wave) overrides the
    trend page's template by name, as it does for the wave's reports."""
    proj = tmp_path / "proj"
    shutil.copytree(waves["proj"], proj, ignore=shutil.ignore_patterns("r17", "r22", "out-trend"))
    (proj / "sjablonen").mkdir()
    (proj / "sjablonen" / "trend.html.j2").write_text(
        "<!doctype html><html lang=\"nl\"><body><h1>Eigen sjabloon: {{ report_title }}</h1></body></html>", encoding="utf-8")
    doc = yaml.safe_load((proj / "sid.yaml").read_text(encoding="utf-8"))
    doc["waves"]["sid2022"]["templates"] = "sjablonen"
    (proj / "sid.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert main(["trend", "--project", str(proj), "--runs", str(waves["r17"]), str(waves["r22"]),
                 "--out", str(tmp_path / "t")]) == 0
    page = (tmp_path / "t" / "trend" / "trend.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "Eigen sjabloon: " in page
    assert "<svg" not in page  # the override, not sid's page
    # a variable the page does not have: one line naming the template and what it may use
    (proj / "sjablonen" / "trend.html.j2").write_text("<p>{{ titel }}</p>", encoding="utf-8")
    before = (tmp_path / "t" / "trend" / "trend.html").read_bytes()
    capsys.readouterr()
    assert main(["trend", "--project", str(proj), "--runs", str(waves["r17"]), str(waves["r22"]),
                 "--out", str(tmp_path / "t")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1 and "trend.html.j2" in err[0] and "'titel' is undefined" in err[0] and "report_title" in err[0]
    assert "Traceback" not in err[0]
    assert (tmp_path / "t" / "trend" / "trend.html").read_bytes() == before  # the earlier page whole


def test_trend_lang_sets_the_pages_language_and_the_manifest_records_it(waves, trend, tmp_path):
    """Default: the latest wave's language (nl); ``--lang en`` overrides it (issue 15)."""
    man = json.loads((trend["out"] / "manifest.json").read_text(encoding="utf-8"))
    assert man["stages"]["trend"]["params"]["language"] == "nl"
    out = tmp_path / "t-en"
    assert main(["trend", "--project", str(waves["proj"]), "--out", str(out), "--lang", "en"]) == 0
    assert '<html lang="en">' in (out / "trend" / "trend.html").read_text(encoding="utf-8")
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert man["stages"]["trend"]["params"]["language"] == "en"
    en = read_trend_csv(out / "trend" / "trend.csv")
    overall = en["domain"] == "overall"
    assert (en.loc[overall, "by_label"] == "Total").all() and (trend["published"].loc[overall, "by_label"] == "Totaal").all()
    assert en.drop(columns=["by_label", "domain_label"]).equals(trend["published"].drop(columns=["by_label", "domain_label"]))
