"""``sid run``: every stage of DESIGN.md's flow on one wave of the project, in order.

ingest -> clean -> fieldwork -> weight -> score -> tables -> link -> smallarea -> report, then,
when the project compares waves (``trends:`` in sid.yaml) and the other waves' run folders
are there, the trend over them (sid.trends.stage; said and skipped when one is absent). Each stage
is the same function its own command calls (``sid clean`` ...), writes its folder of the
run folder atomically and records itself in the manifest, so a failed stage leaves the
earlier ones complete and a stage can be re-run alone. The project file (``sid.yaml``) is
loaded once; the wave (``--wave``, else the project's default) gives every spec, data file
and variable role. A stage whose spec the wave does not name is skipped (no weighting
spec: no fieldwork and weight stage, no tables or link; no table plan: no tables; no
linkage spec: no link; no ``smallarea:`` spec: no small-area stage). With no data folder named, the wave's ``data_folder`` is used; a
wave with a built-in demo generator (``demo:``) has it made first when it is absent.

The run folder is checked before the first stage (not a file, writable: a read-only or
mistyped ``--out`` fails at once, not after the first stages' work). The warnings each
stage records in its manifest entry (dispositions against the data, flagged records,
weights, indices) are printed as ``sid: warning: ...`` when the stage ends and listed in
the closing summary.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sid.errors import InputFileError
from sid.progress import say, warn
from sid.project import PROJECT_FILE, Project, Wave, load_project

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class RunContext:
    """Where a run reads and writes: the project and its wave, the data and run folders."""

    project: Project
    wave: Wave
    data: Path
    out: Path
    seed: int | None = None
    lang: str | None = None  # the language of the texts (None: the wave's language: in sid.yaml)


@dataclass
class StageTiming:
    """One stage's line of the run summary (``skipped``: why it did not run), and the
    warnings it recorded."""

    stage: str
    seconds: float
    outputs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: str | None = None


def _ingest(ctx: RunContext) -> None:
    from sid.pipeline.ingest import ingest_wave

    # the wave's questionnaire names the identifier variables pseudonymised at ingest
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

    run_tables(ctx.out, ctx.project, wave=ctx.wave, lang=ctx.lang)


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
    run_link(ctx.out, ctx.project, admin=admin, register=register, wave=ctx.wave, data_dir=ctx.data)


def _smallarea(ctx: RunContext) -> None:
    from sid.smallarea.stage import run_smallarea

    run_smallarea(ctx.out, ctx.project, ctx.data, wave=ctx.wave)


def _needs_smallarea(w: Wave) -> str | None:
    return _needs_weighting(w) or (None if w.smallarea is not None else "the wave names no small-area spec")


def _report(ctx: RunContext) -> None:
    from sid.report.stage import run_report

    run_report(ctx.out, ctx.project, wave=ctx.wave, lang=ctx.lang)


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


def ensure_demo(wave: Wave, data: Path, seed: int | None = None) -> None:
    """Make the wave's demo data in ``data`` with its demo generator (``demo:`` in sid.yaml);
    ``seed``: default the demo's own."""
    from sid.demo import demo_maker

    demo = demo_maker(wave.demo)
    seed = demo.seed if seed is None else seed
    say(f"making the demo wave {wave.demo} in {data} (seed {seed})")
    demo.make(data, seed=seed)


