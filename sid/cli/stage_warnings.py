"""The warnings a stage recorded in its manifest entry, printed as ``sid: warning:`` lines.

Here, in the CLI, and not in :mod:`sid.progress`: reading the run folder's manifest is
the run folder layer's (sid.runfolder.manifest), above the plain progress lines.
"""

from __future__ import annotations

import os

from sid.progress import warn


def warn_stage(out_dir: str | os.PathLike[str], stage: str) -> list[str]:
    """Print the warnings recorded in ``stage``'s manifest entry of run folder ``out_dir``
    (sid.runfolder.manifest.stage_warnings) as ``sid: warning: <stage>: ...``; return them."""
    from sid.runfolder.manifest import stage_warnings

    said = stage_warnings(out_dir, stage)
    for msg in said:
        warn(f"{stage}: {msg}")
    return said
