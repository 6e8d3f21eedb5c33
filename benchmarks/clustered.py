"""Clustered-design benchmark: ``python -m benchmarks.clustered`` (issue 18).

A synthetic wave of 350,000 respondents in 7 strata x 60 PSUs (benchmarks/clustered_data.py),
raked within strata on sex, age band and region, timed in sid, svy and R's survey:

rake      Design(df, weight="design_weight", strata="origin", psu="psu").calibrate(
          {"origin:sex", "origin:age_band", "origin:region"}, method="raking", tol=1e-8);
          svy: Sample(Design(stratum, psu, wgt)).weighting.rake on the interaction columns;
          R: svydesign(ids=~psu, strata=~origin, nest=TRUE) + rake(). Compared on the weights.
taylor    means of y1, y2, y3, yes overall and by origin on the raked design
          (calibration-aware Taylor SEs); compared on estimates and SEs.
bootR     R PSU Rao-Wu bootstrap replicates drawn (Design.replicate("subbootstrap")), the
          full sample and every replicate re-raked, and the same 8 means with replicate
          SEs; each implementation draws its own replicates: timing only.
jkn       the same with the stratified delete-one-PSU jackknife (420 replicates), which
          is deterministic: estimates and replicate SEs compared.

Best of ``--repeats`` for sid and svy, R once (``--r-tasks``: which tasks R runs; R's
500-replicate bootstrap takes minutes and gigabytes, so it is left out by default).
Writes benchmarks/clustered_results.json. Run with OPENBLAS_NUM_THREADS=1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import impl_svy
from benchmarks.clustered_data import MARGINS, Y_VARS, ClusteredData, load
from benchmarks.common import TOL, best_of, max_rel_diff, tidy, weight_rel_diff
from sid.estimation.design import Design

RESULTS = Path(__file__).with_name("clustered_results.json")
SCRIPT = Path(__file__).with_name("bench_clustered.R")
SEED = 20221
svy, pl = impl_svy.svy, impl_svy.pl


# ------------------------------------------------------------------ sid
def sid_design(b: ClusteredData) -> Design:
    return Design(b.respondents, weight="design_weight", strata="origin", psu="psu")


def sid_rake(b: ClusteredData) -> Design:
    return sid_design(b).calibrate(b.margins, method="raking", tol=TOL)


def sid_means(d: Design) -> list[pd.DataFrame]:
    out = []
    for by in (None, "origin"):
        t = d.mean(list(Y_VARS), by=by)
        out.append(pd.DataFrame({"variable": t["variable"], "group": t["origin"] if by else "ALL",
                                 "category": "", "estimate": t["estimate"], "se": t["se"]}))
    return out


def sid_replicated(b: ClusteredData, kind: str, reps: int) -> list[pd.DataFrame]:
    d = sid_design(b).replicate(kind, replicates=reps, seed=SEED)
    return sid_means(d.calibrate(b.margins, method="raking", tol=TOL))


# ------------------------------------------------------------------ svy
def svy_frame(b: ClusteredData):
    return pl.from_pandas(b.respondents)


def svy_controls(b: ClusteredData) -> dict:
    return {f"origin_{m.split(':')[1]}": dict(c) for m, c in b.margins.items()}


def svy_sample(data):
    return svy.Sample(data, svy.Design(stratum="origin", psu="psu", wgt="design_weight"))


def svy_rake(s, ctrl):
    return s.weighting.rake(controls=ctrl, wgt_name="rk", tol=TOL, max_iter=1000)


def svy_means(s, method: str) -> list[pd.DataFrame]:
    out = []
    for by in (None, "origin"):
        res = s.estimation.mean(list(Y_VARS), by=by, drop_nulls=True, method=method)
        out.extend(zip(Y_VARS, res, [by] * len(Y_VARS), strict=True))
    return out


def svy_replicated(data, ctrl, kind: str, reps: int):
    s = svy_sample(data)
    if kind == "JKn":
        s = s.weighting.create_jk_wgts(rstate=SEED)
    else:
        s = s.weighting.create_bs_wgts(n_reps=reps, rstate=SEED)
    return svy_means(svy_rake(s, ctrl), "replication")


# ------------------------------------------------------------------ R
def run_r(b: ClusteredData, tasks: list[str], log) -> dict:
    out = b.folder / "r_out"
    out.mkdir(exist_ok=True)
    cmd = ["Rscript", str(SCRIPT), str(b.csv), str(b.margins_csv), str(out), ",".join(tasks)]
    log(f"  R: {','.join(tasks)} ...")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"R benchmark failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    info = json.loads((out / "r_timings.json").read_text())
    est = {t: pd.read_csv(out / f"r_{t}.csv", dtype={"group": str, "category": str}, keep_default_na=False)
           for t in ("taylor", "jkn") if t in tasks}
    w = np.fromfile(out / "r_rake_weights.bin") if "rake" in tasks else None
    return {"timings": info["timings"], "estimates": est, "weights": w,
            "version": f"survey {info['version']} ({info['r']})"}


# ------------------------------------------------------------------ runner
def _row(task, b, sid_s, svy_s, r_s, agree) -> dict:
    fastest = min([t for t in (svy_s, r_s) if t], default=None)
    return {"task": task, "n": b.n, "sid_s": sid_s, "svy_s": svy_s, "r_s": r_s,
            "svy_over_sid": svy_s / sid_s if svy_s else None, "r_over_sid": r_s / sid_s if r_s else None,
            "lead_over_fastest_peer": fastest / sid_s if fastest else None, "agreement": agree}


def _f(x, spec=".3f") -> str:
    return "-" if x is None else format(x, spec)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.clustered", description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=350_000)
    ap.add_argument("--strata", type=int, default=7)
    ap.add_argument("--psus", type=int, default=60, help="PSUs per stratum")
    ap.add_argument("--replicates", type=int, nargs="+", default=[100, 500], help="bootstrap replicate counts")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-svy", action="store_true")
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--r-tasks", default="rake,taylor,boot100,jkn", help="tasks R runs (comma-separated)")
    ap.add_argument("--tasks", default=None, help="subset of rake,taylor,boot<R>,jkn (default: all)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    load0 = list(os.getloadavg())
    b = load(args.n, args.strata, args.psus, log=log)
    tasks = ["rake", "taylor", *[f"boot{r}" for r in args.replicates], "jkn"]
    if args.tasks:
        tasks = [t for t in tasks if t in args.tasks.split(",")]
    have_svy = svy is not None and not args.no_svy
    r = None
    if shutil.which("Rscript") and not args.no_r:
        r_tasks = [t for t in args.r_tasks.split(",") if t in tasks]
        if r_tasks:
            r = run_r(b, r_tasks, log)
    r_t = r["timings"] if r else {}
    r_est = r["estimates"] if r else {}
    k = args.repeats
    data, ctrl = (svy_frame(b), svy_controls(b)) if have_svy else (None, None)
    rows = []
    if "rake" in tasks or "taylor" in tasks:
        log("  sid: rake")
        t_sid, d = best_of(lambda: sid_rake(b), k)
        t_svy, s = (None, None)
        if have_svy:
            log("  svy: rake")
            t_svy, s = best_of(lambda: svy_rake(svy_sample(data), ctrl), k)
        if "rake" in tasks:
            agree = {"sid_vs_svy": weight_rel_diff(d.weights, s.data["rk"].to_numpy() if s else None),
                     "sid_vs_R": weight_rel_diff(d.weights, r["weights"] if r else None)}
            rows.append(_row("rake", b, t_sid, t_svy, r_t.get("rake"), agree))
        if "taylor" in tasks:
            log("  sid: taylor")
            t_sid, e = best_of(lambda: sid_means(d), k)
            t_svy, es = (None, None)
            if have_svy:
                log("  svy: taylor")
                t_svy, es = best_of(lambda: svy_means(s, "taylor"), k)
            agree = {"sid_vs_svy": max_rel_diff(tidy(e), tidy(impl_svy.to_tidy(es)) if es else None),
                     "sid_vs_R": max_rel_diff(tidy(e), r_est.get("taylor"))}
            rows.append(_row("taylor", b, t_sid, t_svy, r_t.get("taylor"), agree))
        d = s = None
    for task in [t for t in tasks if t.startswith("boot") or t == "jkn"]:
        kind, reps = ("JKn", 0) if task == "jkn" else ("subbootstrap", int(task[4:]))
        log(f"  sid: {task}")
        t_sid, e = best_of(lambda kind=kind, reps=reps: sid_replicated(b, kind, reps), k)
        t_svy, es = (None, None)
        if have_svy:
            log(f"  svy: {task}")
            t_svy, es = best_of(lambda kind=kind, reps=reps: svy_replicated(data, ctrl, kind, reps), k)
        if task == "jkn":
            agree = {"sid_vs_svy": max_rel_diff(tidy(e), tidy(impl_svy.to_tidy(es)) if es else None),
                     "sid_vs_R": max_rel_diff(tidy(e), r_est.get("jkn"))}
        else:
            agree = {"note": "own random draws in each: timing only"}
        rows.append(_row(task, b, t_sid, t_svy, r_t.get(task), agree))
        e = es = None
    head = f"{'task':<9}{'n':>9}{'sid s':>8}{'svy s':>8}{'R s':>8}{'svy/sid':>8}{'R/sid':>7}{'lead':>6}  agreement"
    print(head)
    print("-" * len(head))
    for x in rows:
        ag = "; ".join(f"{p.split('_')[-1]} " + " ".join(f"{kk} {v:.1e}" for kk, v in dd.items() if kk != "rows")
                       for p, dd in x["agreement"].items() if isinstance(dd, dict)) or x["agreement"].get("note", "")
        print(f"{x['task']:<9}{x['n']:>9}{_f(x['sid_s']):>8}{_f(x['svy_s']):>8}{_f(x['r_s'], '.2f'):>8}"
              f"{_f(x['svy_over_sid'], '.1f'):>8}{_f(x['r_over_sid'], '.0f'):>7}"
              f"{_f(x['lead_over_fastest_peer'], '.1f'):>6}  {ag}")
    info = {"when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "cpus": os.cpu_count(),
            "load_average_start_end": [load0, list(os.getloadavg())],
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "repeats": k,
            "peers": {"svy": impl_svy.version() if have_svy else None, "R": r["version"] if r else None},
            "data": {"n": b.n, "strata": args.strata, "psus_per_stratum": args.psus, "margins": list(MARGINS)},
            "rows": rows}
    args.out.write_text(json.dumps(info, indent=1) + "\n")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
