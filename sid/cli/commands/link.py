"""``sid link --out RUN_DIR``: survey indicators for VLIM into the indicator base
(a thin shell over :func:`sid.linkage.stage.run_link`).

Reads the wave's linkage spec (``--spec``, default the one sid.yaml names), computes the survey indicators through sid's Design (SEs, CIs, disclosure),
writes ``RUN_DIR/link/survey_indicators.csv`` and ``RUN_DIR/link/load.json``, and
loads the wave into the run's own indicator base ``RUN_DIR/link/base.duckdb`` (or the
base ``--db`` names) in one transaction, together with any register indicator sets named
by ``--admin``. The project's shared base (the spec's ``base``) is left alone: ``sid
publish RUN_DIR`` takes the run there.

Input: the run folder's processed wave, ``sid.open_wave(RUN_DIR, variance=--variance)``
(clean data, final weights, indices; the weight stage's replicate weights by default, or
calibration-aware Taylor SEs with ``--variance taylor``); or ``--respondents
FILE.parquet``: one row per respondent with the final weight (``--weight``, default
``weight``), the strata (``--strata``, default the wave's stratum variable), the origin group and
generation, the breakdown variables and every variable the indicators read (valid view or
raw codes: the questionnaire's missing codes are applied), estimated with Taylor SEs on
those columns. Input holding a raw national register number is refused.

``--register FILE.parquet`` (a pseudonymised register extract, keyed like the
respondents by ``--key``, default the wave's key) adds the link: ``RUN_DIR/link/link_rates.csv`` (linked,
unlinked, duplicate keys per origin group) and ``RUN_DIR/link/respondents_linked.parquet``
(respondents with ``link_status`` and the register variables as ``reg_*``), to analyse
with ``sid.Design`` like any respondent file.

``--admin-only`` loads the ``--admin`` register sets alone (no respondents needed), and
``--drop WAVE`` removes a wave's rows instead (and computes nothing); both act on the
shared base (``--db``, default the spec's ``base``).
"""

from __future__ import annotations

import argparse
import sys

from sid.cli.args import add_stage_args

NAME = "link"
ORDER = 75
HELP = "compute the survey indicators for VLIM and load them into the indicator base"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid link``."""
    add_stage_args(parser, holds="holds clean/, weight/ and score/; link/ is written there",
                   spec="linkage spec (default: the wave's, in sid.yaml)")
    parser.add_argument("--respondents", default=None, metavar="FILE.parquet",
                        help="respondents with final weights and the indicators' variables "
                             "(default: the run folder's wave, sid.open_wave)")
    parser.add_argument("--admin", action="append", default=[], metavar="DIR",
                        help="a register indicator set (folder with indicators.csv, values.csv) to load too")
    parser.add_argument("--db", default=None, metavar="BASE",
                        help="indicator base to load (default: the run's own, RUN/link/base.duckdb; "
                             "--admin-only and --drop: the spec's base)")
    parser.add_argument("--variance", choices=("replicate", "taylor"), default="replicate",
                        help="SEs of the run folder's wave: the weight stage's replicate weights "
                             "(default) or Taylor linearisation")
    parser.add_argument("--weight", default="weight", help="final weight column (default: weight)")
    parser.add_argument("--strata", default=None,
                        help="strata column of --respondents (default: the wave's one stratum variable)")
    parser.add_argument("--psu", default=None, help="PSU column (default: none, each respondent its own PSU)")
    parser.add_argument("--register", default=None, metavar="FILE.parquet",
                        help="pseudonymised register extract: link respondents to it by --key, write "
                             "link/link_rates.csv and link/respondents_linked.parquet")
    parser.add_argument("--key", default=None, help="pseudonymous person key (default: the wave's roles.key)")
    parser.add_argument("--admin-only", action="store_true",
                        help="load only the --admin register sets (no survey indicators)")
    parser.add_argument("--drop", default=None, metavar="WAVE", help="remove WAVE's rows from the base and stop")


def _report(counts: dict, db) -> None:
    for wave, c in counts.items():
        print(f"sid link: {wave}: {c['inserted']} values loaded ({c['deleted']} replaced) into {db}",
              file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Drop a wave, load register sets alone, or run the link stage (sid.linkage.stage)."""
    from sid.linkage import stage

    where = {"spec_path": args.spec, "db": args.db, "wave": args.wave}
    if args.drop:
        n = stage.drop(args.project, args.drop, **where)
        print(f"sid link: dropped wave {args.drop} ({n} values)", file=sys.stderr)
        return 0
    if args.admin_only:
        res = stage.load_register_sets(args.project, args.admin, **where)
        _report(res.counts, res.db)
        return 0
    res = stage.run_link(args.out, args.project, respondents=args.respondents, variance=args.variance,
                         admin=args.admin, register=args.register, key=args.key, weight=args.weight,
                         strata=args.strata, psu=args.psu, **where)
    if res.rates is not None:
        total = res.rates.set_index(res.rates.columns[0]).loc["all"]
        print(f"sid link: {int(total['linked'])} of {int(total['n'])} respondents linked to the register "
              f"({total['link_rate']:.1%}); per origin group in link/link_rates.csv", file=sys.stderr)
    _report(res.counts, res.db)
    return 0
