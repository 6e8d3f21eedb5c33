"""``sid check [SPEC...] [--project DIR] [--wave W] [--data FILE]``: lint a project, and data.

Prints one line per finding (``error: <where>: <what>`` / ``warning: ...``) and a summary;
exits 1 when there is an error, 0 otherwise. Without SPEC, the project file
(``--project``, default: here) is loaded and every wave (or ``--wave``) is checked as the
stages read it (sid.project.check): its questionnaire, its variable roles against the
questionnaire and the gross sample, its weighting spec with the roles applied (against the
files of its data folder when there is one), its linkage spec and its table plan. With
``--data``: a .sav file or run stage folder is checked against the wave's questionnaire,
a data folder of files against its weighting spec. A SPEC file is checked alone,
recognised by its folder (``weights/``, ``linkage/``, ``reports/``; else a questionnaire, or
the harmonisation spec ``questionnaires/harmonisation.yaml`` of sid trend),
against the questionnaires of the folder beside it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sid.errors import InputFileError, SpecError

NAME = "check"
ORDER = 90
HELP = ("lint the project file and its waves' specs (questionnaire, roles, weighting, linkage, "
        "table plan), and a data file (.sav, .zsav, run stage folder) or data folder against them")


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid check``."""
    parser.add_argument("specs", nargs="*", metavar="SPEC",
                        help="spec files: questionnaire, weighting (weights/*.yaml), linkage "
                             "(linkage/*.yaml) or table plan (reports/*_tables.yaml), each alone "
                             "(default: the project file and every spec of its waves)")
    parser.add_argument("--project", default=".", metavar="DIR",
                        help="survey project folder with sid.yaml (default: the current folder)")
    parser.add_argument("--wave", default=None, metavar="W",
                        help="check this wave of the project only (default: every wave; with "
                             "--data: the project's default wave)")
    parser.add_argument("--data", default=None, metavar="FILE",
                        help="a .sav/.zsav file, or a run stage folder (data.parquet + meta.json), "
                             "to check against a questionnaire spec; the data folder of a "
                             "weighting spec")
    parser.add_argument("--encoding", default=None, help="character encoding of a .sav file")


def _check_project(args: argparse.Namespace) -> tuple[list, int]:
    """The project file's findings: every wave's specs and roles (sid.project.check)."""
    from sid.project import find_project_file, load_project
    from sid.project.check import check_project
    from sid.spec.check import Finding, check_data

    find_project_file(args.project)  # no project file: a user error (exit 2)
    try:
        project = load_project(args.project)
    except SpecError as exc:  # the project file's own error is a finding
        return [Finding("error", "", " ".join(str(exc).split()))], 1
    if not args.data:
        return check_project(project, args.wave)
    data = Path(args.data)
    if data.is_dir() and not (data / "data.parquet").is_file():
        return check_project(project, args.wave if args.wave else project.wave().name, data=data,
                             kinds=("weighting",))
    wave = args.wave if args.wave else project.wave().name
    found, n = check_project(project, wave, kinds=("questionnaire",))
    # data are checked against a sound spec only: a spec with errors is fixed first
    if not any(f.severity == "error" for f in found):
        from sid.project import wave_questionnaire

        df, meta = _read_data(data, args.encoding)
        found += check_data(df, meta, wave_questionnaire(project.wave(wave)), where=str(args.data))
    return found, n


def _project(p: Path, args: argparse.Namespace) -> Path:
    """The project folder of a named spec: its grandparent (weights/, linkage/, reports/
    lie in the project folder)."""
    return p.parent.parent


def _check_weighting(p: Path, args: argparse.Namespace) -> list:
    from sid.spec.check import Finding
    from sid.spec.check_project import Questionnaires, check_weighting_wave
    from sid.spec.check_weighting import check_weighting
    from sid.spec.weighting import load_weighting

    try:
        spec = load_weighting(p)
    except SpecError as exc:
        return [Finding("error", "", " ".join(str(exc).split()))]
    if args.data and not Path(args.data).is_dir():
        raise InputFileError(f"--data {args.data}: a weighting spec is checked against the data "
                             "folder holding its files (frame, gross sample, dispositions)")
    project = _project(p, args)
    # the wave is checked against the questionnaires' own wave (an error), which supersedes
    # check_weighting's file-name check (a warning) made when it is given the project
    return (check_weighting(spec, None, args.data)
            + check_weighting_wave(spec, Questionnaires(project)))


