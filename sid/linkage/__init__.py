"""sid.linkage: survey indicators for VLIM and the indicator base (DuckDB or PostgreSQL).

Modules, in the order the link stage uses them:

* :mod:`~sid.linkage.spec` - linkage spec (``linkage/<wave>.yaml``) and origin map;
* :mod:`sid.io.pseudonym` (in sid.io: ingest uses it too) - refuse raw national register
  numbers; HMAC-SHA256 keys;
* :mod:`~sid.linkage.register_link` - respondents to register records, link rates;
* :mod:`~sid.linkage.indicators` - survey indicators through ``Design``, pooled VLIM
  origin categories, disclosure;
* :mod:`~sid.linkage.db` - one database layer for a DuckDB file or a PostgreSQL URL;
* :mod:`~sid.linkage.schema` / :mod:`~sid.linkage.base` - the base's tables (and their
  migration); opening it, loading waves in one transaction (a lock per wave, then a
  base-wide lock around the overlap check and insert);
* :mod:`~sid.linkage.rows` - the value rows and definitions of a load, checked and typed;
* :mod:`~sid.linkage.register_load` - register indicator sets (CSV folders);
* :mod:`~sid.linkage.publish` - ``sid publish``: a run's own bases (link, small-area) into the shared base;
* :mod:`~sid.linkage.pull` - time series, survey and register side by side, rounded (CSV, Excel);
* :mod:`~sid.linkage.sdmx` - SDMX-CSV with the observation attributes;
* :mod:`~sid.linkage.stage` - the link stage (``run_link``), as ``sid link`` and ``sid run``
  call it: into the run's own base, ``RUN/link/base.duckdb``.
"""
