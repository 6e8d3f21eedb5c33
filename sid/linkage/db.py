"""One database layer for the indicator base: a DuckDB file or a PostgreSQL server.

:class:`Db` wraps a DuckDB connection or a psycopg connection behind the few operations
the base needs: :meth:`Db.execute` (portable SQL with ``?`` placeholders, rows back),
:meth:`Db.df`, :meth:`Db.insert_frame` (DuckDB: a registered data frame; PostgreSQL:
``COPY``), transactions (:meth:`Db.transaction`, :meth:`Db.snapshot`) and
:meth:`Db.lock` (a transaction-scoped advisory lock on PostgreSQL; DuckDB allows one
writing process, so it needs none). Every SQL statement of :mod:`sid.linkage.base`,
:mod:`sid.linkage.schema` and :mod:`sid.linkage.pull` is written once and runs on both.

A PostgreSQL base is named by a ``postgresql://`` URL (host, port, database, user, or a
``service=`` of the service file). The password never appears in the spec or on the
command line: it comes from the environment (``PGPASSWORD``), ``~/.pgpass`` or
``PGPASSFILE``, or the service file (``PGSERVICEFILE``), which libpq reads itself.
:func:`is_url` tells a URL from a file path; :func:`check_url` refuses a URL carrying a
password.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from sid.errors import LinkageError

SCHEMES = ("postgresql://", "postgres://")
BaseTarget = str | os.PathLike[str]


def is_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL base (a ``postgresql://`` URL)."""
    return isinstance(target, str) and target.lower().startswith(SCHEMES)


def check_url(url: str, where: str = "base") -> str:
    """``url`` when it carries no password; LinkageError (one line) otherwise."""
    parts = urlsplit(url)
    if parts.password is not None or "password" in {k.lower() for k in parse_qs(parts.query)}:
        raise LinkageError(f"{where}: the PostgreSQL URL {shown_url(url)} holds a password; take it out "
                           "and give it through PGPASSWORD, ~/.pgpass (PGPASSFILE) or a service file")
    return url


