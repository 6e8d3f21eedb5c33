"""The link stage: survey indicators of a run folder's wave into the indicator base.

:func:`run_link` is what ``sid link`` and ``sid run`` call. It reads the linkage spec,
takes the respondents from the run folder (``sid.open_wave``: clean data, final weights,
indices, and the weight stage's replicate weights or calibration-aware Taylor SEs) or
from a parquet file, refuses raw national register numbers, computes the survey
indicators (:func:`sid.linkage.indicators.survey_indicators`), optionally links the
respondents to a pseudonymised register extract, and writes ``RUN/link/`` atomically:

* ``survey_indicators.csv`` - the rows loaded into the base (VLIM shape);
* ``base.duckdb`` - the run's own indicator base (:data:`RUN_BASE`), unless ``db`` names one;
* ``load.json`` - base path, run id, run time, spec hash, rows loaded and replaced per wave;
* ``link_rates.csv``, ``respondents_linked.parquet`` - with a register extract only.

A run loads into a base of its own, so a trial run never touches the project's shared
base (the linkage spec's ``base:``); ``sid publish RUN`` (:mod:`sid.pipeline.publish`)
copies its waves there. An explicit ``db`` loads that base instead. The base is loaded
(survey wave and any register sets) in one transaction inside the folder's atomic
write: if the load fails, neither the base nor ``RUN/link`` changes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sid.errors import InputFileError, LinkageError, SpecError
from sid.linkage.base import Load, drop_wave, open_base, replace_waves
from sid.linkage.db import base_target
from sid.linkage.register_load import read_register_set
from sid.linkage.spec import LinkageSpec, load_linkage_spec
from sid.project import PROJECT_FILE, Project, Wave, wave_questionnaire

PathLike = str | os.PathLike[str]
LINK = "link"
#: the run's own indicator base, in RUN/link/
RUN_BASE = "base.duckdb"


@dataclass(frozen=True)
class LinkOutcome:
    """What the stage did: the base, rows loaded/replaced per wave, link rates (or None)."""

    db: Path | str
    counts: dict[str, dict]
    rates: pd.DataFrame | None
    folder: Path | None


def _spec(w: Wave, spec_path: PathLike | None, data_dir: PathLike | None = None) -> tuple[Path, LinkageSpec]:
    """The wave's linkage spec (``spec_path`` overrides it), read with the wave's
    questionnaire and reporting group; its ``base`` must lie inside the project folder or
    the data folder (``data_dir``, default the wave's)."""
    from sid.runfolder.context import data_folder

    if spec_path is None and w.linkage is None:
        raise SpecError(f"{w.project_dir / PROJECT_FILE}: wave {w.name} names no linkage spec; add "
                        "linkage: linkage/<wave>.yaml to the wave, or give --spec FILE")
    path = Path(spec_path) if spec_path else w.linkage
    return path, load_linkage_spec(path, project=w.project_dir, data=data_folder(w, data_dir),
                                   questionnaire=wave_questionnaire(w), group=w.roles.group)


def read_parquet(path: PathLike) -> pd.DataFrame:
    """A parquet input file, with one-line errors."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"{p}: file not found")
    try:
        return pd.read_parquet(p)
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{p}: cannot read as parquet ({' '.join(str(exc).split())})") from None


def load_register_sets(project_dir: PathLike | Project, admin: Sequence[PathLike], *,
                       spec_path: PathLike | None = None, db: PathLike | None = None,
                       wave: str | Wave | None = None) -> LinkOutcome:
    """Load register indicator sets alone (one transaction); the wave's linkage spec gives
    the base and the origin categories their rows must use."""
    from sid.runfolder.context import resolve_wave

    if not admin:
        raise LinkageError("no register set named; give the folders to load (--admin DIR)")
    _, spec = _spec(resolve_wave(project_dir, None, wave), spec_path)
    base = base_target(db, where="--db") if db else spec.base
    categories = [c.code for c in spec.origin_map.categories]
    sets = [read_register_set(a, origins=categories) for a in admin]
    con = open_base(base)
    try:
        counts = replace_waves(con, [Load(s.wave, "register", s.indicators, s.values, s.spec_hash,
                                          where=str(s.files[1])) for s in sets])
    finally:
        con.close()
    return LinkOutcome(base, counts, None, None)


def drop(project_dir: PathLike | Project, name: str, *, spec_path: PathLike | None = None,
         db: PathLike | None = None, wave: str | Wave | None = None) -> int:
    """Remove the rows of ``name`` (a survey wave or register set of the base) from the
    base, which the project wave's linkage spec names; the number of values removed."""
    from sid.runfolder.context import resolve_wave

    _, spec = _spec(resolve_wave(project_dir, None, wave), spec_path)
    con = open_base(base_target(db, where="--db") if db else spec.base)
    try:
        return drop_wave(con, name)
    finally:
        con.close()


def run_link(
    out_dir: PathLike,
    project_dir: PathLike | Project = ".",
    *,
    spec_path: PathLike | None = None,
    db: PathLike | None = None,
    respondents: PathLike | None = None,
    variance: str = "replicate",
    admin: Sequence[PathLike] = (),
    register: PathLike | None = None,
    key: str | None = None,
    weight: str = "weight",
    strata: str | None = None,
    psu: str | None = None,
    data_dir: PathLike | None = None,
    wave: str | Wave | None = None,
) -> LinkOutcome:
    """Run the link stage on run folder ``out_dir`` (see the module docstring).

    The wave (``wave``, else the run folder's, else the project's default) gives the
    linkage spec (``spec_path`` overrides it), the respondent key (``roles.key``; ``key``
    overrides it) and the reporting group (the origin map's default origin variable).
    The values go into the run's own base ``RUN/link/base.duckdb`` unless ``db`` names
    a base (a file or a PostgreSQL URL); ``sid publish`` takes them to the shared base.
    ``respondents``: a parquet file instead of the run folder's wave (Taylor SEs from the
    ``weight``/``strata``/``psu`` columns; ``strata`` default: the wave's one stratum
    variable). ``variance``: "replicate" or "taylor" for the run folder's wave. ``admin``:
    register indicator sets to load in the same transaction. ``register``: a
    pseudonymised register extract to link the respondents to by ``key``. ``data_dir``:
    the run's data folder (default: the wave's), where the spec's ``base`` may lie besides
    the project folder (sid.linkage.spec.load_linkage_spec).
    """
    from sid.io.pseudonym import refuse_raw_nrn
    from sid.linkage.indicators import survey_indicators
    from sid.runfolder.context import resolve_wave
    from sid.runfolder.manifest import StageRecord, begin_stage, stage_folder

    out = Path(out_dir)
    begin_stage(out)
    w = resolve_wave(project_dir, out, wave)
    spec_file, spec = _spec(w, spec_path, data_dir)
    own = db is None  # the run's own base, built inside the stage folder
    base = out / LINK / RUN_BASE if own else base_target(db, where="--db")
    key = key or w.roles.key
    if respondents is not None:
        if strata is None and len(w.roles.strata) == 1:
            strata = w.roles.strata[0]
        data = read_parquet(respondents)
        source, inputs = data, [Path(respondents)]
        params = {"weight": weight, "strata": strata, "psu": psu, "variance": "taylor"}
    else:
        from sid.runfolder.wave import open_wave

        opened = open_wave(out, variance=variance, key=key)
        data, source = opened.data, opened.design
        params = {"variance": opened.design.method}
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
                         params={"wave": w.name, "db": str(base), **params})
    values = survey_indicators(source, spec, weight=weight, strata=strata, psu=psu)
    # the base is loaded inside the folder's write: a load that fails leaves neither the
    # base nor RUN/link nor the manifest changed (a manifest write that fails after a
    # load leaves the base loaded and RUN/link as it was; re-running the stage replaces
    # the same wave's rows)
    with stage_folder(out, record, wave=w.name) as st:
        tmp, run_id = st.path, st.run_id
        run_at = datetime.fromtimestamp(int(record.started), UTC).replace(tzinfo=None)
        loads = [Load(s.wave, "register", s.indicators, s.values, s.spec_hash, run_id, where=str(s.files[1]),
                      run_at=run_at) for s in sets]
        loads.append(Load(spec.wave, "survey", spec.indicator_table(), values, spec.spec_hash, run_id,
                          where=str(spec_file), run_at=run_at))
        values.to_csv(tmp / "survey_indicators.csv", index=False, lineterminator="\n", float_format="%.10g")
        if linked is not None:
            linked.rates.to_csv(tmp / "link_rates.csv", index=False, lineterminator="\n")
            linked.data.to_parquet(tmp / "respondents_linked.parquet", index=False)
        con = open_base(tmp / RUN_BASE if own else base)
        try:
            counts = replace_waves(con, loads)
        finally:
            con.close()
        summary = {"db": str(base), "own_base": own, "run_id": run_id, "run_at": run_at.isoformat(sep=" "),
                   "spec_hash": spec.spec_hash, "loads": counts,
                   "variance": params["variance"],
                   "suppressed": int(values["flags"].str.startswith("suppressed").sum())}
        (tmp / "load.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return LinkOutcome(base, counts, linked.rates if linked is not None else None, out / LINK)

