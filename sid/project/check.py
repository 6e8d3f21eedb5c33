"""``sid check`` of a project: every wave's specs and variable roles, as the stages read them.

:func:`check_wave` checks one wave of a loaded :class:`~sid.project.Project`:

* the questionnaire (:func:`sid.spec.check.check_spec`), read as the stages read it
  (:func:`sid.project.wave_questionnaire`: its key and mode variable agree with the roles);
* the roles against the questionnaire: the key and the reporting group are variables it
  declares (the group may be a derived variable); each fieldwork file's mode is one of its
  ``modes``;
* the weighting spec with the roles and data files filled in
  (:func:`sid.project.wave_weighting`; a disagreement between the spec and sid.yaml is an
  error) and :func:`sid.spec.check_weighting.check_weighting`, against the files of the
  data folder (``--data``, else the wave's ``data_folder`` when it holds any of the
  wave's files): then the
  strata, PSU, fpc and sample-group roles are checked to be columns of the gross sample;
* the linkage spec and the table plan against the wave's questionnaire
  (sid.spec.check_project), with the reporting group as the default origin variable;
* with a ``trends:`` entry, the harmonisation spec against every compared wave's
  questionnaire (:func:`check_trends`, sid.spec.check_harmonisation).

Every problem is one :class:`~sid.spec.check.Finding` naming file, line and key.
"""

from __future__ import annotations

import os
from pathlib import Path

from sid.errors import SidError, SpecError
from sid.io.csvfile import read_csv
from sid.project.model import Project, Wave
from sid.project.specs import wave_questionnaire, wave_weighting
from sid.spec.check import Finding, check_spec
from sid.spec.check_project import check_linkage_file, check_plan_file
from sid.spec.check_weighting import check_weighting
from sid.spec.questionnaire import Questionnaire
from sid.spec.yamlfile import Section, Where, load_yaml, suggest

PathLike = str | os.PathLike[str]
KINDS = ("questionnaire", "weighting", "linkage", "plan")


def _error(exc: SidError) -> Finding:
    return Finding("error", "", " ".join(str(exc).split()))


def role_where(project: Project, wave: str, *keys: str) -> str:
    """``sid.yaml:line: waves.<wave>.<keys>`` of a key of the project file."""
    try:
        doc = load_yaml(project.file)
        sec = Section(doc, Where(str(project.file)), keys=set(doc))
        for k in ("waves", wave, *keys[:-1]):
            value = sec.get(k)
            sec = Section(value, sec.at(k), keys=set(value))
        return str(sec.at(keys[-1]))
    except (SpecError, TypeError):  # a shape the loader refuses: it reports that itself
        return f"{project.file}: waves.{wave}.{'.'.join(keys)}"


def _check_roles(project: Project, w: Wave, q: Questionnaire) -> list[Finding]:
    """The key and the reporting group are declared in the questionnaire; each fieldwork
    file's mode is one of its modes."""
    found = []
    names = set(q.names())
    for role in ("key", "group"):
        name = getattr(w.roles, role)
        if name not in names:
            found.append(Finding("error", role_where(project, w.name, "roles", role),
                                 f"{name!r} is not a variable of {q.path}{suggest(name, names)}; "
                                 "declare it there (the group may be a derived variable) or fix the role"))
    if q.modes:
        for i, f in enumerate(w.data.fieldwork):
            if f.mode is not None and f.mode not in q.modes:
                found.append(Finding("error", role_where(project, w.name, "data", "fieldwork") + f"[{i}]",
                                     f"{f.file}: mode {f.mode!r} is not one of the modes of {q.path} "
                                     f"({', '.join(map(str, q.modes))}){suggest(f.mode, list(map(str, q.modes)))}; "
                                     "use its code"))
    return found


def _gross_columns(path: Path) -> list[str] | None:
    try:
        return list(read_csv(path, nrows=0).columns)
    except (SidError, OSError, ValueError):
        return None  # check_weighting reports the file itself


def _check_sample_roles(project: Project, w: Wave, gross: Path) -> list[Finding]:
    """Roles the weighting checks do not cover (every PSU stage, fpc, sample group) are
    columns of the gross sample."""
    cols = _gross_columns(gross) if gross.is_file() else None
    if cols is None:
        return []
    r = w.roles
    wanted = [("psu", n) for n in r.psu[1:]] + [("fpc", n) for n in r.fpc if n]
    if r.sample_group:
        wanted.append(("sample_group", r.sample_group))
    return [Finding("error", role_where(project, w.name, "roles", role),
                    f"{name!r} is not a column of the gross sample {gross}{suggest(name, cols)}; "
                    "fix the role or the file")
            for role, name in wanted if name not in cols]


