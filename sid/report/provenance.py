"""The provenance block of a report: which run, which stages, which inputs and specs (SHA-256).

Taken from the run folder's ``manifest.json`` (sid.runfolder.manifest): for each stage the
report draws on, its start time, duration, input and spec files with their SHA-256, and
the versions of sid and the libraries the figures depend on. A report states this so a
reader can cite the run and check that a file in hand is the one the figures came from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def _files(entries: Sequence[Mapping[str, Any]] | None) -> list[dict[str, str]]:
    return [{"path": str(e.get("path", "")), "sha256": str(e.get("sha256", ""))} for e in entries or []]


def provenance(manifest: Mapping[str, Any], stages: Sequence[str],
               cat: Callable[[str], str] | None = None) -> dict[str, Any]:
    """Provenance of the ``stages`` (in that order) present in ``manifest``.

    Returns ``run_id``, ``generated`` (UTC time of the report), ``sid_version``, and
    ``stages``: a list of dicts with ``stage``, ``started``, ``seconds``, ``inputs`` and
    ``specs`` (each a list of {path, sha256}) and ``versions`` (name, version pairs).
    """
    recorded = manifest.get("stages", {})
    rows = []
    sid_version = ""
    for name in stages:
        entry = recorded.get(name)
        if entry is None:
            continue
        vers = dict(entry.get("versions", {}))
        sid_version = sid_version or str(vers.get("sid", ""))
        rows.append({
            "stage": name,
            "started": str(entry.get("started", "")),
            "seconds": float(entry.get("seconds", float("nan"))),
            "inputs": _files(entry.get("inputs")),
            "specs": _files(entry.get("specs")),
            "versions": sorted(vers.items()),
        })
    if not sid_version:
        from sid import __version__

        sid_version = __version__
    return {
        "run_id": str(manifest.get("run_id") or (cat("base.no_manifest") if cat else "(geen manifest)")),
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sid_version": sid_version,
        "stages": rows,
    }
