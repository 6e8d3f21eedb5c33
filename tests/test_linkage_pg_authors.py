"""Several authors on one PostgreSQL indicator base: concurrent loads, locks, readers, roles.

Runs on the throwaway cluster of tests/pgserver.py (skips where PostgreSQL cannot be had).
The concurrency test prints its figures (run pytest with -s to see them).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time

import pandas as pd
import pytest

from sid.cli import main
from sid.errors import LinkageError, SpecError
from sid.linkage.base import open_base, replace_wave
from sid.linkage.pull import pull, pull_values
from tests.pgserver import new_database

N_CODES, N_GEO = 4, 25  # 4 indicators x 25 geographies x 3 origins = 300 rows per wave


def defs() -> pd.DataFrame:
    return pd.DataFrame({"code": [f"S_{i}" for i in range(N_CODES)], "name": "n", "theme": "taal",
                         "definition": "d", "unit": "percent"})


def values(period: int, value: float) -> pd.DataFrame:
    rows = [{"indicator_code": f"S_{i}", "period": period, "geography": f"G{g:02d}", "origin": o,
             "value": value, "se": 1.0, "n": 100, "flags": ""}
            for i in range(N_CODES) for g in range(N_GEO) for o in ("BEL", "EU", "NEU")]
    return pd.DataFrame(rows)


ROWS = N_CODES * N_GEO * 3


def _loader(url: str, wave: str, period: int, tag: int, loads: int) -> dict:
    """Load ``wave`` ``loads`` times; the value of every row is the load's number, so a
    reader can tell two loads apart."""
    done, waited = 0, 0.0
    with open_base(url) as db:
        for k in range(loads):
            t0 = time.perf_counter()
            res = replace_wave(db, wave=wave, source_type="survey", indicators=defs(),
                               values=values(period, float(tag * 1000 + k)), spec_hash=f"h-{wave}",
                               run_id=f"{tag}-{k}")
            waited = max(waited, time.perf_counter() - t0)
            assert res["inserted"] == ROWS
            done += 1
    return {"wave": wave, "loads": done, "slowest": waited}


def _reader(url: str, stop, seconds: float) -> dict:
    """Read the base in snapshots until ``stop`` is set (the loaders are done) or ``seconds``
    pass; count what it saw and anything partial."""
    seen, partial, pulls, ever = 0, [], 0, set()
    end = time.monotonic() + seconds
    with open_base(url, read_only=True) as db:
        while time.monotonic() < end and not stop.is_set():
            with db.snapshot():
                rows = db.execute("SELECT wave, run_id, count(*), min(value), max(value) FROM indicator_values "
                                  "GROUP BY wave, run_id")
            waves: dict[str, list] = {}
            for wave, run_id, n, lo, hi in rows:
                waves.setdefault(wave, []).append((run_id, n, lo, hi))
            for wave, groups in waves.items():
                if len(groups) != 1 or groups[0][1] != ROWS or groups[0][2] != groups[0][3]:
                    partial.append((wave, groups))
            partial += [(wave, "gone") for wave in ever - set(waves)]  # a reload never hides a wave
            ever |= set(waves)
            seen += 1
            if seen % 10 == 0:  # the pull path too: one snapshot per pull
                got = pull_values(db, codes=["S_0"])
                per = got.groupby("wave")["run_id"].agg(["nunique", "size"])
                bad = per[(per["nunique"] != 1) | (per["size"] != N_GEO * 3)]
                partial += [("pull", w) for w in bad.index]
                pulls += 1
    return {"snapshots": seen, "pulls": pulls, "partial": partial}


def test_concurrent_loaders_and_readers_lose_nothing_and_see_no_partial_wave(pg_server):
    url = new_database(pg_server)
    with open_base(url) as db:  # schema and definitions first, so the figures are about loads
        replace_wave(db, wave="seed", source_type="survey", indicators=defs(), values=values(1990, 0.0),
                     spec_hash="h-seed", run_id="seed")
    loads = 8
    jobs = [("w_same", 2000, 1), ("w_same", 2000, 2), ("w_a", 2001, 3), ("w_b", 2002, 4)]
    ctx = mp.get_context("spawn")
    t0 = time.perf_counter()
    with ctx.Manager() as manager, ctx.Pool(len(jobs) + 3) as pool:
        stop = manager.Event()
        readers = [pool.apply_async(_reader, (url, stop, 90.0)) for _ in range(3)]
        loaders = [pool.apply_async(_loader, (url, w, p, tag, loads)) for w, p, tag in jobs]
        try:
            done = [r.get(timeout=120) for r in loaders]
        finally:
            stop.set()  # the readers read while the loads run, then stop
        seen = [r.get(timeout=120) for r in readers]
    elapsed = time.perf_counter() - t0
    with open_base(url, read_only=True) as db:
        final = db.execute("SELECT wave, count(*), count(DISTINCT run_id), count(DISTINCT value) "
                           "FROM indicator_values GROUP BY wave ORDER BY wave")
        load_rows = db.execute("SELECT wave, n_values FROM loads ORDER BY wave")
    assert [d["loads"] for d in done] == [loads] * len(jobs)  # every load succeeded
    assert final == [("seed", ROWS, 1, 1), ("w_a", ROWS, 1, 1), ("w_b", ROWS, 1, 1), ("w_same", ROWS, 1, 1)]
    assert load_rows == [("seed", ROWS), ("w_a", ROWS), ("w_b", ROWS), ("w_same", ROWS)]
    assert all(not s["partial"] for s in seen), [s["partial"][:3] for s in seen]
    assert sum(s["snapshots"] for s in seen) > 10
    print(f"\nPostgreSQL authors: {len(jobs)} loader processes x {loads} loads of {ROWS} rows "
          f"({len(jobs) * loads} loads, 2 on the same wave) and {len(seen)} reader processes in {elapsed:.1f} s; "
          f"readers took {sum(s['snapshots'] for s in seen)} snapshots and {sum(s['pulls'] for s in seen)} pulls, "
          f"partial waves seen: {sum(len(s['partial']) for s in seen)}; final rows per wave {[f[1] for f in final]}, "
          f"one run id each; slowest load {max(d['slowest'] for d in done):.2f} s")


def test_a_load_of_the_same_wave_waits_while_another_wave_goes_on(pg_server):
    url = new_database(pg_server)
    with open_base(url) as db:
        replace_wave(db, wave="w1", source_type="survey", indicators=defs(), values=values(2001, 1.0), spec_hash="h1")
    holder = open_base(url)
    finished: dict[str, float] = {}

    def load(wave: str, period: int) -> None:
        with open_base(url) as db:
            replace_wave(db, wave=wave, source_type="survey", indicators=defs(), values=values(period, 2.0),
                         spec_hash=f"h-{wave}")
        finished[wave] = time.monotonic()

    with holder.transaction():
        holder.lock("wave:w1")  # as a load of w1 in progress would
        t_same = threading.Thread(target=load, args=("w1", 2001))
        t_other = threading.Thread(target=load, args=("w2", 2002))
        t_same.start()
        t_other.start()
        t_other.join(timeout=30)
        time.sleep(0.5)
        assert "w2" in finished and "w1" not in finished  # the other wave went on; w1 waits
        released = time.monotonic()
    t_same.join(timeout=30)
    holder.close()
    assert finished["w1"] >= released
    with open_base(url, read_only=True) as db:
        assert db.execute("SELECT DISTINCT value FROM indicator_values WHERE wave = 'w1'") == [(2.0,)]


def test_a_read_only_role_can_pull_but_not_load(pg_server):
    url = new_database(pg_server)
    with open_base(url) as db:
        replace_wave(db, wave="w1", source_type="survey", indicators=defs(), values=values(2001, 1.0), spec_hash="h1")
    dbname = url.split("/")[3].split("?")[0]
    pg_server.admin("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sid_reader') "
                    "THEN CREATE ROLE sid_reader LOGIN; END IF; END $$")
    pg_server.admin("GRANT USAGE ON SCHEMA public TO sid_reader; "
                    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO sid_reader", dbname)
    reader = pg_server.url(dbname, user="sid_reader")
    assert len(pull(reader, theme="taal")) == N_CODES * N_GEO
    with pytest.raises(LinkageError) as err:
        with open_base(reader) as db:
            replace_wave(db, wave="w1", source_type="survey", indicators=defs(), values=values(2001, 9.0),
                         spec_hash="h1")
    msg = str(err.value)
    assert "\n" not in msg and "permission denied" in msg and "left as it was" in msg
    with open_base(url, read_only=True) as db:
        assert db.execute("SELECT DISTINCT value FROM indicator_values") == [(1.0,)]


def test_a_password_in_the_url_is_refused_in_the_spec_and_on_the_command_line(tmp_path, capsys):
    from sid.linkage.spec import load_linkage_spec
    from tests.test_linkage_spec import SPEC, write

    spec = SPEC.replace("base: b.duckdb", "base: postgresql://vlim:s3cret@db.example/vlim")
    path = write(tmp_path, spec)
    before = path.read_bytes()
    with pytest.raises(SpecError) as err:
        load_linkage_spec(path, project=tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and "s.yaml" in msg and "holds a password" in msg and "s3cret" not in msg
    assert path.read_bytes() == before
    path = write(tmp_path, spec.replace("vlim:s3cret@", "vlim@"))
    assert load_linkage_spec(path, project=tmp_path).base == "postgresql://vlim@db.example/vlim"
    assert main(["pull", "--theme", "taal", "--db", "postgresql://u:pw@localhost/x",
                 "--out", str(tmp_path / "x.csv")]) == 2
    err_text = capsys.readouterr().err
    assert err_text.count("\n") == 1 and "holds a password" in err_text and ":pw@" not in err_text
    assert not (tmp_path / "x.csv").exists()


def _racer(url: str, wave: str, period: int, tag: int, start_at: float) -> dict:
    """Load ``wave`` (period ``period``, geographies of its own, so the primary key cannot
    catch an overlap) at wall-clock time ``start_at``; what happened."""
    vals = values(period, float(tag)).assign(geography=lambda d: d["geography"] + f"-{tag}")
    with open_base(url) as db:
        time.sleep(max(0.0, start_at - time.time()))
        t0 = time.perf_counter()
        try:
            replace_wave(db, wave=wave, source_type="survey", indicators=defs(), values=vals,
                         spec_hash=f"h-{wave}", run_id=wave)
            return {"wave": wave, "ok": True, "seconds": time.perf_counter() - t0}
        except LinkageError as exc:
            return {"wave": wave, "ok": False, "error": str(exc), "seconds": time.perf_counter() - t0}


def test_different_waves_with_the_same_periods_at_the_same_moment_one_lands(pg_server):
    """Issue 17's gap: loads of different waves with the same indicator periods, started
    together in several processes, round after round. The overlap check and insert run
    under the base-wide lock, so in every round exactly one wave lands and the others are
    refused with the one-line overlap error; no period ends up with rows of two waves."""
    url = new_database(pg_server)
    with open_base(url) as db:  # schema and definitions first
        replace_wave(db, wave="seed", source_type="survey", indicators=defs(), values=values(1990, 0.0),
                     spec_hash="h-seed", run_id="seed")
    procs, rounds = 4, 6
    ctx = mp.get_context("spawn")
    results = []
    t0 = time.perf_counter()
    with ctx.Pool(procs) as pool:
        pool.map(time.sleep, [0.0] * procs)  # workers up and imported before the first round
        for r in range(rounds):
            start_at = time.time() + 1.5
            jobs = [pool.apply_async(_racer, (url, f"w{r}_{k}", 2010 + r, k, start_at)) for k in range(procs)]
            results.append([j.get(timeout=60) for j in jobs])
    elapsed = time.perf_counter() - t0
    for r, got in enumerate(results):
        ok = [g for g in got if g["ok"]]
        refused = [g for g in got if not g["ok"]]
        assert len(ok) == 1, (r, got)
        for g in refused:
            msg = g["error"]
            assert "\n" not in msg and f"period {2010 + r} is already in the base from wave '{ok[0]['wave']}'" in msg
    with open_base(url, read_only=True) as db:
        per = db.execute("SELECT period, count(*), count(DISTINCT wave) FROM indicator_values "
                         "WHERE wave <> 'seed' GROUP BY period ORDER BY period")
        loads = db.execute("SELECT count(*) FROM loads WHERE wave <> 'seed'")[0][0]
    assert per == [(2010 + r, ROWS, 1) for r in range(rounds)]  # no period with two waves' rows
    assert loads == rounds
    waits = [g["seconds"] for got in results for g in got]
    print(f"\nPostgreSQL overlap race: {rounds} rounds x {procs} processes loading different waves with the "
          f"same periods ({ROWS} rows each) in {elapsed:.1f} s: {sum(g['ok'] for got in results for g in got)} "
          f"loads landed, {sum(not g['ok'] for got in results for g in got)} refused with the overlap error, "
          f"rows per period {sorted({p[1] for p in per})}; slowest load or refusal {max(waits):.2f} s")
