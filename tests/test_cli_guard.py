"""The CLI's "did you mean", its check that a stage stands in a project and run folder
before it writes, and progress drawn on a terminal only."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from sid.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _exit(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code, capsys.readouterr().err


def _listing(p: Path) -> list[str]:
    return sorted(str(x.relative_to(p)) for x in p.rglob("*"))


def test_mistyped_command_gets_did_you_mean(capsys):
    code, err = _exit(["weigth", "--out", "x"], capsys)
    assert code == 2 and "did you mean 'weight'?" in err.strip().splitlines()[-1]


@pytest.mark.parametrize(("argv", "hint"), [
    (["tables", "--outt", "x"], "did you mean '--out' (for '--outt')?"),
    (["tables", "--out", "x", "--projekt", "y"], "did you mean '--project' (for '--projekt')?"),
    (["tables", "--out", "x", "--variance", "tylor"], "did you mean 'taylor'?"),
])
def test_mistyped_option_or_choice_gets_did_you_mean(argv, hint, capsys):
    code, err = _exit(argv, capsys)
    assert code == 2 and hint in err.strip().splitlines()[-1]


def test_no_suggestion_when_nothing_is_close(capsys):
    code, err = _exit(["zzzzzz"], capsys)
    assert code == 2 and "did you mean" not in err


@pytest.mark.parametrize("stage", ["clean", "fieldwork", "weight", "score", "tables", "link", "report"])
def test_stage_outside_a_run_folder_writes_nothing(stage, tmp_path, capsys):
    out = tmp_path / "not_a_run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main([stage, "--out", str(out), "--project", str(ROOT)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sid: error:") and "\n" not in err and "not a run folder" in err and str(out) in err
    assert _listing(out) == ["notes.txt"] and (out / "notes.txt").read_text() == "mine"


def test_stage_with_a_missing_run_folder_does_not_make_it(tmp_path, capsys):
    out = tmp_path / "nowhere"
    assert main(["weight", "--out", str(out), "--project", str(ROOT)]) == 2
    err = capsys.readouterr().err.strip()
    assert "run folder not found" in err and "\n" not in err and not out.exists()


def test_stage_outside_a_project_names_sid_yaml_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "clean").mkdir()
    assert main(["weight", "--out", str(tmp_path), "--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "sid.yaml" in err and "\n" not in err and _listing(tmp_path) == ["clean"]


def test_run_in_a_wrong_folder_writes_no_demo_data_nor_run_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    assert "sid.yaml" in capsys.readouterr().err and _listing(tmp_path) == []


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch):
    from sid.progress import progress_iter

    monkeypatch.delenv("SID_QUIET", raising=False)
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert list(progress_iter(range(4), "replicate weights", 4)) == [0, 1, 2, 3]
    text = tty.getvalue()
    assert "sid: replicate weights [" in text and "4/4" in text and "\r" in text
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    assert list(progress_iter(range(4), "replicate weights", 4)) == [0, 1, 2, 3]
    assert pipe.getvalue() == ""
    monkeypatch.setattr(sys, "stderr", tty)
    monkeypatch.setenv("SID_QUIET", "1")
    before = tty.getvalue()
    list(progress_iter(range(2), "x", 2))
    assert tty.getvalue() == before


def test_the_command_line_runs_blas_on_one_thread_unless_the_user_sets_it():
    """sid.cli sets OPENBLAS_NUM_THREADS=1 before numpy loads, keeping a value already set;
    ``import sid`` alone leaves it unset (an analyst's process is not changed)."""
    import os
    import subprocess
    import sys

    code = "import {mod}, os, sys; print(os.environ.get('OPENBLAS_NUM_THREADS'), 'numpy' in sys.modules)"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}

    def run(mod, **extra):
        out = subprocess.run([sys.executable, "-c", code.format(mod=mod)], env={**env, **extra},
                             capture_output=True, text=True, check=True)
        return out.stdout.split()

    assert run("sid.cli") == ["1", "False"]  # set, and numpy not yet loaded: it takes effect
    assert run("sid.cli", OPENBLAS_NUM_THREADS="2") == ["2", "False"]
    assert run("sid") == ["None", "False"]
