"""``sid init DIR``: a project skeleton that loads and that ``sid check`` accepts; never
written over an existing folder's files."""

from __future__ import annotations

from pathlib import Path

from sid.cli import main
from sid.project import load_project


def test_init_writes_a_project_that_loads_and_passes_sid_check(tmp_path: Path, capsys) -> None:
    target = tmp_path / "new"
    assert main(["init", str(target)]) == 0
    project = load_project(target)
    wave = project.wave()
    assert wave.name == "wave1" and wave.roles.key == "resp_id"
    assert wave.questionnaire.is_file() and wave.weighting.is_file() and wave.tables.is_file()
    assert sorted(p.name for p in (target / "reports").glob("*.html.j2"))  # templates to adapt
    capsys.readouterr()
    assert main(["check", "--project", str(target)]) == 0, capsys.readouterr()


def test_init_refuses_a_folder_with_files_and_leaves_it_as_it_was(tmp_path: Path, capsys) -> None:
    target = tmp_path / "old"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    assert main(["init", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(target) in err and "not empty" in err
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert (target / "notes.txt").read_text() == "mine"


def test_init_refuses_a_file(tmp_path: Path, capsys) -> None:
    target = tmp_path / "f"
    target.write_text("x")
    assert main(["init", str(target)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert target.read_text() == "x"
