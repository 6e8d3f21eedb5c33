"""sid: processing and weighting engine of the Flemish survey Samenleven in Diversiteit.

The analyst's API (R's ``survey`` is the model)::

    import sid
    df, meta = sid.read_spss("wave.sav")
    d = sid.Design(df, weight="pw", strata="stype")
    d.mean("api00", by="stype")
"""

from __future__ import annotations

__version__ = "0.1.0"

# Public names are imported lazily so that ``import sid`` stays fast and a stage's
# dependencies (statsmodels, duckdb, ...) load only when used.
_EXPORTS = {
    "read_spss": "sid.io.spss",
    "write_spss": "sid.io.spss",
    "Design": "sid.estimation.design",
    "contrast": "sid.estimation.contrast",
    "reliability": "sid.scales.reliability",
    "open_wave": "sid.runfolder.wave",
    "SidError": "sid.errors",
    "survey_indicators": "sid.linkage.indicators",
    "pull": "sid.linkage.pull",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'sid' has no attribute {name!r}")


__all__ = sorted(_EXPORTS) + ["__version__"]
