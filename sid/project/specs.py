"""A wave's specs with the project file's roles and data files applied.

The project file is where roles and data files are declared; a spec may still name them
(SID's specs did before the project file existed). Where both name one, they must agree:
a disagreement is a SpecError naming both files, never a silent choice of one.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from sid.errors import SpecError
from sid.project.model import Wave
from sid.spec.check import load_checked_questionnaire
from sid.spec.questionnaire import Questionnaire
from sid.spec.questionnaire_parse import load_questionnaire
from sid.spec.weighting import WeightingSpec, load_weighting

PathLike = str | os.PathLike[str]


def _agree(wave: Wave, spec_path: object, what: str, spec_value: object, role_value: object) -> None:
    if role_value is None or spec_value in (None, ()) or spec_value == role_value:
        return
    raise SpecError(
        f"{spec_path}: {what} is {spec_value!r} but the project file {wave.project_dir / 'sid.yaml'} "
        f"(wave {wave.name}) says {role_value!r}; declare it in one place"
    )


def wave_questionnaire(wave: Wave, path: PathLike | None = None, *,
                       check: bool = False) -> Questionnaire:
    """The wave's questionnaire spec (or the one at ``path``, ``--spec``), its key and mode
    variable checked against the roles and set from them. ``check``: lint it too
    (:func:`sid.spec.check.load_checked_questionnaire`)."""
    where = Path(path) if path is not None else wave.questionnaire
    q = load_checked_questionnaire(where) if check else load_questionnaire(where)
    _agree(wave, where, "key", q.key, wave.roles.key)
    _agree(wave, where, "mode_variable", q.mode_variable, wave.roles.mode)
    changes: dict[str, object] = {"key": wave.roles.key}
    if wave.roles.mode is not None:
        changes["mode_variable"] = wave.roles.mode
    return dataclasses.replace(q, **changes)


def wave_weighting(wave: Wave, path: PathLike | None = None) -> WeightingSpec:
    """The wave's weighting spec (or the one at ``path``, ``--spec``) with the project's
    roles and data files filled in; a SpecError when the two disagree, or when a file or
    column a stage needs is named in neither."""
    if path is None and wave.weighting is None:
        raise SpecError(f"{wave.project_dir / 'sid.yaml'}: wave {wave.name} names no weighting "
                        "spec; add weighting: weights/<wave>.yaml to the wave")
    where = Path(path) if path is not None else wave.weighting
    spec = load_weighting(where)
    s, r, d = spec.sample, wave.roles, wave.data
    _agree(wave, where, "sample.key", s.key, r.key)
    _agree(wave, where, "sample.strata", tuple(s.strata), tuple(r.strata))
    _agree(wave, where, "sample.disposition", s.disposition, r.disposition)
    _agree(wave, where, "sample.mode", s.mode, r.mode)
    _agree(wave, where, "sample.gross_sample", s.gross_sample, d.gross_sample)
    _agree(wave, where, "sample.dispositions", s.dispositions, d.dispositions)
    _agree(wave, where, "sample.frame", s.frame, d.frame)
    # the design roles: PSU per stage, fpc per stage, the reporting group in the gross
    # sample (an empty psu/fpc role declares nothing: the spec may declare them)
    _agree(wave, where, "sample.psu", s.psu, r.psu or None)
    _agree(wave, where, "sample.fpc", s.fpc, r.fpc or None)
    _agree(wave, where, "sample.group", s.group, r.sample_group)
    changes: dict[str, object] = {"key": r.key, "strata": tuple(r.strata)}
    if len(s.frame_strata) != len(r.strata):
        changes["frame_strata"] = tuple(r.strata)
    named = dict(disposition=r.disposition, mode=r.mode, gross_sample=d.gross_sample,
                 dispositions=d.dispositions, frame=d.frame, group=r.sample_group)
    changes.update({k: v for k, v in named.items() if v is not None})
    if r.psu:
        changes["psu"] = r.psu
    if r.fpc:
        changes["fpc"] = r.fpc
    try:
        sample = dataclasses.replace(s, **changes)
    except SpecError as exc:  # SampleSpec's own checks (fpc per stage), named with both files
        raise SpecError(f"{where} with the project file {wave.project_dir / 'sid.yaml'} (wave "
                        f"{wave.name}): {exc}") from None
    if len(sample.strata) > 1 and sample.group is None:
        raise SpecError(
            f"{where}: {len(sample.strata)} stratum variables and no sample.group; name the "
            "reporting group's gross-sample column (roles.sample_group in the project file "
            f"{wave.project_dir / 'sid.yaml'}, or sample.group here, e.g. {sample.strata[0]}): "
            "fieldwork rates and e are per group")
    unnamed = sample.missing()
    if unnamed:
        raise SpecError(
            f"{where}: sample {', '.join(unnamed)} named neither here nor in the project file "
            f"{wave.project_dir / 'sid.yaml'} (wave {wave.name}); declare them there (data: "
            "gross_sample, dispositions, frame; roles: key, strata, disposition)")
    return dataclasses.replace(spec, sample=sample)


def gross_sample_file(wave: Wave) -> str:
    """The file name of the wave's gross sample: ``data.gross_sample`` of the project file,
    else the weighting spec's ``sample.gross_sample``."""
    if wave.data.gross_sample is not None:
        return wave.data.gross_sample
    if wave.weighting is not None:
        named = load_weighting(wave.weighting).sample.gross_sample
        if named is not None:
            return named
    raise SpecError(f"{wave.project_dir / 'sid.yaml'}: wave {wave.name} names no gross sample; "
                    "add data: gross_sample: FILE.csv (the register extract of every sampled "
                    "person) to the wave")
