"""``sid smallarea --out RUN_DIR``: Fay-Herriot estimates per municipality for the LIIM
(a thin shell over :func:`sid.smallarea.stage.run_smallarea`).

Reads the wave's small-area spec (``--spec``, default the ``smallarea:`` entry of the wave
in sid.yaml), the covariates file in the data folder (``--data DIR``), the processed wave
of RUN_DIR; writes ``RUN_DIR/smallarea/`` (estimates.csv, diagnostics.json, pages.json; ``sid report``
renders one LIIM page per municipality from them)
and loads the estimates at geography level municipality into the run's own indicator base,
``RUN_DIR/smallarea/base.duckdb`` (``sid publish RUN_DIR`` takes them to the shared base),
or into ``--db`` directly.
"""

from __future__ import annotations

import argparse
import sys

from sid.cli.args import add_stage_args

NAME = "smallarea"
ORDER = 78
HELP = "Fay-Herriot estimates per municipality (LIIM): files, indicator base, report pages"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid smallarea``."""
    add_stage_args(parser, holds="holds clean/ and weight/; smallarea/ is written there",
                   data="the covariates file", spec="small-area spec (default: the wave's smallarea: entry in sid.yaml)")
    parser.add_argument("--db", default=None, metavar="FILE", help="load this indicator base directly (default: the run's own, smallarea/base.duckdb)")


def run(args: argparse.Namespace) -> int:
    """Run the small-area stage and say what it wrote."""
    from sid.smallarea.stage import run_smallarea

    res = run_smallarea(args.out, args.project, args.data, spec_path=args.spec, db=args.db, wave=args.wave)
    e = res.estimates
    print(f"sid smallarea: {e['nis'].nunique()} areas x {e['indicator'].nunique()} indicators; "
          f"{int((~e['publishable']).sum())} not publishable; in {res.folder}; `sid report` renders the LIIM pages", file=sys.stderr)
    for wave, c in res.counts.items():
        print(f"sid smallarea: {wave}: {c['inserted']} values loaded ({c['deleted']} replaced) into {res.db}",
              file=sys.stderr)
    return 0
