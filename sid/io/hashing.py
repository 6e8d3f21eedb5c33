"""SHA-256 of input, spec and output files, for manifests and provenance."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable

PathLike = str | os.PathLike[str]


def sha256_file(path: PathLike) -> str:
    """Hex SHA-256 of a file's bytes (streamed)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def sha256_files(paths: Iterable[PathLike]) -> str:
    """Hex SHA-256 of several files' bytes in the given order (one hash for a set of files,
    e.g. a spec with the files it includes)."""
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
    return h.hexdigest()
