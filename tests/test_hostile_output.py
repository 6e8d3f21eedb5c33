"""Hostile output conditions (issue 16): a full disk, a read-only --out, an --out that is a
file, a damaged manifest.json. Each ends in one line ``sid: error: <path>: <what>; <what to
do>`` with a non-zero exit, no traceback; the inputs and the run folder are byte-identical
afterwards (the old stage folder and the old manifest kept, no temporary file left)."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sid.cli import main
from sid.demo import make_demo
from sid.errors import RunFolderError
from sid.io.atomic import atomic_dir_and_file
from sid.runfolder import manifest as manifest_mod
from sid.runfolder.manifest import read_manifest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[Path, Path]:
    """The demo wave (scale 0.1) ingested, cleaned and weighted: (data folder, run folder)."""
    base = tmp_path_factory.mktemp("hostile")
    data, out = base / "data", base / "run"
    make_demo(data, seed=11, scale=0.1)
    assert main(["ingest", *map(str, sorted(data.glob("*.sav"))), "--out", str(out)]) == 0
    assert main(["clean", "--out", str(out), "--project", str(ROOT), "--data", str(data)]) == 0
    assert main(["weight", "--out", str(out), "--project", str(ROOT), "--data", str(data)]) == 0
    return data, out


@pytest.fixture
def copy(demo_run, tmp_path) -> tuple[Path, Path]:
    """A private copy of the data folder and the run folder."""
    data, out = demo_run
    shutil.copytree(data, tmp_path / "data")
    shutil.copytree(out, tmp_path / "run")
    return tmp_path / "data", tmp_path / "run"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file and folder under ``folder`` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(folder.rglob("*"))}


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err, "nothing on stderr"
    line = err[-1]
    assert line.startswith("sid: error: "), err
    assert "Traceback" not in "\n".join(err)
    assert ";" in line  # what is wrong; what to do
    return line


def weight_args(data: Path, out: Path) -> list[str]:
    return ["weight", "--out", str(out), "--project", str(ROOT), "--data", str(data)]


# -- a full disk ---------------------------------------------------------------------------

def _disk_full_parquet(monkeypatch) -> None:
    """pandas' parquet writer writes a few bytes, then the disk is full (as pyarrow reports
    it: an OSError with errno ENOSPC and no file name)."""
    def full(self, path, *args, **kwargs):
        Path(path).write_bytes(b"PAR1 half a file")
        raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)


def test_disk_full_while_a_stage_writes_is_one_line_and_keeps_the_old_folder(copy, capsys, monkeypatch):
    data, out = copy
    before, inputs = snapshot(out), snapshot(data)
    _disk_full_parquet(monkeypatch)
    code = main(weight_args(data, out))
    line = one_error_line(capsys)
    assert code == 2
    assert f"{out / 'weight'}: No space left on device; " in line and "free space" in line
    assert snapshot(out) == before  # old weight/ and manifest byte for byte, no half file
    assert snapshot(data) == inputs


def test_disk_full_while_the_manifest_is_written_keeps_the_old_folder_and_manifest(copy, capsys, monkeypatch):
    data, out = copy
    before, inputs = snapshot(out), snapshot(data)
    old_weights = (out / "weight" / "weights.parquet").read_bytes()

    def half(path: Path, text: str) -> None:
        path.write_text(text[: len(text) // 2], encoding="utf-8")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(manifest_mod, "_write", half)
    code = main(weight_args(data, out))
    line = one_error_line(capsys)
    assert code == 2
    assert f"{out / 'manifest.json'}: No space left on device; " in line
    assert snapshot(out) == before
    assert (out / "weight" / "weights.parquet").read_bytes() == old_weights
    assert snapshot(data) == inputs


def test_a_manifest_rename_that_fails_puts_the_old_stage_folder_back(copy, capsys, monkeypatch):
    # the folder is swapped in first; when the manifest cannot follow, the old folder returns
    data, out = copy
    before = snapshot(out)
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if Path(dst).name == "manifest.json":
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    code = main(weight_args(data, out))
    line = one_error_line(capsys)
    assert code == 2 and f"{out / 'manifest.json'}: Input/output error; " in line
    assert snapshot(out) == before


def test_atomic_dir_and_file_replace_both_or_neither(tmp_path, monkeypatch):
    folder, file = tmp_path / "stage", tmp_path / "manifest.json"
    with atomic_dir_and_file(folder, file) as (tmp, ftmp):
        (tmp / "a.csv").write_text("1")
        ftmp.write_text("one")
    assert (folder / "a.csv").read_text() == "1" and file.read_text() == "one"
    with pytest.raises(ValueError), atomic_dir_and_file(folder, file) as (tmp, ftmp):
        (tmp / "b.csv").write_text("2")
        ftmp.write_text("two")
        raise ValueError("fails after both were written")
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda s, d: (_ for _ in ()).throw(OSError(errno.EIO, "io"))
                        if Path(d) == file else real(s, d))
    with pytest.raises(OSError), atomic_dir_and_file(folder, file) as (tmp, ftmp):
        (tmp / "c.csv").write_text("3")
        ftmp.write_text("three")
    assert sorted(p.name for p in folder.iterdir()) == ["a.csv"] and file.read_text() == "one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "stage"]


# -- a read-only --out ---------------------------------------------------------------------

def _read_only(monkeypatch, folder: Path, code: int) -> None:
    """Writes under ``folder`` fail as on a read-only folder, also for root (who is not
    stopped by permissions): creating a file or a folder there raises ``code``."""
    folder = str(folder.resolve())
    real_open, real_mkdir = os.open, os.mkdir

    def inside(path) -> bool:
        p = os.path.abspath(os.fsdecode(path))
        return p == folder or p.startswith(folder + os.sep)

    def fake_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and inside(path):
            raise OSError(code, os.strerror(code), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    def fake_mkdir(path, *args, **kwargs):
        if inside(path):
            raise OSError(code, os.strerror(code), os.fsdecode(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "mkdir", fake_mkdir)


def _commands(data: Path, out: Path) -> dict[str, list[str]]:
    return {
        "demo": ["demo", "--out", str(out), "--scale", "0.01"],
        "ingest": ["ingest", *map(str, sorted(data.glob("*.sav"))), "--out", str(out)],
        "weight": weight_args(data, out),
        "run": ["run", "--project", str(ROOT), "--data", str(data), "--out", str(out)],
    }


@pytest.mark.parametrize("command", ["demo", "ingest", "weight", "run"])
@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS])
def test_read_only_out_fails_up_front_in_one_line(copy, capsys, monkeypatch, command, code):
    data, out = copy
    before, inputs = snapshot(out), snapshot(data)
    _read_only(monkeypatch, out, code)
    rc = main(_commands(data, out)[command])
    line = one_error_line(capsys)
    monkeypatch.undo()
    assert rc == 2
    assert f"{out}: {os.strerror(code)}; " in line and "writable --out" in line
    assert snapshot(out) == before and snapshot(data) == inputs


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into a 0o500 folder; the monkeypatched variant runs instead")
def test_read_only_out_by_permissions(copy, capsys):
    data, out = copy
    before = snapshot(out)
    out.chmod(0o500)
    try:
        rc = main(weight_args(data, out))
    finally:
        out.chmod(0o755)
    line = one_error_line(capsys)
    assert rc == 2 and f"{out}: Permission denied; " in line
    assert snapshot(out) == before


# -- an --out that is a file ---------------------------------------------------------------

@pytest.mark.parametrize("command", ["demo", "ingest", "weight", "run"])
def test_out_naming_a_file_is_one_line(copy, tmp_path, capsys, command):
    data, _ = copy
    target = tmp_path / "notes.txt"
    target.write_bytes(b"a file the user keeps\n")
    inputs = snapshot(data)
    rc = main(_commands(data, target)[command])
    line = one_error_line(capsys)
    assert rc == 2
    assert f"{target}: is a file, not a folder; --out names a file" in line
    assert target.read_bytes() == b"a file the user keeps\n"
    assert snapshot(data) == inputs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "notes.txt", "run"]


def test_out_under_a_file_is_one_line(copy, tmp_path, capsys):
    data, _ = copy
    target = tmp_path / "notes.txt"
    target.write_bytes(b"x")
    rc = main(_commands(data, target / "run")["ingest"])
    line = one_error_line(capsys)
    assert rc == 2 and f"{target}: is a file, so {target / 'run'} cannot be made" in line
    assert target.read_bytes() == b"x"


def test_an_os_error_the_stages_do_not_foresee_is_one_line(copy, capsys, monkeypatch):
    # the CLI's last net: any OSError is one line naming its file, not a traceback
    data, out = copy
    import sid.weighting.stage as stage

    def fail(*args, **kwargs):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), "/no/such/register.csv")

    monkeypatch.setattr(stage, "weight_wave", fail)
    assert main(weight_args(data, out)) == 2
    assert one_error_line(capsys) == ("sid: error: /no/such/register.csv: No such file or directory; "
                                      "not found: check the path")


# -- a damaged manifest.json ---------------------------------------------------------------

DAMAGED = {
    "truncated": lambda text: text[: len(text) // 2],
    "empty": lambda text: "",
    "not_utf8": lambda text: "\udcff",  # written as a lone byte 0xff below
    "a_list": lambda text: "[1, 2, 3]\n",
    "stages_not_a_mapping": lambda text: '{"run_id": "x", "stages": [1]}\n',
}


@pytest.mark.parametrize("damage", list(DAMAGED))
@pytest.mark.parametrize("command", ["weight", "fieldwork", "report", "run"])
def test_a_damaged_manifest_is_a_run_folder_error_naming_it(copy, capsys, damage, command):
    data, out = copy
    path = out / "manifest.json"
    text = DAMAGED[damage](path.read_text(encoding="utf-8"))
    path.write_bytes(b"\xff" if damage == "not_utf8" else text.encode("utf-8"))
    before, inputs = snapshot(out), snapshot(data)
    with pytest.raises(RunFolderError, match="manifest.json") as info:
        read_manifest(out)
    assert "\n" not in str(info.value)
    args = {"weight": weight_args(data, out),
            "fieldwork": ["fieldwork", "--out", str(out), "--project", str(ROOT), "--data", str(data)],
            "report": ["report", "--out", str(out), "--project", str(ROOT)],
            "run": ["run", "--project", str(ROOT), "--data", str(data), "--out", str(out)]}[command]
    rc = main(args)
    line = one_error_line(capsys)
    assert rc == 2
    assert line.startswith(f"sid: error: {path}: ") and "sid run --out" in line
    assert snapshot(out) == before  # the weight/ folder is not swapped in before the manifest
    assert snapshot(data) == inputs
