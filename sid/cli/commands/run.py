"""``sid run [--project DIR] [--wave W] [--data DIR] [--out DIR]``: every stage on one wave."""

from __future__ import annotations

import argparse

from sid.cli.args import add_project_args

NAME = "run"
ORDER = 15
HELP = ("run every stage (ingest to report) on a wave of the project; its demo data are made "
        "when its data folder is absent")


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid run``."""
    add_project_args(parser, wave_help="the wave to run (default: the project's default_wave)")
    parser.add_argument("--data", default=None, metavar="DIR",
                        help="data folder: the wave's fieldwork files, gross sample, dispositions, "
                             "register frame (default: the wave's data_folder in sid.yaml; made by "
                             "the wave's demo generator when absent)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="run folder (default: the wave's run_folder in sid.yaml)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the demo wave, when it is made (default: the demo's own, "
                             "its year)")
    parser.add_argument("--lang", choices=("nl", "en"), default=None,
                        help="language of the workbook, the reports and the analysts' files "
                             "(default: language: in sid.yaml, else nl)")


def run(args: argparse.Namespace) -> int:
    """Run the pipeline and print its summary."""
    from sid.pipeline.run import run_all, summary
    from sid.project import load_project

    project = load_project(args.project)
    out = args.out if args.out is not None else project.wave(args.wave).run_folder
    timings = run_all(project, args.data, out, seed=args.seed, wave=args.wave, lang=args.lang)
    print(summary(timings, out))
    return 0
