"""The wave a stage works on: the project's :class:`~sid.project.Wave`, resolved once.

A stage is given the project (a folder with ``sid.yaml``, or a loaded
:class:`~sid.project.Project`) and, optionally, a wave. The wave is, in this order: the one
named (``--wave``), the one the run folder's manifest records (every stage records the wave
it ran on, ingest first), the project's default wave (or its only one). Every spec path,
data file and variable role the stage uses comes from that Wave.
"""

from __future__ import annotations

import os
from pathlib import Path

from sid.errors import RunFolderError
from sid.project import Project, Wave, load_project
from sid.runfolder.manifest import MANIFEST, read_manifest

PathLike = str | os.PathLike[str]


def recorded_wave(out_dir: PathLike) -> str | None:
    """The wave the run folder's manifest records (None: no manifest, or none recorded)."""
    wave = read_manifest(out_dir).get("wave")
    return str(wave) if wave else None


def resolve_wave(project: PathLike | Project, out_dir: PathLike | None = None,
                 wave: str | Wave | None = None) -> Wave:
    """The Wave a stage works on (see the module docstring).

    ``project``: the project folder or a loaded Project; ``out_dir``: the run folder (its
    manifest may record the wave); ``wave``: a Wave (used as it is) or a wave name.
    """
    if isinstance(wave, Wave):
        return wave
    proj = project if isinstance(project, Project) else load_project(project)
    if wave is None and out_dir is not None:
        recorded = recorded_wave(out_dir)
        if recorded is not None and recorded not in proj.waves:
            raise RunFolderError(
                f"{Path(out_dir) / MANIFEST}: the run folder holds wave {recorded!r}, which "
                f"{proj.file} does not declare (waves: {', '.join(proj.waves)}); give the "
                "project it was run with (--project DIR) or name the wave (--wave W)")
        wave = recorded
    return proj.wave(wave)


def data_folder(wave: Wave, data_dir: PathLike | None) -> Path:
    """The data folder: ``data_dir`` when given (--data), else the wave's ``data_folder``."""
    return Path(data_dir) if data_dir is not None else wave.data_folder
