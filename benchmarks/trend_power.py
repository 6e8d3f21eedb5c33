"""Power and size of ``sid trend`` on the demo's planted trend (issue 12).

``python -m benchmarks.trend_power --draws N --scale K --seed S --jobs J [--out FILE] [--resume]``
(``--report``: print the summary of ``--out`` as Markdown tables, run nothing)

Per draw d: both demo waves (``sid demo --wave sid2017`` and ``sid2022``) with seeds derived
from S and d (:func:`draw_seeds`) at scale K, in a temporary folder; the stages the trend
reads (ingest, clean, weight, score; sid.pipeline.run's stage functions, in-process), the
score stage without its multi-group CFA (measurement invariance: the trend reads only
the indices, and the CFA is 90 % of the stage's time); each wave opened as ``sid trend``
opens it (its table plan's variance, lonely-PSU rule, disclosure rules: 2017 Taylor on the
clustered design, 2022 the replicate weights), and ``sid.trends.trend_table`` with the
benchmark's harmonisation (benchmarks/trend_power_harmonisation.yaml: the truth's
concepts and domains, with the common-item indices and the crossed domains added to each
wave's design). The table is joined to sid.demo.trend_differences.true_differences() on
concept, domain and group (benchmarks/trend_power_stats.join_truth: every truth row of
the concepts and domains the harmonisation asks for must find its trend row, and
conversely; a draw whose join fails is a failed draw).

Results (``--out``, default benchmarks/trend_power_results.json), rewritten atomically after
every draw: the settings, the cells (concept, domain, group, truth status, true difference),
per draw its seeds, seconds and per cell the estimated difference, SE, p (6 significant
digits), whether the CI covers the true difference, and the smaller wave's n; failed draws with their error; the summary and per-cell rates
(benchmarks/trend_power_stats). ``--resume`` keeps the draws of an existing file of the same
seed and scale and runs the others up to N. Run with ``OPENBLAS_NUM_THREADS=1``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

from benchmarks.trend_power_stats import CELL, RECORD, asked_pairs, join_truth, per_cell, summarise

ROOT = Path(__file__).resolve().parents[1]
HARMONISATION = Path(__file__).with_name("trend_power_harmonisation.yaml")
RESULTS = Path(__file__).with_name("trend_power_results.json")
STAGES = ("ingest", "clean", "weight", "score")  # what the trend reads: clean, weight, score outputs
TREND_COLUMNS = ["concept", "domain", "by_value", "category", "difference", "se_difference", "p_value", "ci_low",
                 "ci_high", "n_1", "n_2", "status"]
ADDED = ("religiosity_common", "citizenship_common")  # truth concepts scored on the common items


def draw_seeds(seed: int, draw: int) -> tuple[int, int]:
    """The demo seeds (sid2017, sid2022) of draw ``draw`` of a study with ``seed``."""
    a, b = np.random.SeedSequence([seed, draw]).generate_state(2)
    return int(a), int(b)


@contextmanager
def _no_invariance():
    """The score stage without its multi-group CFA (the trend does not read it)."""
    import sid.scales.stage as score_stage

    def skipped(*_args, **_kwargs):
        return "not fitted: skipped by benchmarks.trend_power", "not fitted"

    with mock.patch.object(score_stage, "_invariance", skipped):
        yield


def added_columns(data: pd.DataFrame, questionnaire, h, wave: str) -> pd.DataFrame:
    """The columns the benchmark's harmonisation reads that the processed wave lacks: the
    common-item indices (scored as the truth scores them, sid.demo.trend_truth.concept_values)
    and the crossed domains origin x generation, VLIM x generation ("MAR:1", "EU:2")."""
    from sid.demo.trend_truth import CONCEPTS, concept_values
    from sid.tables.labels import code_key
    from sid.trends.harmonise import wave_column

    home = next(c for c in CONCEPTS if c.name == "dutch_home").quantity[wave]
    values = concept_values(data, data.assign(dutch_home=data[home]), questionnaire, wave)
    out = {f"bench_{c}": values[c].to_numpy(dtype=float) for c in ADDED}

    def key(domain: str) -> pd.Series:
        v = wave_column(data, h.domains[domain].waves[wave], wave)
        return v.map({u: code_key(u) for u in pd.unique(v.dropna())})  # a lookup on the distinct codes

    gen = key("generation")
    for name, dom in (("origin_generation", "origin"), ("vlim_generation", "vlim")):
        first = key(dom)
        both = first.notna() & gen.notna()
        out[f"bench_{name}"] = (first.astype(str) + ":" + gen.astype(str)).where(both, None).to_numpy(dtype=object)
    return pd.DataFrame(out)


def prepare_wave(project, name: str, seed: int, scale: float, root: Path, h):
    """One demo wave made and processed in ``root`` (STAGES), opened as ``sid trend`` opens
    it, with :func:`added_columns`: a sid.trends.WaveInput."""
    from sid.demo import make_wave_demo
    from sid.pipeline.run import STAGES as PIPELINE
    from sid.pipeline.run import RunContext
    from sid.project import wave_questionnaire
    from sid.runfolder.wave import open_wave
    from sid.tables.plan import Defaults, load_plan
    from sid.trends import WaveInput

    w = project.waves[name]
    data, run = root / f"data-{name}", root / f"run-{name}"
    make_wave_demo(w.demo, data, seed=seed, scale=scale)
    ctx = RunContext(project=project, wave=w, data=data, out=run, seed=seed)
    for stage, fn, _ in PIPELINE:
        if stage in STAGES:
            fn(ctx)
    d = load_plan(w.tables).defaults if w.tables is not None else Defaults()
    q = wave_questionnaire(w)
    wave = open_wave(run, variance=d.variance, key=q.key, lonely_psu=d.lonely_psu)
    design = wave.design.with_columns(added_columns(wave.data, q, h, name))
    period = str(q.reference_date.year) if q.reference_date is not None else name
    return WaveInput(name, design, min_n=d.min_n, max_cv=d.max_cv, period=period,
                     proportion_ci=d.proportion_ci), d.level


def run_draw(draw: int, seed: int, scale: float) -> dict:
    """One draw: the trend table's rows (TREND_COLUMNS) or, when any step fails, the error."""
    from sid.project import load_project
    from sid.spec.harmonisation import load_harmonisation
    from sid.trends import trend_table

    t0 = time.perf_counter()
    seeds = draw_seeds(seed, draw)
    out: dict = {"draw": draw, "seeds": list(seeds)}
    quiet = os.environ.get("SID_QUIET")
    os.environ["SID_QUIET"] = "1"  # the stages' progress lines, for this draw only
    try:
        project = load_project(ROOT)
        waves = project.trends.waves
        h = load_harmonisation(HARMONISATION, waves=waves)
        with tempfile.TemporaryDirectory(prefix=f"sid-trend-power-{draw}-") as tmp, _no_invariance():
            inputs = [prepare_wave(project, w, s, scale, Path(tmp), h) for w, s in zip(waves, seeds, strict=True)]
            level = inputs[-1][1]  # the latest wave's confidence level, as sid trend
            out["table"] = trend_table([i for i, _ in inputs], h, level=level)[TREND_COLUMNS]
    except Exception as exc:  # a failed draw is counted and reported, not a crash of the study
        out["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    finally:  # a caller's own setting back (the tests run a draw in their process)
        if quiet is None:
            os.environ.pop("SID_QUIET", None)
        else:
            os.environ["SID_QUIET"] = quiet
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out


def _num(x, digits: int = 10) -> float | None:
    x = float(x)
    return None if not np.isfinite(x) else float(f"{x:.{digits}g}")


def _rows(items: list) -> str:
    return "[\n" + ",\n".join(json.dumps(r, separators=(",", ":")) for r in items) + "\n]"


def _write_json(path: Path, obj: dict) -> None:
    """Write ``obj`` to ``path`` atomically (a temporary file in the same folder, renamed):
    indented, but each element of its lists ``cells``, ``draws``, ``per_cell`` on one line."""
    rows = [k for k in ("cells", "per_cell", "draws") if isinstance(obj.get(k), list)]
    text = json.dumps({**obj, **{k: f"@@{k}@@" for k in rows}}, indent=1)
    for k in rows:
        text = text.replace(f'"@@{k}@@"', _rows(obj[k]))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def records_of(state: dict) -> pd.DataFrame:
    """The long frame (draw + CELL + RECORD) of the draws in ``state``."""
    cells = pd.DataFrame(state["cells"], columns=CELL)
    frames = [cells.assign(draw=d["draw"], **{c: np.array(d[c], dtype=float) for c in RECORD})
              for d in state["draws"]]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["draw", *CELL, *RECORD])


