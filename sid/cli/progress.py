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


def warn_stage(out_dir: str | os.PathLike[str], stage: str) -> list[str]:
    """Print the warnings recorded in ``stage``'s manifest entry of run folder ``out_dir``
    (sid.pipeline.manifest.stage_warnings) as ``sid: warning: <stage>: ...``; return them."""
    from sid.pipeline.manifest import stage_warnings

    said = stage_warnings(out_dir, stage)
    for msg in said:
        warn(f"{stage}: {msg}")
    return said


@contextmanager
def step(name: str) -> Iterator[None]:
    """Announce a step, and its duration when it ends."""
    say(f"{name} ...")
    t0 = time.perf_counter()
    yield
    say(f"{name} done in {time.perf_counter() - t0:.2f} s")
