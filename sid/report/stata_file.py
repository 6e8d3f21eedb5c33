"""The analysts' file as Stata .dta (docs/run-folder.md: ``DIR/report/<wave>.dta``).

The same rows, columns, values and labels as the .sav (sid.report.spss_file.wave_frame),
written by ``pyreadstat.write_dta`` (format 119, Stata 15 and later; the rows by numpy when
that gives pyreadstat's bytes, :mod:`sid.io.stata_rows`), within Stata's limits:

* names: letters, digits and ``_``, not starting with a digit, at most 32 characters, not a
  Stata reserved word; a variable with value labels at most 31 (pyreadstat names its label
  set ``<name>0``). A name that breaks a rule is renamed (other characters -> ``_``,
  shortened, ``_2``, ``_3``... when taken); :attr:`StataFile.renames` lists every rename
  and the README beside the file prints them;
* variable labels and the file label: at most 80 characters; a longer one is shortened,
  ending in "...", and listed in :attr:`StataFile.shortened`;
* value labels: Stata labels whole numbers only; a label of a code with decimals cannot be
  written and is listed in :attr:`StataFile.unlabelled` (the value itself is kept);
* dates and date-times: Stata date-times (``%tc``), listed in :attr:`StataFile.dates`;
* declared user-missing codes (SPSS's missing values and ranges) become Stata's extended
  missing values ``.a``, ``.b``, ... one letter per distinct code in the file, the same
  letter for the same code in every variable (:attr:`StataFile.missing_letters`), their
  value labels kept; more than 26 distinct codes is a DataError naming the 27th.

Notes (the .sav's document lines) have no place in a .dta; the README carries the design.
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from sid.errors import DataError
from sid.io.atomic import atomic_path
from sid.io.spss_meta import SpssMeta
from sid.io.stata_rows import with_tags, write_dta_rows

PathLike = str | os.PathLike[str]
NAME_MAX, LABELLED_NAME_MAX, LABEL_MAX = 32, 31, 80
RESERVED = frozenset({
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long", "_n", "_N",
    "_pi", "_pred", "_rc", "_skip", "strL", "using", "with"})
LETTERS = string.ascii_lowercase


@dataclass
class StataFile:
    """What writing the .dta changed to fit Stata (for the README and the tests)."""

    path: Path
    renames: dict[str, str] = field(default_factory=dict)
    shortened: list[str] = field(default_factory=list)
    unlabelled: list[tuple[str, float]] = field(default_factory=list)
    missing_letters: dict[float, str] = field(default_factory=dict)
    dates: list[str] = field(default_factory=list)

    def name(self, spss_name: str) -> str:
        """The .dta name of the .sav variable ``spss_name``."""
        return self.renames.get(spss_name, spss_name)


def _valid(name: str, limit: int) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)) and len(name) <= limit and name not in RESERVED and \
        not re.fullmatch(r"str[0-9]+", name)


def stata_names(names: list[str], labelled: set[str]) -> dict[str, str]:
    """``{spss name: stata name}`` for every name Stata does not take as it is."""
    taken = {n for n in names if _valid(n, LABELLED_NAME_MAX if n in labelled else NAME_MAX)}
    out: dict[str, str] = {}
    for n in names:
        limit = LABELLED_NAME_MAX if n in labelled else NAME_MAX
        if n in taken:
            continue
        base = re.sub(r"[^A-Za-z0-9_]", "_", n.encode("ascii", "replace").decode().replace("?", "_"))
        if not re.match(r"[A-Za-z_]", base):
            base = "_" + base
        if base in RESERVED or re.fullmatch(r"str[0-9]+", base):
            base += "_"
        cand, i = base[:limit], 2
        while cand in taken:
            suffix = f"_{i}"
            cand, i = base[: limit - len(suffix)] + suffix, i + 1
        taken.add(cand)
        out[n] = cand
    return out


def _short(text: str) -> str:
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 3] + "..."


def _missing_letters(data: pd.DataFrame, meta: SpssMeta) -> dict[float, str]:
    """One letter per distinct declared missing code in the file (sorted codes)."""
    codes: set[float] = set()
    for name, var in meta.variables.items():
        if var.type != "numeric" or not var.has_missing or name not in data:
            continue
        codes.update(float(v) for v in var.missing_values)
        x = pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        codes.update(float(v) for v in np.unique(x[var.is_missing_code(x)]))
    ordered = sorted(codes)
    if len(ordered) > len(LETTERS):
        raise DataError(f"Stata file: {len(ordered)} distinct missing codes, first beyond .z {ordered[26]:g}; "
                        "Stata has 26 extended missing values: merge missing codes in the questionnaire")
    return {c: LETTERS[i] for i, c in enumerate(ordered)}


def _letter_numbers(codes: np.ndarray, letters: dict[float, str]) -> np.ndarray:
    """Each missing code's letter as its number (0: .a, ... 25: .z); ``codes`` all in ``letters``."""
    keys = np.array(sorted(letters))
    numbers = np.array([LETTERS.index(letters[float(k)]) for k in keys], dtype=np.int8)
    at = np.minimum(np.searchsorted(keys, codes), len(keys) - 1)
    if (keys[at] != codes).any():
        raise KeyError(float(codes[keys[at] != codes][0]))
    return numbers[at]


