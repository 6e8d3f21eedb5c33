"""``sid pull (--theme T | --codes C...) --db FILE --out FILE.csv|.xlsx``: indicators side by side.

Survey and register indicators of a theme (or the codes named) for the same VLIM origin
categories, one row per indicator, breakdown and period, as a VLIM author lays them out
(:func:`sid.linkage.pull.pull`). The Excel file has a second sheet with the definitions.
"""

from __future__ import annotations

import argparse
import sys

NAME = "pull"
ORDER = 75
HELP = "pull survey and register indicators side by side from the indicator base (CSV, Excel)"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid pull``."""
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--theme", default=None, help="all indicators of this theme")
    which.add_argument("--codes", nargs="+", default=None, metavar="CODE", help="these indicators")
    parser.add_argument("--db", required=True, metavar="FILE", help="the indicator base (DuckDB file)")
    parser.add_argument("--out", required=True, metavar="FILE", help="output .csv or .xlsx")
    parser.add_argument("--common-periods", action="store_true",
                        help="only periods both register and survey indicators report")


def run(args: argparse.Namespace) -> int:
    """Pull and write."""
    from sid.linkage.pull import definitions, pull, write_pull

    table = pull(args.db, theme=args.theme, codes=args.codes, common_periods=args.common_periods)
    defs = definitions(args.db, list(table["indicator_code"].unique())) if args.out.lower().endswith(".xlsx") else None
    path = write_pull(table, args.out, defs)
    print(f"sid pull: {len(table)} rows, {table['indicator_code'].nunique()} indicators -> {path}", file=sys.stderr)
    return 0
