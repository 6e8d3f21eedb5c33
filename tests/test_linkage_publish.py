"""A run loads into a base of its own; ``sid publish RUN`` takes it to the shared base,
says what it replaces, and refuses a run older than the one loaded (``--force`` overrides).
On DuckDB and PostgreSQL (the shared base); the run's own base is always a DuckDB file."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sid.cli import main
from sid.linkage.base import open_base
from tests.test_linkage_cli import ROOT, _run_folder
from tests.test_linkage_indicators import respondents

SHARED = ROOT / "data" / "vlim.duckdb"  # the shipped spec's base: no test may write it


def _state(path: Path):
    return (path.stat().st_mtime_ns, path.stat().st_size) if path.exists() else None


def _linked_run(run_dir: Path, seed: int) -> Path:
    df = respondents(1400, seed=seed)
    df["person_key"] = [f"k{i:05d}" for i in range(len(df))]
    _run_folder(run_dir, df)
    assert main(["link", "--out", str(run_dir), "--project", str(ROOT)]) == 0
    return run_dir


def _rows(db) -> dict:
    with open_base(db, read_only=True) as con:
        return {w: (n, r) for w, n, r in con.execute(
            "SELECT wave, count(*), min(run_id) FROM indicator_values GROUP BY wave")}


@pytest.fixture
def runs(tmp_path):
    before = _state(SHARED)
    old = _linked_run(tmp_path / "old", 3)
    time.sleep(1.1)  # run times are kept to the second
    new = _linked_run(tmp_path / "new", 4)
    assert _state(SHARED) == before  # linking never touched the project's shared base
    return old, new


def test_link_loads_the_runs_own_base_and_publish_copies_it(runs, base_target, capsys):
    old, new = runs
    own = new / "link" / "base.duckdb"
    got = _rows(own)
    assert set(got) == {"sid2022"} and got["sid2022"][0] > 0
    capsys.readouterr()
    assert main(["publish", str(new), "--project", str(ROOT), "--db", str(base_target)]) == 0
    err = capsys.readouterr().err
    assert f"sid2022 -> {base_target}: new in the base, run {got['sid2022'][1]}" in err
    assert "  SID_WERK_12M: - -> " in err and "rows (2022)" in err
    assert _rows(base_target) == got
    # publishing the same run again replaces it by itself, and says so
    assert main(["publish", str(new), "--project", str(ROOT), "--db", str(base_target)]) == 0
    err = capsys.readouterr().err
    assert f"replaces run {got['sid2022'][1]}" in err and "by run " in err
    n = got["sid2022"][0] // 5
    assert f"  SID_WERK_12M: {n} rows (2022) -> {n} rows (2022)" in err


def test_an_older_run_is_refused_unless_forced(runs, base_target, capsys):
    old, new = runs
    assert main(["publish", str(new), "--project", str(ROOT), "--db", str(base_target)]) == 0
    before = _rows(base_target)
    capsys.readouterr()
    assert main(["publish", str(old), "--project", str(ROOT), "--db", str(base_target)]) == 2
    err = capsys.readouterr().err
    new_id = before["sid2022"][1]
    assert err.count("\n") == 1 and err.startswith("sid: error: ")
    assert f"is older than run {new_id}" in err and "of wave sid2022" in err and "--force" in err
    assert _rows(base_target) == before  # the base as it was
    assert main(["publish", str(old), "--project", str(ROOT), "--db", str(base_target), "--force"]) == 0
    err = capsys.readouterr().err
    assert f"--force: the replaced run {new_id} was newer than this one" in err
    assert _rows(base_target)["sid2022"][1] == _rows(old / "link" / "base.duckdb")["sid2022"][1]
    assert main(["publish", str(new), "--project", str(ROOT), "--db", str(base_target)]) == 0  # newer again


def test_publish_needs_a_linked_run_and_a_shared_base(tmp_path, capsys):
    run_dir = tmp_path / "run"
    df = respondents(700)
    df["person_key"] = [f"k{i:05d}" for i in range(len(df))]
    _run_folder(run_dir, df)
    assert main(["publish", str(run_dir), "--project", str(ROOT), "--db", str(tmp_path / "b.duckdb")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "base.duckdb: the run has no indicator base of its own" in err
    assert not (tmp_path / "b.duckdb").exists()
    assert main(["link", "--out", str(run_dir), "--project", str(ROOT)]) == 0
    own = run_dir / "link" / "base.duckdb"
    before = own.read_bytes()
    assert main(["publish", str(run_dir), "--project", str(ROOT), "--db", str(own)]) == 2
    assert "is the run's own base" in capsys.readouterr().err
    assert own.read_bytes() == before
