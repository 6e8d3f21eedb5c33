"""The run manifest: what went in (with hashes), what came out, versions, seed, timings.

``DIR/manifest.json`` holds one entry per stage, replaced when the stage is re-run, so a
stage can be re-run alone and a run can be reproduced byte for byte from its inputs, and
the project wave the run folder holds (``wave``).
"""

from __future__ import annotations

import json
import os
import platform
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from sid.io.atomic import write_text
from sid.io.hashing import sha256_file

MANIFEST = "manifest.json"
_LIBRARIES = ("numpy", "scipy", "pandas", "pyreadstat", "statsmodels", "duckdb", "jinja2")


def versions() -> dict[str, str]:
    """Versions of Python, sid and the libraries whose results sid's outputs depend on."""
    from sid import __version__

    out = {"python": platform.python_version(), "sid": __version__}
    for lib in _LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = "not installed"
    return out


def _describe(paths: Iterable[str | os.PathLike[str]]) -> list[dict[str, str]]:
    return [{"path": str(p), "sha256": sha256_file(p)} for p in paths if Path(p).is_file()]


@dataclass
class StageRecord:
    """One stage's entry in the manifest."""

    stage: str
    inputs: list[str | os.PathLike[str]] = field(default_factory=list)
    specs: list[str | os.PathLike[str]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    _t0: float = field(default_factory=time.perf_counter)

    def finish(self, out_dir: str | os.PathLike[str], outputs: Iterable[str | os.PathLike[str]]) -> dict:
        """The manifest entry, with hashes of inputs, specs and outputs and the duration."""
        out_dir = Path(out_dir)
        return {
            "stage": self.stage,
            "inputs": _describe(self.inputs),
            "specs": _describe(self.specs),
            "params": self.params,
            "outputs": [
                {"path": str(Path(p).relative_to(out_dir)), "sha256": sha256_file(p)}
                for p in outputs
                if Path(p).is_file()
            ],
            "versions": versions(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "seconds": round(time.perf_counter() - self._t0, 3),
        }


def read_manifest(out_dir: str | os.PathLike[str]) -> dict:
    """The manifest of a run folder (an empty one when the folder has none yet)."""
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        return {"run_id": None, "stages": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def record_stage(out_dir: str | os.PathLike[str], entry: Mapping[str, Any],
                 wave: str | None = None) -> dict:
    """Write ``entry`` into the run folder's manifest (atomically), replacing that stage's.

    ``wave``: the project wave the stage ran on, recorded as the run folder's ``wave`` (so
    a later stage run alone, ``sid clean --out DIR``, works on the same wave).
    """
    manifest = read_manifest(out_dir)
    if not manifest.get("run_id"):
        manifest["run_id"] = uuid.uuid4().hex[:12]
    if wave is not None:
        manifest["wave"] = wave
    manifest.setdefault("stages", {})[entry["stage"]] = dict(entry)
    write_text(Path(out_dir) / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
