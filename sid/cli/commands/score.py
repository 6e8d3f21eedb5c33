"""``sid score --out DIR [--project DIR]``: DIR/clean (+ DIR/weight) -> DIR/score (sid.scales)."""

from __future__ import annotations

import argparse

from sid.cli.args import add_stage_args

NAME = "score"
ORDER = 60
HELP = "score the spec's indices on DIR/clean, with reliability and comparability per origin group"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid score``."""
    add_stage_args(parser, holds="holds clean/", project="questionnaires/",
                   spec="questionnaire spec (default: the project's, as sid clean finds it)")
    parser.add_argument("--group", default="origin", metavar="VAR",
                        help="origin variable for reliability and comparability (default: origin)")


def run(args: argparse.Namespace) -> int:
    """Score the indices, write DIR/score and record the stage in DIR/manifest.json."""
    import time

    from sid.cli.progress import say, warn_stage
    from sid.scales.stage import run_score

    # no progress line before the work: a user error stays the only line on stderr
    t0 = time.perf_counter()
    folder, res = run_score(args.out, args.project, args.spec, group=args.group)
    say(f"scored the indices in {time.perf_counter() - t0:.1f} s")
    s = res.summary
    say(f"{len(s['indices'])} indices for {len(res.indices)} respondents, "
        + ("survey-weighted" if s["weighted"] else "UNWEIGHTED (no DIR/weight)") + " reliability")
    for name, e in s["indices"].items():
        low = e["low_reliability_groups"]
        say(f"  {name}: {e['n_scored']} scored, {e['n_missing']} missing"
            + (f"; reliability below {e['reliability_threshold']} in {', '.join(low)}" if low else "")
            + (f"; {len(e.get('loading_flags', []))} loading flag(s)" if e.get("loading_flags") else "")
            + (f"; {e['invariance']}" if "invariance" in e else ""))
    say(f"-> {folder}")
    warn_stage(args.out, NAME)
    return 0
