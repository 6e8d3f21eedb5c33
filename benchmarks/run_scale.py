"""``python -m benchmarks.run_scale``: ``sid run`` on the demo wave at a large scale, timed
per stage, with the peak resident memory of the run (issue 18).

The demo wave at ``--scale 50`` samples the small origin groups beyond their population,
so the weighting spec must declare ``sample: with_replacement: true``: the script copies
the project (sid.yaml and its spec folders) to a temporary folder, sets that key (and
``replicates:`` when ``--replicates`` is given), runs ``sid run --project P --data D --out
O`` as a child process and reports each stage's seconds from the run's manifest.json, the
wall time, the peak RSS of the child (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``)
and the load average before and after (the machine is shared: timings are noisy).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m benchmarks.run_scale --data /tmp/D --scale 50
    # --replicates 500, --out O (kept), --json FILE
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PARTS = ["sid.yaml", "questionnaires", "weights", "linkage", "reports", "smallarea"]


def project_copy(dest: Path, wave: str = "sid2022", replicates: int | None = None) -> Path:
    """A copy of the repository's project in ``dest`` whose weighting spec of ``wave``
    samples with replacement (and draws ``replicates`` replicates when given)."""
    dest.mkdir(parents=True)
    for part in PROJECT_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part)
        elif src.is_file():
            shutil.copy2(src, dest / part)
    spec = dest / "weights" / f"{wave}.yaml"
    text = spec.read_text(encoding="utf-8")
    text = re.sub(r"^sample:\n", "sample:\n  with_replacement: true\n", text, count=1, flags=re.M)
    if replicates is not None:
        text, k = re.subn(r"^(replicates:\n(?:[ \t].*\n)*?[ \t]+replicates:)[ \t]*\d+",
                          rf"\g<1> {replicates}", text, count=1, flags=re.M)
        if k != 1:
            raise SystemExit(f"{spec}: no replicates: count to replace")
    spec.write_text(text, encoding="utf-8")
    return dest


def make_demo(data: Path, scale: float) -> None:
    """``sid demo --out data --scale scale`` when ``data`` does not exist yet."""
    if not data.is_dir():
        subprocess.run([sys.executable, "-m", "sid.cli", "demo", "--out", str(data), "--scale", str(scale)],
                       check=True)


def run(project: Path, data: Path, out: Path) -> dict:
    """``sid run`` in a child process: wall seconds, peak RSS (MB) and per-stage seconds."""
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sid.cli", "run", "--project", str(project),
                           "--data", str(data), "--out", str(out)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"sid run failed with exit {proc.returncode}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    entries = manifest.get("stages", {})
    # the run's own per-stage times (its closing summary: the stage function as sid run
    # calls it, manifest writes included), in the order of the stages
    said = dict(re.findall(r"^  (\w+) +([\d.]+) s ", proc.stdout + proc.stderr, flags=re.M))
    return {"wall_s": round(wall, 1), "peak_rss_mb": round(peak_mb),
            "stages": {name: float(s) for name, s in said.items()},
            "manifest_seconds": {name: e.get("seconds") for name, e in entries.items()},
            "load_before": [round(x, 2) for x in load0],
            "load_after": [round(x, 2) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run_scale", description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="demo data folder (made when absent)")
    ap.add_argument("--scale", type=float, default=50.0)
    ap.add_argument("--replicates", type=int, default=None, help="replicates of the weighting spec")
    ap.add_argument("--out", type=Path, default=None, help="run folder to keep (default: temporary)")
    ap.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    args = ap.parse_args(argv)
    make_demo(args.data, args.scale)
    with tempfile.TemporaryDirectory(prefix="sid-run-scale-") as tmp:
        project = project_copy(Path(tmp) / "project", replicates=args.replicates)
        out = args.out if args.out is not None else Path(tmp) / "out"
        if out.exists():
            shutil.rmtree(out)
        res = run(project, args.data, out)
    res.update(scale=args.scale, replicates=args.replicates or "spec")
    print(f"sid run, scale {args.scale:g}, replicates {res['replicates']}: {res['wall_s']} s wall, "
          f"peak RSS {res['peak_rss_mb']} MB, load {res['load_before']} -> {res['load_after']}")
    for name, s in res["stages"].items():
        print(f"  {name:<10} {s:7.1f} s   (manifest {res['manifest_seconds'].get(name)} s)")
    if args.json is not None:
        args.json.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
