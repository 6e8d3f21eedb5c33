"""The ``sid`` command line: a thin shell over the pipeline.

Each subcommand is a module in :mod:`sid.cli.commands` that defines

* ``NAME`` (the subcommand), ``HELP`` (one line), ``ORDER`` (position in ``sid --help``),
* ``register(parser)`` adding its arguments to an ``argparse`` sub-parser,
* ``run(args) -> int`` doing the work and returning the exit code.

Commands are discovered, so a stage adds its command without touching this file.
A mistyped command, choice or option gets a "did you mean" (sid.cli.parser). A stage
command (one whose arguments come from sid.cli.args.add_stage_args) first checks that
its project holds sid.yaml and, past ingest, that ``--out`` is a run folder, before it
writes anything (sid.cli.args.check_stage_folders).
A :class:`sid.errors.SidError` is printed as one line ``sid: error: ...`` with a non-zero
exit and no traceback; so is an operating-system error (``OSError``: a full disk, a
read-only or missing folder, a file where a folder is meant), as ``sid: error: <path>:
<what>; <what to do>`` (:func:`sid.errors.describe_os_error`). Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Sequence

from sid.cli import blas  # noqa: F401  (first: one BLAS thread before numpy loads)
from sid.cli.args import check_stage_folders
from sid.cli.parser import SidParser
from sid.errors import SidError, describe_os_error


def _commands() -> list:
    from sid.cli import commands

    mods = [
        importlib.import_module(f"{commands.__name__}.{info.name}")
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    ]
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 100), m.NAME))


def build_parser() -> SidParser:
    """The argument parser of ``sid`` with every discovered subcommand."""
    from sid import __version__

    parser = SidParser(
        prog="sid",
        description="sid: processing and weighting engine of the survey "
        "Samenleven in Diversiteit (SID).",
    )
    parser.add_argument("--version", action="version", version=f"sid {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.commands = {}
    for mod in _commands():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.register(p)
        p.set_defaults(_run=mod.run)
        parser.commands[mod.NAME] = p
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sid`` console script; returns the exit code."""
    parser = build_parser()
    parser.argv = list(sys.argv[1:] if argv is None else argv)
    for sub in parser.commands.values():
        sub.argv = parser.argv
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        check_stage_folders(args)
        return int(args._run(args) or 0)
    except SidError as exc:
        msg = " ".join(str(exc).split())  # always one line
        print(f"sid: error: {msg}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        msg = " ".join(describe_os_error(exc).split())
        print(f"sid: error: {msg}", file=sys.stderr)
        return SidError.exit_code
    except KeyboardInterrupt:
        print("sid: interrupted; no output of the interrupted stage was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
