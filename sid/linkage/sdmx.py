"""SDMX-CSV (version 2.0) of the indicator base: one observation per value row.

``sid pull --format sdmx-csv`` writes the value rows of a theme or of indicator codes as
SDMX-CSV 2.0: the columns ``STRUCTURE``, ``STRUCTURE_ID``, ``ACTION``, the dimensions
(:data:`DIMENSIONS`: indicator, reference area, origin, generation, sex, age band and
``TIME_PERIOD``), the measure ``OBS_VALUE`` (empty where suppressed) and the observation
attributes (:data:`ATTRIBUTES`): ``OBS_STATUS`` (A normal, E estimated (model-based), U
low reliability, Q suppressed, B break in series), ``CONF_STATUS`` (F free, C
confidential), ``UNIT_MULT`` (power of ten of the value) and ``DECIMALS``. The data
structure is :data:`STRUCTURE_ID`; a reader such as the sdmx1 package builds it from these
names (see tests/test_linkage_sdmx.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from sid.io.atomic import atomic_path
from sid.linkage.schema import DIMENSIONS as BREAKDOWNS
from sid.linkage.schema import ORIGIN

AGENCY, DSD_ID, VERSION = "SID", "VLIM_INDICATORS", "1.0"
STRUCTURE_ID = f"{AGENCY}:{DSD_ID}({VERSION})"
#: SDMX dimension -> base column, in key order (the breakdowns are the schema's, upper-cased)
DIMENSIONS = {"INDICATOR": "indicator_code", "REF_AREA": "geography", ORIGIN.upper(): ORIGIN,
              **{d.upper(): d for d in BREAKDOWNS}, "TIME_PERIOD": "period"}
MEASURE = ("OBS_VALUE", "value")
#: SDMX observation attribute -> base column
ATTRIBUTES = {"OBS_STATUS": "obs_status", "CONF_STATUS": "conf_status", "UNIT_MULT": "unit_mult",
              "DECIMALS": "decimals"}


def sdmx_frame(vals: pd.DataFrame) -> pd.DataFrame:
    """The long value rows of the base (:func:`sid.linkage.pull.pull_values`) as SDMX-CSV 2.0 columns."""
    out = pd.DataFrame({"STRUCTURE": "datastructure", "STRUCTURE_ID": STRUCTURE_ID, "ACTION": "I"},
                       index=vals.index)
    for dim, col in DIMENSIONS.items():
        out[dim] = vals[col].astype(str)
    out[MEASURE[0]] = vals[MEASURE[1]]
    for att, col in ATTRIBUTES.items():
        out[att] = vals[col]
    return out.reset_index(drop=True)


def write_sdmx_csv(vals: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write the value rows ``vals`` to ``path`` as SDMX-CSV 2.0, atomically."""
    path = Path(path)
    frame = sdmx_frame(vals)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n", float_format="%.10g")
    return path