def _clean(obj):
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return _num(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def add_draw(state: dict, result: dict, truth: pd.DataFrame, asked: list[tuple[str, str]]) -> str:
    """Record one draw's ``result`` in ``state`` (a failed draw or a failed join of its
    table to ``truth`` on the ``asked`` concepts and domains: in ``failed``); return a
    one-line account."""
    if "error" not in result:
        try:
            cells = join_truth(result["table"], truth, asked)
        except ValueError as exc:
            result = {**result, "error": f"join: {exc}"}
    if "error" in result:
        state["failed"].append({k: result[k] for k in ("draw", "seeds", "seconds", "error")})
        return f"draw {result['draw']} FAILED in {result['seconds']} s: {result['error']}"
    key = cells[CELL].astype(object).where(cells[CELL].notna(), None).to_numpy().tolist()
    if state["cells"] is None:
        state["cells"] = key
    elif [k[:4] for k in key] != [k[:4] for k in state["cells"]]:
        state["failed"].append({**{k: result[k] for k in ("draw", "seeds", "seconds")},
                                "error": "join: the draw's cells differ from the first draw's"})
        return f"draw {result['draw']} FAILED: its cells differ from the first draw's"
    state["draws"].append({"draw": result["draw"], "seeds": result["seeds"], "seconds": result["seconds"],
                           **{c: [_num(v, 6) for v in cells[c]] for c in ("difference", "se", "p")},
                           **{c: [None if np.isnan(v) else int(v) for v in cells[c].to_numpy(dtype=float)]
                              for c in ("cover", "n_min")}})
    return f"draw {result['draw']} done in {result['seconds']} s"


def _summary_into(state: dict) -> None:
    rec = records_of(state)
    if len(rec):
        state["summary"] = summarise(rec)
        state["per_cell"] = per_cell(rec).to_dict(orient="records")
    state["draws_done"], state["draws_failed"] = len(state["draws"]), len(state["failed"])


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def report(state: dict) -> str:
    """The summary of ``state`` as Markdown: the rates per truth status, then one row per
    planted cell (true and mean estimated difference, mean SE, SD, observed and expected power)."""
    s, runs = state.get("summary", {}), state.get("runs", [])
    wall = sum(r.get("wall_seconds", 0) for r in runs)
    secs = [d["seconds"] for d in state["draws"]]
    lines = [f"{state['draws_done']} draws done, {state['draws_failed']} failed; scale {state['settings']['scale']}, "
             f"seed {state['settings']['seed']}; wall {wall / 60:.1f} min over {len(runs)} run(s), "
             f"median {np.median(secs) if secs else float('nan'):.1f} s per draw", "",
             "| cells | distinct cells (aliases) | cell-draws | rejected at 5% (MC SE) | CI coverage (MC SE) "
             "| expected power, mean SE / SD | median mean SE / SD |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for status in ("unchanged", "planted", "composition", "break"):
        if status not in s:
            continue
        r = s[status]
        cov = f"{_pct(r.get('coverage'))} ({_pct(r.get('coverage_mc_se'))})" if "coverage" in r else "-"
        exp = (f"{_pct(r['expected_power_mean_se'])} / {_pct(r['expected_power_sd'])}"
               if "expected_power_mean_se" in r else "-")
        ratio = f"{r['se_ratio_median']:.3f}" if r.get("se_ratio_median") is not None else "-"
        lines.append(f"| {status} | {r['cells']} ({r['aliases']}) | {r['cell_draws']} | {_pct(r['rejection_rate'])} "
                     f"({_pct(r['rejection_mc_se'])}) | {cov} | {exp} | {ratio} |")
    if "claimed" in s:
        lines += ["", f"Median over the {s['claimed']['cells']} unchanged and planted cells of mean SE / SD of the "
                      f"estimates: {s['claimed']['se_ratio_median']:.3f}."]
    planted = [c for c in state.get("per_cell", []) if c["status"] == "planted"]
    if planted:
        lines += ["", "| planted cell | true difference | mean estimate | mean SE | SD | rejected | expected (mean SE) "
                      "| expected (SD) | CI coverage |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {c['concept']} {c['domain']} {c['group']} | {c['truth']:+.2f} | {c['mean_difference']:+.2f} | "
                  f"{c['mean_se']:.2f} | {c['sd_difference']:.2f} | {_pct(c['reject'])} | {_pct(c['power_se'])} | "
                  f"{_pct(c['power_sd'])} | {_pct(c['cover'])} |" for c in planted]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.trend_power", description=__doc__.split("\n")[0])
    p.add_argument("--draws", type=int, default=40)
    p.add_argument("--scale", type=float, default=0.4)
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--resume", action="store_true", help="keep the draws of --out (same seed and scale)")
    p.add_argument("--report", action="store_true", help="print the summary of --out as Markdown; run nothing")
    a = p.parse_args(argv)
    if a.report:
        print(report(json.loads(a.out.read_text(encoding="utf-8"))))
        return 0
    from sid.demo.trend_differences import true_differences
    from sid.project import load_project
    from sid.spec.harmonisation import load_harmonisation

    t0 = time.perf_counter()
    settings = {"draws": a.draws, "scale": a.scale, "seed": a.seed, "jobs": a.jobs, "alpha": 0.05,
                "harmonisation": str(HARMONISATION.relative_to(ROOT)), "stages": list(STAGES)}
    state: dict = {"command": f"python -m benchmarks.trend_power --draws {a.draws} --scale {a.scale} "
                              f"--seed {a.seed} --jobs {a.jobs}",
                   "settings": settings, "runs": [], "cells": None, "draws": [], "failed": []}
    if a.resume and a.out.is_file():
        old = json.loads(a.out.read_text(encoding="utf-8"))
        if (old["settings"]["seed"], old["settings"]["scale"]) != (a.seed, a.scale):
            print(f"{a.out}: seed/scale differ from --seed/--scale; not resumed", file=sys.stderr)
            return 2
        state |= {k: old[k] for k in ("runs", "cells", "draws", "failed")}
        state["failed"] = [f for f in state["failed"] if f["draw"] < a.draws]  # re-run none: a failure stays
    run = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "jobs": a.jobs}
    state["runs"].append(run)
    truth = true_differences()
    asked = asked_pairs(load_harmonisation(HARMONISATION, waves=load_project(ROOT).trends.waves))
    done = {d["draw"] for d in state["draws"]} | {f["draw"] for f in state["failed"]}
    todo = [d for d in range(a.draws) if d not in done]
    print(f"trend power: {len(todo)} draws to run at scale {a.scale} (seed {a.seed}, {a.jobs} job(s)); "
          f"truth in {time.perf_counter() - t0:.1f} s", flush=True)
    with ProcessPoolExecutor(max_workers=a.jobs) as ex:
        futures = [ex.submit(run_draw, d, a.seed, a.scale) for d in todo]
        for fut in as_completed(futures):
            line = add_draw(state, fut.result(), truth, asked)
            _summary_into(state)
            run["wall_seconds"] = round(time.perf_counter() - t0, 1)
            run["ended"] = datetime.now(UTC).isoformat(timespec="seconds")
            state["draws"].sort(key=lambda d: d["draw"])
            _write_json(a.out, _clean(state))
            s = state.get("summary", {})
            rates = (f"; size {s['unchanged']['rejection_rate']:.3f}, power {s['planted']['rejection_rate']:.3f}"
                     if "unchanged" in s and "planted" in s else "")
            print(f"{line} ({state['draws_done']} done, {state['draws_failed']} failed){rates}", flush=True)
    _summary_into(state)
    _write_json(a.out, _clean(state))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