def write_stata(df: pd.DataFrame, meta: SpssMeta, path: PathLike) -> StataFile:
    """Write ``df`` (the analysts' frame) with its dictionary ``meta`` to ``path`` (.dta)."""
    from sid.io.spss import _prepare  # the .sav writer's column preparation (dates, flags, text)

    target = Path(path)
    data, variables = _prepare(df, meta)
    data = data.reset_index(drop=True)
    info = StataFile(target, missing_letters=_missing_letters(data, meta))
    labelled = {n for n, v in variables.items() if v.value_labels}
    info.renames = stata_names(list(data.columns), labelled)
    labels, value_labels, user_missing = {}, {}, {}
    tags: dict[str, np.ndarray] = {}  # per column with missing codes: the letter of each row (0: a, -1: none)
    for name, var in variables.items():
        new = info.name(name)
        if var.label:
            labels[new] = _short(var.label)
            if labels[new] != var.label:
                info.shortened.append(name)
        if var.type == "numeric" and var.has_missing and info.missing_letters:
            x = pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            miss = var.is_missing_code(x)
            if miss.any():
                t = np.full(len(x), -1, dtype=np.int8)
                t[miss] = _letter_numbers(x[miss], info.missing_letters)
                data[name] = x
                tags[new] = t
                user_missing.setdefault(new, set()).update(LETTERS[i] for i in np.unique(t[miss]))
        if var.value_labels:
            vl: dict = {}
            for code, text in var.value_labels.items():
                if var.type == "numeric" and var.is_missing_code(np.array([float(code)]))[0] \
                        and float(code) in info.missing_letters:
                    vl[info.missing_letters[float(code)]] = text
                    user_missing.setdefault(new, set()).add(info.missing_letters[float(code)])
                elif var.type == "numeric" and float(code).is_integer():
                    vl[int(code)] = text
                else:
                    info.unlabelled.append((name, code))
            if vl and var.type == "numeric":
                value_labels[new] = vl
    info.dates = [c for c in data.columns if pd.api.types.is_datetime64_any_dtype(data[c].dtype)]
    data = data.rename(columns=info.renames)
    file_label = _short(meta.file_label or "")
    missing_user_values = {k: sorted(v) for k, v in user_missing.items()} or None

    def write(frame: pd.DataFrame, file: Path) -> None:
        pyreadstat.write_dta(frame, str(file), file_label=file_label, column_labels=labels,
                             variable_value_labels=value_labels or None, missing_user_values=missing_user_values)
    try:
        with atomic_path(target) as tmp:
            # the rows by numpy when it reproduces pyreadstat's bytes (sid.io.stata_rows), else pyreadstat
            if not write_dta_rows(data, tmp, write, tags=tags):
                write(with_tags(data, tags), tmp)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise DataError(f"{target}: cannot be written as Stata ({' '.join(str(exc).split())}); "
                        "fix the variable names or labels in the questionnaire") from exc
    return info
