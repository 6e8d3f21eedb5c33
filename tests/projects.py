"""Test helper: survey projects for tests (a copy of the repository's, or a small one).

A project is a folder with a project file ``sid.yaml`` (docs/project-file.md): stages
take every spec, data file and variable role of a wave from it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FOLDERS = ("questionnaires", "weights", "linkage", "reports", "smallarea")


def copy_project(dst: Path, folders: tuple[str, ...] = PROJECT_FOLDERS) -> Path:
    """A copy of the repository's SID project (sid.yaml and its spec folders) in ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        shutil.copytree(ROOT / folder, dst / folder)
    shutil.copy(ROOT / "sid.yaml", dst / "sid.yaml")
    return dst


def sid_wave(**changes) -> dict:
    """The repository's sid2022 wave entry of sid.yaml, with ``changes`` (top-level keys of
    the wave; ``None`` removes one)."""
    doc = yaml.safe_load((ROOT / "sid.yaml").read_text(encoding="utf-8"))
    wave = doc["waves"]["sid2022"]
    for k, v in changes.items():
        if v is None:
            wave.pop(k, None)
        else:
            wave[k] = v
    return wave


def write_project_file(dst: Path, waves: dict[str, dict], name: str = "test") -> Path:
    """Write ``dst/sid.yaml`` with these wave entries (the first is the default wave)."""
    dst.mkdir(parents=True, exist_ok=True)
    doc = {"project": name, "default_wave": next(iter(waves)), "waves": waves}
    (dst / "sid.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return dst / "sid.yaml"


def small_wave(questionnaire: str, *, key: str, group: str, strata=("stratum",), mode: str | None = None,
               fieldwork=("w.sav",), **extra) -> dict:
    """A wave entry for a hand-made project: a questionnaire, fieldwork files, the roles."""
    roles = {"key": key, "group": group, "strata": list(strata)}
    if mode is not None:
        roles["mode"] = mode
    wave = {"questionnaire": questionnaire, "data": {"fieldwork": list(fieldwork)}, "roles": roles}
    for k, v in extra.items():
        if k in ("gross_sample", "dispositions", "frame", "register_extract", "admin_indicators"):
            wave["data"][k] = v
        else:
            wave[k] = v
    return wave
