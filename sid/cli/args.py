"""Arguments every stage command shares: the run folder, the project, the data, the spec."""

from __future__ import annotations

import argparse


def add_stage_args(parser: argparse.ArgumentParser, *, holds: str, project: str,
                   data: str | None = None, spec: str | None = None) -> None:
    """Add ``--out`` (run folder; ``holds``: what it must hold), ``--project`` (folder with
    ``project``), and, when described, ``--data`` (folder with ``data``; default the demo
    wave's) and ``--spec`` (help text ``spec``)."""
    parser.add_argument("--out", required=True, metavar="DIR", help=f"run folder ({holds})")
    parser.add_argument("--project", default=".", metavar="DIR",
                        help=f"survey project folder with {project} (default: here)")
    if data is not None:
        parser.add_argument("--data", default=None, metavar="DIR",
                            help=f"data folder with {data} (default: PROJECT/data/demo)")
    if spec is not None:
        parser.add_argument("--spec", default=None, metavar="FILE", help=spec)
