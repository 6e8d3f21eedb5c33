"""``sid publish RUN``: a run's waves from its own indicator base into the shared base.

The link stage loads a run into ``RUN/link/base.duckdb`` (:data:`sid.linkage.stage.RUN_BASE`)
and the small-area stage into ``RUN/smallarea/base.duckdb``, so a trial run never changes
the project's shared base. :func:`publish` (which :func:`sid.pipeline.publish.publish_run`
calls with the run folder's bases) copies every wave of those bases (the survey wave, any
register sets loaded with it, the ``<wave>-smallarea`` wave) into the shared base in one
transaction, and says what it replaces: per wave the run id and times before and after,
per indicator the rows and periods before and after (:class:`Published`).

A run older than the one the shared base holds for the same wave is refused (by the
run's time, ``run_at``: when its link stage computed the values; the run id tells two
runs apart), unless ``force``; the check runs inside the load's transaction, under the
wave's lock, so two publishes of one wave cannot both pass it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from sid.errors import LinkageError
from sid.linkage.base import Load, open_base, replace_waves
from sid.linkage.db import Db, is_url
from sid.linkage.schema import VALUE_COLUMNS, indicator_select

PathLike = str | os.PathLike[str]


@dataclass
class WaveChange:
    """What publishing one wave replaces: ``old_*`` None when the wave is new to the base;
    ``indicators``: code, old_rows, old_periods, new_rows, new_periods (periods as text)."""

    wave: str
    new_run_id: str | None
    new_run_at: datetime | None
    old_run_id: str | None = None
    old_run_at: datetime | None = None
    old_loaded_at: datetime | None = None
    indicators: pd.DataFrame = field(default_factory=pd.DataFrame)
    forced: bool = False


@dataclass(frozen=True)
class Published:
    """The outcome of :func:`publish`: the shared base, per wave what changed, rows loaded."""

    db: Path | str
    changes: list[WaveChange]
    counts: dict[str, dict]


def _when(t: datetime | None) -> str:
    return "unknown time" if t is None else f"{pd.Timestamp(t):%Y-%m-%d %H:%M:%S} UTC"


def _periods(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows and periods per indicator of long rows (indicator_code, period, n_rows)."""
    if frame.empty:
        return pd.DataFrame(columns=["code", "rows", "periods"])
    g = frame.groupby("indicator_code")
    return pd.DataFrame({"rows": g["n_rows"].sum(),
                         "periods": g["period"].agg(lambda p: ", ".join(str(int(x)) for x in sorted(p)))}
                        ).rename_axis("code").reset_index()


def _read_run(run_base: Path) -> list[tuple[Load, pd.DataFrame]]:
    """The waves of a run's own base, as loads (with their run id and time)."""
    with open_base(run_base, read_only=True) as db:
        loads = db.df("SELECT wave, source_type, run_id, spec_hash, run_at FROM loads ORDER BY wave")
        defs = db.df(f"SELECT {indicator_select(db)} FROM indicators")
        out = []
        for r in loads.itertuples(index=False):
            vals = db.df(f"SELECT {', '.join(VALUE_COLUMNS)} FROM indicator_values WHERE wave = ?", [r.wave])
            ind = defs[defs["code"].isin(set(vals["indicator_code"]))].drop(columns=["wave"])
            run_at = None if pd.isna(r.run_at) else pd.Timestamp(r.run_at).to_pydatetime()
            out.append((Load(r.wave, r.source_type, ind, vals, r.spec_hash, r.run_id, where=str(run_base),
                             run_at=run_at), vals))
    if not out:
        raise LinkageError(f"{run_base}: the run's indicator base holds no wave; run sid link on the run first")
    return out


