"""What every report reads besides its stage's outputs: the manifest, the wave and its labels.

The wave is the project's (sid.runfolder.context: named, recorded in the run folder's
manifest, or the default); labels (Dutch variable and category labels, group names) come
from its questionnaire spec, and the reporting group is its ``roles.group``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sid.errors import RunFolderError
from sid.messages import Catalogue, catalogue
from sid.project import PROJECT_FILE, Project, Wave, wave_questionnaire
from sid.tables.labels import Labels, code_key

PathLike = str | os.PathLike[str]


@dataclass
class RunContext:
    """A run folder with its manifest, the project's wave, the questionnaire spec (path,
    parsed) and its labels."""

    out_dir: Path
    project_wave: Wave
    manifest: dict[str, Any]
    questionnaire_path: Path
    labels: Labels
    questionnaire: Any
    lang: str = "nl"

    @property
    def cat(self) -> Catalogue:
        """The texts of the reports' language (sid.messages): ``ctx.cat("page.key", field=...)``."""
        return catalogue(self.lang)

    @property
    def project_dir(self) -> Path:
        """The project folder."""
        return self.project_wave.project_dir

    @property
    def wave(self) -> str:
        """The wave's name as its questionnaire has it (e.g. "sid2022")."""
        return str(self.questionnaire.wave)

    @property
    def title(self) -> str:
        """The survey's title from the questionnaire spec."""
        return str(self.questionnaire.title)

    @property
    def group(self) -> str:
        """The reporting group variable (``roles.group`` of the project file; SID: origin)."""
        return self.project_wave.roles.group

    @property
    def group_title(self) -> str:
        """The reporting group's name in a heading ("Per {group_title}"): the questionnaire's
        label of the group variable, its first letter lower case (SID: "herkomst (land)")."""
        text = self.labels.label(self.group)
        return text[:1].lower() + text[1:] if text[1:2].islower() else text

    def group_label(self, code: Any) -> str:
        """The label of a reporting-group code ("BEL" -> "Belgisch"); the code if none."""
        return self.labels.categories.get(self.group, {}).get(code_key(code), str(code))

    def value_label(self, variable: str, code: Any) -> str:
        """What a reader sees for a value of ``variable``: "label (code)" from the
        questionnaire spec (categories and missing codes), the code as written when it has
        no label, and a whole number without ".0" ("3.0" -> "Soms (3)")."""
        text = "" if code is None else str(code).strip()
        if not text or text.lower() == "nan":
            return self.cat("cleaning.empty")
        key = code_key(text)
        try:
            num = float(text)
            if num.is_integer():
                key = code_key(int(num))
        except ValueError:
            pass
        missing = {code_key(c): m.label for c, m in self.questionnaire.missing_codes.items()}
        label = self.labels.categories.get(variable, {}).get(key) or missing.get(key)
        return self.cat("common.code_label", label=label, code=key) if label else key


    def group_order(self, codes: Any) -> list[str]:
        """``codes`` (as normal-form strings) in the spec's category order; undeclared ones last."""
        declared = list(self.labels.categories.get(self.group, {}))
        keys = list(dict.fromkeys(code_key(c) for c in codes))
        return sorted(keys, key=lambda c: (declared.index(c) if c in declared else len(declared), c))

    def group_column(self, path: Path, key: str) -> list[str]:
        """The columns ``[key, group]`` a report reads from the clean wave at ``path``, after
        checking the file holds both (a one-line RunFolderError naming the role if not)."""
        import pyarrow.parquet as pq

        try:
            names = pq.read_schema(path).names
        except (OSError, ValueError) as exc:
            raise RunFolderError(f"{path}: unreadable ({' '.join(str(exc).split())}); re-run `sid clean`") from None
        for name, what in ((key, "the respondent key"), (self.group, "the reporting group (roles.group "
                           f"of wave {self.project_wave.name} in {self.project_dir / PROJECT_FILE})")):
            if name not in names:
                raise RunFolderError(f"{path}: no column {name!r}, {what}; declare it in the questionnaire "
                                     "and re-run `sid clean`, or fix the project file")
        return [key, self.group]

    def stage_specs(self, stage: str) -> list[str]:
        """Spec files the manifest records for ``stage`` (empty when it has none)."""
        entry = self.manifest.get("stages", {}).get(stage, {})
        return [str(s["path"]) for s in entry.get("specs", [])]

    def stage_params(self, stage: str) -> dict[str, Any]:
        """The parameters the manifest records for ``stage`` (empty when it has not run)."""
        return dict(self.manifest.get("stages", {}).get(stage, {}).get("params", {}))


def open_run(out_dir: PathLike, project_dir: PathLike | Project = ".",
             wave: str | Wave | None = None, lang: str | None = None) -> RunContext:
    """The run folder ``out_dir`` (must hold a manifest), its wave and the wave's labels.

    ``lang``: the reports' language; None: the wave's ``language`` of the project file."""
    from sid.runfolder.context import resolve_wave
    from sid.runfolder.manifest import read_manifest

    out = Path(out_dir)
    if not (out / "manifest.json").is_file():
        raise RunFolderError(f"{out}: no manifest.json; not a sid run folder (run `sid ingest` and "
                             "`sid clean` with --out pointing here first)")
    w = resolve_wave(project_dir, out, wave)
    manifest = read_manifest(out)
    q = wave_questionnaire(w)
    from sid.messages import check_language

    language = check_language(lang, "--lang") if lang is not None else w.language
    labels = Labels.from_questionnaire(q, mode_label=catalogue(language)("common.mode_variable"))
    return RunContext(out, w, manifest, w.questionnaire, labels, q, language)


def read_output(path: Path, stage: str, **options: Any) -> pd.DataFrame:
    """A CSV file of the run folder written by ``sid <stage>``, read by sid's one CSV reader
    (:func:`sid.io.csvfile.read_csv`: a code such as ``NA`` stays a code); ``options`` as
    there. An unreadable file is a RunFolderError saying to re-run the stage."""
    from sid.io.csvfile import read_csv

    def unreadable(detail: str) -> RunFolderError:
        return RunFolderError(f"{path}: not a readable CSV file ({detail}); re-run `sid {stage}`")

    return read_csv(path, unreadable=unreadable, **options)
