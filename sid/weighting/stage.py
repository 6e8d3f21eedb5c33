"""The weight stage on a run folder: data folder + weighting spec (+ DIR/clean) -> DIR/weight.

Reads the wave's weighting spec (with the project file's roles and data files), the gross sample, dispositions and register
frame of the data folder, and the respondents kept by cleaning (``DIR/clean/flags.parquet``:
status complete or partial; break-offs are non-respondents; without DIR/clean the
dispositions' complete and partial interviews). Runs :func:`sid.weighting.chain.run_chain`
and :func:`sid.weighting.replicate_chain.replicate_weights`, and writes atomically
(docs/run-folder.md):

* ``weights.parquet``: the key, the design stratum (named as the stratum variable; several
  joined by ``|``), design_weight, eligibility_factor,
  nonresponse_factor, prior_weight (before calibration), weight (final), trimmed;
* ``replicates.parquet``: the key + rep_001..rep_R (float32);
* ``diagnostics.json``: method in words, per-group convergence, the calibrated margins
  (for ``Design.calibrated``; collapsed cells keyed ``"AFG:1:5+6"``), the collapses
  (``calibration.collapse``), the merged propensity classes (``nonresponse``), the
  replicate variance constants and the replicate columns left outside a trimming bound
  (``replicates.trimming_unsettled``), timings;
* ``diagnostics_groups.csv``: per origin group weight distribution, Kish deff, n_eff,
  trimmed cases, iterations, largest margin error before/after;
* ``diagnostics_margins.csv``: every margin cell (collapsed cells keyed ``5+6``, with the
  merged categories in ``collapsed``), respondents, population, before and after; with
  ``calibration.pooled`` also the pooled margins' cells, group ``"(pooled)"``, and
  ``diagnostics.json`` ``calibration.margins`` holds both kinds (the joint system) and
  ``convergence`` one entry per group plus ``"(pooled)"``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sid.errors import DataError, InputFileError
from sid.fieldwork import build_cases
from sid.io.csvfile import read_csv
from sid.project import Project, Wave, wave_weighting
from sid.spec.weighting import WeightingSpec
from sid.weighting.chain import ChainResult, run_chain
from sid.weighting.diagnostics import margin_table, weight_summary
from sid.weighting.replicate_chain import ReplicateWeights, replicate_weights

WEIGHT = "weight"
WEIGHTS_FILE, REPLICATES_FILE = "weights.parquet", "replicates.parquet"
DIAGNOSTICS_FILE, GROUPS_FILE, MARGINS_FILE = "diagnostics.json", "diagnostics_groups.csv", "diagnostics_margins.csv"
KEPT = ("complete", "partial")

PathLike = str | os.PathLike[str]


@dataclass
class WeightResult:
    """The stage's outputs in memory: ``weights`` and ``replicates`` frames, ``diagnostics``
    (the JSON document), ``groups`` and ``margins`` tables, ``chain`` (the arrays)."""

    weights: pd.DataFrame
    replicates: pd.DataFrame | None
    diagnostics: dict
    groups: pd.DataFrame
    margins: pd.DataFrame
    chain: ChainResult


def _csv(path: Path, key: str | None = None) -> pd.DataFrame:
    if not path.is_file():
        raise InputFileError(f"{path}: not found; give the data folder holding it (--data DIR)")
    return read_csv(path, text=[key] if key else ())


def _check_psu(gross: pd.DataFrame, psu: str, path: Path) -> None:
    """The spec's PSU column is in the gross sample and has a value in every row."""
    if psu not in gross.columns:
        raise DataError(f"{path}: no PSU column {psu!r} (weighting spec key sample.psu; columns: "
                        f"{', '.join(map(str, gross.columns))}); name the gross sample's PSU column "
                        "or set psu: null for an unclustered sample")
    missing = gross[psu].isna().to_numpy()
    if missing.any():
        raise DataError(f"{path}: row {int(np.flatnonzero(missing)[0]) + 2}: no PSU ({psu!r}; "
                        f"{int(missing.sum())} such rows); every sampled person needs a PSU")


def respondent_keys(out_dir: PathLike, cases: pd.DataFrame, key: str) -> tuple[pd.Series, str]:
    """Keys of the respondents, and where they came from (clean flags or dispositions)."""
    flags = Path(out_dir) / "clean" / "flags.parquet"
    if flags.is_file():
        f = pd.read_parquet(flags, columns=[key, "status"])
        kept = np.logical_or.reduce([(f["status"] == s).to_numpy(dtype=bool, na_value=False) for s in KEPT])
        # named relative to the run folder: a run folder's outputs do not depend on where it lies
        return f[key][kept].astype(str), "clean/flags.parquet (status complete or partial)"
    return cases[key][cases["outcome"].isin(["I", "P"])], "dispositions (complete and partial interviews)"


