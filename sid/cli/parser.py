"""The argument parser of ``sid``: argparse with "did you mean" on a mistyped command or option."""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from typing import NoReturn


def _suggest(word: str, choices) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


class SidParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors suggest the closest command, choice or option.

    ``commands`` (set on the top parser by build_parser) maps each subcommand to its
    parser, so an unknown option given to a subcommand is matched against that
    subcommand's options; ``argv`` (set by main) tells which subcommand was given.
    """

    commands: dict[str, argparse.ArgumentParser] | None = None
    argv: list[str] | None = None

    def _options(self) -> list[str]:
        parsers = [self]
        if self.commands and self.argv:
            named = [a for a in self.argv if a in self.commands]
            if named:
                parsers = [self.commands[named[0]]]
        return [o for p in parsers for a in p._actions for o in a.option_strings]

    def hint(self, message: str) -> str:
        """The "did you mean" sentence for an argparse error ``message`` ("" when none)."""
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            choices = re.findall(r"'([^']*)'|(\S+?)(?:,|$)", m.group(2))
            names = [a or b for a, b in choices]
            best = _suggest(m.group(1), names)
            return f"; did you mean {best!r}?" if best else ""
        m = re.search(r"unrecognized arguments: (.*)", message)
        # an unknown option, named in the message or (e.g. when a required one is missing
        # because it was mistyped) only in the command line
        words = m.group(1).split() if m else list(self.argv or [])
        known = self._options()
        for word in words:
            name = word.split("=")[0]
            if name.startswith("-") and name not in known:
                best = _suggest(name, known)
                if best:
                    return f"; did you mean {best!r} (for {name!r})?"
        return ""

    def error(self, message: str) -> NoReturn:
        """Print usage and the one-line error with its suggestion; exit 2."""
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}{self.hint(message)}\n")
