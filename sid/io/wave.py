"""Ingestion: fieldwork mode files -> one raw wave, persisted in a run folder.

A wave arrives as one SPSS file per fieldwork mode (web, face-to-face). :func:`ingest`
checks that the files describe the same variables (names, types, labels, value labels,
declared missing codes), then stacks their rows, adding a string variable (``mode`` by
default) that holds each row's mode name.

Mode names: given a mapping ``{"web": "a.sav", "capi": "b.sav"}`` the keys are the modes
(a project's ``data.fieldwork`` entries, sid.project); given a list of paths, a file's mode
is the last ``_``-separated part of its file name stem (``sid2022_web.sav`` -> ``web``,
``sid2022_capi.zsav`` -> ``capi``, ``web.sav`` -> ``web``). A single file that holds the
mode itself is given as ``{None: "survey.sav"}``: its ``mode_variable`` is kept as it is.

The raw wave is written once to ``DIR/raw/`` (``data.parquet`` + ``meta.json``, see
docs/run-folder.md) and never altered afterwards: later stages read it and write their own
folders. :func:`read_wave` reads any stage folder of that shape.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from sid.errors import DataError, InputFileError, RunFolderError
from sid.io.atomic import atomic_dir
from sid.io.identifiers import pseudonymise_identifiers, screen_file
from sid.io.spss import read_spss, read_spss_meta
from sid.io.spss_meta import SpssMeta, VariableMeta


class Questionnaire(Protocol):
    """What :func:`ingest` reads of a questionnaire spec (sid.spec.questionnaire.Questionnaire,
    a layer above the files: not imported here)."""

    path: str | None
    wave: str

    def identifiers(self) -> list[str]:
        """The variables declared ``identifier: pseudonymise``."""

DATA_FILE = "data.parquet"
META_FILE = "meta.json"
RAW = "raw"

PathLike = str | os.PathLike[str]


def mode_from_path(path: PathLike) -> str:
    """The mode named by a file name: the last ``_``-separated part of its stem."""
    stem = Path(path).name.split(".")[0]
    mode = stem.rsplit("_", 1)[-1]
    if not mode:
        raise InputFileError(f"{path}: no mode in the file name; pass it as MODE=FILE")
    return mode


def _modes(files: Mapping[str | None, PathLike] | Sequence[PathLike] | PathLike) -> dict[str | None, Path]:
    if isinstance(files, str | os.PathLike):
        files = [files]
    if isinstance(files, Mapping):
        pairs = [(None if m is None else str(m), Path(p)) for m, p in files.items()]
        if None in dict(pairs) and len(pairs) > 1:
            raise InputFileError("with several fieldwork files each needs its mode; only a single "
                                 "file may carry the mode in a variable")
    else:
        pairs = [(mode_from_path(p), Path(p)) for p in files]
    if not pairs:
        raise InputFileError("no input file given; name at least one .sav or .zsav file")
    out: dict[str, Path] = {}
    for mode, path in pairs:
        if mode in out:
            raise InputFileError(
                f"{out[mode]} and {path} both give mode {mode!r}; name the modes as MODE=FILE"
            )
        out[mode] = path
    return out


def _disagreement(a: VariableMeta, b: VariableMeta) -> str | None:
    """What differs between two files' declarations of one variable (None: they agree)."""
    for what in ("type", "label", "value_labels", "missing_values", "missing_ranges"):
        va, vb = getattr(a, what), getattr(b, what)
        if what == "missing_values":
            va, vb = sorted(va, key=str), sorted(vb, key=str)
        if va != vb:
            return f"{what.replace('_', ' ')} {va!r} vs {vb!r}"
    return None


def check_agreement(metas: Mapping[str, SpssMeta]) -> None:
    """Raise :class:`DataError` naming the first variable on which the mode files disagree.

    Compared: the set of variables, and per variable its type, variable label, value
    labels and declared missing values and ranges. Formats, display widths and measures
    may differ (string widths do between agencies' exports); the first file's are kept.
    """
    items = list(metas.items())
    mode0, m0 = items[0]
    p0 = m0.sources[0]["path"] if m0.sources else mode0
    for mode, m in items[1:]:
        p = m.sources[0]["path"] if m.sources else mode
        only0 = [v for v in m0.variables if v not in m.variables]
        only1 = [v for v in m.variables if v not in m0.variables]
        if only0 or only1:
            name, has, lacks = (only0[0], p0, p) if only0 else (only1[0], p, p0)
            raise DataError(
                f"variable {name} is in {has} but not in {lacks}; the mode files must hold the "
                "same variables (ask the agency for aligned files)"
            )
        for name, v0 in m0.variables.items():
            diff = _disagreement(v0, m.variables[name])
            if diff:
                raise DataError(
                    f"variable {name} differs between {p0} and {p}: {diff}; "
                    "align the mode files' SPSS dictionaries before ingesting"
                )


