"""What every report reads besides its stage's outputs: the manifest and the wave's labels.

Labels (Dutch variable and category labels, origin-group names) come from the
questionnaire spec the clean stage used (its entry in the manifest), or else the
project's only ``questionnaires/*.yaml``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sid.errors import RunFolderError, SpecError
from sid.tables.labels import Labels, code_key

PathLike = str | os.PathLike[str]


@dataclass
class RunContext:
    """A run folder with its manifest, the questionnaire spec (path, parsed) and its labels."""

    out_dir: Path
    project_dir: Path
    manifest: dict[str, Any]
    questionnaire_path: Path
    labels: Labels
    questionnaire: Any

    @property
    def wave(self) -> str:
        """The wave's name (e.g. "sid2022")."""
        return str(self.questionnaire.wave)

    @property
    def title(self) -> str:
        """The survey's title from the questionnaire spec."""
        return str(self.questionnaire.title)

    def origin_label(self, code: Any, variable: str = "origin") -> str:
        """The Dutch label of an origin-group code ("BEL" -> "Belgisch"); the code if none."""
        return self.labels.categories.get(variable, {}).get(code_key(code), str(code))

    def origin_order(self, codes: Any, variable: str = "origin") -> list[str]:
        """``codes`` (as normal-form strings) in the spec's category order; undeclared ones last."""
        declared = list(self.labels.categories.get(variable, {}))
        keys = list(dict.fromkeys(code_key(c) for c in codes))
        return sorted(keys, key=lambda c: (declared.index(c) if c in declared else len(declared), c))

    def stage_specs(self, stage: str) -> list[str]:
        """Spec files the manifest records for ``stage`` (empty when it has none)."""
        entry = self.manifest.get("stages", {}).get(stage, {})
        return [str(s["path"]) for s in entry.get("specs", [])]


def _questionnaire_path(manifest: dict[str, Any], project_dir: Path) -> Path:
    for stage in ("clean", "score", "tables"):
        for spec in manifest.get("stages", {}).get(stage, {}).get("specs", []):
            p = Path(spec["path"])
            if p.parent.name == "questionnaires" and p.is_file():
                return p
    specs = sorted((project_dir / "questionnaires").glob("*.yaml"))
    if len(specs) != 1:
        raise SpecError(f"{project_dir / 'questionnaires'}: expected one questionnaire spec, found "
                        f"{len(specs)}; run `sid clean` so the manifest names the one used")
    return specs[0]


def open_run(out_dir: PathLike, project_dir: PathLike) -> RunContext:
    """The run folder ``out_dir`` (must hold a manifest) and the labels of its wave."""
    from sid.pipeline.manifest import read_manifest
    from sid.spec.questionnaire import load_questionnaire

    out, project = Path(out_dir), Path(project_dir)
    if not (out / "manifest.json").is_file():
        raise RunFolderError(f"{out}: no manifest.json; not a sid run folder (run `sid ingest` and "
                             "`sid clean` with --out pointing here first)")
    manifest = read_manifest(out)
    qpath = _questionnaire_path(manifest, project)
    q = load_questionnaire(qpath)
    return RunContext(out, project, manifest, qpath, Labels.from_questionnaire(q), q)


def read_output(path: Path, stage: str, **options: Any) -> pd.DataFrame:
    """A CSV file of the run folder written by ``sid <stage>``, read by sid's one CSV reader
    (:func:`sid.io.csvfile.read_csv`: a code such as ``NA`` stays a code); ``options`` as
    there. An unreadable file is a RunFolderError saying to re-run the stage."""
    from sid.io.csvfile import read_csv

    def unreadable(detail: str) -> RunFolderError:
        return RunFolderError(f"{path}: not a readable CSV file ({detail}); re-run `sid {stage}`")

    return read_csv(path, unreadable=unreadable, **options)
