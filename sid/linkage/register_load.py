"""Reading a register indicator set (administrative indicators) from a folder of CSVs.

A set is a folder ``NAME/`` with ``indicators.csv`` (code, name, theme, definition, unit,
source_type, numerator, denominator) and ``values.csv`` (the base's value columns:
indicator_code, period, geography, origin, generation, sex, age_band, value, numerator,
denominator, flags, note). It is loaded as the register wave ``NAME``; its spec hash is
the SHA-256 of the two files, so the base records exactly which files were loaded.
``sid demo`` writes such a set (:func:`sid.demo.admin.write_admin_demo`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sid.errors import LinkageError
from sid.io.csvfile import read_csv
from sid.io.hashing import sha256_files
from sid.linkage.schema import KEY_COLUMNS, ORIGIN

FILES = ("indicators.csv", "values.csv")
_TEXT_COLUMNS = tuple(c for c in KEY_COLUMNS if c != "period") + ("flags", "note")


@dataclass(frozen=True)
class RegisterSet:
    wave: str
    indicators: pd.DataFrame
    values: pd.DataFrame
    spec_hash: str
    files: tuple[str, ...]


def read_register_set(folder: str | os.PathLike[str], wave: str | None = None,
                      origins: Sequence[str] | None = None) -> RegisterSet:
    """Read a register indicator set; ``wave`` defaults to the folder's name. ``origins``:
    the VLIM origin categories of the origin map; a value row of another category is
    refused (it could not stand beside the survey's)."""
    folder = Path(folder)
    paths = [folder / f for f in FILES]
    for p in paths:
        if not p.is_file():
            raise LinkageError(f"{folder}: register indicator set lacks {p.name}; "
                               f"a set is a folder with {' and '.join(FILES)}")
    set_hash = sha256_files(paths)
    def unreadable(detail: str) -> LinkageError:
        return LinkageError(f"{folder}: cannot read the register indicator set ({detail})")

    ind = read_csv(paths[0], text=True, unreadable=unreadable)
    vals = read_csv(paths[1], text=_TEXT_COLUMNS, unreadable=unreadable)
    if "flags" in vals.columns:
        vals["flags"] = vals["flags"].fillna("")
    if origins is not None and ORIGIN in vals.columns:
        bad = ~vals[ORIGIN].isin(list(origins))
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise LinkageError(f"{paths[1]}: row {i + 2}: origin category {vals[ORIGIN].iloc[i]!r} has no mapping "
                               f"in the origin map (categories: {', '.join(origins)}); use those codes")
    return RegisterSet(wave or folder.resolve().name, ind, vals, set_hash, tuple(map(str, paths)))
