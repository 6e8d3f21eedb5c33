"""Progress lines on stderr for long stages (quiet when ``SID_QUIET`` is set)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
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
