"""The cleaning stage: raw wave + questionnaire spec + gross sample -> clean wave + log.

:func:`clean_wave` is pure (frames in, frames out); :func:`run_clean` reads ``DIR/raw``,
the spec and the gross sample, writes ``DIR/clean`` atomically and records the stage in
the run manifest. The order of the rules is in :mod:`sid.clean`'s docstring.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from sid.clean.completion import STATUSES, classify_completion, completion_items
from sid.clean.duplicates import resolve_duplicates
from sid.clean.log import DROPPED, concat_log, log_rows, replay, summarize
from sid.clean.quality import check_violations, register_mismatches, speeders, straightliners
from sid.clean.register import check_keys, join_register, read_gross_sample
from sid.clean.rules import apply_routing, check_codes, empty_applicable
from sid.errors import DataError
from sid.io.spss_meta import SpssMeta, default_variable
from sid.project import PROJECT_FILE, Project, Wave, gross_sample_file, wave_questionnaire
from sid.spec.frame import derive
from sid.spec.questionnaire import Questionnaire

CLEAN = "clean"
LOG_FILE, SUMMARY_FILE, FLAGS_FILE = "log.csv", "summary.csv", "flags.parquet"

PathLike = str | os.PathLike[str]


@dataclass
class CleanResult:
    """What cleaning gives: the clean wave (``df`` + ``meta``), the ``log`` (one row per
    change, sid.clean.log), the ``summary`` (counts per rule and variable) and the per-record
    ``flags`` (completion status and quality flags, rows aligned with ``df``)."""

    df: pd.DataFrame
    meta: SpssMeta
    log: pd.DataFrame
    summary: pd.DataFrame
    flags: pd.DataFrame


def clean_wave(raw_df: pd.DataFrame, raw_meta: SpssMeta, q: Questionnaire,
               gross_sample: pd.DataFrame, *, where: str = "raw wave",
               gross_where: str = "gross sample") -> CleanResult:
    """Clean a raw wave with the questionnaire spec ``q`` and the register extract.

    ``raw_df`` is not modified. Raises DataError for respondents without a record in the
    gross sample, repeated register keys, a record without key, spec items missing from
    the data; SpecError when a rule needs a missing code the spec does not declare.
    """
    raw = raw_df.reset_index(drop=True)
    if q.key not in raw.columns:
        raise DataError(f"{where}: no key variable {q.key!r} (spec {q.path or q.wave}); the "
                        "fieldwork files must carry the register key")
    gross_rows = check_keys(raw[q.key], gross_sample, q, where, gross_where)
    items = completion_items(q, raw, where)

    # (numbers as in sid.clean's docstring) 1. duplicates, on the raw values; 2. register
    keep, log_dup = resolve_duplicates(raw, q, items, np.arange(len(raw)))
    rows = np.flatnonzero(keep)
    df = join_register(raw.loc[keep].reset_index(drop=True), gross_sample, q, where, gross_where,
                       rows=gross_rows[keep])
    keys = df[q.key].to_numpy(dtype=object)
    # 3. codes outside categories / range -> invalid; 4. routing on the checked values
    log_inv = check_codes(df, q, rows, keys, where)
    log_route, applicable = apply_routing(df, q, rows, keys, where)
    # 4b. empty applicable items; 5. completion; 6. quality flags, on the cleaned values
    empties = empty_applicable(df, items, applicable)
    comp = classify_completion(df, q, items, applicable)
    status = comp["status"].to_numpy()
    fast, _ = speeders(df, q, status, where)
    straight = straightliners(df, q)
    mismatch = register_mismatches(df, q, where)
    checks = check_violations(df, q)

    flags = _flags_frame(df, q, comp, empties, fast, straight, mismatch, checks)
    counts = _flag_counts(q, flags, empties, fast, straight, mismatch, checks)
    drop, log_drop = _quality_drops(df, q, rows, keys, fast, straight)
    df, flags = df.loc[~drop].reset_index(drop=True), flags.loc[~drop].reset_index(drop=True)

    # 7. derived variables, computed on the clean values
    df = with_derived(df, q, where)
    log = concat_log([log_dup, log_inv, log_route, log_drop])
    return CleanResult(df=df, meta=clean_meta(df, raw_meta, q), log=log,
                       summary=summarize(log, counts), flags=flags)


def with_derived(df: pd.DataFrame, q: Questionnaire, where: str = "raw wave") -> pd.DataFrame:
    """``df`` with the spec's derived variables appended (sid.spec.frame.derive)."""
    derived = derive(df, q)
    for name in derived.columns:
        if name in df.columns:
            raise DataError(f"{where}: holds {name!r}, a derived variable of the spec; drop it "
                            "from the fieldwork file (cleaning computes it)")
    return pd.concat([df, _typed_derived(derived, q)], axis=1)


