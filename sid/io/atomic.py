"""Atomic outputs: a failed run leaves no half-written file that looks whole.

Files are written to a temporary sibling and renamed into place (``os.replace`` is atomic
on POSIX within one file system). A stage's folder is built as a temporary sibling folder
and swapped in at the end, so readers see either the old folder or the complete new one;
:func:`atomic_dir_and_file` swaps a folder and a file (a stage's folder and the run's
manifest) together. :func:`check_output_folder` tells, before any work, whether a folder
can be written at all.

An operating-system error without a file name (a full disk, as pyarrow reports it) gets
the name of the output it was writing, so the CLI's one line says which
(:func:`sid.errors.describe_os_error`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sid.errors import OutputError, describe_os_error


def _umask() -> int:
    # os.umask can only be read by setting it; restore at once.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _name_it(exc: OSError, target: Path, *renames: tuple[Path, Path]) -> None:
    """Give ``exc`` the output's name: ``target`` when it has none, and a target's path in
    place of a temporary one (``renames``: (temporary, target) pairs; the temporary ones
    are removed)."""
    if exc.filename is None:
        exc.filename = str(target)
        return
    name = os.fsdecode(exc.filename) if isinstance(exc.filename, (str, bytes)) else None
    for tmp, final in renames:
        if name == str(tmp) or (name or "").startswith(str(tmp) + os.sep):
            exc.filename = str(final) + name[len(str(tmp)):]
            return


def _temp_file(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600; outputs are ordinary files, readable as the umask says.
    os.chmod(tmp_path, 0o666 & ~_umask())
    return tmp_path


def _temp_dir(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates 0700
    return tmp


def _swap_in(tmp: Path, target: Path) -> Path | None:
    """Rename folder ``tmp`` onto ``target``; the earlier ``target`` is moved aside and its
    new place returned (None when there was none), for the caller to remove or restore."""
    old = None
    if target.exists() or target.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.rmdir(old)  # a free name beside the target
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    return old


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The caller writes the temporary path with any writer (pyreadstat, pandas, duckdb).
    On an exception the temporary file is removed and ``path`` is left untouched.
    """
    target = Path(path)
    tmp_path = _temp_file(target)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException as exc:
        tmp_path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            _name_it(exc, target, (tmp_path, target))
        raise


def write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it replaces ``path`` whole.

    An earlier folder at ``path`` is kept until the new one is complete, then removed.
    On an exception the temporary folder is removed and ``path`` is left as it was.
    """
    target = Path(path)
    tmp = _temp_dir(target)
    try:
        yield tmp
        old = _swap_in(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            _name_it(exc, target, (tmp, target))
        raise


@contextlib.contextmanager
def atomic_dir_and_file(folder: str | os.PathLike[str], file: str | os.PathLike[str]) -> Iterator[tuple[Path, Path]]:
    """Yield a temporary folder beside ``folder`` and a temporary file beside ``file``;
    on success both replace their targets together, or neither does.

    The folder is swapped in first, then the file is renamed onto ``file``; if that
    rename fails, the new folder is taken out again and the old one put back. On an
    exception in the body (a full disk while writing either) both temporaries are
    removed and ``folder`` and ``file`` are left as they were. An OSError without a file
    name is named after ``folder``: the body names the file when it writes it.
    """
    target, ftarget = Path(folder), Path(file)
    tmp = _temp_dir(target)
    try:
        ftmp = _temp_file(ftarget)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        yield tmp, ftmp
        old = _swap_in(tmp, target)
        try:
            os.replace(ftmp, ftarget)
        except BaseException:
            os.replace(target, tmp)  # the new folder goes back where it was built
            if old is not None:
                os.replace(old, target)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        ftmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            # a nameless error (a full disk) is the folder's, but for the file's own writing
            _name_it(exc, target, (tmp, target), (ftmp, ftarget))
        raise


def check_output_folder(path: str | os.PathLike[str], what: str = "--out") -> None:
    """Raise :class:`OutputError` unless ``path`` is a folder sid can write in, or one it
    can make: it is not a file, no part of it is a file, and a file can be created in it
    (or in the nearest folder above it that exists). Nothing is left behind."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputError(f"{p}: is a file, not a folder; {what} names a file: name a folder "
                          "(a new one, or a run folder)")
    probe = p
    while not probe.exists() and probe != probe.parent:
        if probe.is_symlink():
            raise OutputError(f"{probe}: a symbolic link to nothing; {what} must name a folder "
                              "that exists or can be made")
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"{probe}: is a file, so {p} cannot be made; {what} names a path "
                          "under a file: name a folder")
    try:
        fd, name = tempfile.mkstemp(prefix=".sid-write-check.", dir=probe)
    except OSError as exc:
        if exc.filename is not None:
            exc.filename = str(probe)
        raise OutputError(describe_os_error(exc, str(probe))) from None
    os.close(fd)
    os.unlink(name)
