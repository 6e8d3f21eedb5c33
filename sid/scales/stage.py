"""The score stage: clean wave + weights + questionnaire spec -> indices and their reliability.

:func:`score_wave` is pure (frames in, :class:`ScoreResult` out): for every ``indices:``
entry of the spec it scores the index on the *valid view* of the clean wave (declared
missing codes -> NaN, so a missing code never enters a score) with
:func:`sid.scales.index.compute_index`, and assesses it overall and per origin group
(reliability, item statistics, one-factor loadings side by side, and the configural /
metric comparison of :mod:`sid.scales.invariance`); the group is the project's reporting
group (``roles.group`` in sid.yaml). :func:`run_score` reads ``DIR/clean``
and, when present, ``DIR/weight/weights.parquet``, writes ``DIR/score/`` atomically and
records the stage in the run manifest.

Outputs in ``DIR/score/`` (one row per ...):

* ``indices.parquet``: respondent of the clean wave; the key, one column per index (on
  its reporting scale) and ``<index>_reason`` (why it is missing; null where scored);
* ``reliability.csv``: index x group (``(all)``, then each origin): n, alpha (weighted
  when weights exist), alpha_unweighted, std_alpha, omega_total, average_r,
  min_item_rest_r, flag, reason, threshold, weighted (yes/no), omega_estimator;
* ``items.csv``: index x group x item: item_rest_r, alpha_if_dropped, loading;
* ``loadings.csv``: index x item: one-factor loadings pooled and per group side by
  side, flag and reason (:mod:`sid.scales.comparability`);
* ``reasons.csv``: index x group x reason (``(scored)`` first): count, n in the group;
* ``invariance.csv``: index x model (configural, metric, scalar): chisq, df, p, cfi,
  rmsea, npar, the deltas to the previous model, supported, groups, n, note;
* ``invariance_items.csv``: index x (loading, intercept) x item: the chi-square drop when
  that item alone is released across groups (delta_chisq, delta_df, p, share);
* ``summary.json``: weighted or not, the spec and weight file, and per index the counts,
  ``flags`` (one sentence each), ``flagged``, the invariance verdict and level reached
  (``notes`` when invariance could not be tested).

Weights: with ``DIR/weight`` present, its rows are the analysed respondents (as
:func:`sid.open_wave` reads them): a clean record without a weight keeps its row in
``indices.parquet`` with a missing index and the reason "no weight", counted in
``reasons.csv``; alpha, omega, loadings, the CFA and the z reference are survey-weighted
(``alpha_unweighted`` beside). Without ``DIR/weight`` every statistic is unweighted and
the outputs say so (``weighted`` = ``no`` in reliability.csv, a note in summary.json). Omega is always McDonald's
omega total of a one-factor minres model (:mod:`sid.scales.factor`), stated in the
column ``omega_estimator``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sid.errors import DataError, EstimationError, RunFolderError
from sid.io.keys import isin
from sid.project import PROJECT_FILE, Project, Wave, wave_questionnaire
from sid.scales.comparability import DEFAULT_MAX_DIFF, POOLED
from sid.scales.index import IndexResult, compute_index, item_ranges_from_spec
from sid.scales.reliability import DEFAULT_THRESHOLD
from sid.spec.questionnaire import Questionnaire

SCORE = "score"
WEIGHT_DIR, WEIGHT_FILE, WEIGHT_COLUMN = "weight", "weights.parquet", "weight"
INDICES_FILE, RELIABILITY_FILE, ITEMS_FILE = "indices.parquet", "reliability.csv", "items.csv"
LOADINGS_FILE, REASONS_FILE, INVARIANCE_FILE, INVARIANCE_ITEMS_FILE, SUMMARY_FILE = (
    "loadings.csv", "reasons.csv", "invariance.csv", "invariance_items.csv", "summary.json")
ALL = "(all)"
REASON_NO_WEIGHT = "no weight (not among the weighted respondents)"
OMEGA_ESTIMATOR = ("omega total (McDonald 1999) of a one-factor minres model on the pairwise "
                   "{w}correlation matrix (psych omega(nfactors=1))")

PathLike = str | os.PathLike[str]


@dataclass
class ScoreResult:
    """What scoring a wave gives; every table has an ``index`` column (see module doc)."""

    indices: pd.DataFrame
    reliability: pd.DataFrame
    items: pd.DataFrame
    loadings: pd.DataFrame
    reasons: pd.DataFrame
    invariance: pd.DataFrame
    invariance_items: pd.DataFrame
    summary: dict = field(default_factory=dict)


def _needed_columns(q: Questionnaire, group: str) -> list[str]:
    cols = [q.key, group]
    for ix in q.indices:
        cols += list(ix.items)
        if ix.reference_group is not None:
            cols += list(ix.reference_group.names)
    return list(dict.fromkeys(cols))


def _valid_items(df: pd.DataFrame, q: Questionnaire, meta=None) -> pd.DataFrame:
    """``df`` with the spec's (and the file's) declared missing codes as NaN."""
    from sid.spec.frame import valid_view

    out = valid_view(df, q)
    if meta is not None:
        # A code the file declares missing but the spec does not (sid check warns) is missing too.
        out = meta.valid_view(out)
    return out


def _reference_mask(df_raw: pd.DataFrame, q: Questionnaire, index) -> np.ndarray | None:
    """The spec's reference group for scale z, with the spec's three-valued semantics."""
    if index.scale != "z" or index.reference_group is None:
        return None
    from sid.spec.frame import expression_env

    valid, raw = expression_env(df_raw, q)
    return index.reference_group.holds(valid, len(df_raw), codes=raw)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _loadings_wide(res: IndexResult) -> pd.DataFrame:
    """Items x (pooled, groups) side by side, with the flagged groups and why."""
    wide = res.loadings.reset_index()
    flags = res.loading_flags[res.loading_flags["flag"]]
    why = flags.assign(text=flags["group"].astype(str) + ": " + flags["reason"]).groupby("item")["text"]
    wide["flag"] = wide["item"].isin(flags["item"])
    wide["reason"] = wide["item"].map(why.agg("; ".join)).astype(object).fillna("")
    wide.insert(0, "index", res.name)
    return wide


def _reasons(name: str, score: np.ndarray, reason: np.ndarray, groups: pd.Series) -> pd.DataFrame:
    """Counts of each reason for a missing index, overall and per group (with n)."""
    reason = pd.Series(reason, dtype=object)
    scored_mask = ~np.isnan(score)
    frames = []
    for label, mask in [(ALL, np.ones(len(reason), bool))] + [
            (g, (groups == g).to_numpy()) for g in sorted(groups.dropna().unique())]:
        counts = reason[mask].dropna().value_counts()
        rows = [{"reason": "(scored)", "count": int(scored_mask[mask].sum())}] + [
            {"reason": str(r), "count": int(c)} for r, c in counts.items()]
        frames.append(pd.DataFrame(rows).assign(index=name, group=label, n=int(mask.sum())))
    out = pd.concat(frames, ignore_index=True)
    return out[["index", "group", "reason", "count", "n"]]


def score_wave(df: pd.DataFrame, q: Questionnaire, *, group: str, weight: np.ndarray | None = None,
               meta=None, max_loading_diff: float = DEFAULT_MAX_DIFF) -> ScoreResult:
    """Score every index of ``q`` on the clean wave ``df`` (missing codes kept as codes).

    ``weight``: one final weight per row of ``df`` (None: unweighted statistics);
    ``group``: the reporting group variable (the project's ``roles.group``; SID: origin)
    whose levels get their own reliability and loadings;
    ``meta``: the clean wave's SpssMeta, whose declared missing codes are honoured too.
    """
    if not q.indices:
        raise DataError(f"{q.path or q.wave}: the spec declares no indices; nothing to score")
    if group not in df.columns:
        raise DataError(f"clean wave: no group variable {group!r}; the spec's derived variables "
                        "must define it (re-run sid clean)")
    needed = _needed_columns(q, group)
    lacking = [c for c in needed if c not in df.columns]
    if lacking:
        raise DataError(f"clean wave: no column(s) {lacking[:5]} that the spec's indices need; "
                        "re-run sid clean with this spec")
    full = df[needed].reset_index(drop=True)
    out = {q.key: full[q.key].to_numpy(dtype=object)}
    analysed = np.ones(len(full), dtype=bool)
    wname = None
    if weight is not None:
        weight = np.asarray(weight, dtype=float)
        analysed = ~np.isnan(weight)  # the weight stage's respondents (see read_weights)
        if not analysed.any():
            raise DataError("no respondent of the clean wave has a weight; re-run sid weight")
        wname = "__weight__"
    raw = full[analysed].reset_index(drop=True)
    data = _valid_items(raw, q, meta)
    if wname is not None:
        data[wname] = weight[analysed]
    weighted = wname is not None
    rel, items, loads, reasons, inv, inv_items = [], [], [], [], [], []
    summary = {"weighted": weighted, "group": group, "respondents": len(full),
               "analysed": int(analysed.sum()), "indices": {}}
    for ix in q.indices:
        ranges = item_ranges_from_spec(q, ix.items)
        res = compute_index(data, ix, item_ranges=ranges, weight=wname, group=group,
                            reference_mask=_reference_mask(raw, q, ix), max_loading_diff=max_loading_diff)
        score = np.full(len(full), np.nan)
        score[analysed] = res.score.to_numpy(dtype=float)
        reason = np.full(len(full), REASON_NO_WEIGHT, dtype=object)
        reason[analysed] = res.reason.astype(object).where(res.reason.notna(), None).to_numpy()
        out[ix.name], out[f"{ix.name}_reason"] = score, reason
        threshold = DEFAULT_THRESHOLD if ix.reliability_min is None else ix.reliability_min
        r = res.reliability.copy()
        r.insert(0, "index", ix.name)
        r["threshold"] = threshold
        r["weighted"] = _yes(weighted)
        r["omega_estimator"] = OMEGA_ESTIMATOR.format(w="survey-weighted " if weighted else "")
        rel.append(r)
        items.append(res.item_reliability.assign(index=ix.name))
        reasons.append(_reasons(ix.name, score, reason, full[group]))
        entry = {
            "scale": ix.scale, "scoring": ix.scoring, "min_valid": ix.min_valid, "n_items": len(ix.items),
            "n_scored": int((~np.isnan(score)).sum()), "n_missing": int(np.isnan(score).sum()),
            "reliability_threshold": threshold,
            "low_reliability_groups": [str(g) for g in r.loc[r["flag"], "group"]],
            "flagged": res.flagged,
        }
        flags = [f"alpha below {threshold} or not computable in {g}" for g in entry["low_reliability_groups"]]
        if res.loadings is not None:
            loads.append(_loadings_wide(res))
            f = res.loading_flags[res.loading_flags["flag"]]
            entry["loading_flags"] = [{"item": i, "group": str(g), "reason": why}
                                      for i, g, why in zip(f["item"], f["group"], f["reason"], strict=True)]
            flags += [f"loading of {i} in {g}: {why}" for i, g, why in zip(f["item"], f["group"], f["reason"],
                                                                           strict=True)]
            entry["invariance"], level = _invariance(data, ix, ranges, group, wname, inv, inv_items)
            entry["invariance_level"] = level
            if level == "not fitted":
                entry["notes"] = [f"measurement invariance not tested: {entry['invariance']}"]
            elif level != "scalar":
                # index means of the groups are compared in every table: say when that is not backed
                flags.append(f"scalar invariance not supported ({entry['invariance']}); compare group "
                             "means of this index with care")
                entry["flagged"] = True
        entry["flags"] = flags
        summary["indices"][ix.name] = entry
    summary["flagged"] = [n for n, e in summary["indices"].items() if e["flagged"]]
    first = ["index"]
    return ScoreResult(
        indices=pd.DataFrame(out),
        reliability=pd.concat(rel, ignore_index=True),
        items=_first(pd.concat(items, ignore_index=True), first),
        loadings=pd.concat(loads, ignore_index=True) if loads else pd.DataFrame(
            columns=["index", "item", POOLED, "flag", "reason"]),
        reasons=pd.concat(reasons, ignore_index=True),
        invariance=_first(pd.concat(inv, ignore_index=True), first) if inv else pd.DataFrame(columns=["index"]),
        invariance_items=(_first(pd.concat(inv_items, ignore_index=True), first) if inv_items
                          else pd.DataFrame(columns=["index"])),
        summary=summary,
    )


def _invariance(data: pd.DataFrame, ix, ranges, group: str, weight: str | None, tables: list,
                item_tables: list) -> tuple[str, str]:
    """Multi-group CFA of one index: (verdict, level reached or "not fitted")."""
    from sid.scales.invariance import invariance_by_group

    if ix.scoring == "count":
        return ("not fitted: a linear factor model on 0/1 counted codes is not a fit test "
                "(needs a categorical CFA)", "not fitted")
    try:
        iv = invariance_by_group(data, list(ix.items), group, reverse=ix.reverse, item_range=ranges, weight=weight)
    except EstimationError as exc:
        return f"not computable: {exc}", "not fitted"
    tables.append(iv.table.assign(index=ix.name))
    item_tables.append(iv.items.assign(index=ix.name))
    level = iv.verdict.split()[0]
    verdict = iv.verdict
    if level != "scalar":
        failed = "loading" if level == "configural" else "intercept"
        worst = iv.items[iv.items["parameter"] == failed].sort_values("delta_chisq").iloc[-1]
        verdict += (f"; the {failed} of {worst['item']} differs most between groups (releasing it "
                    f"removes {worst['share']:.0%} of the misfit)")
    return verdict, level


def _first(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return df[cols + [c for c in df.columns if c not in cols]]


def read_weights(out_dir: PathLike, keys: pd.Series, key: str) -> tuple[np.ndarray, Path] | None:
    """Final weights of ``DIR/weight/weights.parquet`` aligned to the clean wave's ``keys``
    (None without ``DIR/weight``). The weight file's rows are the analysed respondents
    (as :func:`sid.open_wave` reads them): a clean record without a weight gets NaN (it
    is not scored); a weighted key without a clean record, a repeated key, or a missing
    or negative weight is an error."""
    folder = Path(out_dir) / WEIGHT_DIR
    if not folder.exists():
        return None
    path = folder / WEIGHT_FILE
    if not path.is_file():
        raise RunFolderError(f"{path} not found though {folder} exists; re-run sid weight")
    w = pd.read_parquet(path)
    for col in (key, WEIGHT_COLUMN):
        if col not in w.columns:
            raise RunFolderError(f"{path}: no column {col!r}; re-run sid weight")
    wkeys = w[key].astype(str)
    dup = wkeys.duplicated()
    if dup.any():
        raise RunFolderError(f"{path}: key {wkeys[dup].iloc[0]!r} has more than one weight; re-run sid weight")
    values = pd.to_numeric(w[WEIGHT_COLUMN], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise RunFolderError(f"{path}: {int(bad.sum())} missing or negative weight(s), first for key "
                             f"{wkeys[bad].iloc[0]!r}; re-run sid weight")
    clean_keys = keys.astype(str)
    orphan = ~isin(wkeys, clean_keys)
    if orphan.any():
        raise RunFolderError(f"{path}: key {wkeys[orphan].iloc[0]!r} has a weight but no clean record; "
                             "re-run sid weight on this clean wave")
    aligned = pd.Series(values, index=wkeys).reindex(clean_keys).to_numpy()
    return aligned, path


def run_score(out_dir: PathLike, project_dir: PathLike | Project = ".", spec: PathLike | None = None,
              group: str | None = None, *, wave: str | Wave | None = None) -> tuple[Path, ScoreResult]:
    """Score ``out_dir/clean`` into ``out_dir/score`` and record the stage in the manifest.

    The wave (``wave``, else the run folder's, else the project's default) gives the
    questionnaire spec (``spec`` overrides it) and the reporting group (``roles.group``;
    ``group`` overrides it). Nothing is written when an input is wrong. Returns the score
    folder and the result.
    """
    from sid.io.wave import DATA_FILE, META_FILE, read_wave
    from sid.runfolder.context import resolve_wave
    from sid.runfolder.manifest import StageRecord, begin_stage, stage_folder

    out = Path(out_dir)
    begin_stage(out)
    w = resolve_wave(project_dir, out, wave)
    clean_dir = out / "clean"
    # The spec is checked (items declared, reversed items with a range, k <= n) before
    # any data is read.
    q = wave_questionnaire(w, spec, check=True)
    spec_path = Path(q.path) if q.path else w.questionnaire
    group = group or w.roles.group
    df, meta = read_wave(clean_dir)
    if q.key not in df.columns:
        raise DataError(f"{clean_dir / DATA_FILE}: no key variable {q.key!r}; re-run sid clean")
    if group not in df.columns:
        raise DataError(f"{clean_dir / DATA_FILE}: no reporting-group variable {group!r} (roles.group "
                        f"of wave {w.name} in {w.project_dir / PROJECT_FILE}); declare it in the "
                        "questionnaire (a variable or a derived one) and re-run sid clean, or fix the role")
    got = read_weights(out, df[q.key], q.key)
    weight, wpath = (None, None) if got is None else got
    rec = StageRecord(stage=SCORE, inputs=[clean_dir / DATA_FILE, clean_dir / META_FILE]
                      + ([wpath] if wpath else []), specs=[spec_path],
                      params={"wave": w.name, "group": group, "weighted": weight is not None})
    res = score_wave(df, q, weight=weight, group=group, meta=meta)
    # the weights relative to the run folder: outputs do not depend on where it lies
    res.summary.update(weights=str(Path(wpath).relative_to(out)) if wpath else None, spec=w.relative(spec_path),
                       note=None if wpath else "no DIR/weight: every statistic is unweighted")
    rec.params.update({"respondents": len(res.indices), "flagged": res.summary["flagged"]})
    rec.warnings += score_warnings(res.summary)
    with stage_folder(out, rec, wave=w.name) as st:
        tmp = st.path
        res.indices.to_parquet(tmp / INDICES_FILE, index=False)
        res.reliability.to_csv(tmp / RELIABILITY_FILE, index=False)
        res.items.to_csv(tmp / ITEMS_FILE, index=False)
        res.loadings.to_csv(tmp / LOADINGS_FILE, index=False)
        res.reasons.to_csv(tmp / REASONS_FILE, index=False)
        res.invariance.to_csv(tmp / INVARIANCE_FILE, index=False)
        res.invariance_items.to_csv(tmp / INVARIANCE_ITEMS_FILE, index=False)
        (tmp / SUMMARY_FILE).write_text(json.dumps(res.summary, indent=2, default=str) + "\n", encoding="utf-8")
    return out / SCORE, res


def score_warnings(summary: dict) -> list[str]:
    """Sentences for the survey team: each flagged index, what is flagged (low reliability,
    loadings that differ between groups, scalar invariance not supported), in one line."""
    out = []
    for name, e in summary.get("indices", {}).items():
        if not e.get("flagged"):
            continue
        why = []
        if e.get("low_reliability_groups"):
            why.append(f"reliability below {e.get('reliability_threshold')} in "
                       + ", ".join(map(str, e["low_reliability_groups"])))
        if e.get("loading_flags"):
            why.append(f"{len(e['loading_flags'])} loading(s) differ between groups")
        if e.get("invariance_level") not in (None, "scalar", "not fitted"):
            why.append(f"scalar invariance not supported (level reached: {e['invariance_level']}), "
                       "compare group means with care")
        out.append(f"index {name} flagged: {'; '.join(why) or 'see the flags'} (score/summary.json)")
    return out