def shown_url(url: str) -> str:
    """``url`` with any password masked, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def base_target(text: str | os.PathLike[str], project_dir: Path | None = None, where: str = "base") -> Path | str:
    """A ``base:`` value or ``--db`` argument: a checked URL, or a path (relative to
    ``project_dir`` when given)."""
    if is_url(text):
        return check_url(str(text), where)
    return Path(project_dir) / text if project_dir is not None else Path(text)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


class Db:
    """A connection to the indicator base; ``kind`` is ``"duckdb"`` or ``"postgresql"``."""

    def __init__(self, con, kind: str, name: str, read_only: bool = False) -> None:
        self.con, self.kind, self.name, self.read_only = con, kind, name, read_only
        if kind == "duckdb":
            import duckdb

            self.errors: tuple[type[BaseException], ...] = (duckdb.Error,)
        else:
            import psycopg

            self.errors = (psycopg.Error,)

    # -- statements ---------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql if self.kind == "duckdb" else sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """Run one statement (``?`` placeholders); its rows (empty when it returns none)."""
        rows, _ = self._run(sql, params)
        return rows

    def _run(self, sql: str, params: Sequence = ()) -> tuple[list[tuple], list[str]]:
        if self.kind == "duckdb":
            cur = self.con.execute(sql, list(params))
            desc = cur.description
            return (cur.fetchall() if desc else []), [d[0] for d in desc or ()]
        with self.con.cursor() as cur:
            cur.execute(self._sql(sql), list(params) if params else None)
            desc = cur.description
            return (cur.fetchall() if desc else []), [d.name for d in desc or ()]

    def executemany(self, sql: str, rows: Sequence[Sequence]) -> None:
        """Run one statement for each parameter row (few rows: indicator definitions)."""
        if not rows:
            return
        if self.kind == "duckdb":
            self.con.executemany(sql, [list(r) for r in rows])
        else:
            with self.con.cursor() as cur:
                cur.executemany(self._sql(sql), [list(r) for r in rows])

    def script(self, sql: str) -> None:
        """Run several ``;``-separated statements (DDL without parameters)."""
        for stmt in (s.strip() for s in sql.split(";")):
            if stmt:
                self.execute(stmt)

    def df(self, sql: str, params: Sequence = ()) -> pd.DataFrame:
        """The rows of a query as a data frame (the same types from both databases)."""
        rows, cols = self._run(sql, params)
        return pd.DataFrame.from_records(rows, columns=cols) if rows else pd.DataFrame(columns=cols)

    def insert_frame(self, table: str, frame: pd.DataFrame) -> None:
        """Insert the rows of ``frame`` into ``table`` (columns by name), in bulk."""
        cols = ", ".join(frame.columns)
        if self.kind == "duckdb":
            self.con.register("_sid_incoming", frame)
            try:
                self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _sid_incoming")
            finally:
                self.con.unregister("_sid_incoming")
            return
        buf = io.StringIO()
        frame.to_csv(buf, index=False, header=False, na_rep="\\N", lineterminator="\n", float_format="%.17g",
                     date_format="%Y-%m-%d %H:%M:%S")
        with self.con.cursor() as cur, cur.copy(
                f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as copy:
            copy.write(buf.getvalue())

    def placeholders(self, n: int) -> str:
        """``?, ?, ...`` for an ``IN (...)`` list of ``n`` values."""
        return ", ".join(["?"] * max(n, 1))

    # -- transactions and locks ---------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Db]:
        """One read-write transaction: committed on success, rolled back on any error."""
        self.execute("BEGIN TRANSACTION" if self.kind == "duckdb" else "BEGIN")
        try:
            yield self
        except BaseException:
            self._rollback()
            raise
        self.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[Db]:
        """One read-only transaction over a single snapshot of the base (a reader sees each
        wave as a whole: before or after a load, never part of it)."""
        self.execute("BEGIN TRANSACTION" if self.kind == "duckdb"
                     else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield self
        finally:
            self._rollback()

    def _rollback(self) -> None:
        try:
            self.execute("ROLLBACK")
        except self.errors:
            pass  # the connection is gone; the server rolls back itself

    def lock(self, key: str) -> None:
        """Hold a lock on ``key`` until the transaction ends (PostgreSQL: another load of
        the same key waits for this one; DuckDB: one writing process, nothing to do)."""
        if self.kind == "postgresql":
            h = int.from_bytes(hashlib.sha256(f"sid:{key}".encode()).digest()[:8], "big", signed=True)
            self.execute("SELECT pg_advisory_xact_lock(?)", [h])

    def table_names(self) -> set[str]:
        """The tables of the base's schema (the DuckDB file's, or PostgreSQL's current schema)."""
        where = "" if self.kind == "duckdb" else " WHERE table_schema = current_schema()"
        return {r[0] for r in self.execute(f"SELECT table_name FROM information_schema.tables{where}")}

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def __enter__(self) -> Db:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect_postgresql(url: str, *, read_only: bool = False) -> Db:
    """A :class:`Db` on the PostgreSQL base at ``url`` (no password in it; libpq finds the
    credentials); LinkageError (one line) when the server cannot be reached or refuses."""
    check_url(url)
    try:
        import psycopg
    except ImportError:
        raise LinkageError(f"{url}: a PostgreSQL base needs the psycopg package; "
                           "pip install 'psycopg[binary]'") from None
    try:
        con = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise LinkageError(f"{url}: cannot connect to the PostgreSQL indicator base ({_one_line(exc)}); "
                           "check the URL, the server and the credentials (PGPASSWORD, ~/.pgpass, "
                           "service file)") from None
    if read_only:
        con.execute("SET default_transaction_read_only = on")
    return Db(con, "postgresql", url, read_only)