def _method_text(spec: WeightingSpec) -> str:
    c, nr = spec.calibration, spec.nonresponse
    parts = [f"design weights N_h/n_h per {', '.join(spec.sample.strata)}",
             f"unknown eligibility passed on {spec.eligibility.unknown}ly per stratum"]
    if nr.method == "propensity_classes":
        parts.append(f"non-response: logistic response propensity on {', '.join(nr.predictors)} within "
                     f"{nr.within or 'the sample'}, {nr.classes} propensity classes"
                     + (f", adjacent classes of fewer than {nr.min_respondents} respondents merged"
                        if nr.min_respondents is not None else ""))
    elif nr.method == "weighting_classes":
        parts.append(f"non-response: weighting classes {nr.within or ''} x {' x '.join(nr.predictors)}")
    parts.append(f"calibration ({c.method}{f', bounds {list(c.bounds)}' if c.bounds else ''}) within "
                 f"{c.within or 'the sample'} to {', '.join(c.margin_names())}, tolerance {c.tolerance:g}"
                 + (f", cells of fewer than {c.collapse_min} respondents collapsed with their neighbour"
                    if c.collapse_min is not None else "")
                 + (f"; jointly with the pooled margins {', '.join(c.pooled.margin_names())} over all groups "
                    "(one calibration, both kinds met)" if c.pooled is not None else ""))
    t = spec.trimming
    if t is not None:
        b = ", ".join(f"{side} {bd.value:g}{' x median' if bd.form == 'ratio_to_median' else ''}"
                      for side, bd in (("lower", t.lower), ("upper", t.upper)) if bd is not None)
        parts.append(f"trimming ({b}) within {t.within or 'the sample'}, re-calibrated, at most {t.max_rounds} rounds")
    return "; ".join(parts)


