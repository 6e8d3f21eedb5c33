"""``sid clean --out DIR [--project DIR] [--wave W] [--data DIR]``: DIR/raw -> DIR/clean (sid.clean)."""

from __future__ import annotations

import argparse

from sid.cli.args import add_stage_args

NAME = "clean"
ORDER = 30
HELP = "clean the raw wave DIR/raw into DIR/clean with the questionnaire spec (log of every change)"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid clean``."""
    add_stage_args(parser, holds="holds raw/", data="the wave's gross sample (data.gross_sample)",
                   spec="questionnaire spec (default: the wave's, in sid.yaml)")



def run(args: argparse.Namespace) -> int:
    """Clean the raw wave, write DIR/clean and record the stage in DIR/manifest.json."""
    import time

    from sid.clean import run_clean
    from sid.cli.stage_warnings import warn_stage
    from sid.progress import say

    # no progress line before the work: a user error stays the only line on stderr
    t0 = time.perf_counter()
    folder, res = run_clean(args.out, args.project, args.data, args.spec, wave=args.wave)
    changes = res.summary[res.summary["kind"] == "change"]
    per_rule = changes.groupby("rule", sort=False)["count"].sum()
    status = res.flags["status"].value_counts()
    say(
        f"clean wave: {len(res.df)} records, {len(res.log)} changes ("
        + (", ".join(f"{r} {n}" for r, n in per_rule.items()) or "none")
        + "); "
        + ", ".join(f"{s} {int(status.get(s, 0))}" for s in ("complete", "partial", "break-off"))
        + f" -> {folder} ({time.perf_counter() - t0:.1f} s)"
    )
    warn_stage(args.out, NAME)
    return 0