def _compare(db: Db, run: list[tuple[Load, pd.DataFrame]], force: bool, where: str) -> list[WaveChange]:
    """What the shared base holds of the run's waves (read under the load's locks); refuses
    a run older than the loaded one unless ``force``."""
    changes = []
    for ld, vals in run:
        ch = WaveChange(ld.wave, ld.run_id, ld.run_at)
        row = db.execute("SELECT run_id, run_at, loaded_at FROM loads WHERE wave = ?", [ld.wave])
        if row:
            ch.old_run_id, ch.old_run_at, ch.old_loaded_at = row[0]
            newer = (ch.old_run_id != ld.run_id and ch.old_run_at is not None and ld.run_at is not None
                     and ch.old_run_at > ld.run_at)
            if newer and not force:
                raise LinkageError(
                    f"{where}: run {ld.run_id} (computed {_when(ld.run_at)}) is older than run {ch.old_run_id} "
                    f"(computed {_when(ch.old_run_at)}) of wave {ld.wave} in {db.name}; publish a newer run, "
                    "or give --force to replace it anyway")
            ch.forced = newer
        old = db.df("SELECT indicator_code, period, count(*) AS n_rows FROM indicator_values WHERE wave = ? "
                    "GROUP BY indicator_code, period", [ld.wave])
        new = vals.groupby(["indicator_code", "period"]).size().rename("n_rows").reset_index()
        ch.indicators = (_periods(old).merge(_periods(new), on="code", how="outer", suffixes=("_old", "_new"))
                         .rename(columns={"rows_old": "old_rows", "periods_old": "old_periods",
                                          "rows_new": "new_rows", "periods_new": "new_periods"})
                         .sort_values("code").reset_index(drop=True))
        changes.append(ch)
    return changes


def publish(run_bases: Path | Sequence[Path], target: Path | str, *, force: bool = False,
            where: str = "publish") -> Published:
    """Load every wave of the run's own bases ``run_bases`` (one path or several: the link
    and small-area stages' bases) into the shared base ``target`` (a DuckDB file or a
    PostgreSQL URL), in one transaction; see the module docstring. ``where``: the run
    folder, for messages. A wave held by two of the bases is refused."""
    bases = [Path(run_bases)] if isinstance(run_bases, str | os.PathLike) else [Path(b) for b in run_bases]
    run: list[tuple[Load, pd.DataFrame]] = []
    seen: dict[str, Path] = {}
    for run_base in bases:
        if not is_url(target) and Path(target).resolve() == run_base.resolve():
            raise LinkageError(f"{run_base}: is the run's own base; publish into the shared base (the spec's base: "
                               "or --db BASE)")
        for ld, vals in _read_run(run_base):
            if ld.wave in seen:
                raise LinkageError(f"{run_base}: wave {ld.wave} is also in {seen[ld.wave]}; a wave is loaded by "
                                   "one stage only, run that stage again")
            seen[ld.wave] = run_base
            run.append((ld, vals))
    changes: list[WaveChange] = []

    def guard(con: Db) -> None:
        changes.extend(_compare(con, run, force, where))

    con = open_base(target)
    try:
        counts = replace_waves(con, [ld for ld, _ in run], guard=guard)
    finally:
        con.close()
    return Published(target, changes, counts)


def describe(res: Published) -> list[str]:
    """The lines ``sid publish`` prints: per wave what it replaces, per indicator rows and periods."""
    lines = []
    for ch in res.changes:
        new = f"run {ch.new_run_id} (computed {_when(ch.new_run_at)})"
        if ch.old_run_id is None and ch.old_loaded_at is None:
            lines.append(f"{ch.wave} -> {res.db}: new in the base, {new}")
        else:
            lines.append(f"{ch.wave} -> {res.db}: replaces run {ch.old_run_id} (computed {_when(ch.old_run_at)}, "
                         f"loaded {_when(ch.old_loaded_at)}) by {new}")
        if ch.forced:
            lines.append(f"{ch.wave}: --force: the replaced run {ch.old_run_id} was newer than this one")
        for r in ch.indicators.itertuples(index=False):
            old = "-" if pd.isna(r.old_rows) else f"{int(r.old_rows)} rows ({r.old_periods})"
            new_rows = "-" if pd.isna(r.new_rows) else f"{int(r.new_rows)} rows ({r.new_periods})"
            lines.append(f"  {r.code}: {old} -> {new_rows}")
    return lines