def _tables(ch: ChainResult, within: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    summary = weight_summary(ch.weight, ch.cal_group, trimmed=ch.trimmed)
    frames = []
    for g in ch.groups + ([ch.pooled] if ch.pooled is not None else []):  # pooled rows: "(pooled)"
        m = margin_table(g.X, g.totals, g.names, ch.prior[g.rows], ch.weight[g.rows])
        m.insert(0, within, g.label)
        # respondents per cell (unweighted), and the cells merged by calibration.collapse
        m.insert(2, "respondents", np.asarray((g.X != 0).sum(axis=0)).ravel().astype(np.int64))
        merged = {f"{c.margin}={c.key}": "+".join(c.categories) for c in ch.collapses if c.group == g.label}
        m.insert(3, "collapsed", [merged.get(x, "") for x in m["margin"]])
        frames.append(m)
    margins = pd.concat(frames, ignore_index=True)
    conv = pd.DataFrame(ch.convergence)
    worst = margins.assign(b=margins.rel_diff_before.abs(), a=margins.rel_diff_after.abs()).groupby(within)[["b", "a"]].max()
    worst.columns = ["max_rel_margin_error_before", "max_rel_margin_error_after"]
    groups = summary.merge(conv, on="group", how="left").merge(worst, left_on="group", right_index=True, how="left")
    return groups, margins


def weight_wave(out_dir: PathLike, spec: WeightingSpec, data: Path) -> WeightResult:
    """Compute the weight stage's outputs (nothing written). See the module docstring."""
    s = spec.sample
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    gross = _csv(data / s.gross_sample, s.key)
    disp = _csv(data / s.dispositions, s.key)
    frame = _csv(data / s.frame)
    if s.disposition not in disp.columns:
        raise DataError(f"{data / s.dispositions}: no disposition column {s.disposition!r}")
    if s.psu is not None:
        _check_psu(gross, s.psu, data / s.gross_sample)
    keep = [s.key, s.disposition] + [c for c in disp.columns if c not in gross.columns and c not in (s.key, s.disposition)]
    cases = build_cases(gross, disp[keep], spec.dispositions, key=s.key, disposition=s.disposition)
    keys, source = respondent_keys(out_dir, cases, s.key)
    # positions by a hash index on object arrays (pandas' arrow-string isin loops in Python)
    pos = pd.Index(cases[s.key].to_numpy(dtype=object)).get_indexer(keys.to_numpy(dtype=object))
    if (pos < 0).any():
        raise DataError(f"{source}: respondent {keys.iloc[int(np.flatnonzero(pos < 0)[0])]!r} is not in the "
                        "gross sample; the clean wave and the data folder belong to different waves")
    responded = np.zeros(len(cases), dtype=bool)
    responded[pos] = True
    timings["read"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ch = run_chain(gross, cases["outcome"], responded, frame, spec, frame_where=str(data / s.frame))
    timings["chain"] = time.perf_counter() - t0
    rep: ReplicateWeights | None = None
    reps = None
    rkeys = cases[s.key].to_numpy()[ch.resp]
    if spec.replicates is not None:
        t0 = time.perf_counter()
        psu = gross[s.psu].to_numpy() if s.psu else None
        rep = replicate_weights(ch, spec, psu)
        timings["replicates"] = time.perf_counter() - t0
        width = max(3, len(str(rep.weights.shape[1])))
        reps = pd.DataFrame(rep.weights, columns=[f"rep_{i + 1:0{width}d}" for i in range(rep.weights.shape[1])])
        reps.insert(0, s.key, rkeys)
    within = spec.calibration.within or "sample"
    r = ch.resp
    weights = pd.DataFrame({
        s.key: rkeys, s.stratum_column: ch.stratum[r].astype(str), "design_weight": ch.design_weight[r],
        "eligibility_factor": ch.eligibility_factor[r], "nonresponse_factor": ch.nonresponse_factor[r],
        "prior_weight": ch.prior, "weight": ch.weight, "trimmed": ch.trimmed,
    })
    t0 = time.perf_counter()
    groups, margins = _tables(ch, within)
    timings["diagnostics"] = time.perf_counter() - t0
    cells = list(ch.margins)
    diag = {
        "wave": spec.wave, "method": _method_text(spec), "respondents_from": source,
        "n_gross": int(len(gross)), "n_respondents": int(r.size),
        "design": {"key": s.key, "weight": "weight", "strata": s.stratum_column, "psu": None, "fpc": None},
        "calibration": {"prior": "prior_weight", "method": spec.calibration.method,
                        "bounds": list(spec.calibration.bounds) if spec.calibration.bounds else None,
                        "cells": cells, "margins": ch.margins,
                        "collapse": ({"min_respondents": spec.calibration.collapse_min,
                                      "rule": "a cell of fewer respondents is merged with the next "
                                              "category of the margin's last variable in code order "
                                              "(the last with the previous), within the group and the "
                                              "earlier variables' categories; full sample, reused in "
                                              "every replicate",
                                      "collapsed": [c.as_dict() for c in ch.collapses]}
                                     if spec.calibration.collapse_min is not None else None),
                        # pooled margins (keys of calibration_matrix; also under "margins",
                        # where Design.calibrated reads the joint system)
                        "pooled": ({"margins": list(spec.calibration.pooled.margin_names()),
                                    "joint": "one calibration of all respondents: group margins "
                                             "crossed with the group + the pooled margins"}
                                   if spec.calibration.pooled is not None else None)},
        "nonresponse": {"min_respondents": spec.nonresponse.min_respondents, "merged_classes": ch.nr_merged},
        "convergence": ch.convergence,
        "trimmed": int(ch.trimmed.sum()),
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    if rep is not None:
        diag["replicates"] = {"method": rep.type, "type": rep.type, "scale": rep.scale,
                              "rscales": rep.rscales.tolist(), "mse": rep.mse,
                              "replicates": int(rep.weights.shape[1]), "seed": spec.replicates.seed,
                              "description": rep.description,
                              "trimming_unsettled": rep.trimming_unsettled}
    return WeightResult(weights, reps, diag, groups, margins, ch)


def run_weight(out_dir: PathLike, project_dir: PathLike | Project = ".",
               data_dir: PathLike | None = None, spec: PathLike | None = None, *,
               wave: str | Wave | None = None) -> tuple[Path, WeightResult]:
    """Weight the wave into ``out_dir/weight`` and record the stage in the manifest.

    The wave (``wave``, else the run folder's, else the project's default) gives the
    weighting spec (``spec`` overrides it) with the project file's roles and data files;
    ``data_dir``: the folder of those files (default: the wave's data folder). Nothing is
    written when an input is wrong.
    """
    from sid.io.atomic import atomic_dir
    from sid.runfolder.context import data_folder, resolve_wave
    from sid.runfolder.manifest import StageRecord, record_stage

    out = Path(out_dir)
    w = resolve_wave(project_dir, out, wave)
    ws = wave_weighting(w, spec)
    spec_path = Path(ws.path)
    data = data_folder(w, data_dir)
    s = ws.sample
    inputs = [data / s.gross_sample, data / s.dispositions, data / s.frame]
    flags = out / "clean" / "flags.parquet"
    if flags.is_file():
        inputs.append(flags)
    rec = StageRecord(stage=WEIGHT, inputs=inputs, specs=[spec_path],
                      params={"wave": w.name, "data_dir": str(data),
                              "seed": ws.replicates.seed if ws.replicates else None,
                              "spec_sha256": ws.sha256})
    res = weight_wave(out, ws, data)
    target = out / WEIGHT
    t0 = time.perf_counter()
    with atomic_dir(target) as tmp:
        res.weights.to_parquet(tmp / WEIGHTS_FILE, index=False)
        if res.replicates is not None:
            res.replicates.to_parquet(tmp / REPLICATES_FILE, index=False)
        res.groups.to_csv(tmp / GROUPS_FILE, index=False)
        res.margins.to_csv(tmp / MARGINS_FILE, index=False)
        res.diagnostics["timings_seconds"]["write"] = round(time.perf_counter() - t0, 3)
        (tmp / DIAGNOSTICS_FILE).write_text(json.dumps(res.diagnostics, indent=1, default=_json) + "\n",
                                            encoding="utf-8")
    outputs = [target / f for f in (WEIGHTS_FILE, REPLICATES_FILE, GROUPS_FILE, MARGINS_FILE, DIAGNOSTICS_FILE)]
    rec.params.update({"respondents": int(len(res.weights)), "trimmed": res.diagnostics["trimmed"]})
    record_stage(out, rec.finish(out, outputs), wave=w.name)
    return target, res


def _json(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
