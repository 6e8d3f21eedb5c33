"""The indicator base's schema: sid's own tables in a DuckDB file or a PostgreSQL schema.

* ``indicators``: one row per indicator (code, name, theme, definition, unit, source type
  ``register`` or ``survey``, ``numerator_definition`` and ``denominator_definition``:
  the texts saying what the numerator and denominator count, where a ratio, and the
  ``wave`` (survey wave or register data set) that defines it). They are not named
  ``numerator``/``denominator``, which are the counts of ``indicator_values``: a join of
  the two tables has no two columns of one name;
* ``indicator_values``: one row per indicator x period x geography x origin x generation x
  sex x age band (``total`` where not broken down): value, SE and CI (survey), CV,
  unweighted n, numerator/denominator counts (register), flags, a coverage note, and
  provenance (wave, run id, spec hash, time loaded), and the SDMX observation attributes
  (:data:`OBS_STATUS`, :data:`CONF_STATUS`, ``unit_mult``, ``decimals``). ``values`` is an SQL keyword, hence
  the longer table name;
* ``loads``: one row per wave / register data set loaded, with its provenance (run id,
  ``run_at``: when the run's link stage computed it, spec hash, time loaded);
* ``sid_schema``: the schema version.

The DDL is plain SQL both DuckDB and PostgreSQL run (``DOUBLE PRECISION``, ``VARCHAR``).
Older bases are brought to :data:`SCHEMA_VERSION` on opening for writing, in one
transaction: version 1 (before the SDMX attributes) gains the four columns with their
defaults; version 2 gets the definition columns renamed (``numerator`` ->
``numerator_definition``, ``denominator`` -> ``denominator_definition``), ``loads.run_at``
and OBS_STATUS ``M`` (not applicable), by rebuilding the three tables (DuckDB cannot
alter a CHECK constraint). Opened read-only, an older base is read as it is: pulling
from it renames the old columns in the query (:func:`indicator_select`).
"""

from __future__ import annotations

from sid.linkage.db import Db

SCHEMA_VERSION = 3

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
    "obs_status", "conf_status", "unit_mult", "decimals",
)
#: SDMX OBS_STATUS codes a value row may carry
OBS_STATUS = {"A": "normal", "E": "estimated (model-based)", "U": "low reliability", "Q": "suppressed",
              "B": "break in series", "M": "not applicable (the value cannot exist)"}
#: SDMX CONF_STATUS codes a value row may carry
CONF_STATUS = {"F": "free", "C": "confidential"}
#: the columns added by schema version 2, with their SQL definitions
SDMX_COLUMNS = {
    "obs_status": "VARCHAR NOT NULL DEFAULT 'A' CHECK (obs_status IN ('A', 'E', 'U', 'Q', 'B', 'M'))",
    "conf_status": "VARCHAR NOT NULL DEFAULT 'F' CHECK (conf_status IN ('F', 'C'))",
    "unit_mult": "INTEGER NOT NULL DEFAULT 0",
    "decimals": "INTEGER",
}
PROVENANCE_COLUMNS = ("source_type", "wave", "run_id", "spec_hash", "loaded_at")
INDICATOR_COLUMNS = ("code", "name", "theme", "definition", "unit", "source_type", "numerator_definition",
                     "denominator_definition")
#: the names of the definition columns before schema version 3
OLD_DEFINITION_COLUMNS = {"numerator": "numerator_definition", "denominator": "denominator_definition"}

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
    numerator_definition VARCHAR,
    denominator_definition VARCHAR,
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
    loaded_at TIMESTAMP NOT NULL,
    run_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS indicator_values (
    indicator_code VARCHAR NOT NULL,
    period INTEGER NOT NULL,
    geography VARCHAR NOT NULL,
    origin VARCHAR NOT NULL,
    generation VARCHAR NOT NULL,
    sex VARCHAR NOT NULL,
    age_band VARCHAR NOT NULL,
    value DOUBLE PRECISION,
    se DOUBLE PRECISION,
    ci_low DOUBLE PRECISION,
    ci_high DOUBLE PRECISION,
    cv DOUBLE PRECISION,
    n BIGINT,
    numerator DOUBLE PRECISION,
    denominator DOUBLE PRECISION,
    flags VARCHAR NOT NULL,
    note VARCHAR,
    source_type VARCHAR NOT NULL CHECK (source_type IN ('register', 'survey')),
    wave VARCHAR NOT NULL,
    run_id VARCHAR,
    spec_hash VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    {", ".join(f"{k} {v}" for k, v in SDMX_COLUMNS.items())},
    PRIMARY KEY (indicator_code, period, geography, origin, generation, sex, age_band)
);
INSERT INTO sid_schema SELECT {SCHEMA_VERSION}, now()::TIMESTAMP
    WHERE NOT EXISTS (SELECT 1 FROM sid_schema);
