"""The fieldwork stage: gross sample + dispositions -> AAPOR outcome rates in ``DIR/fieldwork``.

:func:`run_fieldwork` reads the wave's weighting spec (sample files, key, strata, the
agency -> AAPOR disposition mapping, with the project file's roles and data files), the
frame, the gross sample and the dispositions from the data folder, and the respondent keys of the wave (``DIR/clean``
when it exists, else ``DIR/raw``). It builds the case table (:func:`sid.fieldwork.build_cases`:
keys unique, every respondent drawn, every code mapped) and writes, atomically:

* ``DIR/fieldwork/rates.csv``: :func:`sid.fieldwork.outcome_rates_table` overall, per
  reporting group (``sample.group``, the project file's ``roles.sample_group``; default:
  the stratum variable; level ``group``), per design stratum (level ``design_stratum``,
  only when the strata are not the reporting groups: several stratum variables, or a group
  other than the one stratum variable), per mode and group x mode, unweighted and
  design-weighted (d = N_h / n_h, frame count over gross sample size per design stratum,
  or the declared ``sample.design_weight``), e estimated within each reporting group
  (``e_scope="group"``) and carried to its strata and modes;
* ``DIR/fieldwork/cases.parquet``: one row per sampled person: key, strata (and the design
  stratum ``a_b`` of several, labels ``A:B``), reporting group, agency disposition, mode, AAPOR code,
  outcome class, design weight (the manifest entry's ``params.columns`` names them).

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

from sid.errors import DataError, InputFileError, RunFolderError, SpecError
from sid.fieldwork.cases import build_cases
from sid.fieldwork.checks import FieldworkWarning
from sid.fieldwork.table import outcome_rates_table
from sid.io.csvfile import read_csv
from sid.project import Project, Wave, wave_weighting
from sid.spec.register_frame import checked_frame
from sid.spec.weighting import WeightingSpec
from sid.weighting.strata import joined_labels, sample_design_weights

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


def stratum_design_weights(gross: pd.DataFrame, frame: pd.DataFrame, spec: WeightingSpec,
                           frame_path: Path) -> np.ndarray:
    """Design weight of every case of the gross sample: the declared
    ``sample.design_weight`` column, else N_h / n_h (sid.weighting.design_weights) with
    N_h the sum of the frame's count column over the cells of design stratum h (the
    combination of the stratum variables) and n_h the number of sampled persons in h."""
    s = spec.sample
    if s.design_weight is None:
        # a count < 0 or a cell on two rows: the checks of the weight stage (sid.spec.register_frame)
        frame = checked_frame(frame, s.frame_count, str(frame_path),
                              f"the design weights N_h/n_h per {', '.join(s.frame_strata)}", error=DataError)
        if frame[list(s.frame_strata)].isna().any().any():
            raise DataError(f"{frame_path}: cells without a stratum value ({', '.join(s.frame_strata)})")
    stratum = joined_labels(gross, s.strata, "design weights")
    return sample_design_weights(gross, frame, s, stratum, str(frame_path))


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
    group = s.reporting_group
    if group is None:
        raise SpecError(f"{spec.path or spec.wave}: sample.strata {list(s.strata)} and no sample.group; "
                        "name the reporting group (e.g. origin): rates and e are per group")
    extra = tuple(c for c in (group, s.design_weight) if c is not None and c not in s.strata)
    _columns(gross, (s.key, *s.strata), paths["gross"], "sample.strata")
    _columns(gross, extra, paths["gross"], "sample.group/design_weight")
    disp_cols = (s.key, s.disposition) + ((s.mode,) if s.mode else ())
    _columns(dispositions, disp_cols, paths["dispositions"], "sample.disposition/mode")
    if s.design_weight is None:
        _columns(frame, (*s.frame_strata, s.frame_count), paths["frame"], "sample.frame_strata")
    stratum = s.stratum_column if len(s.strata) > 1 else None  # rows per design stratum too
    base = gross[list(dict.fromkeys([s.key, *s.strata, *extra]))].copy()
    if stratum is not None:
        base[stratum] = joined_labels(gross, s.strata, "gross sample")
    elif group != s.strata[0]:
        stratum = s.strata[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FieldworkWarning)
        cases = build_cases(base, dispositions[list(disp_cols)], spec.dispositions, key=s.key,
                            disposition=s.disposition, survey_keys=keys)
    said = [str(w.message) for w in caught if issubclass(w.category, FieldworkWarning)]
    cases[WEIGHT] = stratum_design_weights(gross, frame, spec, paths["frame"])
    n_break = reclassify_breakoffs(cases, s.key, breakoffs) if breakoffs is not None else 0
    rates = outcome_rates_table(cases, group=group, mode=s.mode, weight=WEIGHT, e_scope="group",
                                stratum=stratum)
    if n_break:
        note = (f"{n_break} partial interview(s) (AAPOR 1.2) with completion status break-off "
                "in clean/flags.parquet counted as break-offs (AAPOR 2.12, class R)")
        rates["note"] = [f"{n}; {note}" if n else note for n in rates["note"].fillna("")]
    columns = list(dict.fromkeys(
        [s.key, *s.strata] + ([s.stratum_column] if len(s.strata) > 1 else []) + [group] + [
            s.disposition] + ([s.mode] if s.mode else []) + ["aapor_code", "outcome", WEIGHT]))
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
    from sid.runfolder.context import data_folder, resolve_wave
    from sid.runfolder.manifest import StageRecord, begin_stage, stage_folder

    out = Path(out_dir)
    begin_stage(out)
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
    text = [s.key, *s.strata] + ([s.group] if s.group else [])
    gross = _read_csv(paths["gross"], "gross sample", text, [s.design_weight] if s.design_weight else [])
    dispositions = _read_csv(paths["dispositions"], "dispositions",
                             [s.key] + ([s.mode] if s.mode else []), [s.disposition])
    # every column: a cell is a row's values of all columns but the count (duplicate cells)
    frame = _read_csv(paths["frame"], "register frame", list(s.frame_strata), None)
    res = fieldwork_tables(ws, gross, dispositions, frame, keys, breakoffs, paths)
    res.survey_source = source
    rec.params.update({"cases": len(res.cases), "respondent_keys": len(keys), "group": s.reporting_group,
                       "breakoffs_from_partial": res.breakoffs,
                       # the columns of cases.parquet, for the fieldwork report
                       "columns": {"key": s.key, "group": s.reporting_group,
                                   "design_stratum": s.stratum_column,
                                   "agency_code": s.disposition, "mode": s.mode},
                       "design_weight": (f"the gross sample's {s.design_weight!r}" if s.design_weight else
                                         "N_h / n_h (frame count / gross sample size per stratum)"),
                       "e": f"estimated per reporting group {s.reporting_group!r} (e_scope=group)"})
    rec.warnings += res.warnings
    with stage_folder(out, rec, wave=w.name) as st:
        res.rates.to_csv(st.path / RATES_FILE, index=False)
        res.cases.to_parquet(st.path / CASES_FILE, index=False)
    return out / FIELDWORK, res
