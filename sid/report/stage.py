"""The report stage: a run folder's outputs -> DIR/report/*.html (self-contained) + index.html.

Each report is gathered from its stage's outputs (sid.report.<name>.gather_<name>) and
rendered with ``<name>.html.j2`` from the wave's ``templates`` folder when it has one,
else sid's own (sid.report.render). A report whose
stage has not run is not rendered: the index lists it as "niet uitgevoerd" with the
command that would produce it. The folder is written whole and swapped in together with
the stage's entry in DIR/manifest.json (sid.runfolder.manifest.stage_folder).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sid.project import Project, Wave
from sid.report.context import RunContext

PathLike = str | os.PathLike[str]
REPORT = "report"
FLOW = ("ingest", "clean", "fieldwork", "weight", "score", "tables", "link")


@dataclass(frozen=True)
class ReportDef:
    """One report: its file stem (its title is ``reports.<name>`` of the message catalogue),
    the stage whose output it needs, the file that shows that stage has run, and the
    stages its provenance block lists."""

    name: str
    stage: str
    marker: tuple[str, ...]
    stages: tuple[str, ...]
    gather: Callable[[RunContext], dict[str, Any]]


def _defs() -> list[ReportDef]:
    from sid.report.cleaning import gather_cleaning
    from sid.report.fieldwork import gather_fieldwork
    from sid.report.indicators import gather_indicators
    from sid.report.indices import gather_indices
    from sid.report.weighting import gather_weighting

    return [
        ReportDef("fieldwork", "fieldwork", ("fieldwork", "rates.csv"),
                  ("fieldwork",), gather_fieldwork),
        ReportDef("cleaning", "clean", ("clean", "summary.csv"),
                  ("ingest", "clean"), gather_cleaning),
        ReportDef("weighting", "weight", ("weight", "weights.parquet"),
                  ("clean", "weight"), gather_weighting),
        ReportDef("indices", "score", ("score", "reliability.csv"),
                  ("clean", "weight", "score"), gather_indices),
        ReportDef("indicators", "tables", ("tables", "tables.csv"),
                  ("clean", "weight", "score", "tables"), gather_indicators),

    ]


def _pipeline_order(manifest: dict[str, Any]) -> list[str]:
    """The recorded stages in the order of the flow (DESIGN.md), others after them."""
    recorded = [s for s in manifest.get("stages", {}) if s != REPORT]
    return sorted(recorded, key=lambda s: (FLOW.index(s) if s in FLOW else len(FLOW), s))


def run_report(out_dir: PathLike, project_dir: PathLike | Project = ".", *,
               replicates: bool = True, wave: str | Wave | None = None,
               lang: str | None = None) -> tuple[Path, dict[str, str]]:
    """Render every report whose stage has run; write ``out_dir/report`` and the manifest entry.

    Once the wave is weighted, the folder also holds the analysts' labelled SPSS file
    ``<wave>.sav`` (sid.report.spss_file; ``replicates=False`` leaves the replicate
    weights out of it). Returns the report folder and ``{name: "written" | "not run"}``
    per report, with the SPSS file under ``"spss"``. The wave: ``wave``, else the run
    folder's, else the project's default.
    """
    from sid.progress import progress_iter
    from sid.report.context import open_run
    from sid.report.provenance import provenance
    from sid.report.render import environment, render, template_files
    from sid.runfolder.manifest import StageRecord, begin_stage, stage_folder

    begin_stage(out_dir)
    ctx = open_run(out_dir, project_dir, wave, lang)
    templates = ctx.project_wave.templates
    env = environment(templates, ctx.lang)
    cat = ctx.cat
    defs = _defs()
    present = [d for d in defs if ctx.out_dir.joinpath(*d.marker).is_file()]
    nav = [{"file": f"{d.name}.html", "title": cat(f"reports.{d.name}")} for d in present]
    pages: dict[str, str] = {}
    inputs: list[Path] = [ctx.out_dir / "manifest.json"]
    status: dict[str, str] = {}
    common = {"survey_title": ctx.title, "wave": ctx.wave, "nav": nav, "group_title": ctx.group_title}
    for d in progress_iter(defs, "reports", len(defs)):  # a progress line on a terminal
        if d not in present:
            status[d.name] = "not run"
            continue
        data = d.gather(ctx)
        inputs += [p for p in data.pop("inputs") if p not in inputs]
        page = render(env, f"{d.name}.html.j2", {
            **common, **data, "report_title": cat(f"reports.{d.name}"),
            "provenance": provenance(ctx.manifest, d.stages, cat),
        })
        pages[f"{d.name}.html"] = page
        status[d.name] = "written"
    index = render(env, "index.html.j2", {
        **common, "report_title": cat("reports.index"),
        "reports": [{"file": f"{d.name}.html", "title": cat(f"reports.{d.name}"), "stage": d.stage,
                     "written": status[d.name] == "written"} for d in defs],
        "provenance": provenance(ctx.manifest, _pipeline_order(ctx.manifest), cat),
    })
    pages["index.html"] = index
    from sid.report.liim import liim_pages

    liim, liim_inputs = liim_pages(ctx.out_dir, env)
    pages.update(liim)
    inputs += liim_inputs
    status["liim"] = f"{len(liim)} pages" if liim else "not run"
    rec = StageRecord(stage=REPORT, inputs=inputs, specs=[ctx.questionnaire_path, *template_files(templates)],
                      params={"wave": ctx.project_wave.name, "language": ctx.lang, "reports": status})
    weighted = (ctx.out_dir / "weight" / "weights.parquet").is_file()
    status["spss"] = "written" if weighted else "not run"
    with stage_folder(ctx.out_dir, rec, wave=ctx.project_wave.name) as st:
        for name, text in pages.items():
            (st.path / name).parent.mkdir(exist_ok=True)
            (st.path / name).write_text(text, encoding="utf-8")
        if weighted:
            from sid.report.analyst_files import write_analyst_files  # .sav, .dta, codebook, README

            write_analyst_files(ctx, st.path, env, common, replicates=replicates)
    return ctx.out_dir / REPORT, status
