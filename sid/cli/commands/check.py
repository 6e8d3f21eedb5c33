"""``sid check [SPEC...] [--data FILE]``: lint every spec of a project, and data.

Prints one line per finding (``error: <where>: <what>`` / ``warning: ...``) and a summary;
exits 1 when there is an error, 0 otherwise. Without SPEC, every spec of the project folder
(``--project``, default: here) is checked: ``questionnaires/*.yaml``, ``weights/*.yaml``,
``linkage/*.yaml`` (with its origin map) and ``reports/*_tables.yaml``, each against the
questionnaire of its wave (sid.spec.check_project). A SPEC is recognised by its folder
(``weights/``, ``linkage/``, ``reports/``; else a questionnaire). A weighting spec's
``--data`` is the data folder holding the files it names (frame, gross sample, dispositions).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sid.errors import InputFileError, SpecError

NAME = "check"
ORDER = 90
HELP = ("lint the project's specs (questionnaire, weighting, linkage, table plan) and a data "
        "file (.sav, .zsav, run stage folder) or data folder against one")


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid check``."""
    parser.add_argument("specs", nargs="*", metavar="SPEC",
                        help="spec files: questionnaire, weighting (weights/*.yaml), linkage "
                             "(linkage/*.yaml) or table plan (reports/*_tables.yaml) (default: "
                             "every spec of PROJECT)")
    parser.add_argument("--project", default=".", metavar="DIR",
                        help="survey project folder (default: the current folder)")
    parser.add_argument("--data", default=None, metavar="FILE",
                        help="a .sav/.zsav file, or a run stage folder (data.parquet + meta.json), "
                             "to check against a questionnaire spec; the data folder of a "
                             "weighting spec")
    parser.add_argument("--encoding", default=None, help="character encoding of a .sav file")


def _spec_paths(args: argparse.Namespace) -> list[Path]:
    from sid.spec.check_project import project_specs, spec_kind

    if args.specs:
        return [Path(s) for s in args.specs]
    folder = Path(args.project) / "questionnaires"
    paths = project_specs(args.project)
    if args.data:
        # --data without SPEC: a data folder of files goes with the weighting specs,
        # a .sav file or a run stage folder with the questionnaires
        data = Path(args.data)
        kind = "weighting" if data.is_dir() and not (data / "data.parquet").is_file() else "questionnaire"
        paths = [p for p in paths if spec_kind(p) == kind]
    if not paths:
        raise SpecError(f"{folder}: no questionnaire spec (*.yaml) found, nor another spec "
                        "(weights/, linkage/, reports/); name a SPEC or give --project DIR")
    return paths


def _project(p: Path, args: argparse.Namespace) -> Path:
    """The project folder of a spec: --project when no SPEC is named, else the spec's
    grandparent (weights/, linkage/, reports/ lie in the project folder)."""
    return Path(args.project) if not args.specs else p.parent.parent


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
    """Check each spec (and the data); print findings; 1 if any error."""
    from sid.spec.check import Finding, check_data, check_spec
    from sid.spec.check_project import (
        Questionnaires,
        check_linkage_file,
        check_plan_file,
        project_specs,
        spec_kind,
    )
    from sid.spec.questionnaire import load_questionnaire

    paths = _spec_paths(args)
    if args.data and len(paths) != 1:
        raise SpecError(f"--data {args.data}: name the one questionnaire spec to check it "
                        f"against ({len(paths)} found)")
    findings: list[Finding] = []
    for p in paths:
        kind = spec_kind(p)
        if kind == "weighting":
            findings += _check_weighting(p, args)
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
    for f in findings:
        print(f)
    n_err = sum(f.severity == "error" for f in findings)
    n_warn = len(findings) - n_err
    print(f"sid check: {len(paths)} spec(s){', 1 data file' if args.data else ''}: "
          f"{n_err} error(s), {n_warn} warning(s)", file=sys.stderr)
    return 1 if n_err else 0
