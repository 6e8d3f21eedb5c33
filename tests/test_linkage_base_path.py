"""The linkage spec's ``base:`` (the indicator base sid writes) must lie inside the project
folder or the run's data folder, symbolic links resolved, unless the spec says
``allow_outside_project: true`` (issue 16). A base outside is one SpecError naming the
spec's line of ``base``, from the loader, ``sid link`` and ``sid check``; nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from sid.cli import main
from sid.errors import SpecError
from sid.linkage.spec import load_linkage_spec
from tests.projects import copy_project

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_BASE = "base: data/vlim.duckdb"


def project(tmp_path: Path, base_line: str) -> Path:
    """A copy of the SID project whose linkage spec has ``base_line`` in place of its base."""
    proj = copy_project(tmp_path / "proj")
    spec = proj / "linkage" / "sid2022.yaml"
    text = spec.read_text(encoding="utf-8")
    assert SHIPPED_BASE in text, "the shipped spec's base changed; update the test"
    spec.write_text(text.replace(SHIPPED_BASE, base_line, 1), encoding="utf-8")
    return proj


def outside(tmp_path: Path) -> Path:
    """A folder beside the project (outside it): where an escaping base would land."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    return elsewhere


def escaping(tmp_path: Path) -> dict[str, str]:
    elsewhere = outside(tmp_path)
    return {
        "dotdot": "base: ../elsewhere/vlim.duckdb",
        "deep_dotdot": "base: data/../../../elsewhere/vlim.duckdb",
        "absolute": f"base: {elsewhere / 'vlim.duckdb'}",
    }


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(folder.rglob("*"))}


def _base_line(proj: Path) -> int:
    lines = (proj / "linkage" / "sid2022.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, ln in enumerate(lines, 1) if ln.startswith("base:"))


@pytest.mark.parametrize("case", ["dotdot", "deep_dotdot", "absolute"])
def test_a_base_outside_the_project_is_refused_naming_the_line(tmp_path, case):
    proj = project(tmp_path, escaping(tmp_path)[case])
    with pytest.raises(SpecError) as info:
        load_linkage_spec(proj / "linkage" / "sid2022.yaml", project=proj)
    msg = str(info.value)
    assert "\n" not in msg and ";" in msg
    assert f"sid2022.yaml:{_base_line(proj)}: base: " in msg
    assert "outside the project folder" in msg and "allow_outside_project: true" in msg


def test_a_base_through_a_link_that_leads_out_of_the_project_is_refused(tmp_path):
    proj = project(tmp_path, "base: shared/vlim.duckdb")
    (proj / "shared").symlink_to(outside(tmp_path), target_is_directory=True)
    with pytest.raises(SpecError, match=r"base: .*resolved: .*elsewhere.*lies outside"):
        load_linkage_spec(proj / "linkage" / "sid2022.yaml", project=proj)


@pytest.mark.parametrize("case", ["dotdot", "absolute"])
def test_sid_link_refuses_it_in_one_line_and_writes_nothing(tmp_path, capsys, case):
    proj = project(tmp_path, escaping(tmp_path)[case])
    out = tmp_path / "run"
    (out / "clean").mkdir(parents=True)  # a run folder (the CLI checks that first)
    before, spec_before = snapshot(tmp_path), snapshot(proj)
    rc = main(["link", "--out", str(out), "--project", str(proj)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert err[0].startswith("sid: error: ") and "sid2022.yaml" in err[0] and "base" in err[0]
    assert snapshot(tmp_path) == before and snapshot(proj) == spec_before
    assert not (outside(tmp_path) / "vlim.duckdb").exists()


def test_sid_check_reports_it_as_one_error(tmp_path, capsys):
    proj = project(tmp_path, escaping(tmp_path)["dotdot"])
    rc = main(["check", "--project", str(proj)])
    errors = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("error:")]
    assert rc == 1 and len(errors) == 1
    assert "sid2022.yaml" in errors[0] and "base" in errors[0] and "outside the project" in errors[0]


def test_allow_outside_project_lets_the_spec_name_a_base_elsewhere(tmp_path, capsys):
    elsewhere = outside(tmp_path)
    proj = project(tmp_path, f"base: {elsewhere / 'vlim.duckdb'}\nallow_outside_project: true")
    spec = load_linkage_spec(proj / "linkage" / "sid2022.yaml", project=proj)
    assert spec.base == elsewhere / "vlim.duckdb"
    assert main(["check", "--project", str(proj)]) == 0


def test_allow_outside_project_must_be_true_or_false(tmp_path):
    proj = project(tmp_path, "base: ../elsewhere/vlim.duckdb\nallow_outside_project: yes please")
    with pytest.raises(SpecError, match="allow_outside_project: expected true or false"):
        load_linkage_spec(proj / "linkage" / "sid2022.yaml", project=proj)


def test_a_base_inside_the_project_or_the_data_folder_is_accepted(tmp_path):
    proj = project(tmp_path, "base: data/sub/../vlim.duckdb")
    spec_path = proj / "linkage" / "sid2022.yaml"
    assert load_linkage_spec(spec_path, project=proj).base.resolve() == (proj / "data" / "vlim.duckdb").resolve()
    data = outside(tmp_path)  # the run's data folder may lie outside the project
    proj2 = project(tmp_path / "b", f"base: {data / 'vlim.duckdb'}")
    spec2 = proj2 / "linkage" / "sid2022.yaml"
    assert load_linkage_spec(spec2, project=proj2, data=data).base == data / "vlim.duckdb"
    with pytest.raises(SpecError, match="outside the project folder"):
        load_linkage_spec(spec2, project=proj2)  # without the data folder: refused
