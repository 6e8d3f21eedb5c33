"""A wave's variables as the harmonisation's concepts and domains (columns of its design).

Each concept and domain of the harmonisation spec (sid.spec.harmonisation) becomes one
column of the wave's design (``Design.with_columns``: weights, strata, PSUs, calibration
and replicates unchanged), named :func:`concept_column` / :func:`domain_column`, holding
the wave variable's values recoded onto the common codes. A recode is a lookup on the
variable's distinct values (no loop over respondents); codes are compared in sid's one
normal form (sid.tables.labels.code_key: 1, 1.0 and "1" are the same code).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sid.errors import EstimationError
from sid.spec.harmonisation import Harmonisation, WaveMap
from sid.tables.labels import code_key

CONCEPT_PREFIX, DOMAIN_PREFIX = "trend_concept:", "trend_domain:"


def concept_column(name: str) -> str:
    """The design column of concept ``name``."""
    return CONCEPT_PREFIX + name


def domain_column(name: str) -> str:
    """The design column of domain ``name``."""
    return DOMAIN_PREFIX + name


def recoded(values: pd.Series, recode: Mapping) -> pd.Series:
    """``values`` with each code of ``recode`` replaced by its target (None: missing);
    other values, and missing ones, unchanged. A float column stays float."""
    if not recode:
        return values
    table = {code_key(k): v for k, v in recode.items()}
    distinct = pd.unique(values.dropna())
    lut = {u: table[code_key(u)] for u in distinct if code_key(u) in table}
    if not lut:
        return values
    hit = values.isin(list(lut)).to_numpy()
    numeric = pd.api.types.is_numeric_dtype(values.dtype) and all(
        t is None or (isinstance(t, int | float) and not isinstance(t, bool)) for t in lut.values())
    if numeric:
        out = values.to_numpy(dtype=float, na_value=np.nan).copy()
        mapped = values[hit].map({k: (np.nan if t is None else float(t)) for k, t in lut.items()})
        out[hit] = mapped.to_numpy(dtype=float)
        return pd.Series(out, index=values.index, name=values.name)
    out = values.astype(object).copy()
    out[hit] = values[hit].astype(object).map({k: (None if t is None else t) for k, t in lut.items()})
    return out.where(out.notna(), None)


def wave_column(data: pd.DataFrame, m: WaveMap, wave: str) -> pd.Series:
    """The harmonised values of ``m``'s variable in the wave's ``data``."""
    if m.variable not in data.columns:
        hint = " (an index: run `sid score` on the wave's run folder)" if m.variable.startswith("idx_") else ""
        raise EstimationError(f"{m.where}: wave {wave} has no variable {m.variable!r} in its processed data"
                              f"{hint}; check the harmonisation spec or re-run the wave's stages")
    col = data[m.variable]
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object).where(col.notna(), None)
    return recoded(col, m.recode)


def harmonised_design(design, harmonisation: Harmonisation, wave: str):
    """``design`` with one column per concept and domain of ``harmonisation`` in ``wave``'s
    common codes (:func:`concept_column`, :func:`domain_column`)."""
    if wave not in harmonisation.waves:
        raise EstimationError(f"{harmonisation.path}: wave {wave!r} is not one of the spec's waves "
                              f"({', '.join(harmonisation.waves)})")
    data = design.data
    cols = {concept_column(c.name): wave_column(data, c.waves[wave], wave).reset_index(drop=True)
            for c in harmonisation.concepts.values()}
    for d in harmonisation.domains.values():
        values = wave_column(data, d.waves[wave], wave)
        # a domain is a grouping: codes as text in normal form, so that 1.0 and 1 are one group
        keys = values.map({u: code_key(u) for u in pd.unique(values.dropna())}).astype(object)
        cols[domain_column(d.name)] = keys.where(values.notna(), None).reset_index(drop=True)
    return design.with_columns(pd.DataFrame(cols))


__all__ = ["concept_column", "domain_column", "harmonised_design", "recoded", "wave_column"]
