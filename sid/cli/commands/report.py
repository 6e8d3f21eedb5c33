"""``sid report --out DIR [--project DIR] [--wave W]``: the run folder's outputs -> DIR/report/*.html (sid.report)."""

from __future__ import annotations

import argparse

from sid.cli.args import add_stage_args

NAME = "report"
ORDER = 80
HELP = ("write the HTML reports (fieldwork, cleaning, weighting, indices, indicators) and the "
        "analysts' labelled SPSS file of a run folder")


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid report``."""
    add_stage_args(parser, holds="the outputs of the stages that ran")
    parser.add_argument("--no-replicates", action="store_true",
                        help="leave the replicate weights out of the analysts' SPSS file")
    parser.add_argument("--lang", choices=("nl", "en"), default=None,
                        help="language of the reports (default: language: in sid.yaml, else nl)")


def run(args: argparse.Namespace) -> int:
    """Render every report whose stage has run, write DIR/report and record the stage."""
    import time

    from sid.progress import say
    from sid.report.stage import run_report

    t0 = time.perf_counter()
    # no progress line before the work: a user error is then the only line on stderr
    folder, status = run_report(args.out, args.project, replicates=not args.no_replicates, wave=args.wave,
                                lang=args.lang)
    say(f"reports written in {time.perf_counter() - t0:.1f} s")
    for name, state in status.items():
        say(f"  {name}: {'written' if state == 'written' else 'not run (its stage has no output yet)'}")
    say(f"-> {folder / 'index.html'}")
    return 0
