"""The run manifest: what went in (with hashes), what came out, versions, seed, timings.

``DIR/manifest.json`` holds one entry per stage, replaced when the stage is re-run, so a
stage can be re-run alone and a run can be reproduced byte for byte from its inputs, and
the project wave the run folder holds (``wave``).

A stage writes through :func:`stage_folder`: its folder (``DIR/<stage>``) is built in a
temporary sibling, the new manifest in a temporary file, and both are swapped in together
(:func:`sid.io.atomic.atomic_dir_and_file`), so a failed stage, whether it fails in its
own writing or in the manifest's, leaves the old folder and the old manifest as they
were. :func:`begin_stage` checks at a stage's start, before any work, that the run folder
can be written and that its manifest is whole.

An entry's ``warnings`` are the sentences the stage wants the survey team to read (for
example dispositions that disagree with the delivered data); the CLI prints them as
``sid: warning: ...`` lines and ``sid run`` lists them in its summary.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from sid.errors import RunFolderError
from sid.io.atomic import atomic_dir_and_file, check_output_folder, write_text
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
    """One stage's entry in the manifest. ``warnings``: sentences for the survey team."""

    stage: str
    inputs: list[str | os.PathLike[str]] = field(default_factory=list)
    specs: list[str | os.PathLike[str]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    _t0: float = field(default_factory=time.perf_counter)

    def finish(self, out_dir: str | os.PathLike[str], outputs: Iterable[str | os.PathLike[str]],
               written: str | os.PathLike[str] | None = None, folder: str | None = None) -> dict:
        """The manifest entry, with hashes of inputs, specs and outputs and the duration.

        ``outputs`` lie in the run folder ``out_dir``; or, with ``written``, in that
        (temporary) folder, to be named in the entry as if under ``out_dir/<folder>``
        (default: the stage's name).
        """
        out_dir = Path(out_dir)
        if written is not None:
            pairs = [(Path(p), Path(folder or self.stage) / Path(p).relative_to(written)) for p in outputs]
        else:
            pairs = [(Path(p), Path(p).relative_to(out_dir)) for p in outputs]
        return {
            "stage": self.stage,
            "inputs": _describe(self.inputs),
            "specs": _describe(self.specs),
            "params": self.params,
            "warnings": [" ".join(str(w).split()) for w in self.warnings],
            "outputs": [{"path": str(name), "sha256": sha256_file(p)} for p, name in pairs if p.is_file()],
            "versions": versions(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "seconds": round(time.perf_counter() - self._t0, 3),
        }


def read_manifest(out_dir: str | os.PathLike[str]) -> dict:
    """The manifest of a run folder (an empty one when the folder has none yet).

    A manifest that is not whole (cut short, not JSON, not sid's shape) is a
    :class:`RunFolderError` naming the file: a stage must not build on it or replace it.
    """
    path = Path(out_dir) / MANIFEST
    if not path.exists():
        return {"run_id": None, "stages": {}}
    fix = ("restore it from a backup, or move it away and run every stage again "
           f"(sid run --out {Path(out_dir)})")
    if not path.is_file():
        raise RunFolderError(f"{path}: not a file; {fix}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise RunFolderError(f"{path}: not UTF-8 text, the run manifest is damaged; {fix}") from None
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno}), the run manifest "
                             f"is damaged or cut short; {fix}") from None
    stages = data.get("stages") if isinstance(data, dict) else None
    if not isinstance(stages, dict) or not all(isinstance(e, dict) for e in stages.values()):
        raise RunFolderError(f"{path}: not a sid run manifest (no 'stages' mapping of entries); {fix}")
    return data


def dump_manifest(manifest: Mapping[str, Any]) -> str:
    """The text of ``manifest.json``."""
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _with_entry(manifest: dict, entry: Mapping[str, Any], wave: str | None = None) -> dict:
    if not manifest.get("run_id"):
        manifest["run_id"] = uuid.uuid4().hex[:12]
    if wave is not None:
        manifest["wave"] = wave
    manifest.setdefault("stages", {})[entry["stage"]] = dict(entry)
    return manifest


def record_stage(out_dir: str | os.PathLike[str], entry: Mapping[str, Any],
                 wave: str | None = None) -> dict:
    """Write ``entry`` into the run folder's manifest (atomically), replacing that stage's.

    For an entry whose stage wrote no folder; a stage with a folder uses
    :func:`stage_folder`, which swaps the folder and the manifest together. ``wave``: the
    project wave the stage ran on, recorded as the run folder's ``wave`` (so a later stage
    run alone, ``sid clean --out DIR``, works on the same wave).
    """
    manifest = _with_entry(read_manifest(out_dir), entry, wave)
    write_text(Path(out_dir) / MANIFEST, dump_manifest(manifest))
    return manifest


def begin_stage(out_dir: str | os.PathLike[str]) -> dict:
    """Check, at a stage's start, that the run folder can be written (it is not a file,
    is not read-only) and that its manifest is whole; return the manifest."""
    check_output_folder(out_dir)
    return read_manifest(out_dir)


@dataclass
class StageFolder:
    """The folder a stage writes in (``path``, temporary until the stage succeeds) and the
    run's id (``run_id``, the manifest's, or a new one the manifest will get)."""

    path: Path
    run_id: str


@contextlib.contextmanager
def stage_folder(out_dir: str | os.PathLike[str], rec: StageRecord,
                 folder: str | None = None, wave: str | None = None) -> Iterator[StageFolder]:
    """Yield a temporary folder for the stage's outputs; on success it replaces
    ``out_dir/<folder>`` (default: the stage's name) and the stage's manifest entry
    replaces the old one, together.

    The manifest is read and checked before anything is written. The entry lists every
    file the stage wrote in the folder, with its SHA-256, and takes ``rec.params`` and
    ``rec.warnings`` as they are when the body ends. On any failure, in the body or in
    writing the manifest, the old folder and the old manifest stay byte for byte.
    ``wave``: the project wave the stage ran on, recorded as the run folder's ``wave``.
    """
    out = Path(out_dir)
    manifest = begin_stage(out)
    run_id = manifest.get("run_id") or uuid.uuid4().hex[:12]
    target = out / (folder or rec.stage)
    with atomic_dir_and_file(target, out / MANIFEST) as (tmp, manifest_tmp):
        yield StageFolder(tmp, run_id)
        outputs = sorted(p for p in tmp.rglob("*") if p.is_file())
        entry = rec.finish(out, outputs, written=tmp, folder=folder)
        manifest = read_manifest(out)  # the latest, should another stage have written since
        manifest["run_id"] = manifest.get("run_id") or run_id
        try:
            _write(manifest_tmp, dump_manifest(_with_entry(manifest, entry, wave)))
        except OSError as exc:
            if exc.filename is None:  # a full disk: name the manifest, not the folder
                exc.filename = str(out / MANIFEST)
            raise


def stage_warnings(out_dir: str | os.PathLike[str], stage: str) -> list[str]:
    """The warnings of ``stage``'s entry in the run folder's manifest."""
    entry = read_manifest(out_dir).get("stages", {}).get(stage, {})
    return [str(w) for w in entry.get("warnings", [])]