def rebuild_wave(raw_df: pd.DataFrame, log: pd.DataFrame, q: Questionnaire,
                 gross_sample: pd.DataFrame) -> pd.DataFrame:
    """The clean wave's data from the raw wave, the log and the spec: the log replayed
    (sid.clean.log.replay), the register variables joined, the derived ones computed."""
    df = replay(raw_df, log)
    return with_derived(join_register(df, gross_sample, q), q)


def _flags_frame(df, q, comp, empties, fast, straight, mismatch, checks) -> pd.DataFrame:
    out = {q.key: df[q.key].to_numpy(dtype=object)}
    if q.mode_variable and q.mode_variable in df.columns:
        out[q.mode_variable] = df[q.mode_variable].to_numpy(dtype=object)
    for c in comp.columns:
        out[c] = comp[c].to_numpy()
    out["n_empty_applicable"] = (np.sum(list(empties.values()), axis=0).astype(np.int64)
                                 if empties else np.zeros(len(df), np.int64))
    out["speeder"] = fast
    for g, f in straight.items():
        out[f"straightline_{g}"] = f
    for a, f in mismatch.items():
        out[f"mismatch_{a}"] = f
    for (name, i), f in checks.items():
        out[f"check_{name}_{i}"] = f
    return pd.DataFrame(out)


def _flag_counts(q, flags, empties, fast, straight, mismatch, checks) -> pd.DataFrame:
    """Counts of flags (kind "flag") and completion statuses (kind "completion")."""
    recs = [("completion", s, "status", int((flags["status"] == s).sum())) for s in STATUSES]
    recs += [("flag", "empty_applicable", n, int(e.sum())) for n, e in empties.items() if e.any()]
    if q.quality.speeders is not None:
        recs.append(("flag", "speeder", q.quality.speeders.duration, int(fast.sum())))
    recs += [("flag", "straightline", g, int(f.sum())) for g, f in straight.items()]
    recs += [("flag", "register_mismatch", a, int(f.sum())) for a, f in mismatch.items()]
    recs += [("flag", f"check[{i}]", name, int(f.sum())) for (name, i), f in checks.items()]
    return pd.DataFrame(recs, columns=["kind", "rule", "variable", "count"])


def _quality_drops(df, q, rows, keys, fast, straight) -> tuple[np.ndarray, pd.DataFrame]:
    """Records the spec says to drop (``drop: true``) and their log rows."""
    drop = np.zeros(len(df), dtype=bool)
    parts = []
    mv = q.mode_variable
    mode = (df[mv].to_numpy(dtype=object) if mv and mv in df.columns
            else np.full(len(df), "", dtype=object))
    qual = q.quality
    rules = []
    if qual.speeders is not None and qual.speeders.drop:
        rules.append(("speeder", fast))
    if qual.straightlining is not None and qual.straightlining.drop and straight:
        rules.append(("straightline", np.any(list(straight.values()), axis=0)))
    for rule, flagged in rules:
        new = np.flatnonzero(flagged & ~drop)  # a record is dropped (and logged) once
        parts.append(log_rows(rows[new], keys[new], q.key, rule, mode[new], DROPPED))
        drop[new] = True
    return drop, concat_log(parts)


def _typed_derived(derived: pd.DataFrame, q: Questionnaire) -> pd.DataFrame:
    out = {}
    for d in q.derived:
        v = derived[d.name]
        out[d.name] = v.astype("str") if d.is_text else v.astype(float)
    return pd.DataFrame(out, index=derived.index)


