"""``sid pull (--theme T | --codes C...) --db BASE --out FILE [--wide] [--format sdmx-csv]``.

Time series of survey and register indicators of a theme (or the codes named) for the
same VLIM origin categories, every period the base holds, rounded to each indicator's
precision with a ``status`` per cell (:func:`sid.linkage.pull.pull`): long (default: one
row per indicator, breakdown and period, origin categories as columns) or, with
``--wide``, periods as columns (one row per indicator, breakdown and origin category).
The Excel file has number formats per row and a second sheet with the definitions.
``--format sdmx-csv`` writes every value row as an SDMX-CSV 2.0 observation with its
OBS_STATUS, CONF_STATUS, UNIT_MULT and DECIMALS (:mod:`sid.linkage.sdmx`). ``--db`` is a
DuckDB file or a ``postgresql://`` URL (no password in it).
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
    parser.add_argument("--db", required=True, metavar="BASE",
                        help="the indicator base: a DuckDB file or a postgresql:// URL")
    parser.add_argument("--out", required=True, metavar="FILE", help="output .csv or .xlsx (sdmx-csv: .csv)")
    parser.add_argument("--format", default="vlim", choices=("vlim", "sdmx-csv"),
                        help="vlim: survey and register side by side (default); sdmx-csv: one SDMX "
                             "observation per value row")
    parser.add_argument("--common-periods", action="store_true",
                        help="only periods both register and survey indicators report")
    parser.add_argument("--wide", action="store_true",
                        help="periods as columns (one row per indicator, breakdown and origin category); "
                             "default: long, one row per period")


def run(args: argparse.Namespace) -> int:
    """Pull and write."""
    from sid.linkage.pull import definitions, pull, pull_values, write_pull

    if args.format == "sdmx-csv":
        from sid.errors import LinkageError
        from sid.linkage.sdmx import write_sdmx_csv

        if not args.out.lower().endswith(".csv"):
            raise LinkageError(f"{args.out}: SDMX-CSV is written to a .csv file; name the output file .csv")
        vals = pull_values(args.db, theme=args.theme, codes=args.codes)
        if vals.empty:
            raise LinkageError("pull: the selected indicators have no values in the base")
        path = write_sdmx_csv(vals, args.out)
        print(f"sid pull: {len(vals)} SDMX observations, {vals['indicator_code'].nunique()} indicators -> {path}",
              file=sys.stderr)
        return 0
    table = pull(args.db, theme=args.theme, codes=args.codes, common_periods=args.common_periods, wide=args.wide)
    defs = definitions(args.db, list(table["indicator_code"].unique())) if args.out.lower().endswith(".xlsx") else None
    path = write_pull(table, args.out, defs)
    periods = sorted({int(c.split()[0]) for c in table.columns if c.endswith(" value") and c.split()[0].isdigit()}
                     if args.wide else set(table["period"].astype(int)))
    print(f"sid pull: {len(table)} rows, {table['indicator_code'].nunique()} indicators, periods "
          f"{', '.join(map(str, periods))} -> {path}", file=sys.stderr)
    return 0
