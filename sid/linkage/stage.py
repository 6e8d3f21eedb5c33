"""The link stage: survey indicators of a run folder's wave into the indicator base.

:func:`run_link` is what ``sid link`` and ``sid run`` call. It reads the linkage spec,
takes the respondents from the run folder (``sid.open_wave``: clean data, final weights,
indices, and the weight stage's replicate weights or calibration-aware Taylor SEs) or
from a parquet file, refuses raw national register numbers, computes the survey
indicators (:func:`sid.linkage.indicators.survey_indicators`), optionally links the
respondents to a pseudonymised register extract, and writes ``RUN/link/`` atomically:

* ``survey_indicators.csv`` - the rows loaded into the base (VLIM shape);
* ``load.json`` - base path, run id, spec hash, rows loaded and replaced per wave;
* ``link_rates.csv``, ``respondents_linked.parquet`` - with a register extract only.

The base is loaded (survey wave and any register sets) in one transaction inside the
folder's atomic write: if the load fails, neither the base nor ``RUN/link`` changes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sid.errors import InputFileError, LinkageError
from sid.linkage.base import Load, drop_wave, open_base, replace_waves
from sid.linkage.register_load import read_register_set
from sid.linkage.spec import LinkageSpec, find_spec, load_linkage_spec

PathLike = str | os.PathLike[str]
LINK = "link"


@dataclass(frozen=True)
class LinkOutcome:
    """What the stage did: the base, rows loaded/replaced per wave, link rates (or None)."""

    db: Path
    counts: dict[str, dict]
    rates: pd.DataFrame | None
    folder: Path | None


def _spec(project_dir: PathLike, spec_path: PathLike | None,
          out_dir: PathLike | None = None) -> tuple[Path, LinkageSpec]:
    path = Path(spec_path) if spec_path else find_spec(project_dir, out_dir)
    return path, load_linkage_spec(path, project=project_dir)


def read_parquet(path: PathLike) -> pd.DataFrame:
    """A parquet input file, with one-line errors."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"{p}: file not found")
    try:
        return pd.read_parquet(p)
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{p}: cannot read as parquet ({' '.join(str(exc).split())})") from None


def _run_id(out: Path) -> str:
    from sid.pipeline.manifest import read_manifest, record_stage

    run_id = read_manifest(out).get("run_id")
    if not run_id:  # record_stage gives the run its id; record a started entry to get it
        run_id = record_stage(out, {"stage": LINK, "status": "started"})["run_id"]
    return run_id


def load_register_sets(project_dir: PathLike, admin: Sequence[PathLike], *, spec_path: PathLike | None = None,
                       db: PathLike | None = None) -> LinkOutcome:
    """Load register indicator sets alone (one transaction); the spec gives the base and
    the origin categories their rows must use."""
    if not admin:
        raise LinkageError("no register set named; give the folders to load (--admin DIR)")
    _, spec = _spec(project_dir, spec_path)
    base = Path(db) if db else spec.base
    categories = [c.code for c in spec.origin_map.categories]
    sets = [read_register_set(a, origins=categories) for a in admin]
    con = open_base(base)
    try:
        counts = replace_waves(con, [Load(s.wave, "register", s.indicators, s.values, s.spec_hash,
                                          where=str(s.files[1])) for s in sets])
    finally:
        con.close()
    return LinkOutcome(base, counts, None, None)


def drop(project_dir: PathLike, wave: str, *, spec_path: PathLike | None = None, db: PathLike | None = None) -> int:
    """Remove ``wave``'s rows from the base; the number of values removed."""
    _, spec = _spec(project_dir, spec_path)
    con = open_base(Path(db) if db else spec.base)
    try:
        return drop_wave(con, wave)
    finally:
        con.close()


def run_link(
    out_dir: PathLike,
    project_dir: PathLike = ".",
    *,
    spec_path: PathLike | None = None,
    db: PathLike | None = None,
    respondents: PathLike | None = None,
    variance: str = "replicate",
    admin: Sequence[PathLike] = (),
    register: PathLike | None = None,
    key: str = "person_key",
    weight: str = "weight",
    strata: str | None = "origin",
    psu: str | None = None,
) -> LinkOutcome:
    """Run the link stage on run folder ``out_dir`` (see the module docstring).

    ``respondents``: a parquet file instead of the run folder's wave (Taylor SEs from the
    ``weight``/``strata``/``psu`` columns). ``variance``: "replicate" or "taylor" for the
    run folder's wave. ``admin``: register indicator sets to load in the same transaction.
    ``register``: a pseudonymised register extract to link the respondents to by ``key``.
    """
    from sid.io.atomic import atomic_dir
    from sid.linkage.indicators import survey_indicators
    from sid.linkage.pseudonym import refuse_raw_nrn
    from sid.pipeline.manifest import StageRecord, record_stage

    spec_file, spec = _spec(project_dir, spec_path, out_dir)
    base = Path(db) if db else spec.base
    out = Path(out_dir)
    if respondents is not None:
        data = read_parquet(respondents)
        source, inputs = data, [Path(respondents)]
        params = {"weight": weight, "strata": strata, "psu": psu, "variance": "taylor"}
    else:
        from sid.pipeline.wave import open_wave

        wave = open_wave(out, variance=variance, key=key)
        data, source = wave.data, wave.design
        params = {"variance": wave.design.method}
        inputs = [out / "clean" / "data.parquet", out / "clean" / "meta.json", out / "weight" / "weights.parquet",
                  out / "weight" / "diagnostics.json", out / "weight" / "replicates.parquet",
                  out / "score" / "indices.parquet"]
    refuse_raw_nrn(data, str(respondents or out))
    categories = [c.code for c in spec.origin_map.categories]
    sets = [read_register_set(a, origins=categories) for a in admin]
    linked = None
    if register is not None:
        from sid.linkage.register_link import link_register

        linked = link_register(data, read_parquet(register), key=key, origin=spec.origin_map.origin_variable,
                               where_survey=str(respondents or out), where_register=str(register))
        inputs.append(Path(register))
    record = StageRecord(LINK, inputs=[*inputs, *[f for s in sets for f in s.files]], specs=list(spec.files),
                         params={"db": str(base), **params})
    values = survey_indicators(source, spec, weight=weight, strata=strata, psu=psu)
    run_id = _run_id(out)
    loads = [Load(s.wave, "register", s.indicators, s.values, s.spec_hash, run_id, where=str(s.files[1]))
             for s in sets]
    loads.append(Load(spec.wave, "survey", spec.indicator_table(), values, spec.spec_hash, run_id,
                      where=str(spec_file)))
    target = out / LINK
    with atomic_dir(target) as tmp:
        values.to_csv(tmp / "survey_indicators.csv", index=False, lineterminator="\n", float_format="%.10g")
        names = ["survey_indicators.csv", "load.json"]
        if linked is not None:
            linked.rates.to_csv(tmp / "link_rates.csv", index=False, lineterminator="\n")
            linked.data.to_parquet(tmp / "respondents_linked.parquet", index=False)
            names += ["link_rates.csv", "respondents_linked.parquet"]
        con = open_base(base)
        try:
            counts = replace_waves(con, loads)
        finally:
            con.close()
        summary = {"db": str(base), "run_id": run_id, "spec_hash": spec.spec_hash, "loads": counts,
                   "variance": params["variance"],
                   "suppressed": int(values["flags"].str.startswith("suppressed").sum())}
        (tmp / "load.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    record_stage(out, record.finish(out, [target / n for n in names]))
    return LinkOutcome(base, counts, linked.rates if linked is not None else None, target)
