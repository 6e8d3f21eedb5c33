"""``sid init DIR``: write a new survey project's skeleton (sid.pipeline.init_project)."""

from __future__ import annotations

import argparse

NAME = "init"
ORDER = 5
HELP = "write a new survey project (project file, commented specs, report templates) into DIR"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid init``."""
    parser.add_argument("dir", metavar="DIR", help="the new project folder (absent or empty)")


def run(args: argparse.Namespace) -> int:
    """Write the skeleton and say what to do next."""
    from sid.pipeline.init_project import init_project

    files = init_project(args.dir)
    print(f"wrote a project skeleton of {len(files)} files into {args.dir}:")
    for f in files:
        print(f"  {f}")
    print(f"next: put the agency's files in {args.dir}/data/wave1, adapt the specs, then "
          f"`sid check --project {args.dir}` (docs/new-project.md)")
    return 0