"""

TABLES = ("sid_schema", "indicators", "loads", "indicator_values")


def create_schema(db: Db) -> None:
    """Create sid's tables in ``db`` when absent (idempotent), in one transaction."""
    with db.transaction():
        db.lock("schema")
        db.script(DDL)


def _table_ddl(table: str, name: str) -> str:
    """The CREATE TABLE statement of ``table`` (of :data:`DDL`), creating it as ``name``."""
    start = DDL.index(f"CREATE TABLE IF NOT EXISTS {table} (")
    stmt = DDL[start:DDL.index(");", start) + 1]
    return stmt.replace(f"IF NOT EXISTS {table} (", f"{name} (", 1)


def _rebuild(db: Db, table: str, columns: tuple[str, ...], select: str) -> None:
    """Replace ``table`` by a new one of the current DDL, its ``columns`` filled by ``select``."""
    db.execute(_table_ddl(table, f"{table}_v{SCHEMA_VERSION}"))
    db.execute(f"INSERT INTO {table}_v{SCHEMA_VERSION} ({', '.join(columns)}) {select}")
    db.execute(f"DROP TABLE {table}")
    db.execute(f"ALTER TABLE {table}_v{SCHEMA_VERSION} RENAME TO {table}")


def upgrade_schema(db: Db, version: int) -> None:
    """Bring a base of schema ``version`` to :data:`SCHEMA_VERSION`, in one transaction
    (version 1: add the SDMX attribute columns; version 2: rename the definition columns,
    add ``loads.run_at`` and OBS_STATUS ``M``)."""
    with db.transaction():
        db.lock("schema")
        if version < 2:
            for col, sql in SDMX_COLUMNS.items():
                db.execute(f"ALTER TABLE indicator_values ADD COLUMN {col} {sql.split(' CHECK')[0]}")
        if version < 3:
            old = [next((k for k, v in OLD_DEFINITION_COLUMNS.items() if v == c), c) for c in INDICATOR_COLUMNS]
            _rebuild(db, "indicators", (*INDICATOR_COLUMNS, "wave"), f"SELECT {', '.join(old)}, wave FROM indicators")
            load_cols = ("wave", "source_type", "run_id", "spec_hash", "period_min", "period_max", "n_values",
                         "loaded_at")
            _rebuild(db, "loads", load_cols, f"SELECT {', '.join(load_cols)} FROM loads")
            cols = (*VALUE_COLUMNS, *PROVENANCE_COLUMNS)
            _rebuild(db, "indicator_values", cols, f"SELECT {', '.join(cols)} FROM indicator_values")
        db.execute("UPDATE sid_schema SET version = ?", [SCHEMA_VERSION])


def indicator_select(db: Db, alias: str = "") -> str:
    """The ``indicators`` columns for a SELECT, by their current names, also on a base of
    an older schema opened read-only (``numerator AS numerator_definition``)."""
    prefix = f"{alias}." if alias else ""
    version = schema_version(db) or SCHEMA_VERSION
    cols = [f"{prefix}{old} AS {new}" if version < 3 and new in OLD_DEFINITION_COLUMNS.values() else f"{prefix}{new}"
            for new in INDICATOR_COLUMNS
            for old in [next((k for k, v in OLD_DEFINITION_COLUMNS.items() if v == new), new)]]
    return ", ".join([*cols, f"{prefix}wave"])


def schema_version(db: Db) -> int | None:
    """The base's schema version, or None when ``sid_schema`` is absent."""
    if "sid_schema" not in db.table_names():
        return None
    rows = db.execute("SELECT max(version) FROM sid_schema")
    return rows[0][0] if rows else None