def _read_data(path: Path, encoding: str | None):
    """(DataFrame, SpssMeta | None) from a .sav/.zsav file or a run stage folder."""
    if path.is_dir():
        import pandas as pd

        from sid.io.spss_meta import SpssMeta

        data = path / "data.parquet"
        if not data.is_file():
            raise InputFileError(f"{path}: no data.parquet in this folder; give a .sav file or a "
                                 "stage folder of a run (e.g. RUN/raw)")
        meta_path = path / "meta.json"
        meta = (SpssMeta.from_json(meta_path.read_text(encoding="utf-8"), where=str(meta_path))
                if meta_path.is_file() else None)
        return pd.read_parquet(data), meta
    if path.suffix.lower() in (".sav", ".zsav"):
        from sid.io.spss import read_spss

        return read_spss(path, encoding=encoding)
    raise InputFileError(f"{path}: sid check reads .sav/.zsav files or run stage folders")


def run(args: argparse.Namespace) -> int:
    """Check the project (or each SPEC, and the data); print findings; 1 if any error."""
    if args.specs:
        findings, n_specs = _check_specs(args)
    else:
        findings, n_specs = _check_project(args)
    for f in findings:
        print(f)
    n_err = sum(f.severity == "error" for f in findings)
    n_warn = len(findings) - n_err
    print(f"sid check: {n_specs} spec(s){', 1 data file' if args.data else ''}: "
          f"{n_err} error(s), {n_warn} warning(s)", file=sys.stderr)
    return 1 if n_err else 0


def _check_specs(args: argparse.Namespace) -> tuple[list, int]:
    """Each SPEC file alone (and the data against the one SPEC)."""
    from sid.spec.check import Finding, check_data, check_spec
    from sid.spec.check_project import (
        Questionnaires,
        check_harmonisation_file,
        check_linkage_file,
        check_plan_file,
        project_specs,
        spec_kind,
    )
    from sid.spec.questionnaire_parse import load_questionnaire

    paths = [Path(s) for s in args.specs]
    if args.data and len(paths) != 1:
        raise SpecError(f"--data {args.data}: name the one questionnaire spec to check it "
                        f"against ({len(paths)} found)")
    findings: list[Finding] = []
    for p in paths:
        kind = spec_kind(p)
        if kind == "weighting":
            findings += _check_weighting(p, args)
            continue
        if kind == "harmonisation":
            if args.data:
                raise InputFileError(f"--data {args.data}: data are checked against a "
                                     f"questionnaire or weighting spec, not against {p}")
            findings += check_harmonisation_file(p, Questionnaires(_project(p, args)))
            continue
        if kind in ("linkage", "origin_map", "plan"):
            if args.data:
                raise InputFileError(f"--data {args.data}: data are checked against a "
                                     f"questionnaire or weighting spec, not against {p}")
            qs = Questionnaires(_project(p, args))
            if kind == "plan":
                findings += check_plan_file(p, qs)
            elif kind == "linkage":
                findings += check_linkage_file(p, qs)
            else:  # the origin map is read with the linkage specs beside it, which name it
                for spec in project_specs(p.parent.parent):
                    if spec_kind(spec) == "linkage" and spec.parent == p.parent and spec not in paths:
                        findings += check_linkage_file(spec, qs)
            continue
        try:
            q = load_questionnaire(p)
        except SpecError as exc:  # a malformed spec is a finding; go on with the others
            findings.append(Finding("error", "", " ".join(str(exc).split())))
            continue
        spec_findings = check_spec(q)
        findings += spec_findings
        # data are checked against a sound spec only: a spec with errors is fixed first,
        # before any data is read
        if args.data and not any(f.severity == "error" for f in spec_findings):
            df, meta = _read_data(Path(args.data), args.encoding)
            findings += check_data(df, meta, q, where=str(args.data))
    return findings, len(paths)
