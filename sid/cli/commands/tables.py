"""``sid tables --out RUN_DIR``: every table of the wave's table plan.

Reads the run folder's clean wave, weights (and replicate weights) and indices, and the
project's table plan (``PROJECT/reports/<wave>_tables.yaml``); writes
``RUN_DIR/tables/tables.csv|.parquet|.xlsx`` (published: small cells suppressed) and
``tables_internal.csv`` (flagged only).
"""

from __future__ import annotations

import argparse

NAME = "tables"
ORDER = 70
HELP = "weighted tables of the wave from the table plan (CSV, Parquet, Excel)"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid tables``."""
    parser.add_argument("--out", required=True, metavar="RUN_DIR", help="the run folder")
    parser.add_argument("--project", default=".", metavar="DIR", help="survey project folder (default: here)")
    parser.add_argument("--plan", default=None, metavar="FILE",
                        help="table plan (default: PROJECT/reports/*_tables.yaml)")
    parser.add_argument("--variance", default=None, choices=("taylor", "replicate"),
                        help="variance method (default: the plan's)")


def run(args: argparse.Namespace) -> int:
    """Run the tables stage; prints where the tables went."""
    from sid.cli.progress import say
    from sid.tables.stage import run_tables

    target = run_tables(args.out, args.project, variance=args.variance, plan_path=args.plan, progress=say)
    print(f"sid tables: wrote {target}")
    return 0
