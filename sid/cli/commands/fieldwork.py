"""``sid fieldwork --out DIR [--project DIR] [--wave W] [--data DIR]``: AAPOR outcome rates -> DIR/fieldwork."""

from __future__ import annotations

import argparse

from sid.cli.args import add_stage_args

NAME = "fieldwork"
ORDER = 40
HELP = ("AAPOR outcome rates (overall, per group, per mode) of the gross sample and its "
        "dispositions into DIR/fieldwork")


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid fieldwork``."""
    add_stage_args(parser, holds="holds raw/ and, after sid clean, clean/",
                   data="the wave's gross sample, dispositions and frame",
                   spec="weighting spec (default: the wave's, in sid.yaml)")



def run(args: argparse.Namespace) -> int:
    """Compute the rates, write DIR/fieldwork and record the stage in DIR/manifest.json."""
    import time

    from sid.cli.stage_warnings import warn_stage
    from sid.fieldwork.stage import run_fieldwork
    from sid.progress import say

    # no progress line before the work: a user error stays the only line on stderr
    t0 = time.perf_counter()
    folder, res = run_fieldwork(args.out, args.project, args.data, args.spec, wave=args.wave)
    warn_stage(args.out, NAME)  # the warnings recorded in the stage's manifest entry
    r = res.rates
    overall = r[(r["level"] == "overall") & (r["basis"] == "unweighted")].iloc[0]
    weighted = r[(r["level"] == "overall") & (r["basis"] != "unweighted")].iloc[0]
    say(f"fieldwork: {len(res.cases):,} cases, respondents from {res.survey_source}; RR1 "
        f"{overall['RR1']:.3f} unweighted, {weighted['RR1']:.3f} design-weighted; "
        f"{res.breakoffs} partial(s) counted as break-off (AAPOR 2.12) "
        f"-> {folder} ({time.perf_counter() - t0:.1f} s)")
    return 0