def _string_format(metas: Sequence[SpssMeta], name: str) -> str | None:
    widths = []
    for m in metas:
        fmt = m.variables[name].format or ""
        if fmt.upper().startswith("A") and fmt[1:].isdigit():
            widths.append(int(fmt[1:]))
    return f"A{max(widths)}" if widths else metas[0].variables[name].format


def ingest(
    files: Mapping[str | None, PathLike] | Sequence[PathLike] | PathLike,
    *,
    mode_variable: str | None = "mode",
    encoding: str | None = None,
    chunksize: int | None = None,
    questionnaire: Questionnaire | None = None,
    key: bytes | None = None,
) -> tuple[pd.DataFrame, SpssMeta]:
    """Read the mode files of a wave and stack them into one raw wave.

    ``files``: ``{mode: path}``, or paths whose names end in ``_<mode>`` (module doc).
    Returns the rows of every file in the given order, codes untouched, with the string
    variable ``mode_variable`` appended; ``meta.sources`` lists each file's path, SHA-256,
    mode and row count. Raises :class:`InputFileError` for an unreadable file and
    :class:`DataError` when the files disagree or already hold ``mode_variable``.

    Every column of every file is checked for raw national register numbers
    (:mod:`sid.io.identifiers`): a :class:`sid.errors.LinkageError` names the file,
    variable and case. Variables the ``questionnaire`` declares ``identifier:
    pseudonymise`` are replaced by their HMAC pseudonym under ``key`` (default: from
    ``$SID_PSEUDONYM_KEY``) instead; without a questionnaire every NRN is refused.
    """
    modes = _modes(files)
    identifiers = questionnaire.identifiers() if questionnaire is not None else []
    spec = (questionnaire.path or questionnaire.wave) if questionnaire is not None else None
    if None in modes:
        return _ingest_one(modes[None], mode_variable, encoding, chunksize, identifiers, spec, key)
    if mode_variable is None:
        raise InputFileError("files with a mode need a mode variable to hold it; name one")
    metas = {mode: read_spss_meta(p, encoding=encoding) for mode, p in modes.items()}
    check_agreement(metas)
    first = next(iter(metas.values()))
    if mode_variable in first.variables:
        raise DataError(
            f"{first.sources[0]['path']} already has a variable {mode_variable!r}; "
            "choose another mode variable name"
        )
    order = list(first.variables)
    frames, sources = [], []
    for mode, path in modes.items():
        df, meta = read_spss(path, encoding=encoding, chunksize=chunksize)
        screen_file(df, str(path), identifiers=identifiers, spec=spec)
        df = df[order]
        df[mode_variable] = pd.Series(
            np.full(len(df), mode, dtype=object), dtype="str", index=df.index
        )
        frames.append(df)
        sources.append({**meta.sources[0], "mode": mode})
    data = pd.concat(frames, ignore_index=True)
    variables = dict(first.variables)
    for name, var in variables.items():
        if var.type == "string":
            variables[name] = replace(var, format=_string_format(list(metas.values()), name))
    data, variables, _ = pseudonymise_identifiers(data, variables, identifiers, key)
    width = max(len(m.encode("utf-8")) for m in modes)
    variables[mode_variable] = VariableMeta(
        name=mode_variable,
        label="Bevragingsmodus",  # as sid.spec.questionnaire names it
        type="string",
        format=f"A{width}",
        measure="nominal",
    )
    meta = SpssMeta(
        variables=variables,
        file_label=first.file_label,
        encoding=first.encoding,
        sources=sources,
        notes=list(first.notes),
    )
    return data, meta


def _ingest_one(path: Path, mode_variable: str | None, encoding: str | None, chunksize: int | None,
                identifiers: list[str], spec: str | None, key: bytes | None) -> tuple[pd.DataFrame, SpssMeta]:
    """The raw wave of a single file that holds each row's mode in ``mode_variable``
    (None: the wave has no mode); raw national register numbers checked and the
    ``identifiers`` pseudonymised as for several files (:func:`ingest`)."""
    df, meta = read_spss(path, encoding=encoding, chunksize=chunksize)
    if mode_variable is not None and mode_variable not in meta.variables:
        raise DataError(f"{path}: no mode variable {mode_variable!r}; name the file's mode in the "
                        "project file ({file: ..., mode: web}) or fix roles.mode")
    screen_file(df, str(path), identifiers=identifiers, spec=spec)
    data, variables, _ = pseudonymise_identifiers(df.reset_index(drop=True), dict(meta.variables),
                                                  identifiers, key)
    sources = [{**meta.sources[0], "mode": None}]
    return data, SpssMeta(variables=variables, file_label=meta.file_label, encoding=meta.encoding,
                          sources=sources, notes=list(meta.notes))


