"""``sid weight --out DIR [--project DIR] [--wave W] [--data DIR]``: the weighting chain -> DIR/weight."""

from __future__ import annotations

import argparse

from sid.cli.args import add_stage_args

NAME = "weight"
ORDER = 50
HELP = ("weight the respondents (design weights, eligibility, non-response, calibration per "
        "group, trimming, replicate weights) into DIR/weight")


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid weight``."""
    add_stage_args(parser, holds="DIR/clean is used when present",
                   data="the wave's frame, gross sample and dispositions",
                   spec="weighting spec (default: the wave's, in sid.yaml)")



def run(args: argparse.Namespace) -> int:
    """Run the weight stage, write DIR/weight and record it in DIR/manifest.json."""
    import time

    from sid.cli.stage_warnings import warn_stage
    from sid.progress import say
    from sid.weighting.stage import run_weight

    t0 = time.perf_counter()
    folder, res = run_weight(args.out, args.project, args.data, args.spec, wave=args.wave)
    g = res.groups[res.groups["group"] != "all"]
    for _, row in g.iterrows():
        say(f"  {row['group']}: n {int(row['n'])}, weights {row['min']:.4g}..{row['max']:.4g}, "
            f"deff {row['deff_kish']:.2f}, {int(row.get('n_trimmed', 0))} trimmed, "
            f"{int(row['iterations'])} iterations, margin error {row['max_abs_error']:.2g}")
    t = res.diagnostics["timings_seconds"]
    say("timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in t.items()))
    say(f"{len(res.weights)} weighted respondents -> {folder} ({time.perf_counter() - t0:.1f} s)")
    warn_stage(args.out, NAME)
    return 0
