"""Run benchmarks/bench_survey.R (R's survey package) on the cached data; read its output.

R times each task itself (``system.time``), so start-up and CSV reading are excluded.
The bootstrap factors are handed over as raw float64 (n x R, column-major) so that R
re-rakes the same replicate weights as sid and svy.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.data import BenchData

SCRIPT = Path(__file__).with_name("bench_survey.R")


def available() -> bool:
    return shutil.which("Rscript") is not None


def run(b: BenchData, factors: np.ndarray, log=print) -> dict:
    """Timings {task: s}, tidy estimates {task: frame}, raked weights, versions."""
    out = b.folder / "r_out"
    out.mkdir(exist_ok=True)
    fac = b.folder / "factors.bin"
    np.asfortranarray(factors, dtype=np.float64).ravel(order="F").tofile(fac)
    cmd = ["Rscript", str(SCRIPT), str(b.csv), str(b.margins_csv), str(fac), str(factors.shape[1]), str(out)]
    log(f"  R: {' '.join(cmd[1:2])} (n={b.n}) ...")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"R benchmark failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    info = json.loads((out / "r_timings.json").read_text())
    est = {}
    for task in ("taylor", "tables"):
        t = pd.read_csv(out / f"r_{task}.csv", dtype={"group": str, "category": str}, keep_default_na=False)
        est[task] = t
    weights = np.fromfile(out / "r_rake_weights.bin", dtype=np.float64)
    fac.unlink()
    return {"timings": info["timings"], "estimates": est, "weights": weights,
            "version": f"survey {info['version']} ({info['r']})"}
