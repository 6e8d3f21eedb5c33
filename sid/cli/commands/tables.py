"""``sid tables --out RUN_DIR``: every table of the wave's table plan.

Reads the run folder's clean wave, weights (and replicate weights) and indices, and the
wave's table plan (``tables:`` in sid.yaml); writes
``RUN_DIR/tables/tables.csv|.parquet|.xlsx`` (published: small cells suppressed) and
``internal/tables_internal.csv`` (unsuppressed, full precision: for the survey team only).
"""

from __future__ import annotations

import argparse

from sid.cli.args import add_stage_args

NAME = "tables"
ORDER = 70
HELP = "weighted tables of the wave from the table plan (CSV, Parquet, Excel)"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid tables``."""
    add_stage_args(parser, holds="holds clean/, weight/ and score/")
    parser.add_argument("--plan", default=None, metavar="FILE",
                        help="table plan (default: the wave's, in sid.yaml)")
    parser.add_argument("--variance", default=None, choices=("taylor", "replicate"),
                        help="variance method (default: the plan's)")
    parser.add_argument("--lang", choices=("nl", "en"), default=None,
                        help="language of the workbook's texts (default: language: in sid.yaml, else nl)")


def run(args: argparse.Namespace) -> int:
    """Run the tables stage; prints where the tables went."""
    from sid.progress import bar
    from sid.tables.stage import run_tables

    # one self-rewriting progress line (table i/n), on a terminal only
    with bar("tables") as tick:
        target = run_tables(args.out, args.project, variance=args.variance, plan_path=args.plan,
                            progress=tick, wave=args.wave, lang=args.lang)
    print(f"sid tables: wrote {target}")
    return 0
