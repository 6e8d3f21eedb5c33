"""Test helper for the numpy row writers (sid.io.spss_rows, sid.io.stata_rows): one file
written with the fast rows and one by pyreadstat alone, to be compared byte for byte."""

from __future__ import annotations

from pathlib import Path


def write_both(module, name: str, write, df, meta, fast: Path, slow: Path, monkeypatch) -> tuple[bytes, bytes, list[bool]]:
    """``write(df, meta, path)`` to ``fast`` as it is (recording what ``module.<name>``, the
    fast row writer it calls, returned) and to ``slow`` with that writer declining (False:
    pyreadstat writes every row); the two files' bytes and the recorded returns."""
    taken: list[bool] = []
    real = getattr(module, name)

    def spy(*a, **k):
        taken.append(real(*a, **k))
        return taken[-1]
    monkeypatch.setattr(module, name, spy)
    write(df, meta, fast)
    monkeypatch.setattr(module, name, lambda *a, **k: False)
    write(df, meta, slow)
    return fast.read_bytes(), slow.read_bytes(), taken
