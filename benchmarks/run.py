"""Run the weighting and tables benchmarks: ``python -m benchmarks --scale 1 50``.

For each scale: build (or reuse) the demo data under data/bench/, draw the bootstrap
factors once, run R's survey (if ``Rscript`` is on the PATH) once, then time sid and
svy (if importable) best of ``--repeats``; print one table and write
benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import bench_tables, bench_weighting, impl_svy, r_peer
from benchmarks.common import BOOT_SEED, REPLICATES
from benchmarks.data import load
from sid.estimation.replicates import bootstrap_factors

RESULTS = Path(__file__).with_name("results.json")
_BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _factors(b) -> np.ndarray:
    """The Rao-Wu factors sid's Design.replicate("subbootstrap", seed=BOOT_SEED) draws."""
    df = b.respondents
    rf = bootstrap_factors(df["origin"].to_numpy(), df["psu"].to_numpy(), REPLICATES,
                           np.random.default_rng(BOOT_SEED), method="subbootstrap")
    return rf.factors


def _git_head() -> str | None:
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def _fmt(x, spec: str = ".3f") -> str:
    return "-" if x is None else format(x, spec)


def _agree_text(a: dict) -> str:
    parts = []
    for peer in ("sid_vs_svy", "sid_vs_R"):
        d = a.get(peer)
        if d:
            parts.append(f"{peer.split('_')[-1]}: " + " ".join(f"{k} {v:.1e}" for k, v in d.items() if k != "rows"))
    return "; ".join(parts) or a.get("note", "")


def print_table(rows: list[dict]) -> None:
    head = f"{'task':<15}{'scale':>6}{'n':>9}{'sid s':>9}{'svy s':>9}{'R s':>9}{'svy/sid':>9}{'R/sid':>8}{'target':>8}  met  max rel. diff (sid vs peer)"
    print(head)
    print("-" * len(head))
    for r in rows:
        met = {True: "yes", False: "NO", None: "-"}[r["met"]]
        print(f"{r['task']:<15}{r['scale']:>6g}{r['n']:>9}{_fmt(r['sid_s']):>9}{_fmt(r['svy_s']):>9}"
              f"{_fmt(r['r_s'], '.2f'):>9}{_fmt(r['svy_over_sid'], '.1f'):>9}{_fmt(r['r_over_sid'], '.0f'):>8}"
              f"{_fmt(r['target_s'], '.2f'):>8}  {met:<4} {_agree_text(r['agreement'])}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, nargs="+", default=[1.0, 50.0])
    ap.add_argument("--repeats", type=int, default=3, help="best of N for sid and svy (R: once)")
    ap.add_argument("--no-r", action="store_true", help="skip R even if Rscript is installed")
    ap.add_argument("--no-svy", action="store_true", help="skip svy even if it is installed")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--blas-threads", type=int, default=None,
                    help="OpenBLAS threads (read by python -m benchmarks before numpy loads)")
    args = ap.parse_args(argv)
    if args.no_svy:
        impl_svy.svy = None

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    load0 = list(os.getloadavg())  # the machine is shared: other load skews timings
    rows: list[dict] = []
    peers = {"svy": impl_svy.version() if impl_svy.available() else None, "R": None}
    for scale in args.scale:
        log(f"scale {scale:g}")
        b = load(scale, log=log)
        ctx = bench_weighting.Context(b, _factors(b), args.repeats)
        if r_peer.available() and not args.no_r:
            ctx.r = r_peer.run(b, ctx.factors, log=log)
            peers["R"] = ctx.r["version"]
        rows += bench_weighting.run(ctx, log=log)
        rows += bench_tables.run(ctx, log=log)
        del ctx
    print_table(rows)
    info = {"when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "machine": platform.platform(),
            "cpus": os.cpu_count(), "load_average_start_end": [load0, list(os.getloadavg())],
            "blas_threads": {k: os.environ.get(k) for k in _BLAS_VARS},
            "sid_commit": _git_head(), "python": platform.python_version(), "peers": peers, "repeats": args.repeats, "rows": rows}
    args.out.write_text(json.dumps(info, indent=1) + "\n")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
