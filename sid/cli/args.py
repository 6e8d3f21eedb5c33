"""Arguments every stage command shares: the run folder, the project and its wave, the data, the spec."""

from __future__ import annotations

import argparse

WAVE_HELP = ("the project wave (default: the one the run folder records, else the project's "
             "default_wave)")


def add_project_args(parser: argparse.ArgumentParser, *, wave_help: str = WAVE_HELP) -> None:
    """Add ``--project`` (the folder with sid.yaml) and ``--wave``."""
    parser.add_argument("--project", default=".", metavar="DIR",
                        help="survey project folder with the project file sid.yaml (default: here)")
    parser.add_argument("--wave", default=None, metavar="W", help=wave_help)


def add_stage_args(parser: argparse.ArgumentParser, *, holds: str, data: str | None = None,
                   spec: str | None = None, out_required: bool = True) -> None:
    """Add ``--out`` (run folder; ``holds``: what it must hold), ``--project``, ``--wave``
    and, when described, ``--data`` (folder with ``data``; default the wave's data folder)
    and ``--spec`` (help text ``spec``)."""
    parser.add_argument("--out", required=out_required, default=None, metavar="DIR",
                        help=f"run folder ({holds})" + ("" if out_required else
                                                        "; default: the wave's run_folder"))
    add_project_args(parser)
    if data is not None:
        parser.add_argument("--data", default=None, metavar="DIR",
                            help=f"data folder with {data} (default: the wave's data_folder in sid.yaml)")
    if spec is not None:
        parser.add_argument("--spec", default=None, metavar="FILE", help=spec)
