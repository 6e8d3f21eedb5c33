"""sid check over a whole project: the shipped specs pass; each cross-spec defect planted in
a copy of the project is exactly one error line naming its file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sid.cli import main
from sid.spec.check_project import project_specs, spec_kind
from tests.projects import copy_project

ROOT = Path(__file__).resolve().parents[1]
PLAN = "reports/sid2022_tables.yaml"
LINKAGE = "linkage/sid2022.yaml"
ORIGIN_MAP = "linkage/origin_map.yaml"
WEIGHTS = "weights/sid2022.yaml"


def _project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "proj")


def _plant(proj: Path, rel: str, old: str, new: str) -> None:
    """Replace the first ``old`` of a spec by ``new`` (the one defect)."""
    p = proj / rel
    text = p.read_text(encoding="utf-8")
    assert old in text, f"{rel} no longer holds {old!r}; update the test"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")


def _run(args: list[str], capsys) -> tuple[int, list[str], list[str]]:
    rc = main(["check", *args])
    lines = capsys.readouterr().out.splitlines()
    return rc, [ln for ln in lines if ln.startswith("error:")], lines


def test_the_shipped_project_passes_sid_check(capsys) -> None:
    rc, errors, lines = _run(["--project", str(ROOT)], capsys)
    assert errors == [] and rc == 0, lines


def test_project_specs_are_every_spec_but_the_origin_map() -> None:
    found = [p.relative_to(ROOT).as_posix() for p in project_specs(ROOT)]
    assert found == ["questionnaires/harmonisation.yaml", "questionnaires/sid2017.yaml",
                     "questionnaires/sid2022.yaml", "weights/sid2017.yaml", WEIGHTS, "linkage/sid2017.yaml",
                     LINKAGE, "reports/sid2017_tables.yaml", PLAN]
    assert [spec_kind(ROOT / f) for f in found] == ["harmonisation"] + ["questionnaire"] * 2 + [
        "weighting"] * 2 + ["linkage"] * 2 + ["plan"] * 2
    # origin maps: origin_map.yaml, and one per wave of other origin names (origin_map_<name>.yaml)
    assert spec_kind(ROOT / ORIGIN_MAP) == "origin_map"
    assert spec_kind(ROOT / "linkage" / "origin_map_sid2017.yaml") == "origin_map"


DEFECTS = [
    # (file, old, new, words the error line must hold besides the file)
    pytest.param(PLAN, "variables: [idx_language]", "variables: [idx_langauge]",
                 ["tables[0]", "'idx_langauge'", "idx_language"], id="plan-unknown-variable"),
    pytest.param(PLAN, "age_band, region, mode]", "age, region, mode]",
                 ["tables[0]", "'age'", "numeric, not categorical"], id="plan-numeric-domain"),
    pytest.param(PLAN, "sex, age_band, region, mode]", "birth_country, age_band, region, mode]",
                 ["tables[0].by", "'birth_country'", "no categories"], id="plan-domain-without-categories"),
    pytest.param(PLAN, "compare_to: {origin: BEL,", "compare_to: {origin: BLE,",
                 ["tables[0].compare_to.origin", "'BLE'", "not a category of 'origin'"],
                 id="plan-compare-to-unknown-category"),
    pytest.param(PLAN, "wave: sid2022", "wave: sid2023",
                 [":7: wave", "'sid2023' is not the wave of", "('sid2022')"], id="plan-wave-differs"),
    pytest.param(PLAN, "theme: religiosity", "theme: religion",
                 ["tables[3]", "theme 'religion' is not declared in the questionnaire's themes",
                  "did you mean 'religiosity'?"], id="plan-undeclared-theme"),
    pytest.param(LINKAGE, "variable: idx_inclusion", "variable: idx_inclusio",
                 ["indicators[3].variable", "'idx_inclusio'"], id="linkage-unknown-indicator-variable"),
    pytest.param(LINKAGE, 'condition: "q_work12 == 1"', 'condition: "q_work_12 == 1"',
                 ["indicators[0].condition", "q_work_12"], id="linkage-unknown-condition-variable"),
    pytest.param(LINKAGE, "questionnaire: ../questionnaires/sid2022.yaml",
                 "questionnaire: ../questionnaires/sid2021.yaml",
                 ["questionnaire", "sid2021.yaml", "not found"], id="linkage-questionnaire-missing"),
    pytest.param(LINKAGE, "wave: sid2022", "wave: sid2023",
                 [": wave", "'sid2023'", "'sid2022'"], id="linkage-wave-differs-from-questionnaire"),
    pytest.param(ORIGIN_MAP, "groups: [MAR, TUR, COD, AFG]", "groups: [MAR, TUR, COD]",
                 [": categories", "AFG", "in no VLIM category"], id="origin-map-misses-a-category"),
    pytest.param(ORIGIN_MAP, "origin_variable: origin", "origin_variable: herkomst",
                 [": origin_variable", "'herkomst'", "not declared"], id="origin-map-unknown-origin-variable"),
    pytest.param(ORIGIN_MAP, "generation_variable: generation", "generation_variable: migration_gen",
                 [": generation_variable", "'migration_gen'", "not declared"],
                 id="origin-map-unknown-generation-variable"),
    pytest.param(WEIGHTS, "wave: sid2022", "wave: sid2023",
                 [": wave", "'sid2023' is not the wave of", "('sid2022')"], id="weighting-wave-differs"),
    # the weighting spec and the project file name a role differently: one error naming both
    pytest.param(WEIGHTS, "key: person_key", "key: pseudo_id",
                 ["sample.key is 'pseudo_id' but the project file", "says 'person_key'"],
                 id="weighting-key-disagrees-with-sid-yaml"),
    pytest.param(LINKAGE, "  sex: sex", "  sex: geslacht",
                 [": dimensions", "breakdown 'sex': variable 'geslacht' is not declared"],
                 id="linkage-dimension-variable-not-declared"),
]


@pytest.mark.parametrize(("rel", "old", "new", "words"), DEFECTS)
def test_one_cross_spec_defect_is_one_error_naming_file_and_key(tmp_path, capsys, rel, old, new, words) -> None:
    proj = _project(tmp_path)
    _plant(proj, rel, old, new)
    rc, errors, lines = _run(["--project", str(proj)], capsys)
    assert rc == 1 and len(errors) == 1, lines
    assert str(proj / rel) in errors[0], errors[0]
    for w in words:
        assert w in errors[0], (w, errors[0])


def test_the_project_file_itself_is_checked(tmp_path, capsys) -> None:
    proj = _project(tmp_path)
    _plant(proj, "sid.yaml", "group: origin", "group: herkomst")
    rc, errors, lines = _run(["--project", str(proj)], capsys)
    assert rc == 1 and len(errors) == 1, lines
    assert f"{proj / 'sid.yaml'}:" in errors[0] and "waves.sid2022.roles.group" in errors[0]
    assert "'herkomst' is not a variable of" in errors[0]
    _plant(proj, "sid.yaml", "group: herkomst", "group: origin\n      colour: blue")
    rc, errors, lines = _run(["--project", str(proj)], capsys)
    assert rc == 1 and len(errors) == 1 and "colour: unknown key" in errors[0], lines


def test_a_plan_whose_questionnaire_file_holds_another_wave_is_one_error(tmp_path, capsys) -> None:
    proj = _project(tmp_path)
    # questionnaires/sid2023.yaml exists, but its wave is sid2022
    shutil.copy(proj / "questionnaires" / "sid2022.yaml", proj / "questionnaires" / "sid2023.yaml")
    _plant(proj, PLAN, "wave: sid2022", "wave: sid2023")
    rc, errors, lines = _run(["--project", str(proj)], capsys)
    assert rc == 1 and len(errors) == 1, lines
    assert f"{proj / PLAN}:7: wave" in errors[0] and "'sid2022'" in errors[0], errors


def test_a_linkage_spec_without_questionnaire_is_checked_against_its_wave(tmp_path, capsys) -> None:
    proj = _project(tmp_path)
    _plant(proj, LINKAGE, "questionnaire: ../questionnaires/sid2022.yaml", "")
    _plant(proj, LINKAGE, "variable: idx_inclusion", "variable: idx_inclusio")
    # in the project, the wave's questionnaire is the linkage spec's
    rc, errors, lines = _run(["--project", str(proj)], capsys)
    assert rc == 1 and len(errors) == 1, lines
    assert f"{proj / LINKAGE}:" in errors[0] and "'idx_inclusio'" in errors[0]
    # named alone, it is checked against the questionnaire of its wave in the folder beside it
    rc, errors, lines = _run([str(proj / LINKAGE)], capsys)
    assert rc == 1 and len(errors) == 1, lines
    assert f"{proj / LINKAGE}: indicators[3] (SID_INCLUSIE_IDX)" in errors[0] and "'idx_inclusio'" in errors[0]
    assert any(ln.startswith(f"warning: {proj / LINKAGE}") and "names no questionnaire" in ln for ln in lines)


def test_a_named_plan_or_origin_map_is_checked_against_its_project(tmp_path, capsys) -> None:
    proj = _project(tmp_path)
    _plant(proj, PLAN, "variables: [idx_language]", "variables: [idx_langauge]")
    _plant(proj, ORIGIN_MAP, "groups: [MAR, TUR, COD, AFG]", "groups: [MAR, TUR, COD]")
    rc, errors, lines = _run([str(proj / PLAN)], capsys)
    assert rc == 1 and len(errors) == 1 and "idx_langauge" in errors[0], lines
    rc, errors, lines = _run([str(proj / ORIGIN_MAP)], capsys)
    assert rc == 1 and len(errors) == 1 and "AFG" in errors[0], lines
    rc, errors, lines = _run([str(proj / "questionnaires" / "sid2022.yaml")], capsys)
    assert rc == 0 and errors == [], lines


def test_a_yaml_error_in_the_plan_is_one_line_and_the_other_specs_are_still_checked(tmp_path, capsys) -> None:
    proj = _project(tmp_path)
    _plant(proj, PLAN, "variables: [idx_language]", "variables: [idx_language")
    _plant(proj, WEIGHTS, "wave: sid2022", "wave: sid2023")
    rc, errors, lines = _run(["--project", str(proj)], capsys)
    assert rc == 1 and len(errors) == 2, lines
    plan_err = [e for e in errors if str(proj / PLAN) in e]
    assert len(plan_err) == 1 and "\n" not in plan_err[0], errors
    assert any(str(proj / WEIGHTS) in e for e in errors), errors
    # every printed line is a finding: no traceback, no continuation lines
    assert all(ln.startswith(("error:", "warning:")) for ln in lines), lines


def test_a_plan_with_several_bad_tables_gives_one_error_per_table(tmp_path, capsys) -> None:
    proj = _project(tmp_path)
    _plant(proj, PLAN, "variables: [idx_language]", "variables: [idx_langauge]")
    _plant(proj, PLAN, "variables: [idx_religiosity]", "variables: [idx_religion]")
    rc, errors, lines = _run(["--project", str(proj)], capsys)
    assert rc == 1 and len(errors) == 2, lines
    assert "tables[0]" in errors[0] and "tables[3]" in errors[1], errors
