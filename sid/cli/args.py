"""Arguments every stage command shares: the run folder, the project and its wave, the data, the spec."""

from __future__ import annotations

import argparse
from pathlib import Path

RUN_FOLDER_MARKS = ("manifest.json", "raw", "clean")  # what ingest (or a hand-made run folder) leaves

WAVE_HELP = ("the project wave (default: the one the run folder records, else the project's "
             "default_wave)")


def add_project_args(parser: argparse.ArgumentParser, *, wave_help: str = WAVE_HELP) -> None:
    """Add ``--project`` (the folder with sid.yaml) and ``--wave``."""
    parser.add_argument("--project", default=".", metavar="DIR",
                        help="survey project folder with the project file sid.yaml (default: here)")
    parser.add_argument("--wave", default=None, metavar="W", help=wave_help)


def add_stage_args(parser: argparse.ArgumentParser, *, holds: str, data: str | None = None,
                   spec: str | None = None, out_required: bool = True, makes_run_folder: bool = False) -> None:
    """Add ``--out`` (run folder; ``holds``: what it must hold), ``--project``, ``--wave``
    and, when described, ``--data`` (folder with ``data``; default the wave's data folder)
    and ``--spec`` (help text ``spec``). The command is then checked by
    :func:`check_stage_folders` before it runs (``makes_run_folder``: ingest, which makes
    the run folder, is checked for its project only)."""
    parser.set_defaults(_stage_check="project" if makes_run_folder else "run_folder")
    parser.add_argument("--out", required=out_required, default=None, metavar="DIR",
                        help=f"run folder ({holds})" + ("" if out_required else
                                                        "; default: the wave's run_folder"))
    add_project_args(parser)
    if data is not None:
        parser.add_argument("--data", default=None, metavar="DIR",
                            help=f"data folder with {data} (default: the wave's data_folder in sid.yaml)")
    if spec is not None:
        parser.add_argument("--spec", default=None, metavar="FILE", help=spec)


def check_stage_folders(args: argparse.Namespace) -> None:
    """Before a stage command writes anything: its ``--project`` holds sid.yaml (else the
    project's one-line error) and, unless it makes the run folder, ``--out`` is a run
    folder (holds manifest.json, raw/ or clean/), else a RunFolderError (not for ``sid link``
    given ``--respondents`` or ``--admin-only``). No-op for other commands."""
    what = getattr(args, "_stage_check", None)
    if what is None:
        return
    from sid.errors import RunFolderError
    from sid.project import load_project

    project = load_project(args.project)
    if what != "run_folder":
        return
    if getattr(args, "respondents", None) or getattr(args, "admin_only", False):
        return  # sid link on a respondents file or the register sets alone: --out is only where link/ goes
    out = Path(args.out) if args.out is not None else project.wave(args.wave).run_folder
    from sid.io.atomic import check_output_folder

    check_output_folder(out)  # a file, a path under a file or an unwritable folder: said as such
    if not out.is_dir():
        raise RunFolderError(f"{out}: run folder not found; run `sid ingest --out {out}` (or `sid run`) first, "
                             "or give the run folder with --out DIR")
    if not any((out / m).exists() for m in RUN_FOLDER_MARKS):
        raise RunFolderError(f"{out}: not a run folder (no manifest.json, raw/ or clean/); run `sid ingest "
                             f"--out {out}` (or `sid run`) first, or give the run folder with --out DIR")
