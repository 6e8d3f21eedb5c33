"""The two waves' respondents as R's survey reads them for the trend reference
(tests/reference/r/trend_contrast.R; the test: tests/test_trend_reference.py).

:func:`export_reference` writes, from a run folder of each demo wave,

* ``trend2017_sample.csv`` + ``trend2017_margins.csv``: the 2017 respondents' key, design
  stratum, PSUs of both stages, weights before calibration and final weights, the
  collapsed calibration cell of each margin (tests/sid2017_reference.py: R rakes the
  design itself, svydesign(ids=~psu_1+psu_2, strata=~stratum) + rake()), and the 2017
  variables of the reference's concepts and domains, as the wave names them;
* ``trend2022_sample.csv.gz`` + ``trend2022_design.json``: the 2022 respondents' key,
  final weight, the weighting's replicate weights (``rep_1`` ...) and the 2022 variables;
  the replicate variance formula of diagnostics.json (type, scale, rscales, mse), as
  R's svrepdesign takes it. Replicate weights are stored as float32 by the weight stage and
  written as such (shortest text); both sid's side of the test and R read the same file.

The CSVs are small (demo scale 0.3) and committed; the test reads them, never a fresh demo
(the demo generators change). Regenerate after a change of a demo or a weighting:

    sid demo --wave sid2017 --out D17 --scale 0.3 && sid run --wave sid2017 --data D17 --out R17
    sid demo --wave sid2022 --out D22 --scale 0.3 && sid run --wave sid2022 --data D22 --out R22
    python -c "from tests.trend_reference import export_reference; export_reference('R17', 'R22', 'tests/reference/r')"
    Rscript tests/reference/r/trend_contrast.R
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import sid

# the wave variables of the reference's concepts and domains (questionnaires/harmonisation.yaml)
VARIABLES_2017 = ("herkomst", "herkomst_vlim", "idx_taal", "nl_thuis", "v_thuis_be")
VARIABLES_2022 = ("origin", "origin_vlim", "idx_language", "dutch_home", "q_belong_be")


def _codes(s: pd.Series) -> pd.Series:
    """Category codes as R reads them: whole numbers without decimals, missing empty."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype("Float64").round().astype("Int64") if s.dropna().mod(1).eq(0).all() else s
    return s.astype(object)


def frames_2017(out: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(respondents, margins) of the 2017 run folder ``out``."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from sid2017_reference import reference_frames

    sample, margins = reference_frames(out)
    data = sid.open_wave(out, variance="taylor").data
    keep = ["pseudo_id", "stratum", "psu_1", "psu_2", "prior_weight", "weight", "m1", "m2", "m3"]
    sample = sample[keep].copy()
    for v in VARIABLES_2017:
        sample[v] = _codes(data[v].reset_index(drop=True))
    return sample, margins


def frames_2022(out: str | Path) -> tuple[pd.DataFrame, dict]:
    """(respondents with replicate weights, replicate variance formula) of the 2022 run ``out``."""
    wave = sid.open_wave(out, variance="replicate")
    info = wave.diagnostics["replicates"]
    key = wave.diagnostics["design"]["key"]
    reps = pd.read_parquet(Path(out) / "weight" / "replicates.parquet").set_index(key)
    reps = reps.loc[wave.data[key]]
    frame = pd.DataFrame({"person_key": wave.data[key].to_numpy(), "weight": wave.data["weight"].to_numpy()})
    for v in VARIABLES_2022:
        frame[v] = _codes(wave.data[v].reset_index(drop=True))
    R = reps.to_numpy()
    frame = pd.concat([frame, pd.DataFrame(R, columns=[f"rep_{j + 1}" for j in range(R.shape[1])])], axis=1)
    design = {"type": info["r_type"], "scale": info["scale"], "rscales": info["rscales"], "mse": info["mse"],
              "replicates": int(R.shape[1]), "sid_method": info["method"]}
    return frame, design


def export_reference(out2017: str | Path, out2022: str | Path, dest: str | Path) -> None:
    """Write the four files of the trend reference into ``dest``."""
    dest = Path(dest)
    s17, m17 = frames_2017(out2017)
    s17.to_csv(dest / "trend2017_sample.csv", index=False)
    m17.to_csv(dest / "trend2017_margins.csv", index=False)
    s22, design = frames_2022(out2022)
    s22.to_csv(dest / "trend2022_sample.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    (dest / "trend2022_design.json").write_text(json.dumps(design, indent=1) + "\n", encoding="utf-8")


def read_2017(folder: str | Path) -> tuple[pd.DataFrame, dict]:
    """The committed 2017 respondents and their margins in ``Design.calibrated``'s form
    ({"m1": {cell: total}, ...}: the cell columns m1..m3 of the respondents)."""
    folder = Path(folder)
    d = pd.read_csv(folder / "trend2017_sample.csv", dtype={"pseudo_id": str, "psu_2": str, "stratum": str,
                                                             "m1": str, "m2": str, "m3": str, "herkomst": str})
    pop = pd.read_csv(folder / "trend2017_margins.csv", dtype={"cell": str})
    margins = {m: dict(zip(g["cell"], g["Freq"].astype(float), strict=True)) for m, g in pop.groupby("margin")}
    return d, margins


def read_2022(folder: str | Path) -> tuple[pd.DataFrame, dict]:
    """The committed 2022 respondents (with replicate weights) and their variance formula."""
    folder = Path(folder)
    d = pd.read_csv(folder / "trend2022_sample.csv.gz", dtype={"person_key": str, "origin": str})
    design = json.loads((folder / "trend2022_design.json").read_text(encoding="utf-8"))
    return d, design


def replicate_columns(d: pd.DataFrame) -> list[str]:
    """The replicate weight columns rep_1 ... of the 2022 respondents."""
    return [c for c in d.columns if c.startswith("rep_")]


__all__ = ["export_reference", "frames_2017", "frames_2022", "read_2017", "read_2022", "replicate_columns"]
