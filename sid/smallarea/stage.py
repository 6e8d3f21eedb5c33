"""The small-area stage (``sid smallarea``): Fay-Herriot estimates per municipality for the
LIIM, into the run folder, the indicator base and one printable page per municipality.

Reads the wave's small-area spec (:mod:`sid.smallarea.spec`; the project file's
``smallarea:`` entry of the wave), the processed wave (``sid.open_wave``, Taylor design
on the final weights), the covariates file of the data folder and the clusters file.
Per indicator: direct estimates per area, Fay-Herriot fit (:func:`fay_herriot`), and
per municipality the estimate with its MSE-based CI and method, the Flemish average (the
direct estimate over all respondents) and its cluster's average (population-weighted mean
of the cluster's published estimates). Publication rules: below ``min_n`` respondents the
direct estimate is not shown (flag ``direct_suppressed``); a CV above ``max_cv`` flags the
estimate ``not_publishable`` (kept in the files, left out of the printed pages' figures).

Writes ``RUN/smallarea/`` atomically: ``estimates.csv`` (one row per indicator x area),
``diagnostics.json`` (the fits), ``pages.json`` (what the report stage needs for the Dutch
LIIM page per municipality, ``RUN/report/liim/<nis>.html``: sid.report.liim), and loads the
estimates at geography = NIS code (wave ``<wave>-smallarea``; the method in ``note``) into
the run's own indicator base ``RUN/smallarea/base.duckdb`` (:data:`RUN_BASE`), with the
run's id and time as the link stage's loads, in one transaction inside that write. A trial
run never touches the project's shared base: ``sid publish RUN``
(:mod:`sid.pipeline.publish`) takes the wave there (the spec's ``base:`` is that shared
base when the wave has no linkage spec, :func:`shared_base`). An explicit ``db`` loads
that base directly instead.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sid.errors import DataError, InputFileError, SpecError
from sid.linkage.schema import ORIGIN, TOTAL
from sid.project import PROJECT_FILE, Project, Wave
from sid.smallarea.direct import direct_estimates
from sid.smallarea.estimate import diagnostics, fay_herriot
from sid.smallarea.register_gvf import (
    anticipated_variances,
    group_moments,
    realised_variances,
    register_cells,
)
from sid.smallarea.spec import SmallAreaSpec, load_smallarea_spec
from sid.spec.expr_nodes import to_array

PathLike = str | os.PathLike[str]
SMALLAREA = "smallarea"
#: the run's own indicator base, in RUN/smallarea/
RUN_BASE = "base.duckdb"
Z95 = 1.959963984540054


@dataclass(frozen=True)
class SmallAreaOutcome:
    """What the stage wrote: the estimates, the base and rows loaded, the folder."""

    estimates: pd.DataFrame
    db: Path | str
    counts: dict
    folder: Path


def _spec(w: Wave, spec_path: PathLike | None) -> SmallAreaSpec:
    path = Path(spec_path) if spec_path else w.smallarea
    if path is None:
        raise SpecError(f"{w.project_dir / PROJECT_FILE}: wave {w.name} names no small-area spec; add "
                        "smallarea: smallarea/<wave>.yaml to the wave, or give --spec FILE")
    return load_smallarea_spec(path, w.project_dir)


def read_covariates(path: Path, spec: SmallAreaSpec) -> pd.DataFrame:
    """The covariates file: one row per area (nis as text), every model column numeric."""
    from sid.io.csvfile import read_csv

    if not path.is_file():
        raise InputFileError(f"{path}: covariates file not found (named by {spec.path}: covariates); "
                             "give the data folder holding it (--data DIR)")
    df = read_csv(path, text=["nis"])
    for c in ("nis", "population", *spec.model):
        if c not in df.columns:
            raise DataError(f"{path}: no column {c!r} (small-area spec {spec.path}); columns: {', '.join(df.columns)}")
    for c in ("population", *spec.model):
        v = pd.to_numeric(df[c], errors="coerce")
        if v.isna().any():
            row = int(np.flatnonzero(v.isna().to_numpy())[0]) + 2
            raise DataError(f"{path}: row {row}: {c} {df[c].iloc[row - 2]!r} is not a number; give every area a value")
        df[c] = v.astype(float)
    dup = df["nis"].duplicated()
    if dup.any():
        raise DataError(f"{path}: row {int(np.flatnonzero(dup.to_numpy())[0]) + 2}: area {df['nis'][dup].iloc[0]} "
                        "is listed twice; one row per area")
    return df.reset_index(drop=True)


def read_register_counts(path: Path, spec: SmallAreaSpec, codes) -> pd.DataFrame:
    """The register counts file as a frame areas (``codes``) x cell labels (register_cells
    of the variance_cells columns, in the spec's order); every area needs a positive total."""
    from sid.io.csvfile import read_csv

    if not path.is_file():
        raise InputFileError(f"{path}: register counts file not found (named by {spec.path}: register_counts); "
                             "give the data folder holding it (--data DIR)")
    df = read_csv(path, text=True)
    cols = [c for _, c in spec.register_columns]
    for c in ("nis", *cols, "count"):
        if c not in df.columns:
            raise DataError(f"{path}: no column {c!r} (register_counts of {spec.path}); columns: {', '.join(df.columns)}")
    count = pd.to_numeric(df["count"], errors="coerce")
    bad = count.isna() | (count < 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise DataError(f"{path}: row {row}: count {df['count'].iloc[row - 2]!r} is not a number >= 0; correct it")
    cell = register_cells(*(df[c] for c in cols))
    wide = pd.DataFrame({"nis": df["nis"], "cell": cell, "count": count.astype(float)}).pivot_table(
        index="nis", columns="cell", values="count", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex([str(c) for c in codes]).fillna(0.0)
    empty = wide.sum(axis=1) <= 0
    if empty.any():
        raise DataError(f"{path}: area {wide.index[empty.to_numpy()][0]} of the covariates file has no register "
                        "counts; give every area its counts per cell")
    return wide


def _variances(d, spec: SmallAreaSpec, variable: str, area_col: str, codes, counts) -> tuple | None:
    """(psi, m) per area from the register (gvf register) or the realised weights (gvf
    weights), moments pooled per variance cell; None for the smoothing GVFs."""
    if spec.gvf not in ("register", "weights"):
        return None
    data = d.data
    for c in spec.variance_cells:
        if c not in data.columns:
            raise DataError(f"{spec.path}: variance_cells: {c!r} is not a variable of the wave; "
                            "name respondent variables")
    keep = np.asarray(d.domain, dtype=bool)
    cells = register_cells(*(data[c] for c in spec.variance_cells))
    y = np.where(keep, pd.to_numeric(data[variable], errors="coerce").to_numpy(float), np.nan)
    w = np.asarray(d.weights, dtype=float)
    mom = group_moments(y, w, cells)
    if spec.gvf == "register":
        return anticipated_variances(counts, mom, variable)
    return realised_variances(data[area_col], y, w, cells, mom, codes, variable)


def _average_mask(spec: SmallAreaSpec, data: pd.DataFrame) -> np.ndarray | None:
    """Respondents of the published regional average (spec ``average``), None for all."""
    cond = spec.average_condition
    if cond is None:
        return None
    for name in sorted(cond.names - set(map(str, data.columns))):
        raise DataError(f"{spec.path}: average: condition {cond.source!r}: variable {name!r} is not in the wave; "
                        "name a variable of the clean data")
    env = {c: to_array(data[c]) for c in cond.names}
    mask = cond.holds(env, len(data))
    if not mask.any():
        raise DataError(f"{spec.path}: average: no respondent meets {cond.source!r}; correct the condition")
    return mask


def _clusters(spec: SmallAreaSpec, cov: pd.DataFrame) -> pd.DataFrame:
    out = cov[["nis"]].copy()
    out["name"] = cov["name"] if "name" in cov.columns else cov["nis"]
    if spec.clusters is not None:
        from sid.smallarea.clusters import cluster_names, load_clusters

        codes = load_clusters(spec.clusters)
        names = pd.Series(cluster_names(spec.clusters))
        out["cluster"] = [codes.get(int(n)) if str(n).isdigit() else None for n in out["nis"]]
        if out["cluster"].isna().any():
            raise SpecError(f"{spec.clusters}: municipality {out.loc[out['cluster'].isna(), 'nis'].iloc[0]} has no "
                            "cluster; add it to one")
        out["cluster_name"] = out["cluster"].map(names).fillna(out["cluster"])
    else:
        out["cluster"] = cov["cluster"] if "cluster" in cov.columns else "all"
        out["cluster_name"] = cov["cluster_name"] if "cluster_name" in cov.columns else out["cluster"]
    return out


def estimate_indicators(design, spec: SmallAreaSpec, cov: pd.DataFrame,
                        counts: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """(estimates, diagnostics): one row per indicator x area (see the module docstring);
    ``counts``: the register counts (:func:`read_register_counts`) for gvf register."""
    data = design.data
    if spec.area not in data.columns:
        raise DataError(f"small-area spec {spec.path}: area variable {spec.area!r} is not in the wave; "
                        "name a variable of the clean data")
    codes = cov["nis"].astype(str).to_numpy()
    area = pd.to_numeric(data[spec.area], errors="coerce")
    area_txt = area.map(lambda v: None if pd.isna(v) else str(int(v)))
    unknown = sorted(set(area_txt.dropna()) - set(codes))
    if unknown:
        raise DataError(f"{spec.path}: respondents live in area {unknown[0]} that the covariates file lacks; "
                        "add it to the covariates file")
    col = f"_{spec.area}_code"
    d = design.with_columns({col: area_txt.to_numpy(dtype=object)})
    X = np.column_stack([np.ones(len(cov))] + [cov[c].to_numpy(float) for c in spec.model])
    pop = cov["population"].to_numpy(float)
    cl = _clusters(spec, cov)
    frames, diags = [], {}
    avg = _average_mask(spec, data)
    for ind in spec.indicators:  # a handful of indicators
        if ind.variable not in data.columns:
            raise DataError(f"{spec.path}: indicator {ind.code}: variable {ind.variable!r} is not in the wave")
        de = direct_estimates(d, ind.variable, col, areas=codes)
        ant = _variances(d, spec, ind.variable, col, codes, counts)
        overall = float(d.mean(ind.variable)["estimate"].iloc[0])
        regional = d.mean(ind.variable) if avg is None else d.subset(avg).mean(ind.variable)
        frame, fit = fay_herriot(codes, de["estimate"], de["variance"], de["n"], X, method=spec.method,
                                 transform=ind.transform, gvf_model=spec.gvf, smooth=spec.smooth, min_n=spec.min_n,
                                 deff=de["deff"], population=pop, total=overall, benchmark=spec.benchmark,
                                 name=ind.code, anticipated=ant)
        frame = pd.concat([cl.reset_index(drop=True), frame.drop(columns=["area"])], axis=1)
        frame.insert(0, "indicator", ind.code)
        frame["direct_shown"] = frame["n"] >= spec.min_n
        frame.loc[~frame["direct_shown"], ["direct", "direct_se", "cv_direct"]] = np.nan
        frame["publishable"] = np.isfinite(frame["cv"]) & (frame["cv"] <= spec.max_cv)
        frame["flemish_average"] = float(regional["estimate"].iloc[0])
        frame["flemish_average_se"] = float(regional["se"].iloc[0])
        ok = frame["publishable"].to_numpy()
        w = pd.DataFrame({"c": frame["cluster"], "w": pop * ok, "wy": pop * ok * np.nan_to_num(frame["estimate"])})
        g = w.groupby("c")[["w", "wy"]].sum()
        frame["cluster_average"] = frame["cluster"].map(g["wy"] / g["w"].replace(0, np.nan))
        frames.append(frame)
        diags[ind.code] = diagnostics(frame.rename(columns={"nis": "area"}), fit)
    return pd.concat(frames, ignore_index=True), diags


def base_values(est: pd.DataFrame, spec: SmallAreaSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(indicators, values) for the indicator base: geography = NIS code, method in note.
    The texts (theme, definition, notes) are the catalogue's, in the base's language (Dutch)."""
    from sid.linkage.spec import base_catalogue

    cat = base_catalogue()
    flags = np.where(~est["publishable"], "not_publishable", np.where(~est["direct_shown"], "direct_suppressed", ""))
    # SDMX: a model-based estimate is E (estimated); over the CV limit U (low reliability)
    obs = np.where(est["publishable"], "E", "U")
    values = pd.DataFrame({
        "indicator_code": est["indicator"], "period": spec.period, "geography": est["nis"].astype(str),
        ORIGIN: TOTAL, "value": est["estimate"], "se": est["se"], "ci_low": est["ci_low"],
        "ci_high": est["ci_high"], "cv": est["cv"], "n": est["n"], "flags": flags,
        "note": pd.Series([cat("indicator_base.smallarea_note", method=m, gvf=spec.gvf) for m in est["method"]],
                          index=est.index, dtype=object),
        "obs_status": obs, "conf_status": "F",
    })
    first = est.drop_duplicates("indicator")
    region = pd.DataFrame({  # the regional average each page compares with: a direct estimate
        "indicator_code": first["indicator"], "period": spec.period, "geography": spec.average_code, ORIGIN: TOTAL,
        "value": first["flemish_average"], "se": first["flemish_average_se"],
        "ci_low": first["flemish_average"] - Z95 * first["flemish_average_se"],
        "ci_high": first["flemish_average"] + Z95 * first["flemish_average_se"],
        "cv": first["flemish_average_se"] / first["flemish_average"].abs(), "n": np.nan, "flags": "",
        "note": cat("indicator_base.smallarea_average_note", name=spec.average_name),
        "obs_status": "A", "conf_status": "F",
    })
    values = pd.concat([values, region], ignore_index=True)
    ind = pd.DataFrame([{"code": i.code, "name": i.name, "theme": cat("indicator_base.smallarea_theme"),
                         "definition": cat("indicator_base.smallarea_definition", variable=i.variable,
                                           spec=spec.path.name),
                         "unit": i.unit, "source_type": "survey"} for i in spec.indicators])
    return ind, values


def page_meta(spec: SmallAreaSpec, w: Wave, diags: dict | None = None) -> dict:
    """What the report stage's LIIM pages need besides estimates.csv (pages.json); with
    ``diags`` the model's sigma2_u per indicator for the pages' technical note."""
    return {"survey_title": w.title or w.name, "period": spec.period, "min_n": spec.min_n, "max_cv": spec.max_cv,
            "method": spec.method, "average_name": spec.average_name, "gvf": spec.gvf,
            "indicators": {i.code: {"name": i.name, "unit": i.unit, "transform": i.transform or "none",
                                    **({"sigma2_u": diags[i.code]["sigma2_u"], "fit": diags[i.code]["method"]}
                                       if diags and i.code in diags else {})} for i in spec.indicators}}


def shared_base(w: Wave, spec: SmallAreaSpec, linkage_base: Path | str | None) -> Path | str | None:
    """The shared base ``sid publish`` takes the small-area wave to: the linkage spec's
    ``base`` (``linkage_base``), else the small-area spec's ``base``; a spec ``base`` that
    differs from the linkage spec's is refused (a run publishes into one base, in one
    transaction)."""
    from sid.linkage.db import is_url

    same = (linkage_base is None or spec.base is None or
            (not is_url(linkage_base) and Path(linkage_base).resolve() == Path(spec.base).resolve()))
    if not same:
        raise SpecError(f"{spec.path}: base: {spec.base} is not the linkage spec's base {linkage_base}; a run "
                        "publishes into one base: leave base: out, or name the same base")
    return linkage_base if linkage_base is not None else spec.base


def run_smallarea(out_dir: PathLike, project_dir: PathLike | Project = ".", data: PathLike | None = None, *,
                  spec_path: PathLike | None = None, db: PathLike | None = None,
                  wave: str | Wave | None = None) -> SmallAreaOutcome:
    """Run the small-area stage on run folder ``out_dir`` (see the module docstring). The
    estimates go into the run's own base ``RUN/smallarea/base.duckdb`` unless ``db`` names
    a base (a file or a PostgreSQL URL); ``sid publish`` takes them to the shared base."""
    from sid.linkage.base import Load, open_base, replace_waves
    from sid.linkage.db import base_target
    from sid.runfolder.context import resolve_wave
    from sid.runfolder.manifest import StageRecord, begin_stage, stage_folder
    from sid.runfolder.wave import open_wave

    out = Path(out_dir)
    begin_stage(out)
    w = resolve_wave(project_dir, out, wave)
    spec = _spec(w, spec_path)
    cov_path = (Path(data) if data is not None else w.data_folder) / spec.covariates
    cov = read_covariates(cov_path, spec)
    folder = Path(data) if data is not None else w.data_folder
    counts_path = folder / spec.register_counts if spec.register_counts else None
    counts = read_register_counts(counts_path, spec, cov["nis"]) if counts_path is not None else None
    opened = open_wave(out, variance="taylor", key=w.roles.key)
    est, diags = estimate_indicators(opened.design, spec, cov, counts)
    own = db is None  # the run's own base, built inside the stage folder
    base = out / SMALLAREA / RUN_BASE if own else base_target(db, where="--db")
    record = StageRecord(SMALLAREA, inputs=[cov_path, *([counts_path] if counts_path else []), out / "clean" / "data.parquet", out / "weight" / "weights.parquet"],
                         specs=[p for p in (spec.path, spec.clusters) if p is not None],
                         params={"wave": w.name, "db": str(base), "method": spec.method})
    ind, values = base_values(est, spec)
    # as the link stage: the base is loaded inside the folder's write, so a load that
    # fails leaves neither the base nor RUN/smallarea nor the manifest changed
    with stage_folder(out, record, wave=w.name) as st:
        tmp, run_id = st.path, st.run_id
        run_at = datetime.fromtimestamp(int(record.started), UTC).replace(tzinfo=None)
        est.to_csv(tmp / "estimates.csv", index=False, lineterminator="\n", float_format="%.10g")
        (tmp / "pages.json").write_text(json.dumps(page_meta(spec, w, diags), indent=2, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
        con = open_base(tmp / RUN_BASE if own else base)
        try:
            loaded = replace_waves(con, [Load(spec.base_wave or f"{w.name}-smallarea", "survey", ind, values,
                                              spec.spec_hash, run_id, where=str(spec.path), run_at=run_at)])
        finally:
            con.close()
        (tmp / "diagnostics.json").write_text(json.dumps(
            {"fits": diags, "loads": loaded, "db": str(base), "own_base": own, "run_id": run_id,
             "run_at": run_at.isoformat(sep=" ")}, indent=2, sort_keys=True, default=float) + "\n", encoding="utf-8")
    return SmallAreaOutcome(est, base, loaded, out / SMALLAREA)
