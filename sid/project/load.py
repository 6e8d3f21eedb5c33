"""Loading and validating the project file ``sid.yaml`` (format: ``docs/project-file.md``).

:func:`load_project` reads the file once and returns a :class:`~sid.project.model.Project`;
every error is a one-line :class:`~sid.errors.SpecError` naming file, line and key. Paths
of spec files are relative to the project folder; data files are relative to the wave's
data folder (``--data DIR``, default ``data_folder``), which need not exist until a stage
reads it.
"""

from __future__ import annotations

import os
from pathlib import Path

from sid.errors import SpecError
from sid.messages import DEFAULT_LANGUAGE, LANGUAGES
from sid.project.model import DataFiles, FieldworkFile, Project, Roles, Trends, Wave
from sid.spec.yamlfile import Section, Where, load_yaml

PROJECT_FILE = "sid.yaml"
PathLike = str | os.PathLike[str]

_TOP = {"project", "title", "default_wave", "language", "waves", "trends"}
_TRENDS = {"harmonisation", "waves", "run_folder"}
_WAVE = {"title", "language", "questionnaire", "weighting", "linkage", "smallarea", "tables", "templates", "demo",
         "data_folder", "run_folder", "data", "roles"}
_DATA = {"fieldwork", "gross_sample", "dispositions", "frame", "register_extract",
         "admin_indicators"}
_ROLES = {"key", "group", "sample_group", "mode", "strata", "psu", "fpc", "disposition"}


def find_project_file(project_dir: PathLike) -> Path:
    """``DIR/sid.yaml``; a SpecError saying how to make one when it is absent."""
    root = Path(project_dir)
    if not root.is_dir():
        raise SpecError(f"{root}: project folder not found; give --project DIR")
    path = root / PROJECT_FILE
    if not path.is_file():
        raise SpecError(
            f"{root}: no project file {PROJECT_FILE}; write one (sid init DIR makes a "
            "skeleton; format: docs/project-file.md) or give --project DIR"
        )
    return path


def load_project(project_dir: PathLike = ".") -> Project:
    """Read and validate ``DIR/sid.yaml``: the project's waves, specs, data files and roles."""
    path = find_project_file(project_dir)
    root = path.parent.resolve()
    top = Section(load_yaml(path), Where(str(path)), keys=_TOP, required={"project", "waves"})
    waves_item = top.item("waves")
    if not isinstance(waves_item.value, dict) or not waves_item.value:
        raise waves_item.where.error("expected a mapping of wave names to wave entries")
    waves_sec = Section(waves_item.value, waves_item.where, keys=list(waves_item.value))
    waves: dict[str, Wave] = {}
    language = _language(top, DEFAULT_LANGUAGE)
    for name in waves_item.value:
        if not isinstance(name, str) or not name.strip():
            raise waves_sec.at(name).error("a wave name must be non-empty text")
        waves[name] = _wave(name, waves_sec.section(name, keys=_WAVE, required={"questionnaire", "roles", "data"}),
                            root, language)
    default = top.text("default_wave", None)
    if default is not None and default not in waves:
        raise top.at("default_wave").error(f"{default!r} is not a wave of the project ({', '.join(waves)})")
    trends = _trends(top.section("trends", keys=_TRENDS, required={"harmonisation", "waves"}), waves, root) \
        if "trends" in top else None
    return Project(root=root, file=path, name=top.text("project"), waves=waves,
                   default_wave=default, title=top.text("title", ""), trends=trends)


def _trends(s: Section, waves: dict[str, Wave], root: Path) -> Trends:
    """The ``trends:`` entry: the harmonisation spec, two or more of the project's waves in
    time order, and the trend's run folder (default ``out-trend``)."""
    names = s.names("waves")
    if len(names) < 2:
        raise s.at("waves").error("a trend compares two or more waves; list them in time order")
    for j, name in enumerate(names):
        if name not in waves:
            from sid.spec.yamlfile import suggest

            raise s.at("waves").index(j).error(f"{name!r} is not a wave of the project{suggest(name, waves)}; "
                                               f"waves: {', '.join(waves)}")
    if len(set(names)) != len(names):
        raise s.at("waves").error("a wave is listed twice; list each wave once, in time order")
    harmonisation = _spec_file(s, "harmonisation", root, required=True)
    assert harmonisation is not None
    return Trends(harmonisation=harmonisation, waves=tuple(names),
                  run_folder=root / s.text("run_folder", "out-trend"))


def _spec_file(s: Section, key: str, root: Path, *, required: bool = False) -> Path | None:
    value = s.text(key) if required else s.text(key, None)
    if value is None:
        return None
    p = (root / value).resolve()
    if not p.is_file():
        raise s.at(key).error(f"{value}: no such file in the project folder {root}; "
                              "give a path relative to the project folder")
    return p


