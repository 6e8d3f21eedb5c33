"""``sid ingest [FILE...] --out DIR``: SPSS fieldwork files -> raw wave in DIR/raw.

Without FILE, the files are the project wave's (``data.fieldwork`` in sid.yaml, file ->
mode) in its data folder (``--data``), and the mode variable is the wave's ``mode`` role.
With FILEs, a file's mode is given as MODE=FILE or read from its name; the mode variable
is ``--mode-variable``, else the wave's role when the project folder has a sid.yaml, else
``mode``.
"""

from __future__ import annotations

import argparse

from sid.cli.args import add_stage_args
from sid.errors import InputFileError
from sid.progress import say, step

NAME = "ingest"
ORDER = 20
HELP = "read the SPSS fieldwork files (one per mode) into the raw wave DIR/raw"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid ingest``."""
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="a .sav/.zsav file per mode, as MODE=FILE or FILE (mode = last _part of the "
        "file name: sid2022_web.sav -> web) (default: the wave's data.fieldwork files)",
    )
    add_stage_args(parser, holds="raw/ is written there", data="the wave's fieldwork files",
                   makes_run_folder=True)
    parser.add_argument(
        "--encoding", default=None, help="character encoding of the files (default: their own)"
    )
    parser.add_argument(
        "--chunksize",
        type=int,
        default=None,
        metavar="ROWS",
        help="read this many rows at a time (default: whole files; 100000 above 256 MB)",
    )
    parser.add_argument(
        "--mode-variable", default=None,
        help="name of the variable holding the mode (default: the wave's roles.mode; mode)"
    )
    parser.add_argument(
        "--spec", default=None, metavar="FILE",
        help="questionnaire spec of the wave: its 'identifier: pseudonymise' variables are "
        "replaced by their keyed pseudonym (default: the wave's when its own files are "
        "ingested; without one, any raw national register number is refused)",
    )
    parser.add_argument(
        "--key-file", default=None, metavar="FILE",
        help="pseudonymisation key file (default: the key in $SID_PSEUDONYM_KEY)",
    )


def parse_files(items: list[str]) -> dict[str, str] | list[str]:
    """``MODE=FILE`` items as a mapping, plain paths as a list (not both mixed)."""
    named = [i for i in items if "=" in i]
    if not named:
        return list(items)
    if len(named) != len(items):
        raise InputFileError(
            "give every file as MODE=FILE or none of them (mixed: "
            + ", ".join(i for i in items if "=" not in i)
            + ")"
        )
    out: dict[str, str] = {}
    for item in items:
        mode, _, path = item.partition("=")
        if not mode or not path:
            raise InputFileError(f"{item!r}: expected MODE=FILE, e.g. web=sid2022_web.sav")
        if mode in out:
            raise InputFileError(f"mode {mode!r} given twice; give one file per mode")
        out[mode] = path
    return out


def _wave(args: argparse.Namespace):
    """The project wave when the project folder has a project file (None without one)."""
    from pathlib import Path

    from sid.project import PROJECT_FILE
    from sid.runfolder.context import resolve_wave

    if not args.files or args.wave or (Path(args.project) / PROJECT_FILE).is_file():
        return resolve_wave(args.project, None, args.wave)
    return None


def run(args: argparse.Namespace) -> int:
    """Ingest the files, write DIR/raw and record the stage in DIR/manifest.json."""
    from sid.pipeline.ingest import MODE_VARIABLE, run_ingest, wave_files
    from sid.runfolder.context import data_folder

    wave = _wave(args)
    spec = args.spec
    if args.files:
        if args.data:
            raise InputFileError("--data names the folder of the wave's own fieldwork files; "
                                 "give FILE... or --data, not both")
        files = parse_files(args.files)
    else:
        files = wave_files(wave, data_folder(wave, args.data))
        if spec is None:  # the wave's files: its questionnaire names the identifiers
            spec = wave.questionnaire
    mode_variable = args.mode_variable or (wave.roles.mode if wave is not None else MODE_VARIABLE)
    n = len(files)
    with step(f"reading {n} SPSS file(s)"):
        raw, df, meta = run_ingest(
            args.out,
            files,
            encoding=args.encoding,
            chunksize=args.chunksize,
            mode_variable=mode_variable,
            spec=spec,
            key_file=args.key_file,
            wave=wave.name if wave is not None else None,
        )
    counts = (df[mode_variable].value_counts(sort=False) if mode_variable and mode_variable in df
              else {"(no mode)": len(df)})
    say(
        f"raw wave: {len(df)} rows ("
        + ", ".join(f"{m} {n}" for m, n in counts.items())
        + f"), {len(meta.variables)} variables -> {raw}"
    )
    return 0
