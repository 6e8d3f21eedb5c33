"""The indicator base: open it (with clear errors), load a wave's rows in one transaction.

A *wave* is the unit of loading: a survey wave (``sid2022``) or a register data set
(``vlim-admin-demo``). :func:`replace_wave` deletes that wave's rows and inserts the new
ones in one transaction, so readers see the old rows or the new ones, never a mixture,
and a failure leaves the base exactly as it was. The base is a DuckDB file or a
PostgreSQL database (a ``postgresql://`` URL), through one layer (:mod:`sid.linkage.db`).
On PostgreSQL several authors load at once: a load takes a lock per wave, so two loads
of the same wave run one after the other, then a base-wide lock for its overlap check
and insert, so loads of different waves take turns there and two waves with the same
periods cannot both land; a read-only role can pull but not load. Rows of other waves (and the
register rows when loading a survey wave) are never touched. A load whose indicator
periods are already in the base from another wave (loaded with another spec) is refused.

Each value row carries the SDMX observation attributes: ``obs_status`` (A normal, E
estimated (model-based), U low reliability, Q suppressed, B break in series),
``conf_status`` (F free, C confidential), ``unit_mult`` and ``decimals``. Where a load
gives none they follow from the flags (``suppressed...``: Q and C; ``cv>...``: U) and
the indicator's unit (decimals 1 for percent, else 2).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sid.errors import LinkageError
from sid.linkage.db import BaseTarget, Db, connect_postgresql, is_url
from sid.linkage.rows import NOT_APPLICABLE, check_indicators, normalise_values, status_from_flags
from sid.linkage.schema import (
    INDICATOR_COLUMNS,
    SCHEMA_VERSION,
    TABLES,
    VALUE_COLUMNS,
    create_schema,
    schema_version,
    upgrade_schema,
)

__all__ = ["BASE_LOCK", "NOT_APPLICABLE", "Load", "drop_wave", "open_base", "replace_wave", "replace_waves",
           "status_from_flags"]

SOURCE_TYPES = ("register", "survey")
#: the base-wide lock of a load's check-and-insert, taken after the per-wave locks
BASE_LOCK = "base:load"


def open_base(target: BaseTarget | Db, *, read_only: bool = False) -> Db:
    """Connect to the indicator base ``target`` (a DuckDB file path or a ``postgresql://``
    URL); create it (and sid's schema) when absent. A :class:`~sid.linkage.db.Db` passes
    through unchanged.

    Raises LinkageError (one line) when the file is locked by another process, cannot be
    created or written, is not a DuckDB file, is a base sid did not create, or when the
    PostgreSQL server cannot be reached or refuses the credentials.
    """
    if isinstance(target, Db):
        return target
    if is_url(target):
        db = connect_postgresql(str(target), read_only=read_only)
        where = str(target)
    else:
        db = _open_duckdb(Path(target), read_only)
        where = str(target)
    try:
        _check_or_create(db, where, read_only)
    except BaseException:
        db.close()
        raise
    return db


def _open_duckdb(p: Path, read_only: bool) -> Db:
    import duckdb

    if read_only and not p.is_file():
        raise LinkageError(f"{p}: indicator base not found; create it with sid link")
    if not read_only:
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LinkageError(f"{p}: cannot create the folder of the indicator base ({exc.strerror}); "
                               "choose a writable location") from None
        target = p if p.exists() else p.parent
        # DuckDB also writes a .wal file beside the base, so the folder must be writable too.
        if not os.access(target, os.W_OK) or not os.access(p.parent, os.W_OK):
            raise LinkageError(f"{p}: indicator base is not writable (permission denied on {target}); "
                               "fix the permissions or give another --db path")
    try:
        con = duckdb.connect(str(p), read_only=read_only)
    except duckdb.IOException as exc:
        raise _io_error(p, exc) from None
    except duckdb.Error as exc:
        raise LinkageError(f"{p}: cannot open the indicator base ({_one_line(exc)})") from None
    return Db(con, "duckdb", str(p), read_only)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _io_error(p: Path, exc: BaseException) -> LinkageError:
    msg = _one_line(exc)
    if "lock" in msg.lower():
        pid = re.search(r"PID (\d+)", msg)
        who = f"process {pid.group(1)}" if pid else "another process"
        return LinkageError(f"{p}: indicator base is locked by {who}; close that program "
                            "(or wait for its load to finish) and run again")
    if "not a valid duckdb" in msg.lower() or "database file" in msg.lower():
        return LinkageError(f"{p}: not a DuckDB indicator base ({msg}); give the path of a sid base or a new file")
    if "permission" in msg.lower() or "read-only" in msg.lower():
        return LinkageError(f"{p}: indicator base is not writable ({msg}); fix the permissions or give another --db path")
    return LinkageError(f"{p}: cannot open the indicator base ({msg})")


def _check_or_create(db: Db, p: str, read_only: bool) -> None:
    try:
        version = schema_version(db)
        if version is None:
            tables = db.table_names()
            if db.kind == "duckdb" and tables:
                raise LinkageError(f"{p}: a DuckDB file sid did not create (no sid_schema table); "
                                   "give a new file or a sid indicator base")
            if set(TABLES) & tables:
                raise LinkageError(f"{p}: holds tables named like sid's ({', '.join(sorted(set(TABLES) & tables))}) "
                                   "but no sid_schema table; give a new database or schema")
            if read_only:
                kind = "empty DuckDB file" if db.kind == "duckdb" else "database without sid's tables"
                raise LinkageError(f"{p}: {kind}, not an indicator base; create it with sid link")
            create_schema(db)
        elif version < SCHEMA_VERSION and not read_only:
            upgrade_schema(db, version)
        elif version > SCHEMA_VERSION:
            raise LinkageError(f"{p}: indicator base has schema version {version}, this sid writes "
                               f"version {SCHEMA_VERSION}; use a new file or a newer sid")
    except db.errors as exc:
        raise LinkageError(f"{p}: cannot read or create the indicator base's schema ({_one_line(exc)}); "
                           "check the database and the role's privileges") from None


@dataclass(frozen=True)
class Load:
    """One wave to (re)load: its indicator definitions and values, and provenance."""

    wave: str
    source_type: str
    indicators: pd.DataFrame
    values: pd.DataFrame
    spec_hash: str
    run_id: str | None = None
    where: str = "load"
    #: when the run computed the values (its link stage's start), for sid publish
    run_at: datetime | None = None


def replace_wave(
    db: Db,
    *,
    wave: str,
    source_type: str,
    indicators: pd.DataFrame,
    values: pd.DataFrame,
    spec_hash: str,
    run_id: str | None = None,
    where: str = "load",
) -> dict:
    """Replace ``wave``'s rows in the base by ``values`` (and upsert ``indicators``) in one
    transaction; returns ``{"deleted": k, "inserted": m}``.

    Refused (LinkageError, base unchanged): values of an indicator without definition, a
    cell given twice, an indicator code of the other source type, a wave name already
    loaded as the other source type, and an indicator period already in the base from
    another wave (another spec).
    """
    load = Load(wave, source_type, indicators, values, spec_hash, run_id, where)
    return replace_waves(db, [load])[wave]


def replace_waves(db: Db, loads: list[Load], guard: Callable[[Db], None] | None = None) -> dict[str, dict]:
    """:func:`replace_wave` for several waves in one transaction: all are loaded or none.
    ``guard``: called inside the transaction once the locks are held, before anything is
    replaced (sid publish checks there that the base holds no newer run); it may raise.

    Locks, in one fixed order (so two loads never wait for each other in a cycle): first
    each wave (in name order), so a second load of the same wave waits for this one to
    commit or roll back without holding anything another wave needs; then the base-wide
    lock :data:`BASE_LOCK`, held from the overlap check (an indicator period already in
    the base from another wave) to the commit, so two loads of different waves with the
    same periods cannot both pass the check: the second reads the base after the first
    committed and is refused. On DuckDB the locks are no-ops: one process writes the
    file at a time, so a check and its insert cannot interleave with another load."""
    prepared = [_prepare(ld) for ld in loads]
    out: dict[str, dict] = {}
    try:
        with db.transaction():
            for wave in sorted({ld.wave for ld in loads}):
                db.lock(f"wave:{wave}")
            db.lock(BASE_LOCK)
            if guard is not None:
                guard(db)
            for ld, ind, vals in prepared:
                out[ld.wave] = _replace_in_tx(db, ld, ind, vals)
    except db.errors as exc:
        waves = ", ".join(ld.wave for ld in loads)
        raise LinkageError(f"{loads[0].where}: loading {waves} into {db.name} failed ({_one_line(exc)}); "
                           "the indicator base is left as it was") from None
    return out


def _prepare(ld: Load) -> tuple[Load, pd.DataFrame, pd.DataFrame]:
    if ld.source_type not in SOURCE_TYPES:
        raise LinkageError(f"{ld.where}: source type {ld.source_type!r} is not one of {', '.join(SOURCE_TYPES)}")
    vals = normalise_values(ld.values, ld.where)
    ind = check_indicators(ld.indicators, vals, ld.source_type, ld.where)
    if "decimals" not in vals.columns:
        units = dict(zip(ind["code"], ind["unit"], strict=True))
        vals["decimals"] = pd.array(vals["indicator_code"].map(lambda c: 1 if units.get(c) == "percent" else 2),
                                    dtype="Int64")
    vals = vals[list(VALUE_COLUMNS)]
    loaded_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    vals["source_type"] = ld.source_type
    vals["wave"] = ld.wave
    vals["run_id"] = ld.run_id
    vals["spec_hash"] = ld.spec_hash
    vals["loaded_at"] = loaded_at
    ind["wave"] = ld.wave
    return ld, ind, vals


_UPSERT = (f"INSERT INTO indicators ({', '.join(INDICATOR_COLUMNS)}, wave) "
           f"VALUES ({', '.join('?' * (len(INDICATOR_COLUMNS) + 1))}) ON CONFLICT (code) DO UPDATE SET "
           + ", ".join(f"{c} = excluded.{c}" for c in (*INDICATOR_COLUMNS[1:], "wave")))


def _replace_in_tx(db: Db, ld: Load, ind: pd.DataFrame, vals: pd.DataFrame) -> dict:
    wave, source_type = ld.wave, ld.source_type
    _refuse_conflicts(db, wave, source_type, ind, vals, ld.where)
    deleted = db.execute("SELECT count(*) FROM indicator_values WHERE wave = ? AND source_type = ?",
                         [wave, source_type])[0][0]
    db.execute("DELETE FROM indicator_values WHERE wave = ? AND source_type = ?", [wave, source_type])
    db.execute("DELETE FROM loads WHERE wave = ?", [wave])
    db.executemany(_UPSERT, ind[[*INDICATOR_COLUMNS, "wave"]].itertuples(index=False, name=None))
    db.insert_frame("indicator_values", vals)
    periods = (int(vals["period"].min()), int(vals["period"].max())) if len(vals) else (0, 0)
    db.execute("INSERT INTO loads (wave, source_type, run_id, spec_hash, period_min, period_max, n_values, "
               "loaded_at, run_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               [wave, source_type, ld.run_id, ld.spec_hash, *periods, len(vals), vals["loaded_at"].iloc[0]
                if len(vals) else datetime.now(UTC).replace(tzinfo=None), ld.run_at])
    return {"deleted": int(deleted), "inserted": len(vals)}


def _refuse_conflicts(db: Db, wave: str, source_type: str, ind: pd.DataFrame, vals: pd.DataFrame, where: str) -> None:
    rows = db.execute("SELECT source_type FROM loads WHERE wave = ?", [wave])
    row = rows[0] if rows else None
    if row is not None and row[0] != source_type:
        raise LinkageError(f"{where}: wave {wave!r} is already loaded as {row[0]} data; "
                           f"give this {source_type} load another name")
    codes = list(ind["code"])
    clash = db.execute(
        f"SELECT code, source_type FROM indicators WHERE code IN ({db.placeholders(len(codes))}) "
        "AND source_type <> ? ORDER BY code LIMIT 1", [*codes, source_type])
    clash = clash[0] if clash else None
    if clash is not None:
        raise LinkageError(f"{where}: indicator {clash[0]!r} is already in the base as a {clash[1]} "
                           f"indicator; a {source_type} indicator needs another code")
    cells = set(vals[["indicator_code", "period"]].drop_duplicates().itertuples(index=False, name=None))
    loaded = db.execute(
        "SELECT DISTINCT indicator_code, period, wave, spec_hash FROM indicator_values "
        f"WHERE indicator_code IN ({db.placeholders(len(codes))}) AND wave <> ? ORDER BY 1, 2",
        [*codes, wave])
    hit = next((r for r in loaded if (r[0], int(r[1])) in cells), None)
    if hit is not None:
        raise LinkageError(
            f"{where}: indicator {hit[0]} period {hit[1]} is already in the base from wave {hit[2]!r} "
            f"(spec {hit[3][:12]}); a load with another spec must not overlap its periods: "
            f"drop that wave first (sid link --drop {hit[2]}) or change the period")


def drop_wave(db: Db, wave: str) -> int:
    """Delete every row of ``wave`` (values and load record) in one transaction; rows deleted.

    Indicator definitions stay (another wave may still use them)."""
    try:
        with db.transaction():
            db.lock(f"wave:{wave}")
            n = db.execute("SELECT count(*) FROM indicator_values WHERE wave = ?", [wave])[0][0]
            found = db.execute("SELECT count(*) FROM loads WHERE wave = ?", [wave])[0][0]
            if not found:
                raise LinkageError(f"wave {wave!r} is not in the indicator base; nothing dropped")
            db.execute("DELETE FROM indicator_values WHERE wave = ?", [wave])
            db.execute("DELETE FROM loads WHERE wave = ?", [wave])
    except db.errors as exc:
        raise LinkageError(f"dropping wave {wave!r} from {db.name} failed ({_one_line(exc)}); "
                           "the indicator base is left as it was") from None
    return int(n)
