"""``sid init DIR``: a new survey project's skeleton that ``sid check`` accepts.

The skeleton (sid/project/skeleton/) is a small but complete project of one wave: the
project file with every role commented, a questionnaire, a weighting spec and a table
plan, plus sid's report templates to adapt. ``docs/new-project.md`` walks a survey team
from their agency's files to a run. The folder is written whole or not at all.
"""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path

from sid.errors import RunFolderError
from sid.io.atomic import atomic_dir

PathLike = str | os.PathLike[str]


def _skeleton() -> Path:
    return Path(str(resources.files("sid.project") / "skeleton"))


def _templates() -> Path | None:
    """sid's built-in report templates, when the package ships them."""
    p = Path(str(resources.files("sid.report"))) / "templates"
    return p if p.is_dir() and any(p.glob("*.html.j2")) else None


def init_project(target: PathLike) -> list[Path]:
    """Write the skeleton into ``target`` (absent or empty); return the files written."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        what = "is a file" if not target.is_dir() else "is not empty"
        raise RunFolderError(f"{target}: {what}; sid init writes a new project into an absent "
                             "or empty folder, so nothing is overwritten")
    with atomic_dir(target) as tmp:
        shutil.copytree(_skeleton(), tmp, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        tpl = _templates()
        if tpl is not None:
            for f in sorted(tpl.glob("*.html.j2")):
                shutil.copy2(f, tmp / "reports" / f.name)
        (tmp / "data" / "wave1").mkdir(parents=True)
    return sorted(p for p in target.rglob("*") if p.is_file())
