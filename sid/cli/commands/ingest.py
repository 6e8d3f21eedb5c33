"""``sid ingest FILE... --out DIR``: SPSS fieldwork files -> raw wave in DIR/raw."""

from __future__ import annotations

import argparse

from sid.cli.progress import say, step
from sid.errors import InputFileError

NAME = "ingest"
ORDER = 20
HELP = "read the SPSS fieldwork files (one per mode) into the raw wave DIR/raw"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid ingest``."""
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="a .sav/.zsav file per mode, as MODE=FILE or FILE (mode = last _part of the "
        "file name: sid2022_web.sav -> web)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="run folder")
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
        "--mode-variable", default="mode", help="name of the variable holding the mode"
    )
    parser.add_argument(
        "--spec", default=None, metavar="FILE",
        help="questionnaire spec of the wave: its 'identifier: pseudonymise' variables are "
        "replaced by their keyed pseudonym (without it, any raw national register number is "
        "refused)",
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


def run(args: argparse.Namespace) -> int:
    """Ingest the files, write DIR/raw and record the stage in DIR/manifest.json."""
    from sid.pipeline.ingest import run_ingest

    files = parse_files(args.files)
    n = len(files)
    with step(f"reading {n} SPSS file(s)"):
        raw, df, meta = run_ingest(
            args.out,
            files,
            encoding=args.encoding,
            chunksize=args.chunksize,
            mode_variable=args.mode_variable,
            spec=args.spec,
            key_file=args.key_file,
        )
    counts = df[args.mode_variable].value_counts(sort=False)
    say(
        f"raw wave: {len(df)} rows ("
        + ", ".join(f"{m} {n}" for m, n in counts.items())
        + f"), {len(meta.variables)} variables -> {raw}"
    )
    return 0
