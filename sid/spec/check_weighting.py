"""Lint a weighting spec (:func:`check_weighting`): what is well-formed but wrong.

Loading (:func:`sid.spec.weighting.load_weighting`) already rejects malformed specs; these
checks look at the spec as a whole and, when a data folder is given, at the files it names:
replicate steps the chain does not have, margins that are constant within the calibration
groups, a wave without a questionnaire; and in the data folder, files and columns that are
missing (strata, PSUs, fpc, design weight, reporting group, ``within`` variables: any
column of the gross sample, and of the frame for calibration), PSUs without a value, fpc
and design weights that are not numbers > 0, agency codes the mapping lacks, margin
categories of the gross sample that the frame does not have. The engine agrees: several
stratum variables make one design stratum, and ``within`` may be any such column. Each problem is a
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
from sid.spec.yamlfile import shown, suggest


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
                add(f"replicates.redo: {shown(step)} is re-done in every replicate but the spec has no "
                    f"{step} step; remove it from redo")
    frame_of = dict(zip(spec.sample.strata, spec.sample.frame_strata, strict=True))
    if spec.nonresponse.within is not None and spec.nonresponse.within in spec.nonresponse.predictors:
        add(f"nonresponse.predictors: {shown(spec.nonresponse.within)} is constant within the groups "
            "the model is fitted in; remove it", "warning")
    within = spec.calibration.within
    if within is not None:
        constant = {within, frame_of.get(within, within)}
        for m in spec.calibration.margin_names():
            if set(m.split(":")) & constant:
                add(f"calibration.margins: {shown(m)} includes the calibration group "
                    f"{shown(within)}, which is constant within it", "warning")
    if project is not None:
        qdir = Path(project) / "questionnaires"
        if qdir.is_dir() and not (qdir / f"{spec.wave}.yaml").is_file():
            add(f"wave: no questionnaire spec {qdir / (spec.wave + '.yaml')} for wave "
                f"{shown(spec.wave)}; name the wave as its questionnaire does", "warning")
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
                found.append(Finding("error", str(path), f"column {shown(v)} (spec key {key}) is "
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
        frame_of = dict(zip(s.strata, s.frame_strata, strict=True))
        need_frame = {"sample.frame_count": (s.frame_count,), "calibration.margins": margin_vars}
        if s.design_weight is None:  # N_h per design stratum from the frame
            need_frame = {"sample.frame_strata": s.frame_strata, **need_frame}
        if spec.calibration.within is not None:
            need_frame["calibration.within"] = (frame_of.get(spec.calibration.within, spec.calibration.within),)
        frame_ok = _need(frame_p, frame_cols, need_frame, found)
    if disp_cols is not None:
        need = {"sample.key": (s.key,), "sample.disposition": (s.disposition,)}
        if s.mode:
            need["sample.mode"] = (s.mode,)
        if _need(disp_p, disp_cols, need, found):
            codes = read_csv(disp_p, columns=[s.disposition])[s.disposition]
            present = {agency_key(c) for c in codes.dropna().unique()}
            for c in sorted(present - set(spec.dispositions)):
                found.append(Finding("error", f"{disp_p}: {s.disposition}",
                                     f"agency code {shown(c)} maps to no AAPOR code; add it to "
                                     f"dispositions in {spec.path or spec.wave}"))
            for c in sorted(set(spec.dispositions) - present):
                found.append(Finding("warning", f"{spec.path or spec.wave}: dispositions",
                                     f"agency code {shown(c)} does not occur in {disp_p}"))
    if frame_cols is not None and frame_ok:
        found += _check_counts(spec, frame_p)
    if gross_cols is not None and gross_ok:
        found += _check_design(spec, gross_p)
    if gross_cols is not None and frame_cols is not None and gross_ok and frame_ok:
        found += _check_cells(spec, gross_p, frame_p)
    return found


def _check_counts(spec: WeightingSpec, frame_p: Path) -> list[Finding]:
    """A frame count that is not a number >= 0, or a cell on two rows (the weight stage's
    own check, sid.spec.register_frame)."""
    from sid.spec.register_frame import checked_frame, frame_uses

    try:
        checked_frame(read_csv(frame_p, text=list(spec.sample.frame_strata)), spec.sample.frame_count,
                      str(frame_p), frame_uses(spec), error=DataError)
    except DataError as exc:
        return [Finding("error", str(frame_p), str(exc).removeprefix(f"{frame_p}: "))]
    return []


def _check_design(spec: WeightingSpec, gross_p: Path) -> list[Finding]:
    """PSUs with a value for every sampled person; fpc and design weights numbers > 0."""
    s = spec.sample
    numeric = [*s.fpc, *([s.design_weight] if s.design_weight else [])]
    if not s.psu and not numeric:
        return []
    gross = read_csv(gross_p, columns=list(dict.fromkeys([*s.psu, *numeric])), text=True)
    found: list[Finding] = []
    for c in s.psu:
        if gross[c].isna().any():
            found.append(Finding("error", f"{gross_p}: {c}", f"{int(gross[c].isna().sum())} sampled "
                                 f"person(s) have no PSU (first: row {int(gross[c].isna().to_numpy().argmax()) + 2}); "
                                 "every sampled person needs the PSU of each stage"))
    for c in numeric:
        v = pd.to_numeric(gross[c], errors="coerce")
        bad = ~(v > 0)
        if bad.any():
            key = "sample.fpc" if c in s.fpc else "sample.design_weight"
            first = int(bad.to_numpy().argmax())
            found.append(Finding("error", f"{gross_p}: {c}", f"{int(bad.sum())} value(s) are not numbers > 0 "
                                 f"(first: row {first + 2}: {shown(gross[c].iloc[first])}); "
                                 f"{key} needs one for every sampled person"))
    return found


def _cells(df: pd.DataFrame, cols: list[str]) -> pd.Index:
    return pd.MultiIndex.from_frame(df[cols].drop_duplicates()).to_flat_index()


def _check_cells(spec: WeightingSpec, gross_p: Path, frame_p: Path) -> list[Finding]:
    """Strata of the gross sample without frame cells (and back), and margin cells of the
    gross sample (within the calibration group) with no population in the frame."""
    s, cal = spec.sample, spec.calibration
    margin_vars = list(spec.variables()["calibration.margins"])
    frame_of = dict(zip(s.strata, s.frame_strata, strict=True))
    within = cal.within
    f_within = frame_of.get(within, within) if within is not None else None
    f_strata = () if s.design_weight else s.frame_strata  # a declared design weight needs no N_h
    g_cols = list(dict.fromkeys([*s.strata, *margin_vars, *([within] if within else [])]))
    f_cols = list(dict.fromkeys([*f_strata, *margin_vars, *([f_within] if f_within else [])]))
    gross = read_csv(gross_p, columns=g_cols, text=True)
    frame = read_csv(frame_p, columns=[*f_cols, s.frame_count], text=f_cols)
    frame = frame[pd.to_numeric(frame[s.frame_count], errors="coerce") > 0]
    # frame columns under the gross sample's stratum names, so cells compare
    frame = frame.rename(columns={f: g for g, f in frame_of.items() if f not in margin_vars})
    found: list[Finding] = []
    checks = []
    if not s.design_weight:  # a declared design weight needs no N_h
        g_cells, f_cells = _cells(gross, list(s.strata)), _cells(frame, list(s.strata))
        checks = [(g_cells.difference(f_cells), gross_p, f"have sampled persons but no population in {frame_p.name}"),
                  (f_cells.difference(g_cells), frame_p, f"have a population but no sampled person in {gross_p.name}")]
    for missing, where, what in checks:
        if len(missing):
            shown = ", ".join("|".join(map(str, c)) for c in missing[:5])
            found.append(Finding("error", f"{where}: {', '.join(s.strata)}",
                                 f"strata {shown} {what}; design weights N_h/n_h need both"))
    group = [within] if within is not None else []
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