def data_folder_of(wave: Wave, data: PathLike | None, seed: int | None = None) -> Path:
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
            seed: int | None = None, wave: str | None = None, lang: str | None = None) -> list[StageTiming]:
    """Run every stage of the wave; return each stage's duration, the files it wrote and
    its warnings.

    ``project``: the project folder (or a loaded Project); ``wave``: the wave's name
    (default: the project's default wave); ``data``, ``out``: the data and run folders
    (default: the wave's ``data_folder`` and ``run_folder``); ``seed``: of the demo wave,
    when it is made (default: the demo's own); ``lang``: the language of every text the
    stages write (the tables workbook, the reports, the analysts' files; default: the
    wave's ``language:`` in sid.yaml), recorded in the tables and report entries of the
    manifest (``params.language``).
    """
    from sid.messages import check_language
    from sid.runfolder.manifest import begin_stage

    if lang is not None:
        check_language(lang, "--lang")
    proj = project if isinstance(project, Project) else load_project(project)
    w = proj.wave(wave)
    out_dir = Path(out) if out is not None else w.run_folder
    if data is not None and not Path(data).is_dir():
        raise InputFileError(f"{data}: data folder not found")
    begin_stage(out_dir)  # a file, a read-only folder or a damaged manifest: before any work
    data_dir = data_folder_of(w, data, seed)
    ctx = RunContext(project=proj, wave=w, data=data_dir, out=out_dir, seed=seed, lang=lang)
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
        outputs, said = _entry(ctx.out, name)
        timings.append(StageTiming(name, time.perf_counter() - t0, outputs, said))
        for msg in said:
            warn(f"{name}: {msg}")
        say(f"[{i}/{len(STAGES)}] {name} done in {timings[-1].seconds:.1f} s"
            + (f", {len(said)} warning(s)" if said else ""))
    if proj.trends is not None and w.name in proj.trends.waves:
        timings.append(_trend(proj, w, out_dir, lang))
    return timings


def _trend(proj: Project, w: Wave, out_dir: Path, lang: str | None = None) -> StageTiming:
    """The trend over the project's waves after a run of one of them (``trends:`` in
    sid.yaml): this run's folder and the other waves' run_folder. When one of those is
    absent, or the trend cannot be computed, the run says so and does not fail: the
    wave's own stages are done."""
    from sid.errors import SidError
    from sid.runfolder.context import recorded_wave
    from sid.trends.stage import run_trend

    t = proj.trends
    assert t is not None
    runs = [out_dir if name == w.name else proj.waves[name].run_folder for name in t.waves]
    for name, run in zip(t.waves, runs, strict=True):
        try:
            holds = recorded_wave(run) if run.is_dir() else None
        except SidError:
            holds = None
        if holds != name:
            why = (f"no run folder {run} of wave {name} (run `sid run --wave {name}`, then `sid trend`)"
                   if holds is None else f"{run} holds wave {holds}, not {name}")
            say(f"trend skipped: {why}")
            return StageTiming("trend", 0.0, skipped=why)
    say(f"trend over {', '.join(t.waves)} -> {t.run_folder} ...")
    t0 = time.perf_counter()
    try:
        run_trend(runs, t.run_folder, proj, progress=say, lang=lang)
    except SidError as exc:
        why = f"the trend failed: {' '.join(str(exc).split())}"
        warn(why)
        return StageTiming("trend", 0.0, skipped=why)
    outputs, said = _entry(t.run_folder, "trend")
    return StageTiming("trend", time.perf_counter() - t0, [f"{t.run_folder}/{o}" for o in outputs], said)


def _entry(out: Path, stage: str) -> tuple[list[str], list[str]]:
    """The outputs and the warnings of ``stage``'s manifest entry."""
    from sid.runfolder.manifest import read_manifest

    entry = read_manifest(out).get("stages", {}).get(stage, {})
    return [o["path"] for o in entry.get("outputs", [])], [str(w) for w in entry.get("warnings", [])]


def summary(timings: list[StageTiming], out: PathLike) -> str:
    """The closing summary: per stage its time and what it wrote where (or why it was
    skipped), then every warning the stages recorded (also in each stage's manifest entry)."""
    ran = [t for t in timings if t.skipped is None]
    said = [f"{t.stage}: {w}" for t in timings for w in t.warnings]
    lines = [f"sid run: {len(ran)} stages, {sum(t.seconds for t in ran):.1f} s; outputs in {out}/"
             + (f"; {len(said)} warning(s)" if said else "")]
    for t in timings:
        if t.skipped is not None:
            lines.append(f"  {t.stage:<10} skipped: {t.skipped}")
            continue
        shown = ", ".join(t.outputs[:6]) + (f", ... ({len(t.outputs)} files)" if len(t.outputs) > 6 else "")
        lines.append(f"  {t.stage:<10} {t.seconds:7.1f} s  {shown}")
    if said:
        lines.append(f"warnings ({len(said)}; each stage's are in {out}/manifest.json under stages.<stage>.warnings):")
        lines += [f"  {w}" for w in said]
    return "\n".join(lines)
