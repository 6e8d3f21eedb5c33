"""``sid run``: every stage of DESIGN.md's flow on one wave, in order.

ingest -> clean -> fieldwork -> weight -> score -> tables -> link -> report. Each stage
is the same function its own command calls (``sid clean`` ...), writes its folder of the
run folder atomically and records itself in the manifest, so a failed stage leaves the
earlier ones complete and a stage can be re-run alone. With no data folder named, the
built-in demo wave is used (made first with ``sid demo`` defaults when absent).

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

from sid.cli.progress import say, warn
from sid.errors import InputFileError, RunFolderError

PathLike = str | os.PathLike[str]
DEMO_DIR = Path("data") / "demo"


@dataclass(frozen=True)
class RunContext:
    """Where a run reads and writes: project folder, data folder, run folder."""

    project: Path
    data: Path
    out: Path
    seed: int = 2022


@dataclass
class StageTiming:
    """One stage's line of the run summary, and the warnings it recorded."""

    stage: str
    seconds: float
    outputs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _wave_files(ctx: RunContext) -> list[Path]:
    """The fieldwork files of the wave: ``<wave>_<mode>.sav|.zsav`` in the data folder."""
    files = sorted(p for p in ctx.data.iterdir() if p.suffix.lower() in (".sav", ".zsav"))
    if not files:
        raise InputFileError(
            f"{ctx.data}: no .sav or .zsav fieldwork files; name the data folder with --data"
        )
    return files


def _ingest(ctx: RunContext) -> None:
    from sid.clean.stage import find_spec
    from sid.io.spss_meta import SpssMeta
    from sid.pipeline.ingest import run_ingest

    files = _wave_files(ctx)
    # the questionnaire clean will use: its identifier variables are pseudonymised at ingest
    spec = find_spec(ctx.project, SpssMeta(variables={}, sources=[{"path": str(p)} for p in files]))
    run_ingest(ctx.out, files, spec=spec)


def _clean(ctx: RunContext) -> None:
    from sid.clean import run_clean

    run_clean(ctx.out, ctx.project, ctx.data)


def _score(ctx: RunContext) -> None:
    from sid.scales.stage import run_score

    run_score(ctx.out, ctx.project)


def _tables(ctx: RunContext) -> None:
    from sid.tables.stage import run_tables

    run_tables(ctx.out, ctx.project)


def _link(ctx: RunContext) -> None:
    from sid.linkage.stage import run_link

    admin = ctx.data / "vlim-admin-demo"
    # a pseudonymised register extract beside the fieldwork files (the demo writes one):
    # respondents are linked to it and link/ gets link_rates.csv, respondents_linked.parquet
    register = ctx.data / "register_extract.parquet"
    run_link(ctx.out, ctx.project, admin=[admin] if admin.is_dir() else [],
             register=register if register.is_file() else None, data_dir=ctx.data)


def _fieldwork(ctx: RunContext) -> None:
    from sid.fieldwork.stage import run_fieldwork

    run_fieldwork(ctx.out, ctx.project, ctx.data)


def _weight(ctx: RunContext) -> None:
    from sid.weighting.stage import run_weight

    run_weight(ctx.out, ctx.project, ctx.data)


def _report(ctx: RunContext) -> None:
    from sid.report.stage import run_report

    run_report(ctx.out, ctx.project)


STAGES: list[tuple[str, Callable[[RunContext], None]]] = [
    ("ingest", _ingest),
    ("clean", _clean),
    ("fieldwork", _fieldwork),
    ("weight", _weight),
    ("score", _score),
    ("tables", _tables),
    ("link", _link),
    ("report", _report),
]


def ensure_demo(data: Path, seed: int) -> None:
    """Make the demo wave in ``data`` unless a complete one is there (its demo.json)."""
    if (data / "demo.json").is_file():
        return
    from sid.demo import make_demo

    say(f"making the demo wave in {data} (seed {seed})")
    make_demo(data, seed=seed)


def run_all(project: PathLike = ".", data: PathLike | None = None, out: PathLike = "out",
            seed: int = 2022) -> list[StageTiming]:
    """Run every stage; return each stage's duration, the files it wrote and its warnings."""
    from sid.pipeline.manifest import begin_stage

    project = Path(project)
    if not project.is_dir():
        raise RunFolderError(f"{project}: project folder not found")
    data_dir = project / DEMO_DIR if data is None else Path(data)
    if data is not None and not data_dir.is_dir():
        raise InputFileError(f"{data_dir}: data folder not found")
    begin_stage(out)  # a file, a read-only folder or a damaged manifest: before any work
    if data is None:
        ensure_demo(data_dir, seed)
    ctx = RunContext(project=project, data=data_dir, out=Path(out), seed=seed)
    timings: list[StageTiming] = []
    for i, (name, fn) in enumerate(STAGES, 1):
        say(f"[{i}/{len(STAGES)}] {name} ...")
        t0 = time.perf_counter()
        fn(ctx)
        outputs, said = _entry(ctx.out, name)
        timings.append(StageTiming(name, time.perf_counter() - t0, outputs, said))
        for msg in said:
            warn(f"{name}: {msg}")
        say(f"[{i}/{len(STAGES)}] {name} done in {timings[-1].seconds:.1f} s"
            + (f", {len(said)} warning(s)" if said else ""))
    return timings


def _entry(out: Path, stage: str) -> tuple[list[str], list[str]]:
    """The outputs and the warnings of ``stage``'s manifest entry."""
    from sid.pipeline.manifest import read_manifest

    entry = read_manifest(out).get("stages", {}).get(stage, {})
    return [o["path"] for o in entry.get("outputs", [])], [str(w) for w in entry.get("warnings", [])]


def summary(timings: list[StageTiming], out: PathLike) -> str:
    """The closing summary: per stage its time and what it wrote where, then every
    warning the stages recorded (also in each stage's manifest entry)."""
    said = [f"{t.stage}: {w}" for t in timings for w in t.warnings]
    lines = [f"sid run: {len(timings)} stages, {sum(t.seconds for t in timings):.1f} s; outputs in {out}/"
             + (f"; {len(said)} warning(s)" if said else "")]
    for t in timings:
        shown = ", ".join(t.outputs[:6]) + (f", ... ({len(t.outputs)} files)" if len(t.outputs) > 6 else "")
        lines.append(f"  {t.stage:<10} {t.seconds:7.1f} s  {shown}")
    if said:
        lines.append(f"warnings ({len(said)}; each stage's are in {out}/manifest.json under stages.<stage>.warnings):")
        lines += [f"  {w}" for w in said]
    return "\n".join(lines)
