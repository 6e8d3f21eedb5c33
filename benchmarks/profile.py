"""Where sid's time goes in one benchmark task: ``python -m benchmarks.profile --task rerake``.

Runs the task once to warm up, then once under cProfile, and prints the functions with
the largest cumulative time (``--top``). Uses the cached data of ``--scale`` (built on
first use, see benchmarks/data.py).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from benchmarks import impl_sid
from benchmarks.data import load

TASKS = ("rake", "taylor", "bootstrap", "draw", "rerake", "tables")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    ap.add_argument("--task", choices=TASKS, required=True)
    ap.add_argument("--scale", type=float, default=50.0)
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args(argv)
    b = load(args.scale)
    if args.task in ("rake", "bootstrap", "draw"):
        fn = {"rake": lambda: impl_sid.rake(b), "bootstrap": lambda: impl_sid.bootstrap(b),
              "draw": lambda: impl_sid.draw(b)}[args.task]
    elif args.task == "taylor":
        d = impl_sid.rake(b)
        fn = lambda: impl_sid.taylor(d)  # noqa: E731
    elif args.task == "rerake":
        rep = impl_sid.draw(b)
        fn = lambda: impl_sid.rerake(rep, b)  # noqa: E731
    else:
        boot = impl_sid.bootstrap(b)
        fn = lambda: impl_sid.tables(boot)  # noqa: E731
    fn()
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    fn()
    prof.disable()
    print(f"{args.task} at scale {args.scale:g} (n={b.n}): {time.perf_counter() - t0:.3f} s under the profiler")
    pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
