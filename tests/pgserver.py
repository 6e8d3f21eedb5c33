"""A throwaway PostgreSQL cluster for the tests, and the parametrised base fixture.

``pg_server`` (session): initdb into a temporary folder, ``pg_ctl start`` on a Unix socket
in that folder (no TCP port), as the ``postgres`` system user when the tests run as root
(PostgreSQL refuses to run as root), stopped and removed at the end. It skips, saying
why, when the server binaries are not installed (Debian: ``apt-get install postgresql``;
``.ci/run`` does this). ``SID_TEST_PG_BIN`` may name the folder of initdb/pg_ctl.

``base_target`` (per test, parametrised ``duckdb`` / ``postgresql``): a new DuckDB file
path, or the URL of a new empty database on the throwaway server.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class PgServer:
    socket_dir: str
    port: int
    superuser: str = "postgres"

    def url(self, dbname: str = "postgres", user: str | None = None) -> str:
        """A password-free URL of ``dbname`` on this server."""
        return f"postgresql:///{dbname}?host={self.socket_dir}&port={self.port}&user={user or self.superuser}"

    def admin(self, sql: str, dbname: str = "postgres") -> None:
        """Run ``sql`` as the superuser (autocommit)."""
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as con:
            con.execute(sql)


def _bin_dir() -> Path | None:
    env = os.environ.get("SID_TEST_PG_BIN")
    cands = [env] if env else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for c in cands:
        if c and (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    if env:
        return None  # the folder named has no server: do not look elsewhere
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _as_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def _start() -> tuple[PgServer | None, str, str | None]:
    """(server, reason it could not start, data folder)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None, "psycopg is not installed (pip install 'psycopg[binary]')", None
    bins = _bin_dir()
    if bins is None:
        return None, "PostgreSQL server binaries not found (apt-get install postgresql)", None
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return None, "tests run as root and there is no 'postgres' system user to run the server", None
        if not shutil.which("runuser"):
            return None, "tests run as root and runuser is not available to drop to 'postgres'", None
    root = tempfile.mkdtemp(prefix="sidpg")  # short: a Unix socket path has ~100 characters
    os.chmod(root, 0o777)
    data = os.path.join(root, "data")
    port = 5400 + os.getpid() % 500  # only names the socket file; no TCP listener
    log = os.path.join(root, "log")
    try:
        subprocess.run(_as_user([str(bins / "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
                                 "-E", "UTF8", "--no-locale"]),
                       check=True, capture_output=True, timeout=120)
        opts = f"-c listen_addresses='' -k {root} -p {port} -c fsync=off -c max_connections=60"
        subprocess.run(_as_user([str(bins / "pg_ctl"), "-D", data, "-l", log, "-o", opts, "-w", "-t", "60",
                                 "start"]), check=True, capture_output=True, timeout=120)
    except (subprocess.SubprocessError, OSError) as exc:
        tail = Path(log).read_text()[-500:] if os.path.exists(log) else ""
        shutil.rmtree(root, ignore_errors=True)
        return None, f"the throwaway PostgreSQL cluster did not start ({exc}; {tail.strip()})", None
    return PgServer(root, port), "", data


def _stop(server: PgServer, data: str) -> None:
    bins = _bin_dir()
    subprocess.run(_as_user([str(bins / "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"]),
                   capture_output=True, timeout=120)
    shutil.rmtree(server.socket_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server():
    """The throwaway PostgreSQL server (skips with the reason when there is none)."""
    server, reason, data = _start()
    if server is None:
        if os.environ.get("SID_REQUIRE_PG"):
            pytest.fail(f"SID_REQUIRE_PG is set but {reason}")
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    try:
        yield server
    finally:
        _stop(server, data)


_names = itertools.count()


def new_database(server: PgServer) -> str:
    """The URL of a new empty database on ``server``."""
    name = f"sidtest_{os.getpid()}_{next(_names)}"
    server.admin(f"CREATE DATABASE {name}")
    return server.url(name)


@pytest.fixture(params=["duckdb", "postgresql"])
def base_target(request, tmp_path):
    """A new indicator base: a DuckDB file path, or a PostgreSQL database URL."""
    if request.param == "duckdb":
        return tmp_path / "vlim.duckdb"
    return new_database(request.getfixturevalue("pg_server"))
