"""The tables stage: a run folder's processed wave + the table plan -> DIR/tables/.

Outputs (written together, atomically, as one folder):

* ``tables.csv`` and ``tables.parquet``: the published tidy table (cells under the
  plan's ``min_n`` suppressed, status kept), with a unit column and rounded to the
  precision sid.tables.precision states;
* ``tables.xlsx``: the same as a workbook of crosstabs (one sheet per theme, labels, notes sheet);
* ``internal/tables_internal.csv``: every value to full precision, flagged but not
  suppressed: for the survey team only, never to publish (hence its own folder).

The plan is the wave's ``tables:`` file in the project file (``sid.yaml``); labels come
from the wave's questionnaire. The workbook's texts (headers, notes, statuses) and the
name of the whole population in tables.csv ("Totaal", "Total") are in the wave's
``language:`` (sid.messages), or ``lang``; column names and codes are the same in every
language.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sid.errors import SpecError
from sid.project import PROJECT_FILE, Project, Wave, wave_questionnaire

PathLike = str | os.PathLike[str]
TABLES = "tables"
CSV, PARQUET, XLSX = "tables.csv", "tables.parquet", "tables.xlsx"
INTERNAL = "internal/tables_internal.csv"  # unsuppressed: kept apart from what may be published


def run_tables(out_dir: PathLike, project_dir: PathLike | Project = ".", variance: str | None = None,
               plan_path: PathLike | None = None, progress: Callable[[str], None] | None = None, *,
               wave: str | Wave | None = None, lang: str | None = None) -> Path:
    """Build every table of the plan on ``out_dir``'s wave and write ``out_dir/tables``.

    The wave (``wave``, else the run folder's, else the project's default) gives the
    table plan (``plan_path`` overrides it) and the questionnaire (labels). ``variance``
    ("taylor" or "replicate") overrides the plan's default. Nothing is written when an
    input is wrong. ``progress`` receives one line per table. ``lang``: the language of
    the texts (default: the wave's ``language``). Returns the tables folder.
    """
    from sid.messages import catalogue, check_language
    from sid.runfolder.context import resolve_wave
    from sid.runfolder.manifest import StageRecord, begin_stage, stage_folder
    from sid.runfolder.wave import open_wave
    from sid.tables.build import build_tables, label_total
    from sid.tables.disclosure import publish
    from sid.tables.excel import method_notes, write_workbook
    from sid.tables.labels import Labels
    from sid.tables.plan import VARIANCE_METHODS, check_plan, load_plan
    from sid.tables.precision import round_table, write_csv

    out = Path(out_dir)
    begin_stage(out)
    w = resolve_wave(project_dir, out, wave)
    cat = catalogue(check_language(lang, "--lang") if lang is not None else w.language)
    if plan_path is None and w.tables is None:
        raise SpecError(f"{w.project_dir / PROJECT_FILE}: wave {w.name} names no table plan; add "
                        "tables: reports/<wave>_tables.yaml to the wave, or give --plan FILE")
    ppath = Path(plan_path) if plan_path is not None else w.tables
    plan = load_plan(ppath)
    if variance is not None and variance not in VARIANCE_METHODS:
        raise SpecError(f"variance {variance!r} is not one of {', '.join(VARIANCE_METHODS)}")
    method = variance or plan.defaults.variance
    q = wave_questionnaire(w)
    qpath = w.questionnaire
    if plan.wave != q.wave:
        raise SpecError(f"{ppath}: the plan is of wave {plan.wave!r}, the questionnaire {qpath} of "
                        f"{q.wave!r} (wave {w.name} in {w.project_dir / PROJECT_FILE}); name the same wave")
    inputs = [out / "clean" / "data.parquet", out / "clean" / "meta.json", out / "weight" / "weights.parquet",
              out / "weight" / "diagnostics.json", out / "score" / "indices.parquet"]
    if method == "replicate":
        inputs.append(out / "weight" / "replicates.parquet")
    rec = StageRecord(stage=TABLES, inputs=inputs, specs=[ppath, qpath],
                      params={"wave": w.name, "variance": method, "language": cat.lang})
    wave_data = open_wave(out, variance=method, key=q.key, lonely_psu=plan.defaults.lonely_psu)
    labels = Labels.from_questionnaire(q, mode_label=cat("common.mode_variable"))
    check_plan(plan, labels.kinds, wave_data.data.columns, themes=q.themes)
    internal = label_total(build_tables(wave_data.design, plan, labels, progress=progress), cat("common.total"))
    published = round_table(publish(internal))
    rep_info = wave_data.diagnostics.get("replicates")
    calibrated = wave_data.design.method == "taylor" and "calibration" in wave_data.diagnostics
    notes = method_notes(plan.defaults, wave_data.design.method, plan.wave, cat, calibrated=calibrated,
                         clusters=bool(w.roles.psu), replicates=rep_info if isinstance(rep_info, dict) else None)
    rec.params.update({"cells": len(internal), "suppressed": int(internal["suppressed"].sum()),
                       "tables": len(plan.tables), "replicate_type": wave_data.design.method})
    with stage_folder(out, rec, wave=w.name) as st:
        write_csv(published, st.path / CSV)
        published.to_parquet(st.path / PARQUET, index=False)
        (st.path / INTERNAL).parent.mkdir()
        write_csv(internal, st.path / INTERNAL)
        write_workbook(st.path / XLSX, published, notes, theme_titles=q.themes, min_n=plan.defaults.min_n,
                       cat=cat)
    return out / TABLES