def clean_meta(df: pd.DataFrame, raw_meta: SpssMeta, q: Questionnaire) -> SpssMeta:
    """The clean wave's dictionary: the spec's labels, value labels and missing codes
    (incl. the invalid code) for every spec variable; the raw file's entry for the rest.
    String formats (widths) of the raw file are kept where the spec gives none."""
    spec = q.to_spss_meta(file_label=raw_meta.file_label or q.title)
    variables = {}
    for c in map(str, df.columns):
        raw_var = raw_meta.variables.get(c)
        var = spec.variables.get(c)
        if var is None:
            var = raw_var if raw_var is not None else default_variable(c, df[c])
        elif raw_var is not None and var.format is None:
            var = replace(var, format=raw_var.format, width=raw_var.width)
        variables[c] = var
    return SpssMeta(variables=variables, file_label=spec.file_label, encoding=raw_meta.encoding,
                    sources=[dict(s) for s in raw_meta.sources], notes=list(raw_meta.notes))


# -- the stage on a run folder --------------------------------------------------------------

def run_clean(out_dir: PathLike, project_dir: PathLike | Project = ".",
              data_dir: PathLike | None = None, spec: PathLike | None = None, *,
              wave: str | Wave | None = None) -> tuple[Path, CleanResult]:
    """Clean ``out_dir/raw`` into ``out_dir/clean`` and record the stage in the manifest.

    The wave (``wave``, else the one the run folder records, else the project's default:
    sid.runfolder.context) gives the questionnaire spec (``spec`` overrides it) and the
    gross sample's file name (``data.gross_sample`` in sid.yaml), read from ``data_dir``
    (default: the wave's data folder). Nothing is written when an input is wrong.
    Returns the clean folder and the result.
    """
    from sid.io.wave import DATA_FILE, META_FILE, RAW, read_wave, save_wave_files
    from sid.runfolder.context import data_folder, resolve_wave
    from sid.runfolder.manifest import StageRecord, begin_stage, stage_folder

    out = Path(out_dir)
    begin_stage(out)
    w = resolve_wave(project_dir, out, wave)
    raw_dir = out / RAW
    raw_df, raw_meta = read_wave(raw_dir)
    q = wave_questionnaire(w, spec, check=True)
    spec_path = Path(q.path) if q.path else w.questionnaire
    data = data_folder(w, data_dir)
    gross_name = gross_sample_file(w)
    gross_path = data / gross_name
    rec = StageRecord(stage=CLEAN, inputs=[raw_dir / DATA_FILE, raw_dir / META_FILE, gross_path],
                      specs=[spec_path],
                      params={"wave": w.name, "data_dir": str(data), "gross_sample": str(gross_path)})
    gross = read_gross_sample(gross_path, q, where=f"data.gross_sample of wave {w.name} in {w.project_dir / PROJECT_FILE}")
    res = clean_wave(raw_df, raw_meta, q, gross, where=str(raw_dir / DATA_FILE),
                     gross_where=str(gross_path))
    rec.params.update({"records_raw": len(raw_df), "records_clean": len(res.df),
                       "changes": len(res.log)})
    rec.warnings += clean_warnings(res)
    with stage_folder(out, rec, wave=w.name) as st:
        save_wave_files(res.df, res.meta, st.path)
        res.log.to_csv(st.path / LOG_FILE, index=False)
        res.summary.to_csv(st.path / SUMMARY_FILE, index=False)
        res.flags.to_parquet(st.path / FLAGS_FILE, index=False)
    return out / CLEAN, res


def clean_warnings(res: CleanResult) -> list[str]:
    """Sentences for the survey team: records that break a consistency check of the spec
    or disagree with the register (flagged in ``flags.parquet``, not changed)."""
    flags = res.summary[(res.summary["kind"] == "flag") & (res.summary["count"] > 0)]
    out = []
    for row in flags.itertuples(index=False):  # one row per rule and variable, not per record
        if row.rule.startswith("check["):
            out.append(f"{row.count} record(s) break consistency {row.rule} of {row.variable} "
                       f"(flags.parquet check_{row.variable}_{row.rule[6:-1]}); look at them, they are not changed")
        elif row.rule == "register_mismatch":
            out.append(f"{row.count} record(s) whose answer {row.variable} disagrees with the "
                       f"register (flags.parquet mismatch_{row.variable}); look at them, they are not changed")
    return out
