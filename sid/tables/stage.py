"""The tables stage: a run folder's processed wave + the table plan -> DIR/tables/.

Outputs (written together, atomically, as one folder):

* ``tables.csv`` and ``tables.parquet``: the published tidy table (cells under the
  plan's ``min_n`` suppressed, flags kept);
* ``tables.xlsx``: the same as a workbook (one sheet per theme, labels, notes sheet);
* ``tables_internal.csv``: every value, flagged but not suppressed (for the survey team).

The plan is ``PROJECT/reports/<wave>_tables.yaml`` (the only ``*_tables.yaml`` of the
project, or the one of the questionnaire's wave); labels come from
``PROJECT/questionnaires/<wave>.yaml``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sid.errors import SpecError

PathLike = str | os.PathLike[str]
TABLES = "tables"
CSV, PARQUET, XLSX, INTERNAL = "tables.csv", "tables.parquet", "tables.xlsx", "tables_internal.csv"


def find_plan(project_dir: PathLike, out_dir: PathLike | None = None) -> Path:
    """The project's table plan: its only ``reports/*_tables.yaml``; with several, the run's
    wave's (sid.project.specs.pick_wave_spec)."""
    from sid.project.specs import pick_wave_spec

    folder = Path(project_dir) / "reports"
    plans = sorted(folder.glob("*_tables.yaml"))
    if len(plans) > 1 and (hit := pick_wave_spec(plans, project_dir, out_dir, "tables")) is not None:
        return hit
    if len(plans) != 1:
        found = ", ".join(p.name for p in plans) or "none"
        raise SpecError(f"{folder}: expected one table plan *_tables.yaml, found {found}; give --plan FILE")
    return plans[0]


def find_questionnaire(project_dir: PathLike, wave: str) -> Path:
    """``questionnaires/<wave>.yaml`` of the project (or its only questionnaire spec)."""
    folder = Path(project_dir) / "questionnaires"
    named = folder / f"{wave}.yaml"
    if named.is_file():
        return named
    specs = sorted(folder.glob("*.yaml"))
    if len(specs) == 1:
        return specs[0]
    raise SpecError(f"{folder}: no questionnaire spec {wave}.yaml for the plan's wave {wave!r}; "
                    "name the wave in the plan as the questionnaire file is named")


def run_tables(out_dir: PathLike, project_dir: PathLike = ".", variance: str | None = None,
               plan_path: PathLike | None = None, progress: Callable[[str], None] | None = None) -> Path:
    """Build every table of the plan on ``out_dir``'s wave and write ``out_dir/tables``.

    ``variance`` ("taylor" or "replicate") overrides the plan's default. Nothing is
    written when an input is wrong. ``progress`` receives one line per table. Returns the
    tables folder.
    """
    from sid.io.atomic import atomic_dir
    from sid.pipeline.manifest import StageRecord, record_stage
    from sid.pipeline.wave import open_wave
    from sid.spec.questionnaire import load_questionnaire
    from sid.tables.build import build_tables
    from sid.tables.disclosure import publish
    from sid.tables.excel import method_notes, write_workbook
    from sid.tables.labels import Labels
    from sid.tables.plan import VARIANCE_METHODS, check_plan, load_plan

    out = Path(out_dir)
    ppath = Path(plan_path) if plan_path is not None else find_plan(project_dir, out_dir)
    plan = load_plan(ppath)
    if variance is not None and variance not in VARIANCE_METHODS:
        raise SpecError(f"variance {variance!r} is not one of {', '.join(VARIANCE_METHODS)}")
    method = variance or plan.defaults.variance
    qpath = find_questionnaire(project_dir, plan.wave)
    q = load_questionnaire(qpath)
    inputs = [out / "clean" / "data.parquet", out / "clean" / "meta.json", out / "weight" / "weights.parquet",
              out / "weight" / "diagnostics.json", out / "score" / "indices.parquet"]
    if method == "replicate":
        inputs.append(out / "weight" / "replicates.parquet")
    rec = StageRecord(stage=TABLES, inputs=inputs, specs=[ppath, qpath], params={"variance": method})
    wave = open_wave(out, variance=method, key=q.key, lonely_psu=plan.defaults.lonely_psu)
    labels = Labels.from_questionnaire(q)
    check_plan(plan, labels.kinds, wave.data.columns)
    internal = build_tables(wave.design, plan, labels, progress=progress)
    published = publish(internal)
    rep_info = wave.diagnostics.get("replicates")
    rep_text = rep_info.get("description") if isinstance(rep_info, dict) else None
    calibrated = wave.design.method == "taylor" and "calibration" in wave.diagnostics
    notes = method_notes(plan.defaults, wave.design.method, plan.wave,
                         "finale gewichten van de wegingsstap (weight/weights.parquet, kolom weight; "
                         "zie weight/diagnostics.json)"
                         + ("; Taylor-SE's houden rekening met de kalibratie (GREG-residuen)" if calibrated else ""),
                         replicates=rep_text)
    target = out / TABLES
    with atomic_dir(target) as tmp:
        published.to_csv(tmp / CSV, index=False)
        published.to_parquet(tmp / PARQUET, index=False)
        internal.to_csv(tmp / INTERNAL, index=False)
        write_workbook(tmp / XLSX, published, notes)
    rec.params.update({"cells": len(internal), "suppressed": int(internal["suppressed"].sum()),
                       "tables": len(plan.tables), "replicate_type": wave.design.method})
    record_stage(out, rec.finish(out, [target / f for f in (CSV, PARQUET, XLSX, INTERNAL)]))
    return target
