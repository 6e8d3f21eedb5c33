"""Atomic writes: complete files or none, with ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from sid.io.atomic import atomic_dir, atomic_path, write_text


def test_atomic_path_leaves_target_untouched_on_error(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_dir_replaces_whole_folder_or_nothing(tmp_path):
    target = tmp_path / "stage"
    with atomic_dir(target) as tmp:
        (tmp / "a.csv").write_text("1")
    with pytest.raises(ValueError), atomic_dir(target) as tmp:
        (tmp / "b.csv").write_text("2")
        raise ValueError("fail")
    assert sorted(p.name for p in target.iterdir()) == ["a.csv"]
    with atomic_dir(target) as tmp:
        (tmp / "c.csv").write_text("3")
    assert sorted(p.name for p in target.iterdir()) == ["c.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stage"]


def test_atomic_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "f.txt", "x")
        with atomic_dir(tmp_path / "d"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755
