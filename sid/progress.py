"""Progress on stderr for long stages (quiet when ``SID_QUIET`` is set).

:func:`say` prints one line; :func:`bar` draws one progress line that rewrites itself
(``sid: tables [#######.......] 5/16 lang_home``) and only when stderr is a terminal, so
logs and pipes stay clean. No dependency: a terminal line is all it needs.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager


def say(msg: str) -> None:
    """Print one progress line to stderr."""
    if not os.environ.get("SID_QUIET"):
        print(f"sid: {msg}", file=sys.stderr, flush=True)


def warn(msg: str) -> None:
    """Print one warning line ``sid: warning: ...`` to stderr (also under ``SID_QUIET``:
    a warning is for the survey team to read, not progress)."""
    print(f"sid: warning: {' '.join(str(msg).split())}", file=sys.stderr, flush=True)


@contextmanager
def step(name: str) -> Iterator[None]:
    """Announce a step, and its duration when it ends."""
    say(f"{name} ...")
    t0 = time.perf_counter()
    yield
    say(f"{name} done in {time.perf_counter() - t0:.2f} s")


def live() -> bool:
    """Whether a progress bar is drawn: stderr is a terminal and SID_QUIET is not set."""
    stream = sys.stderr
    return not os.environ.get("SID_QUIET") and bool(getattr(stream, "isatty", None)) and stream.isatty()


@contextmanager
def bar(label: str, total: int | None = None, width: int = 24) -> Iterator[Callable[[str], None]]:
    """A progress line of ``total`` steps: yields ``tick(note="")``, one call per step
    (with ``total`` None, the line shows the note alone, e.g. "table 3/16: lang_home").
    Draws nothing unless :func:`live`; the line is cleared when the block ends."""
    done = 0
    draw = live() and total != 0

    def tick(note: str = "") -> None:
        nonlocal done
        done = done + 1 if total is None else min(done + 1, total)
        if draw:
            if total is None:
                line = f"sid: {label}: {note}"[:100]
            else:
                full = round(width * done / total)
                line = f"sid: {label} [{'#' * full}{'.' * (width - full)}] {done}/{total} {note}"[:100]
            sys.stderr.write("\r" + line.ljust(100))
            sys.stderr.flush()

    try:
        yield tick
    finally:
        if draw:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()


def progress_iter(items: Iterable, label: str, total: int | None = None) -> Iterator:
    """The items of ``items``, with a :func:`bar` that ticks after each (on a terminal only)."""
    with bar(label, total) as tick:
        for i, item in enumerate(items, start=1):
            yield item
            tick(f"{i}/{total}" if total is None else "")
