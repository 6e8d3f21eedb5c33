"""The sid2017 run's weighted respondents as R's survey reads them (tests/reference/r/sid2017_taylor.R).

:func:`export_reference` writes, from a run folder of the 2017 demo wave, the respondents'
key, design stratum, PSUs, weights before calibration (``prior_weight``) and final weights,
the reporting group, two indices, and for each calibration margin the (collapsed) cell of
every respondent; and the margins' population totals. The R script rakes the design from
the prior weights to those totals and computes Taylor SEs; the test compares them with
sid's. Regenerate after a change of the demo or the weighting of sid2017:

    python -c "from tests.sid2017_reference import export_reference; export_reference('RUN', 'tests/reference/r')"
    Rscript tests/reference/r/sid2017_taylor.R

with RUN from ``sid demo --wave sid2017 --scale 0.5`` and ``sid run --wave sid2017``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import sid

INDICES = ("idx_taal", "idx_inclusie")


def _code(s: pd.Series) -> pd.Series:
    return s.astype(str).str.replace(r"\.0$", "", regex=True)


def reference_frames(out: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(respondents, margins) of the run folder ``out``, as written by export_reference."""
    out = Path(out)
    d = sid.open_wave(out, variance="taylor").data
    diag = json.loads((out / "weight" / "diagnostics.json").read_text(encoding="utf-8"))
    cols = {"pseudo_id": d["pseudo_id"], "stratum": d[diag["design"]["strata"]], "psu_1": d["psu_1"],
            "psu_2": d["psu_2"], "prior_weight": d["prior_weight"], "weight": d["weight"],
            "herkomst": d["herkomst"].astype(str), **{v: d[v] for v in INDICES}}
    pops = []
    for j, (margin, cells) in enumerate(diag["calibration"]["margins"].items(), 1):
        parts = [_code(d[v]) for v in margin.split(":")]
        raw = parts[0].str.cat(parts[1:], sep=":") if len(parts) > 1 else parts[0]
        lookup = {}
        for key in cells:  # a collapsed cell "BEL:1:5+6" holds the raw cells BEL:1:5 and BEL:1:6
            head, last = key.rsplit(":", 1) if ":" in key else ("", key)
            lookup.update({(head + ":" if head else "") + c: key for c in last.split("+")})
        cols[f"m{j}"] = raw.map(lookup)
        pops.append(pd.DataFrame({"margin": f"m{j}", "cell": list(cells), "Freq": list(cells.values())}))
    return pd.DataFrame(cols).reset_index(drop=True), pd.concat(pops, ignore_index=True)


def export_reference(out: str | Path, dest: str | Path) -> None:
    """Write sid2017_sample.csv and sid2017_margins.csv into ``dest``."""
    sample, margins = reference_frames(out)
    sample.to_csv(Path(dest) / "sid2017_sample.csv", index=False)
    margins.to_csv(Path(dest) / "sid2017_margins.csv", index=False)
