"""``sid run``: every stage of DESIGN.md's flow on one wave of the project, in order.

ingest -> clean -> fieldwork -> weight -> score -> tables -> link -> smallarea -> report. Each stage
is the same function its own command calls (``sid clean`` ...), writes its folder of the
run folder atomically and records itself in the manifest, so a failed stage leaves the
earlier ones complete and a stage can be re-run alone. The project file (``sid.yaml``) is
loaded once; the wave (``--wave``, else the project's default) gives every spec, data file
and variable role. A stage whose spec the wave does not name is skipped (no weighting
spec: no fieldwork and weight stage, no tables or link; no table plan: no tables; no
linkage spec: no link; no ``smallarea:`` spec: no small-area stage). With no data folder named, the wave's ``data_folder`` is used; a
wave with a built-in demo generator (``demo:``) has it made first when it is absent.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sid.errors import InputFileError
from sid.progress import say
from sid.project import PROJECT_FILE, Project, Wave, load_project

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class RunContext:
    """Where a run reads and writes: the project and its wave, the data and run folders."""

    project: Project
    wave: Wave
    data: Path
    out: Path
    seed: int = 2022


@dataclass
class StageTiming:
    """One stage's line of the run summary (``skipped``: why it did not run)."""

    stage: str
    seconds: float
    outputs: list[str] = field(default_factory=list)
    skipped: str | None = None


def _ingest(ctx: RunContext) -> None:
    from sid.pipeline.ingest import ingest_wave

    ingest_wave(ctx.out, ctx.wave, ctx.data)


def _clean(ctx: RunContext) -> None:
    from sid.clean import run_clean

    run_clean(ctx.out, ctx.project, ctx.data, wave=ctx.wave)


def _fieldwork(ctx: RunContext) -> None:
    from sid.fieldwork.stage import run_fieldwork

    run_fieldwork(ctx.out, ctx.project, ctx.data, wave=ctx.wave)


def _weight(ctx: RunContext) -> None:
    from sid.weighting.stage import run_weight

    run_weight(ctx.out, ctx.project, ctx.data, wave=ctx.wave)


def _score(ctx: RunContext) -> None:
    from sid.scales.stage import run_score

    run_score(ctx.out, ctx.project, wave=ctx.wave)


def _tables(ctx: RunContext) -> None:
    from sid.tables.stage import run_tables

    run_tables(ctx.out, ctx.project, wave=ctx.wave)


def _data_files(ctx: RunContext, names: tuple[str, ...] | list[str], what: str) -> list[Path]:
    """The wave's data files ``names`` in the data folder; an error naming the project file
    when one is absent (a declared file is not silently left out)."""
    paths = [ctx.data / n for n in names]
    for p in paths:
        if not p.exists():
            raise InputFileError(f"{p}: {what} not found (named by wave {ctx.wave.name} in "
                                 f"{ctx.project.file}); give the data folder holding it (--data DIR) "
                                 "or remove it from the project file")
    return paths


def _link(ctx: RunContext) -> None:
    from sid.linkage.stage import run_link

    d = ctx.wave.data
    admin = _data_files(ctx, d.admin_indicators, "register indicator set (data.admin_indicators)")
    # a pseudonymised register extract (the demo writes one): respondents are linked to it
    # and link/ gets link_rates.csv, respondents_linked.parquet
    register = (_data_files(ctx, [d.register_extract], "register extract (data.register_extract)")[0]
                if d.register_extract else None)
    run_link(ctx.out, ctx.project, admin=admin, register=register, wave=ctx.wave)


def _smallarea(ctx: RunContext) -> None:
    from sid.smallarea.stage import run_smallarea

    run_smallarea(ctx.out, ctx.project, ctx.data, wave=ctx.wave)


def _needs_smallarea(w: Wave) -> str | None:
    return _needs_weighting(w) or (None if w.smallarea is not None else "the wave names no small-area spec")


def _report(ctx: RunContext) -> None:
    from sid.report.stage import run_report

    run_report(ctx.out, ctx.project, wave=ctx.wave)


def _needs_weighting(w: Wave) -> str | None:
    return None if w.weighting is not None else "the wave names no weighting spec"


def _needs_tables(w: Wave) -> str | None:
    return _needs_weighting(w) or (None if w.tables is not None else "the wave names no table plan")


