"""``sid run``: every stage on the project in the current folder (the demo wave by default)."""

from __future__ import annotations

import argparse

NAME = "run"
ORDER = 15
HELP = "run every stage (ingest to report) on a wave; the demo wave when no data is named"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid run``."""
    parser.add_argument("--project", default=".", metavar="DIR",
                        help="survey project folder with questionnaires/, weights/, linkage/, "
                             "reports/ (default: here)")
    parser.add_argument("--data", default=None, metavar="DIR",
                        help="data folder: fieldwork .sav files, gross sample, dispositions, "
                             "register frame (default: PROJECT/data/demo, made when absent)")
    parser.add_argument("--out", default="out", metavar="DIR", help="run folder (default: out)")
    parser.add_argument("--seed", type=int, default=2022,
                        help="seed of the demo wave, when it is made (default: 2022)")


def run(args: argparse.Namespace) -> int:
    """Run the pipeline and print its summary."""
    from sid.pipeline.run import run_all, summary

    timings = run_all(args.project, args.data, args.out, seed=args.seed)
    print(summary(timings, args.out))
    return 0
