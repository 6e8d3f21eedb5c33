"""The fieldwork stage: gross sample + dispositions -> AAPOR outcome rates in ``DIR/fieldwork``.

:func:`run_fieldwork` reads the wave's weighting spec (sample files, key, strata, the
agency -> AAPOR disposition mapping, with the project file's roles and data files), the
frame, the gross sample and the dispositions from the data folder, and the respondent keys of the wave (``DIR/clean``
when it exists, else ``DIR/raw``). It builds the case table (:func:`sid.fieldwork.build_cases`:
keys unique, every respondent drawn, every code mapped) and writes, atomically:

* ``DIR/fieldwork/rates.csv``: :func:`sid.fieldwork.outcome_rates_table` overall, per
  group (the design stratum), per mode and group x mode, unweighted and design-weighted
  (d = N_h / n_h, frame count over gross sample size per stratum), e estimated per group
  (``e_scope="group"``);
* ``DIR/fieldwork/cases.parquet``: one row per sampled person: key, strata, agency
  disposition, mode, AAPOR code, outcome class, design weight.

Break-offs: the agency codes a questionnaire that was started and left as partial (1.2).
When the cleaning stage judged it a break-off (``DIR/clean/flags.parquet``, status
``break-off``: fewer applicable items answered than AAPOR's partial threshold), it is not
an interview: its AAPOR code becomes 2.12 (break-off, class R), and every row of rates.csv
says so in ``note``.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sid.errors import DataError, InputFileError, RunFolderError
from sid.fieldwork.cases import build_cases
from sid.fieldwork.checks import FieldworkWarning
from sid.fieldwork.table import outcome_rates_table
from sid.io.csvfile import read_csv
from sid.project import Project, Wave, wave_weighting
from sid.spec.weighting import WeightingSpec
from sid.weighting.design_weights import design_weights
from sid.weighting.frame import checked_frame

FIELDWORK = "fieldwork"
RATES_FILE, CASES_FILE = "rates.csv", "cases.parquet"
FLAGS_FILE = "flags.parquet"
BREAKOFF_STATUS = "break-off"
BREAKOFF_CODE = "2.12"
WEIGHT = "design_weight"

PathLike = str | os.PathLike[str]


@dataclass
class FieldworkResult:
    """The case table, the rates table, how many partials became break-offs, the warnings
    (dispositions vs survey files, sid.fieldwork.check_completes_match) and the source of
    the respondent keys (``DIR/clean`` or ``DIR/raw``)."""

    cases: pd.DataFrame
    rates: pd.DataFrame
    breakoffs: int
    warnings: list[str]
    survey_source: Path


def _read_csv(path: Path, what: str, text: list[str], other: list[str] | None = ()) -> pd.DataFrame:
    """The columns ``text`` (read as text) and ``other`` of a CSV file (those it has: the
    missing ones are named by the callers' checks; ``other`` None: all other columns)."""
    if not path.is_file():
        raise InputFileError(f"{path}: {what} not found; give the data folder holding the files "
                             "the weighting spec names (--data DIR)")
    # keys and strata as text: a key like 0012 keeps its zeros; "" is the only missing
    return read_csv(path, text=text, columns=None if other is None else [*text, *other])


def _columns(df: pd.DataFrame, names: tuple[str, ...], path: Path, key: str) -> None:
    lacking = [c for c in names if c not in df.columns]
    if lacking:
        raise DataError(f"{path}: no column {lacking[0]!r} (weighting spec key {key}; columns: "
                        f"{', '.join(map(str, df.columns))})")


def _stratum_labels(df: pd.DataFrame, names: tuple[str, ...]) -> pd.Series:
    """One label per row: the stratum value, or the values of several strata joined by '|'."""
    if len(names) == 1:
        return df[names[0]].astype(str)
    return df[list(names)].astype(str).agg("|".join, axis=1)


def stratum_design_weights(gross: pd.DataFrame, frame: pd.DataFrame, spec: WeightingSpec,
                           frame_path: Path) -> np.ndarray:
    """Design weight N_h / n_h of every case of the gross sample (sid.weighting.design_weights):
    N_h the sum of the frame's count column over the cells of stratum h, n_h the number of
    sampled persons in h."""
    s = spec.sample
    # a count < 0 or a cell on two rows: the checks of the weight stage (sid.weighting.frame)
    frame = checked_frame(frame, s.frame_count, str(frame_path),
                          f"the design weights N_h/n_h per {', '.join(s.frame_strata)}", error=DataError)
    counts = frame[s.frame_count]
    if frame[list(s.frame_strata)].isna().any().any():
        raise DataError(f"{frame_path}: cells without a stratum value ({', '.join(s.frame_strata)})")
    population = counts.groupby(_stratum_labels(frame, s.frame_strata).to_numpy()).sum()
    return design_weights(_stratum_labels(gross, s.strata).to_numpy(), population.to_dict(),
                          with_replacement=s.with_replacement).weights


def survey_keys(out_dir: PathLike, key: str) -> tuple[pd.Series, Path]:
    """Respondent keys of the wave: ``DIR/clean`` when the cleaning stage ran, else ``DIR/raw``.

    Only the key column is read (the wave's other columns are not needed here).
    """
    from sid.io.wave import DATA_FILE, META_FILE, RAW

    out = Path(out_dir)
    folder = out / "clean" if (out / "clean").is_dir() else out / RAW
    if not folder.is_dir():
        raise RunFolderError(f"{out}: neither clean/ nor {RAW}/ found; run sid ingest (and sid "
                             "clean) first: the stage checks the dispositions against the "
                             "respondents")
    for p in (folder / DATA_FILE, folder / META_FILE):
        if not p.is_file():
            raise RunFolderError(f"{p} not found; {folder} is not a sid stage folder (re-run "
                                 "the stage that writes it)")
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(folder / DATA_FILE).names
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{folder / DATA_FILE}: unreadable ({exc}); re-run the stage") from exc
    if key not in names:
        raise DataError(f"{folder / DATA_FILE}: the wave has no key variable {key!r} (weighting "
                        "spec sample.key); the survey files must carry the register key")
    return pd.read_parquet(folder / DATA_FILE, columns=[key])[key].astype(str), folder


def breakoff_keys(out_dir: PathLike, key: str) -> tuple[pd.Series | None, Path]:
    """Keys whose completion status in ``DIR/clean/flags.parquet`` is break-off (None
    when the cleaning stage has not run)."""
    path = Path(out_dir) / "clean" / FLAGS_FILE
    if not path.is_file():
        return None, path
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    for c in (key, "status"):
        if c not in names:
            raise RunFolderError(f"{path}: no column {c!r}; re-run sid clean")
    flags = pd.read_parquet(path, columns=[key, "status"])  # the flags' other columns are not needed
    return flags.loc[flags["status"] == BREAKOFF_STATUS, key].astype(str), path


def reclassify_breakoffs(cases: pd.DataFrame, key: str, breakoffs: pd.Series) -> int:
    """Partial interviews (class P) whose questionnaire is a break-off become AAPOR 2.12
    (class R), in place. Returns how many."""
    hit = (cases["outcome"] == "P").to_numpy() & cases[key].isin(breakoffs).to_numpy()
    cases.loc[hit, "aapor_code"] = BREAKOFF_CODE
    cases.loc[hit, "outcome"] = "R"
    return int(hit.sum())


def fieldwork_tables(spec: WeightingSpec, gross: pd.DataFrame, dispositions: pd.DataFrame,
                     frame: pd.DataFrame, keys: pd.Series, breakoffs: pd.Series | None,
                     paths: dict[str, Path]) -> FieldworkResult:
    """Cases and rates from frames already read (see :func:`run_fieldwork`)."""
    s = spec.sample
    _columns(gross, (s.key, *s.strata), paths["gross"], "sample.strata")
    disp_cols = (s.key, s.disposition) + ((s.mode,) if s.mode else ())
    _columns(dispositions, disp_cols, paths["dispositions"], "sample.disposition/mode")
    _columns(frame, (*s.frame_strata, s.frame_count), paths["frame"], "sample.frame_strata")
    group = s.stratum_column
    base = gross[[s.key, *s.strata]].copy()
    if len(s.strata) > 1:
        base[group] = _stratum_labels(gross, s.strata).to_numpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FieldworkWarning)
        cases = build_cases(base, dispositions[list(disp_cols)], spec.dispositions, key=s.key,
                            disposition=s.disposition, survey_keys=keys)
    said = [str(w.message) for w in caught if issubclass(w.category, FieldworkWarning)]
    cases[WEIGHT] = stratum_design_weights(gross, frame, spec, paths["frame"])
    n_break = reclassify_breakoffs(cases, s.key, breakoffs) if breakoffs is not None else 0
    rates = outcome_rates_table(cases, group=group, mode=s.mode, weight=WEIGHT, e_scope="group")
    if n_break:
        note = (f"{n_break} partial interview(s) (AAPOR 1.2) with completion status break-off "
                "in clean/flags.parquet counted as break-offs (AAPOR 2.12, class R)")
        rates["note"] = [f"{n}; {note}" if n else note for n in rates["note"].fillna("")]
    columns = [s.key, *s.strata] + ([group] if len(s.strata) > 1 else []) + [
        s.disposition] + ([s.mode] if s.mode else []) + ["aapor_code", "outcome", WEIGHT]
    cases = cases.loc[:, columns]
    cases["outcome"] = cases["outcome"].astype(str)
    return FieldworkResult(cases=cases, rates=rates, breakoffs=n_break, warnings=said,
                           survey_source=Path())


