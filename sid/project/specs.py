"""A wave's specs with the project file's roles and data files applied.

The project file is where roles and data files are declared; a spec may still name them
(SID's specs did before the project file existed). Where both name one, they must agree:
a disagreement is a SpecError naming both files, never a silent choice of one.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from sid.errors import SpecError
from sid.project.load import PROJECT_FILE, load_project
from sid.project.model import Wave
from sid.spec.questionnaire import Questionnaire, load_questionnaire
from sid.spec.weighting import WeightingSpec, load_weighting


def _agree(wave: Wave, spec_path: object, what: str, spec_value: object, role_value: object,
           default: object = None) -> None:
    if role_value is None or spec_value in (None, default) or spec_value == role_value:
        return
    raise SpecError(
        f"{spec_path}: {what} is {spec_value!r} but the project file {wave.project_dir / 'sid.yaml'} "
        f"(wave {wave.name}) says {role_value!r}; declare it in one place"
    )


def wave_questionnaire(wave: Wave) -> Questionnaire:
    """The wave's questionnaire spec, its key and mode variable checked against the roles."""
    q = load_questionnaire(wave.questionnaire)
    _agree(wave, wave.questionnaire, "key", q.key, wave.roles.key)
    _agree(wave, wave.questionnaire, "mode_variable", q.mode_variable, wave.roles.mode)
    changes: dict[str, object] = {"key": wave.roles.key}
    if wave.roles.mode is not None:
        changes["mode_variable"] = wave.roles.mode
    return dataclasses.replace(q, **changes)


def wave_weighting(wave: Wave) -> WeightingSpec:
    """The wave's weighting spec with the project's roles and data files filled in."""
    if wave.weighting is None:
        raise SpecError(f"{wave.project_dir / 'sid.yaml'}: wave {wave.name} names no weighting "
                        "spec; add weighting: weights/<wave>.yaml to the wave")
    spec = load_weighting(wave.weighting)
    s, r, d = spec.sample, wave.roles, wave.data
    where = wave.weighting
    _agree(wave, where, "sample.key", s.key, r.key)
    _agree(wave, where, "sample.strata", tuple(s.strata), tuple(r.strata))
    _agree(wave, where, "sample.disposition", s.disposition, r.disposition, "disposition")
    _agree(wave, where, "sample.mode", s.mode, r.mode)
    _agree(wave, where, "sample.gross_sample", s.gross_sample, d.gross_sample)
    _agree(wave, where, "sample.dispositions", s.dispositions, d.dispositions)
    _agree(wave, where, "sample.frame", s.frame, d.frame)
    fields = {f.name for f in dataclasses.fields(s)}
    changes: dict[str, object] = {"key": r.key, "strata": tuple(r.strata)}
    if len(s.frame_strata) != len(r.strata):
        changes["frame_strata"] = tuple(r.strata)
    for name, value in (("disposition", r.disposition), ("mode", r.mode),
                        ("gross_sample", d.gross_sample), ("dispositions", d.dispositions),
                        ("frame", d.frame)):
        if value is not None:
            changes[name] = value
    # design roles the sample spec carries (psu per stage, fpc, the reporting group)
    if "psu" in fields and r.psu:
        changes["psu"] = r.psu if not isinstance(s.psu, str | type(None)) else r.psu[0]
    if "fpc" in fields and r.fpc:
        changes["fpc"] = r.fpc
    if "group" in fields:
        changes["group"] = r.reporting_group_in_sample if (r.sample_group or len(r.strata) == 1) else None
    return dataclasses.replace(spec, sample=dataclasses.replace(s, **changes))


def pick_wave_spec(specs: list[Path], project_dir: str | os.PathLike[str] | None,
                   out_dir: str | os.PathLike[str] | None = None, kind: str = "weighting") -> Path | None:
    """Among several specs of one ``kind`` ("weighting", "linkage", "tables") in a project
    folder, the one of the wave at hand; None when that is not known.

    The wave is the run folder's (``out_dir``: the questionnaire spec its clean stage used,
    from its manifest; the spec named ``<wave>.yaml``, plans ``<wave>_tables.yaml``), else
    the project file's default wave (its ``kind`` spec). A bridge for the stages that still
    look for their spec in the project's folders; with the project handed to every stage
    the wave names its specs itself.
    """
    by_path = {p.resolve(): p for p in specs}
    if out_dir is not None:
        manifest = Path(out_dir) / "manifest.json"
        try:
            stages = json.loads(manifest.read_text(encoding="utf-8")).get("stages", {})
        except (OSError, ValueError):
            stages = {}
        for s in stages.get("clean", {}).get("specs", []):
            q = Path(str(s.get("path", "")))
            if q.parent.name == "questionnaires":
                suffix = "_tables" if kind == "tables" else ""
                hits = [p for p in specs if p.stem == f"{q.stem}{suffix}"]
                if len(hits) == 1:
                    return hits[0]
    if project_dir is None or not (Path(str(project_dir)) / PROJECT_FILE).is_file():
        return None
    try:
        wave = load_project(str(project_dir)).wave()
    except SpecError:
        return None
    path = {"weighting": wave.weighting, "linkage": wave.linkage, "tables": wave.tables}.get(kind)
    return by_path.get(path.resolve()) if path is not None else None
