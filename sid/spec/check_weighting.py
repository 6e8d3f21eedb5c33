"""Lint a weighting spec (:func:`check_weighting`): what is well-formed but wrong.

Loading (:func:`sid.spec.weighting.load_weighting`) already rejects malformed specs; these
checks look at the spec as a whole and, when a data folder is given, at the files it names:
replicate steps the chain does not have, ``within`` variables that are not strata, margins
that are constant within the calibration groups, a wave without a questionnaire; and in the
data folder, files and columns that are missing, agency codes the mapping lacks, margin
categories of the gross sample that the frame does not have. Each problem is a
:class:`sid.spec.check.Finding` (``error`` makes ``sid check`` exit 1).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from sid.errors import DataError, InputFileError
from sid.io.csvfile import read_csv
from sid.spec.check import Finding
from sid.spec.dispositions import agency_key
from sid.spec.weighting import WeightingSpec
from sid.spec.yamlfile import suggest


def check_weighting(spec: WeightingSpec, project: str | os.PathLike[str] | None = None,
                    data: str | os.PathLike[str] | None = None) -> list[Finding]:
    """Problems of meaning in a loaded weighting spec; with ``data`` (the run's data folder,
    where the spec's files are), also problems of the spec against those files."""
    top = spec.path or spec.wave
    found: list[Finding] = []

    def add(msg: str, severity: str = "error", where: str = top) -> None:
        found.append(Finding(severity, where, msg))

    steps = {"nonresponse": spec.nonresponse.method != "none", "calibration": True,
             "trimming": spec.trimming is not None}
    if spec.replicates is not None:
        for step in spec.replicates.redo:
            if not steps[step]:
                add(f"replicates.redo: {step!r} is re-done in every replicate but the spec has no "
                    f"{step} step; remove it from redo")
    strata = set(spec.sample.strata)
    frame_of = dict(zip(spec.sample.strata, spec.sample.frame_strata, strict=True))
    for key, within in (("nonresponse.within", spec.nonresponse.within),
                        ("calibration.within", spec.calibration.within),
                        ("trimming.within", spec.trimming.within if spec.trimming else None)):
        if within is not None and within not in strata:
            add(f"{key}: {within!r} is not a stratum variable "
                f"({', '.join(spec.sample.strata)}){suggest(within, strata)}; groups are strata")
    if spec.nonresponse.within is not None and spec.nonresponse.within in spec.nonresponse.predictors:
        add(f"nonresponse.predictors: {spec.nonresponse.within!r} is constant within the groups "
            "the model is fitted in; remove it", "warning")
    within = spec.calibration.within
    if within is not None:
        constant = {within, frame_of.get(within, within)}
        for m in spec.calibration.margin_names():
            if set(m.split(":")) & constant:
                add(f"calibration.margins: {m!r} includes the calibration group "
                    f"{within!r}, which is constant within it", "warning")
    if project is not None:
        qdir = Path(project) / "questionnaires"
        if qdir.is_dir() and not (qdir / f"{spec.wave}.yaml").is_file():
            add(f"wave: no questionnaire spec {qdir / (spec.wave + '.yaml')} for wave "
                f"{spec.wave!r}; name the wave as its questionnaire does", "warning")
    if data is not None:
        found += _check_files(spec, Path(data))
    return found


def _columns(path: Path, found: list[Finding]) -> list[str] | None:
    if not path.is_file():
        found.append(Finding("error", str(path), "file named in the weighting spec not found "
                                                 "in the data folder"))
        return None
    try:
        return list(read_csv(path, nrows=0, unreadable=_unreadable).columns)
    except InputFileError as exc:
        found.append(Finding("error", str(path), str(exc)))
        return None


def _unreadable(detail: str) -> InputFileError:
    return InputFileError(f"not a readable CSV file ({detail}); export it again")


def _need(path: Path, columns: list[str], names: dict[str, tuple[str, ...]],
          found: list[Finding]) -> bool:
    ok = True
    for key, vars_ in names.items():
        for v in vars_:
            if v not in columns:
                found.append(Finding("error", str(path), f"column {v!r} (spec key {key}) is "
                                                         f"missing{suggest(v, columns)}"))
                ok = False
    return ok


def _check_files(spec: WeightingSpec, data: Path) -> list[Finding]:
    s = spec.sample
    found: list[Finding] = []
    unnamed = s.missing()
    if unnamed:  # the project file names them (sid.project.wave_weighting fills them in)
        return [Finding("warning", spec.path or spec.wave,
                        f"sample: {', '.join(unnamed)} not named; the data files are checked "
                        "with the project (sid check --project DIR), whose sid.yaml names them")]
    gross_p, frame_p, disp_p = data / s.gross_sample, data / s.frame, data / s.dispositions
    gross_cols, frame_cols, disp_cols = (_columns(p, found) for p in (gross_p, frame_p, disp_p))
    margin_vars = spec.variables()["calibration.margins"]
    if gross_cols is not None:
        needed = {"sample.key": (s.key,), **spec.variables()}
        gross_ok = _need(gross_p, gross_cols, needed, found)
    if frame_cols is not None:
        frame_ok = _need(frame_p, frame_cols, {"sample.frame_strata": s.frame_strata,
                                               "sample.frame_count": (s.frame_count,),
                                               "calibration.margins": margin_vars}, found)
    if disp_cols is not None:
        need = {"sample.key": (s.key,), "sample.disposition": (s.disposition,)}
        if s.mode:
            need["sample.mode"] = (s.mode,)
        if _need(disp_p, disp_cols, need, found):
            codes = read_csv(disp_p, columns=[s.disposition])[s.disposition]
            present = {agency_key(c) for c in codes.dropna().unique()}
            for c in sorted(present - set(spec.dispositions)):
                found.append(Finding("error", f"{disp_p}: {s.disposition}",
                                     f"agency code {c!r} maps to no AAPOR code; add it to "
                                     f"dispositions in {spec.path or spec.wave}"))
            for c in sorted(set(spec.dispositions) - present):
                found.append(Finding("warning", f"{spec.path or spec.wave}: dispositions",
                                     f"agency code {c!r} does not occur in {disp_p}"))
    if frame_cols is not None and frame_ok:
        found += _check_counts(spec, frame_p)
    if gross_cols is not None and frame_cols is not None and gross_ok and frame_ok:
        found += _check_cells(spec, gross_p, frame_p)
    return found


def _check_counts(spec: WeightingSpec, frame_p: Path) -> list[Finding]:
    """A frame count that is not a number >= 0, or a cell on two rows (the weight stage's
    own check, sid.weighting.frame)."""
    from sid.weighting.chain import frame_uses
    from sid.weighting.frame import checked_frame

    try:
        checked_frame(read_csv(frame_p, text=list(spec.sample.frame_strata)), spec.sample.frame_count,
                      str(frame_p), frame_uses(spec), error=DataError)
    except DataError as exc:
        return [Finding("error", str(frame_p), str(exc).removeprefix(f"{frame_p}: "))]
    return []


def _cells(df: pd.DataFrame, cols: list[str]) -> pd.Index:
    return pd.MultiIndex.from_frame(df[cols].drop_duplicates()).to_flat_index()


def _check_cells(spec: WeightingSpec, gross_p: Path, frame_p: Path) -> list[Finding]:
    """Strata of the gross sample without frame cells (and back), and margin cells of the
    gross sample (within the calibration group) with no population in the frame."""
    s, cal = spec.sample, spec.calibration
    margin_vars = list(spec.variables()["calibration.margins"])
    frame_of = dict(zip(s.strata, s.frame_strata, strict=True))
    gross = read_csv(gross_p, columns=[*s.strata, *margin_vars], text=True)
    frame = read_csv(frame_p, columns=[*s.frame_strata, *margin_vars, s.frame_count],
                     text=[*s.frame_strata, *margin_vars])
    frame = frame[pd.to_numeric(frame[s.frame_count], errors="coerce") > 0]
    # frame columns under the gross sample's stratum names, so cells compare
    frame = frame.rename(columns={f: g for g, f in frame_of.items() if f not in margin_vars})
    found: list[Finding] = []
    g_strata, f_strata = _cells(gross, list(s.strata)), _cells(frame, list(s.strata))
    for missing, where, what in ((g_strata.difference(f_strata), gross_p,
                                  f"have sampled persons but no population in {frame_p.name}"),
                                 (f_strata.difference(g_strata), frame_p,
                                  f"have a population but no sampled person in {gross_p.name}")):
        if len(missing):
            shown = ", ".join("|".join(map(str, c)) for c in missing[:5])
            found.append(Finding("error", f"{where}: {', '.join(s.strata)}",
                                 f"strata {shown} {what}; design weights N_h/n_h need both"))
    group = [cal.within] if cal.within in frame_of else []
    for margin in cal.margins:
        cols = group + [v for v in margin if v not in group]
        missing = _cells(gross, cols).difference(_cells(frame, cols))
        if len(missing):
            shown = ", ".join(" ".join(f"{c}={v}" for c, v in zip(cols, cell, strict=True))
                              for cell in missing[:3])
            found.append(Finding("error", f"{gross_p}: {':'.join(margin)}",
                                 f"{len(missing)} cell(s) of sampled persons have no population in "
                                 f"{frame_p.name}{' within their ' + cal.within if group else ''} "
                                 f"(first: {shown}): calibration has no total for them; recode "
                                 "them as the frame does"))
    return found