def _language(s: Section, default: str) -> str:
    """``language:`` of the project file or a wave (the reports' language, sid.messages)."""
    lang = s.text("language", None)
    if lang is None:
        return default
    if lang not in LANGUAGES:
        raise s.at("language").error(f"no report language {lang!r}; use one of {', '.join(LANGUAGES)}")
    return lang


def _wave(name: str, s: Section, root: Path, language: str = DEFAULT_LANGUAGE) -> Wave:
    templates = s.text("templates", None)
    tpl = (root / templates).resolve() if templates else None
    if tpl is not None and not tpl.is_dir():
        raise s.at("templates").error(f"{templates}: no such folder in the project {root}")
    return Wave(
        name=name,
        project_dir=root,
        title=s.text("title", ""),
        language=_language(s, language),
        questionnaire=_spec_file(s, "questionnaire", root, required=True),
        weighting=_spec_file(s, "weighting", root),
        linkage=_spec_file(s, "linkage", root),
        smallarea=_spec_file(s, "smallarea", root),
        tables=_spec_file(s, "tables", root),
        templates=tpl,
        demo=s.text("demo", None),
        data_folder=root / s.text("data_folder", f"data/{name}"),
        run_folder=root / s.text("run_folder", f"out/{name}"),
        data=_data(s.section("data", keys=_DATA, required={"fieldwork"})),
        roles=_roles(s.section("roles", keys=_ROLES, required={"key", "group", "strata"})),
    )


def _data(s: Section) -> DataFiles:
    files: list[FieldworkFile] = []
    seen: set[str] = set()
    for _, item in s.items("fieldwork"):
        if isinstance(item.value, str):
            entry = FieldworkFile(item.value)
        else:
            f = Section(item.value, item.where, keys={"file", "mode"}, required={"file"})
            entry = FieldworkFile(f.text("file"), f.text("mode", None))
        if entry.file in seen:
            raise item.where.error(f"{entry.file} is listed twice")
        if not entry.file.lower().endswith((".sav", ".zsav")):
            raise item.where.error(f"{entry.file}: a fieldwork file must be SPSS (.sav or .zsav)")
        seen.add(entry.file)
        files.append(entry)
    if not files:
        raise s.at("fieldwork").error("expected at least one fieldwork file")
    modes = [f.mode for f in files]
    if len(files) > 1 and None in modes:
        raise s.at("fieldwork").error(
            "with several fieldwork files each needs its mode ({file: X.sav, mode: web}); "
            "only a single file may carry the mode in a variable (roles.mode)")
    if len(set(modes)) != len(modes):
        raise s.at("fieldwork").error("two fieldwork files give the same mode; each file's mode must differ")
    admin = s.get("admin_indicators", None)
    if isinstance(admin, str):
        admin = [admin]
    return DataFiles(
        fieldwork=tuple(files),
        gross_sample=s.text("gross_sample", None),
        dispositions=s.text("dispositions", None),
        frame=s.text("frame", None),
        register_extract=s.text("register_extract", None),
        admin_indicators=tuple(admin or ()),
    )


def _names(s: Section, key: str) -> tuple[str, ...]:
    """A role that takes one name or a list of names (``strata: stratum`` or ``[a, b]``)."""
    v = s.get(key, None)
    if v is None:
        return ()
    if isinstance(v, str):
        return (v,)
    return s.names(key)


def _roles(s: Section) -> Roles:
    strata = _names(s, "strata")
    if not strata:
        raise s.at("strata").error("expected one or more stratum variables")
    psu = _names(s, "psu")
    fpc_raw = s.get("fpc", None)
    if fpc_raw is None:
        fpc: tuple[str | None, ...] = ()
    elif isinstance(fpc_raw, str):
        fpc = (fpc_raw,)
    elif isinstance(fpc_raw, list) and all(x is None or (isinstance(x, str) and x) for x in fpc_raw):
        fpc = tuple(fpc_raw)
    else:
        raise s.at("fpc").error("expected a variable name, or a list with one name (or null) per stage")
    if fpc and len(fpc) > max(len(psu), 1):
        raise s.at("fpc").error(f"{len(fpc)} fpc entries for {max(len(psu), 1)} sampling stage(s); "
                                "give one per stage (psu)")
    dup = {n for n in strata if strata.count(n) > 1}
    if dup:
        raise s.at("strata").error(f"{sorted(dup)} listed twice")
    return Roles(
        key=s.text("key"),
        group=s.text("group"),
        sample_group=s.text("sample_group", None),
        mode=s.text("mode", None),
        strata=strata,
        psu=psu,
        fpc=fpc,
        disposition=s.text("disposition", None),
    )
