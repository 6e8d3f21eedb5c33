"""sid's own exceptions.

Every error a user can cause (bad file, bad spec, infeasible weighting input) is a
:class:`SidError`. The CLI prints its message as one line and exits non-zero, without a
traceback. Messages say where (file, variable, row, margin), what is wrong, and what to do.
"""

from __future__ import annotations

from typing import Any

SHOWN_CHARS = 60  # a value echoed in an error message is cut to this many characters


def shown(value: Any, *, bare: bool = False, limit: int = SHOWN_CHARS) -> str:
    """``value`` as echoed in an error message: its repr (its text when ``bare``), on one
    line, cut to ``limit`` characters with "...", so that a message never prints a file."""
    text = str(value) if bare else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SidError(Exception):
    """Base class of every user-facing sid error (printed by the CLI as one line)."""

    exit_code = 2


class InputFileError(SidError):
    """An input file is missing, empty, truncated, of the wrong format or encoding."""


class SpecError(SidError):
    """A project spec (questionnaire, weighting, linkage, table plan) is invalid."""


class ExpressionError(SpecError):
    """A spec expression does not parse, or uses something the language forbids."""


class DataError(SidError):
    """Data disagree with the spec or with each other (codes, keys, merges)."""


class WeightingError(SidError):
    """Weighting input is infeasible or inconsistent (margins, bounds, empty cells)."""


class ConvergenceError(WeightingError):
    """An iterative solver did not reach its stated tolerance."""


class EstimationError(SidError):
    """An estimate cannot be computed as asked (unknown variable, empty domain, ...)."""


class LinkageError(SidError):
    """Linkage or indicator-base problem (unknown indicator, locked database, raw NRN)."""


class RunFolderError(SidError):
    """A run folder lacks the output of an earlier stage, or is not a sid run folder."""


class OutputError(SidError):
    """An output cannot be written: the disk is full, the folder is read-only, or a file
    stands where a folder is meant (``--out`` names a file)."""


# What to do about an operating-system error, by errno (the message's part after ';').
_OS_ADVICE = {
    "ENOSPC": "the disk is full: free space (or choose --out on another disk) and run again",
    "EDQUOT": "the disk quota is used up: free space (or choose --out elsewhere) and run again",
    "EFBIG": "the file is too large for this file system: choose --out on another disk",
    "EACCES": "no permission: choose a writable --out folder (or fix the permissions)",
    "EPERM": "no permission: choose a writable --out folder (or fix the permissions)",
    "EROFS": "the file system is read-only: choose a writable --out folder",
    "ENOTDIR": "a part of this path is a file, not a folder: --out (or the path) names a file; "
               "name a folder",
    "EEXIST": "a file of that name is in the way: --out (or the path) names a file; name a folder",
    "EISDIR": "this is a folder where a file is meant: name a file",
    "ENOENT": "not found: check the path",
    "ENAMETOOLONG": "the path is too long: choose a shorter --out",
    "EMFILE": "too many open files: raise the limit (ulimit -n) and run again",
    "EIO": "the disk reported an input/output error: check the disk and run again",
}


def describe_os_error(exc: OSError, path: str | None = None) -> str:
    """One line for an operating-system error: ``<path>: <what>; <what to do>``.

    ``path`` names the file when the error does not (a full disk reported by a writer
    that does not say which file it was writing).
    """
    import errno
    import os

    name = errno.errorcode.get(exc.errno or 0, "")
    what = os.strerror(exc.errno) if exc.errno else " ".join(str(exc).split())
    where = exc.filename if exc.filename is not None else path
    advice = _OS_ADVICE.get(name, "check the path, its permissions and the disk")
    text = f"{what}; {advice}"
    if exc.filename2 is not None:
        return f"{where} -> {exc.filename2}: {text}"
    return f"{where}: {text}" if where is not None else text


class EstimationWarning(UserWarning):
    """An estimate was computed, but with something left out that the user should know."""
