"""The indicator base's schema: sid's own tables in a DuckDB file.

* ``indicators``: one row per indicator (code, name, theme, definition, unit, source type
  ``register`` or ``survey``, numerator and denominator where a ratio, and the ``wave``
  (survey wave or register data set) that defines it);
* ``indicator_values``: one row per indicator x period x geography x origin x generation x
  sex x age band (``total`` where not broken down): value, SE and CI (survey), CV,
  unweighted n, numerator/denominator counts (register), flags, a coverage note, and
  provenance (wave, run id, spec hash, time loaded). ``values`` is an SQL keyword, hence
  the longer table name;
* ``loads``: one row per wave / register data set loaded, with its provenance;
* ``sid_schema``: the schema version.
"""

from __future__ import annotations

import duckdb

SCHEMA_VERSION = 1

# The base's column names are VLIM's (the Flemish integration monitor's) and the same for
# every survey: the one place sid names them. The survey variables feeding them are data
# of the linkage spec (the origin map's origin variable, the spec's ``dimensions``).
#: the VLIM origin category of a value row (BEL, EU, NEU)
ORIGIN = "origin"
#: the generation column: first / second generation of foreign origin (the origin map's codes)
GENERATION = "generation"
#: the breakdown columns besides geography and origin; ``total`` where not broken down
DIMENSIONS = (GENERATION, "sex", "age_band")
TOTAL = "total"
#: the columns that identify a value row (its primary key)
KEY_COLUMNS = ("indicator_code", "period", "geography", ORIGIN, *DIMENSIONS)

VALUE_COLUMNS = (
    *KEY_COLUMNS,
    "value", "se", "ci_low", "ci_high", "cv", "n", "numerator", "denominator", "flags", "note",
)
PROVENANCE_COLUMNS = ("source_type", "wave", "run_id", "spec_hash", "loaded_at")
INDICATOR_COLUMNS = ("code", "name", "theme", "definition", "unit", "source_type", "numerator", "denominator")

DDL = f"""
CREATE TABLE IF NOT EXISTS sid_schema (
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS indicators (
    code VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    theme VARCHAR NOT NULL,
    definition VARCHAR NOT NULL,
    unit VARCHAR NOT NULL,
    source_type VARCHAR NOT NULL CHECK (source_type IN ('register', 'survey')),
    numerator VARCHAR,
    denominator VARCHAR,
    wave VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS loads (
    wave VARCHAR PRIMARY KEY,
    source_type VARCHAR NOT NULL CHECK (source_type IN ('register', 'survey')),
    run_id VARCHAR,
    spec_hash VARCHAR NOT NULL,
    period_min INTEGER NOT NULL,
    period_max INTEGER NOT NULL,
    n_values BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS indicator_values (
    indicator_code VARCHAR NOT NULL,
    period INTEGER NOT NULL,
    geography VARCHAR NOT NULL,
    origin VARCHAR NOT NULL,
    generation VARCHAR NOT NULL,
    sex VARCHAR NOT NULL,
    age_band VARCHAR NOT NULL,
    value DOUBLE,
    se DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    cv DOUBLE,
    n BIGINT,
    numerator DOUBLE,
    denominator DOUBLE,
    flags VARCHAR NOT NULL,
    note VARCHAR,
    source_type VARCHAR NOT NULL CHECK (source_type IN ('register', 'survey')),
    wave VARCHAR NOT NULL,
    run_id VARCHAR,
    spec_hash VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (indicator_code, period, geography, origin, generation, sex, age_band)
);
INSERT INTO sid_schema SELECT {SCHEMA_VERSION}, now()::TIMESTAMP
    WHERE NOT EXISTS (SELECT 1 FROM sid_schema);
"""

TABLES = ("sid_schema", "indicators", "loads", "indicator_values")


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create sid's tables in ``con`` when absent (idempotent), in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(DDL)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The base's schema version, or None when ``sid_schema`` is absent."""
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'sid_schema'"
    ).fetchall()[0][0]
    if not found:
        return None
    rows = con.execute("SELECT max(version) FROM sid_schema").fetchall()
    return rows[0][0] if rows else None