def _default_data_folder(w: Wave, found: list[Finding]) -> Path | None:
    """The wave's ``data_folder`` when it holds any of the wave's data files; a folder that
    is absent or holds none yet (as ``sid init`` leaves it) is not checked, and a warning
    says so when it exists."""
    folder = w.data_folder
    if not folder.is_dir():
        return None
    d = w.data
    names = [f.file for f in d.fieldwork] + [n for n in (d.gross_sample, d.dispositions, d.frame) if n]
    if any((folder / n).exists() for n in names):
        return folder
    found.append(Finding("warning", str(folder), f"the data folder of wave {w.name} holds none of its "
                         "files yet; the data files are not checked (sid check --data DIR checks them)"))
    return None


def check_wave(project: Project, w: Wave, *, data: PathLike | None = None,
               kinds: tuple[str, ...] = KINDS) -> tuple[list[Finding], int]:
    """The findings of one wave (see the module docstring) and how many specs were checked.

    ``data``: the data folder whose files the weighting spec is checked against (default:
    the wave's ``data_folder`` when it holds any of the wave's files); ``kinds``: which of
    the wave's specs.
    """
    found: list[Finding] = []
    n = 0
    q: Questionnaire | None = None
    try:
        q = wave_questionnaire(w)
    except SpecError as exc:  # a malformed or disagreeing spec is a finding; go on
        found.append(_error(exc))
    if "questionnaire" in kinds:
        n += 1
        if q is not None:
            found += check_spec(q) + _check_roles(project, w, q)
    if "weighting" in kinds and w.weighting is not None:
        n += 1
        folder = Path(data) if data is not None else _default_data_folder(w, found)
        try:
            spec = wave_weighting(w)
        except SpecError as exc:
            found.append(_error(exc))
        else:
            if q is not None and spec.wave != q.wave:
                from sid.spec.check_project import key_where

                found.append(Finding("error", key_where(spec.path, "wave"),
                                     f"{spec.wave!r} is not the wave of {q.path} ({q.wave!r}); name the same wave"))
            found += check_weighting(spec, None, folder)
            if folder is not None:
                found += _check_sample_roles(project, w, folder / spec.sample.gross_sample)
    if q is None:
        return found, n + sum(k in kinds for k, p in (("linkage", w.linkage), ("plan", w.tables)) if p)
    if "linkage" in kinds and w.linkage is not None:
        n += 1
        found += check_linkage_file(w.linkage, None, questionnaire=q, group=w.roles.group,
                                    project=w.project_dir)
    if "plan" in kinds and w.tables is not None:
        n += 1
        found += check_plan_file(w.tables, None, questionnaire=q)
    return found, n


def check_trends(project: Project) -> list[Finding]:
    """The project's harmonisation spec (``trends:``) loaded for its waves and checked
    against each wave's questionnaire (sid.spec.check_harmonisation); [] without trends."""
    from sid.spec.check_harmonisation import check_harmonisation
    from sid.spec.harmonisation import load_harmonisation

    t = project.trends
    if t is None:
        return []
    try:
        h = load_harmonisation(t.harmonisation, waves=t.waves)
    except SpecError as exc:
        return [_error(exc)]
    questionnaires = {}
    for name in t.waves:
        try:
            questionnaires[name] = wave_questionnaire(project.waves[name])
        except SpecError:  # reported by the wave's own check
            continue
    return check_harmonisation(h, questionnaires)


def check_project(project: Project, wave: str | None = None, *, data: PathLike | None = None,
                  kinds: tuple[str, ...] = KINDS) -> tuple[list[Finding], int]:
    """:func:`check_wave` of ``wave`` (by name), or of every wave of the project; and the
    harmonisation spec of the project's trend (every wave, or a wave it compares)."""
    waves = [project.wave(wave)] if wave is not None else list(project.waves.values())
    found: list[Finding] = []
    n = 0
    for w in waves:
        f, k = check_wave(project, w, data=data, kinds=kinds)
        found += f
        n += k
    if project.trends is not None and "questionnaire" in kinds and (wave is None or wave in project.trends.waves):
        found += check_trends(project)
        n += 1
    return found, n
