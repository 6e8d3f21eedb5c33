"""``sid publish RUN [--db BASE] [--force]``: a run's indicators into the shared base.

``sid link`` and ``sid smallarea`` (and ``sid run``) load a run into bases of its own,
``RUN/link/base.duckdb`` and ``RUN/smallarea/base.duckdb``, so a trial run never changes
the project's shared base. ``sid publish`` copies the run's waves (its survey wave, any
register sets loaded with it, and the ``<wave>-smallarea`` wave) into the shared base: the
wave's linkage spec's ``base:`` (else the small-area spec's), or ``--db`` (a DuckDB file
or a ``postgresql://`` URL), in one transaction (:func:`sid.pipeline.publish.publish_run`). It prints what it replaces:
per wave the old and new run id and time, per indicator the rows and periods before and
after. A run older than the one the base holds for the wave is refused; ``--force``
replaces it anyway, and says so.
"""

from __future__ import annotations

import argparse
import sys

from sid.cli.args import add_project_args

NAME = "publish"
ORDER = 76
HELP = "load a run's indicators (RUN/link/ and RUN/smallarea/base.duckdb) into the shared indicator base"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid publish``."""
    parser.add_argument("run", metavar="RUN", help="run folder whose link or smallarea stage has run (holds link/ or smallarea/base.duckdb)")
    add_project_args(parser)
    parser.add_argument("--spec", default=None, metavar="FILE",
                        help="linkage spec naming the shared base (default: the wave's, in sid.yaml)")
    parser.add_argument("--db", default=None, metavar="BASE",
                        help="the shared base (default: the linkage spec's base): a DuckDB file or a "
                             "postgresql:// URL")
    parser.add_argument("--force", action="store_true",
                        help="publish even when the base holds a newer run of the wave")


def run(args: argparse.Namespace) -> int:
    """Publish and say what was replaced."""
    from sid.linkage.publish import describe
    from sid.pipeline.publish import publish_run

    res = publish_run(args.run, args.project, spec_path=args.spec, db=args.db, wave=args.wave, force=args.force)
    for line in describe(res):
        print(f"sid publish: {line}", file=sys.stderr)
    return 0