# -- run folder --------------------------------------------------------------------------


def save_wave_files(df: pd.DataFrame, meta: SpssMeta, folder: PathLike) -> list[Path]:
    """Write ``data.parquet`` and ``meta.json`` into ``folder`` (a stage folder being built).

    Not atomic by itself: call it inside :func:`sid.io.atomic.atomic_dir`. Returns the paths.
    """
    folder = Path(folder)
    cols = [str(c) for c in df.columns]
    if cols != list(meta.variables):
        extra = [c for c in cols if c not in meta.variables]
        lacking = [c for c in meta.variables if c not in cols]
        raise DataError(
            "data and metadata disagree: "
            + (f"no metadata for {', '.join(extra[:5])}" if extra else "")
            + ("; " if extra and lacking else "")
            + (f"no data for {', '.join(lacking[:5])}" if lacking else "")
            + ("" if extra or lacking else "variable order differs")
            + "; give metadata for exactly the data's columns"
        )
    data_path, meta_path = folder / DATA_FILE, folder / META_FILE
    df.reset_index(drop=True).to_parquet(data_path, index=False)
    meta_path.write_text(meta.to_json(), encoding="utf-8")
    return [data_path, meta_path]


def write_raw_wave(
    df: pd.DataFrame, meta: SpssMeta, out_dir: PathLike, *, overwrite: bool = False
) -> Path:
    """Persist the raw wave as ``out_dir/raw/{data.parquet,meta.json}``; return the folder.

    The folder is built beside and swapped in whole. An existing raw wave from *other*
    source files (different SHA-256s) is never replaced unless ``overwrite=True``: raw data
    are not altered once ingested. Re-ingesting the same files rewrites the same content.
    """
    target = Path(out_dir) / RAW
    check_raw_target(target, meta, overwrite=overwrite)
    with atomic_dir(target) as tmp:
        write_raw_files(df, meta, tmp)
    return target


def check_raw_target(target: PathLike, meta: SpssMeta, *, overwrite: bool = False) -> None:
    """RunFolderError when ``target`` (``DIR/raw``) holds a raw wave from other source
    files than ``meta``'s and ``overwrite`` is false: raw data are not altered once ingested."""
    target = Path(target)
    if target.exists() and not overwrite:
        try:
            old = SpssMeta.from_json((target / META_FILE).read_text(encoding="utf-8"))
            same = [s["sha256"] for s in old.sources] == [s["sha256"] for s in meta.sources]
        except (OSError, InputFileError, KeyError):
            same = False
        if not same:
            raise RunFolderError(
                f"{target} already holds a raw wave from other files; ingest into a new "
                "run folder (raw data are not replaced)"
            )


def write_raw_files(df: pd.DataFrame, meta: SpssMeta, folder: PathLike) -> list[Path]:
    """Write the raw wave's files into ``folder`` (a temporary one, swapped in by the
    caller), read-only; the folder readable by all. Returns the paths."""
    folder = Path(folder)
    folder.chmod(0o755)  # mkdtemp makes it private; a run folder is shared with analysts
    paths = save_wave_files(df, meta, folder)
    for p in paths:
        p.chmod(0o444)  # raw data are read-only once written
    return paths


def read_wave(stage_dir: PathLike) -> tuple[pd.DataFrame, SpssMeta]:
    """Read ``data.parquet`` and ``meta.json`` of a stage folder (``DIR/raw``, ``DIR/clean``)."""
    folder = Path(stage_dir)
    data_path, meta_path = folder / DATA_FILE, folder / META_FILE
    for p in (data_path, meta_path):
        if not p.is_file():
            raise RunFolderError(
                f"{p} not found; {folder} is not a sid stage folder (run the stage that writes it)"
            )
    meta = SpssMeta.from_json(meta_path.read_text(encoding="utf-8"), where=str(meta_path))
    try:
        df = pd.read_parquet(data_path)
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{data_path}: unreadable ({exc}); re-run the stage") from exc
    for c in df.columns:
        if df[c].dtype == object and df[c].isna().any():
            # dates/times: parquet gives None where pyreadstat gives NaN; keep one form
            df[c] = df[c].where(df[c].notna(), np.nan)
    if list(df.columns) != list(meta.variables):
        raise RunFolderError(
            f"{folder}: data.parquet and meta.json list different variables; re-run the stage"
        )
    return df, meta
