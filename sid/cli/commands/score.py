"""``sid score --out DIR [--project DIR] [--wave W]``: DIR/clean (+ DIR/weight) -> DIR/score (sid.scales)."""

from __future__ import annotations

import argparse

from sid.cli.args import add_stage_args

NAME = "score"
ORDER = 60
HELP = "score the spec's indices on DIR/clean, with reliability and comparability per group"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid score``."""
    add_stage_args(parser, holds="holds clean/",
                   spec="questionnaire spec (default: the wave's, in sid.yaml)")
    parser.add_argument("--group", default=None, metavar="VAR",
                        help="group variable for reliability and comparability (default: the "
                             "wave's roles.group)")


def run(args: argparse.Namespace) -> int:
    """Score the indices, write DIR/score and record the stage in DIR/manifest.json."""
    import time

    from sid.cli.stage_warnings import warn_stage
    from sid.progress import say
    from sid.scales.stage import run_score

    # no progress line before the work: a user error stays the only line on stderr
    t0 = time.perf_counter()
    folder, res = run_score(args.out, args.project, args.spec, group=args.group, wave=args.wave)
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