def _needs_linkage(w: Wave) -> str | None:
    return _needs_weighting(w) or (None if w.linkage is not None else "the wave names no linkage spec")


#: the stages in order: (name, function, why it is skipped for a wave or None)
STAGES: list[tuple[str, Callable[[RunContext], None], Callable[[Wave], str | None]]] = [
    ("ingest", _ingest, lambda w: None),
    ("clean", _clean, lambda w: None),
    ("fieldwork", _fieldwork, _needs_weighting),
    ("weight", _weight, _needs_weighting),
    ("score", _score, lambda w: None),
    ("tables", _tables, _needs_tables),
    ("link", _link, _needs_linkage),
    ("smallarea", _smallarea, _needs_smallarea),
    ("report", _report, lambda w: None),
]


def ensure_demo(wave: Wave, data: Path, seed: int) -> None:
    """Make the wave's demo data in ``data`` with its demo generator (``demo:`` in sid.yaml)."""
    from sid.demo import demo_maker

    maker = demo_maker(wave.demo)
    say(f"making the demo wave {wave.demo} in {data} (seed {seed})")
    maker(data, seed=seed)


def data_folder_of(wave: Wave, data: PathLike | None, seed: int) -> Path:
    """The run's data folder: ``data`` (it must exist), else the wave's ``data_folder``,
    made by the wave's demo generator when it is absent and the wave has one."""
    folder = Path(data) if data is not None else wave.data_folder
    if folder.is_dir():
        return folder
    if data is not None:
        raise InputFileError(f"{folder}: data folder not found")
    if wave.demo is None:
        raise InputFileError(f"{folder}: data folder of wave {wave.name} not found (data_folder in "
                             f"{wave.project_dir / PROJECT_FILE}); give it with --data DIR")
    ensure_demo(wave, folder, seed)
    return folder


def run_all(project: PathLike | Project = ".", data: PathLike | None = None, out: PathLike | None = None,
            seed: int = 2022, wave: str | None = None) -> list[StageTiming]:
    """Run every stage of the wave; return each stage's duration and the files it wrote.

    ``project``: the project folder (or a loaded Project); ``wave``: the wave's name
    (default: the project's default wave); ``data``, ``out``: the data and run folders
    (default: the wave's ``data_folder`` and ``run_folder``); ``seed``: of the demo wave,
    when it is made.
    """
    proj = project if isinstance(project, Project) else load_project(project)
    w = proj.wave(wave)
    data_dir = data_folder_of(w, data, seed)
    out_dir = Path(out) if out is not None else w.run_folder
    ctx = RunContext(project=proj, wave=w, data=data_dir, out=out_dir, seed=seed)
    timings: list[StageTiming] = []
    for i, (name, fn, skip) in enumerate(STAGES, 1):
        why = skip(w)
        if why is not None:
            say(f"[{i}/{len(STAGES)}] {name} skipped: {why}")
            timings.append(StageTiming(name, 0.0, skipped=why))
            continue
        say(f"[{i}/{len(STAGES)}] {name} ...")
        t0 = time.perf_counter()
        fn(ctx)
        timings.append(StageTiming(name, time.perf_counter() - t0, _outputs(ctx.out, name)))
        say(f"[{i}/{len(STAGES)}] {name} done in {timings[-1].seconds:.1f} s")
    return timings


def _outputs(out: Path, stage: str) -> list[str]:
    manifest = out / "manifest.json"
    if not manifest.is_file():
        return []
    entry = json.loads(manifest.read_text(encoding="utf-8")).get("stages", {}).get(stage, {})
    return [o["path"] for o in entry.get("outputs", [])]


def summary(timings: list[StageTiming], out: PathLike) -> str:
    """The closing summary: per stage its time and what it wrote where (or why it was skipped)."""
    ran = [t for t in timings if t.skipped is None]
    lines = [f"sid run: {len(ran)} stages, {sum(t.seconds for t in ran):.1f} s; outputs in {out}/"]
    for t in timings:
        if t.skipped is not None:
            lines.append(f"  {t.stage:<10} skipped: {t.skipped}")
            continue
        shown = ", ".join(t.outputs[:6]) + (f", ... ({len(t.outputs)} files)" if len(t.outputs) > 6 else "")
        lines.append(f"  {t.stage:<10} {t.seconds:7.1f} s  {shown}")
    return "\n".join(lines)
