"""``sid publish RUN``: the waves of a run folder's own bases into the shared base.

The link stage loads a run into ``RUN/link/base.duckdb`` and the small-area stage into
``RUN/smallarea/base.duckdb``; :func:`publish_run` copies every wave of those bases (the
survey wave, any register sets, the ``<wave>-smallarea`` wave) into one shared base in one
transaction (:func:`sid.linkage.publish.publish`): ``db``, else the wave's linkage spec's
``base:``, else (a wave with a small-area spec and no linkage spec) the small-area spec's
``base:``. A small-area spec's ``base:`` that differs from the linkage spec's is refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from sid.errors import LinkageError
from sid.linkage.db import base_target
from sid.linkage.publish import Published, publish
from sid.linkage.stage import LINK, RUN_BASE, _spec
from sid.project import Project, Wave
from sid.smallarea.stage import RUN_BASE as SMALLAREA_BASE
from sid.smallarea.stage import SMALLAREA, shared_base
from sid.smallarea.stage import _spec as _smallarea_spec

PathLike = str | os.PathLike[str]


def run_bases(out_dir: PathLike) -> list[Path]:
    """The run folder's own indicator bases (link, small-area) that exist."""
    out = Path(out_dir)
    return [p for p in (out / LINK / RUN_BASE, out / SMALLAREA / SMALLAREA_BASE) if p.is_file()]


def publish_run(out_dir: PathLike, project_dir: PathLike | Project = ".", *, spec_path: PathLike | None = None,
                db: PathLike | None = None, wave: str | Wave | None = None, force: bool = False) -> Published:
    """``sid publish``: load the waves of run folder ``out_dir``'s own bases into the shared
    base (see the module docstring) in one transaction, refusing a run older than the one
    loaded unless ``force``. ``spec_path``: the linkage spec naming the shared base."""
    from sid.runfolder.context import resolve_wave

    out = Path(out_dir)
    bases = run_bases(out)
    if not bases:
        raise LinkageError(f"{out / LINK / RUN_BASE}: the run has no indicator base of its own; run sid link "
                           f"(or sid smallarea) --out {out} first (a stage run with --db was loaded into that "
                           "base directly)")
    if db is not None:
        return publish(bases, base_target(db, where="--db"), force=force, where=str(out))
    w = resolve_wave(project_dir, out, wave)
    linkage = _spec(w, spec_path)[1].base if spec_path is not None or w.linkage is not None else None
    target = linkage
    if out / SMALLAREA / SMALLAREA_BASE in bases and w.smallarea is not None:
        target = shared_base(w, _smallarea_spec(w, None), linkage)
    if target is None:
        _spec(w, spec_path)  # the one-line error: the wave names no linkage spec
    return publish(bases, target, force=force, where=str(out))