def run_fieldwork(out_dir: PathLike, project_dir: PathLike | Project = ".",
                  data_dir: PathLike | None = None, spec: PathLike | None = None, *,
                  wave: str | Wave | None = None) -> tuple[Path, FieldworkResult]:
    """Compute the outcome rates of the run ``out_dir`` into ``out_dir/fieldwork``.

    The wave (``wave``, else the run folder's, else the project's default) gives the
    weighting spec (``spec`` overrides it) with the project file's roles and data files
    (sid.project.wave_weighting); ``data_dir`` holds those files (default: the wave's data
    folder). Nothing is written when an input is wrong (one-line SidError). Returns the
    folder and the result.
    """
    from sid.io.atomic import atomic_dir
    from sid.runfolder.context import data_folder, resolve_wave
    from sid.runfolder.manifest import StageRecord, record_stage

    out = Path(out_dir)
    w = resolve_wave(project_dir, out, wave)
    ws = wave_weighting(w, spec)
    spec_path = Path(ws.path)
    s = ws.sample
    data = data_folder(w, data_dir)
    paths = {"gross": data / s.gross_sample, "dispositions": data / s.dispositions,
             "frame": data / s.frame}
    keys, source = survey_keys(out, s.key)
    breakoffs, flags_path = breakoff_keys(out, s.key)
    rec = StageRecord(stage=FIELDWORK,
                      inputs=[*paths.values(), source / "data.parquet",
                              *([flags_path] if breakoffs is not None else [])],
                      specs=[spec_path], params={"wave": w.name, "data_dir": str(data),
                                                 "survey": str(source)})
    gross = _read_csv(paths["gross"], "gross sample", [s.key, *s.strata])
    dispositions = _read_csv(paths["dispositions"], "dispositions",
                             [s.key] + ([s.mode] if s.mode else []), [s.disposition])
    # every column: a cell is a row's values of all columns but the count (duplicate cells)
    frame = _read_csv(paths["frame"], "register frame", list(s.frame_strata), None)
    res = fieldwork_tables(ws, gross, dispositions, frame, keys, breakoffs, paths)
    res.survey_source = source
    target = out / FIELDWORK
    with atomic_dir(target) as tmp:
        res.rates.to_csv(tmp / RATES_FILE, index=False)
        res.cases.to_parquet(tmp / CASES_FILE, index=False)
    rec.params.update({"cases": len(res.cases), "respondent_keys": len(keys),
                       "breakoffs_from_partial": res.breakoffs, "warnings": res.warnings,
                       # the columns of cases.parquet, for the fieldwork report
                       "columns": {"key": s.key, "group": s.stratum_column,
                                   "agency_code": s.disposition, "mode": s.mode},
                       "design_weight": "N_h / n_h (frame count / gross sample size per stratum)",
                       "e": "estimated per group (e_scope=group)"})
    record_stage(out, rec.finish(out, [target / RATES_FILE, target / CASES_FILE]), wave=w.name)
    return target, res
