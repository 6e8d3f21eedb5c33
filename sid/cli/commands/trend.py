"""``sid trend [--runs DIR DIR ...] [--out DIR]``: harmonised changes between waves.

Reads each run folder's processed wave (clean/, weight/, score/; the wave its manifest
records) and the project's harmonisation spec (``trends:`` in sid.yaml, docs/trends.md);
writes ``OUT/trend/trend.csv|.parquet`` (published: small cells suppressed) and
``internal/trend_internal.csv`` (unsuppressed, full precision), with OUT's manifest.
"""

from __future__ import annotations

import argparse

NAME = "trend"
ORDER = 75
HELP = "changes between waves of the project's harmonised concepts (trend.csv), from their run folders"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid trend``."""
    parser.add_argument("--runs", nargs="+", default=None, metavar="DIR",
                        help="run folders of two or more waves, in any order (default: the run_folder "
                             "of each wave of the project's trends entry)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="the trend's run folder (default: trends.run_folder in sid.yaml)")
    parser.add_argument("--project", default=".", metavar="DIR",
                        help="survey project folder with the project file sid.yaml (default: here)")
    parser.add_argument("--lang", choices=("nl", "en"), default=None,
                        help="language of the trend page (default: the latest wave's language: in sid.yaml)")


def run(args: argparse.Namespace) -> int:
    """Run the trend stage; prints where the trend went."""
    from sid.progress import say
    from sid.trends.stage import run_trend

    target = run_trend(args.runs or (), args.out, args.project, progress=say, lang=args.lang)
    print(f"sid trend: wrote {target}")
    return 0
