"""Tables benchmark: the demo wave's tables with replicate (bootstrap) SEs.

On the design with 100 re-raked Rao-Wu bootstrap replicates from the weighting
benchmark (the same replicate weights in sid, svy and R): the means of the five
indices and of dutch_home and the proportions of every category of q_lang_home,
overall and by origin group (14 tables, 203 estimates), each with its replicate SE.
Target (issue): at least 3 times faster than svy on the same estimates.
"""

from __future__ import annotations

from benchmarks import impl_sid, impl_svy
from benchmarks.bench_weighting import Context, row
from benchmarks.common import best_of, max_rel_diff, tidy


def run(ctx: Context, log=print) -> list[dict]:
    k = ctx.repeats
    log("  sid: tables")
    t_sid, res = best_of(lambda: impl_sid.tables(ctx.sid_boot), k)
    est_sid = tidy(res)
    svy_t, est_svy = None, None
    if ctx.svy_boot is not None:
        log("  svy: tables")
        svy_t, res = best_of(lambda: impl_svy.tables(ctx.svy_boot), k)
        est_svy = tidy(impl_svy.to_tidy(res))
    agree = {"sid_vs_svy": max_rel_diff(est_sid, est_svy),
             "sid_vs_R": max_rel_diff(est_sid, ctx.r["estimates"]["tables"] if ctx.r else None)}
    r_s = ctx.r["timings"].get("tables") if ctx.r else None
    return [row("tables", ctx, t_sid, svy_t, r_s, None, agree)]
