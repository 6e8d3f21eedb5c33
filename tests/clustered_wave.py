"""A small synthetic wave of a clustered design in the shape of SID 2017, for stage tests.

Strata origin x province (3 x 2 = 6 design strata); in each, 5 of M_h municipalities drawn
by simple random sampling (stage 1, PSU ``municipality``, fpc ``n_municipalities`` = M_h),
20 persons drawn in each (stage 2, ``person_key``, fpc ``muni_population``); the design
weight (M_h / 5)(N_hi / 20) is the gross sample's ``design_weight`` column. Response
depends on the municipality, and ``y`` has a municipality effect, so clustering matters.
:func:`write_wave` writes the data folder (gross sample, dispositions, register frame),
the weighting spec and a clean wave (person_key, register variables, y) of the respondents.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from projects import small_wave, write_project_file

from sid.io.spss_meta import SpssMeta
from sid.io.wave import save_wave_files

ORIGINS = ("BEL", "MAR", "TUR")
PROVINCES = ("ANT", "LIM")

SPEC = """\
wave: synth2017
sample:
  frame: register_population.csv
  frame_count: count
  gross_sample: gross_sample.csv
  dispositions: dispositions.csv
  key: person_key
  disposition: disposition
  mode: mode
  strata: [origin, province]
  group: origin
  psu: [municipality, person_key]
  fpc: [n_municipalities, muni_population]
  design_weight: design_weight
dispositions:
  COMPLETE: "1.1"
  REFUSAL: "2.11"
  NONCONTACT: "2.20"
  UNKNOWN: "3.10"
  NOT_ELIGIBLE: "4.10"
nonresponse:
  method: weighting_classes
  within: origin
  predictors: [sex]
calibration:
  within: origin
  method: raking
  margins: [sex, age_band, province]
  max_iter: 1000
trimming:
  upper: {ratio_to_median: 6.0}
  within: origin
replicates:
  method: bootstrap
  replicates: 20
  seed: 7
  redo: [nonresponse, calibration, trimming]
"""


QUESTIONNAIRE = """\
wave: synth2017
title: Synthetic clustered wave
key: person_key
variables:
  - {name: person_key, label: "Sleutel", type: text, source: register, missing: []}
  - {name: origin, label: "Herkomstgroep", type: categorical, source: register,
     categories: {BEL: "Belgisch", MAR: "Marokkaans", TUR: "Turks"}, missing: []}
  - {name: province, label: "Provincie", type: categorical, source: register,
     categories: {ANT: "Antwerpen", LIM: "Limburg"}, missing: []}
  - {name: sex, label: "Geslacht", type: categorical, source: register,
     categories: {1: "Man", 2: "Vrouw"}, missing: []}
  - {name: age_band, label: "Leeftijd", type: ordinal, source: register,
     categories: {1: "jong", 2: "midden", 3: "oud"}, missing: []}
  - {name: y, label: "Uitkomst", type: numeric, source: questionnaire, missing: []}
"""


def make_wave(seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(gross sample, dispositions, register frame, survey answers of the respondents)."""
    rng = np.random.default_rng(seed)
    gross, frame = [], []
    for origin in ORIGINS:
        for province in PROVINCES:
            M = int(rng.integers(30, 61))
            sizes = rng.integers(400, 1200, size=M)
            share = rng.dirichlet(np.full(6, 8.0))  # sex x age_band of the stratum's population
            cells = np.round(share * sizes.sum()).astype(int)
            frame += [{"origin": origin, "province": province, "sex": s, "age_band": a,
                       "count": int(cells[(s - 1) * 3 + a - 1])} for s in (1, 2) for a in (1, 2, 3)]
            for muni in np.sort(rng.choice(M, size=5, replace=False)):
                N = int(sizes[muni])
                gross.append(pd.DataFrame({
                    "origin": origin, "province": province, "municipality": f"M{muni + 1:02d}",
                    "n_municipalities": M, "muni_population": N, "design_weight": (M / 5) * (N / 20),
                    "sex": rng.integers(1, 3, size=20), "age_band": rng.choice([1, 2, 3], size=20),
                    "effect": rng.normal(0.0, 6.0), "p": rng.uniform(0.45, 0.8)}))
    g = pd.concat(gross, ignore_index=True)
    g.insert(0, "person_key", [f"P{i:04d}" for i in range(len(g))])
    u = rng.random(len(g))
    disp = np.select([u < 0.03, u < 0.06, u < 0.06 + g["p"] * 0.94, u < 0.9],
                     ["NOT_ELIGIBLE", "UNKNOWN", "COMPLETE", "REFUSAL"], "NONCONTACT")
    dispositions = pd.DataFrame({"person_key": g["person_key"], "disposition": disp,
                                 "mode": np.where(rng.random(len(g)) < 0.5, "web", "capi")})
    resp = g[disp == "COMPLETE"]
    # the clean wave carries the register variables of the calibration, as SID's does
    answers = resp[["person_key", "origin", "province", "sex", "age_band"]].reset_index(drop=True)
    answers["y"] = (50 + resp["effect"].to_numpy() + 2.0 * resp["sex"].to_numpy()
                    + rng.normal(0.0, 5.0, size=len(resp)))
    return g.drop(columns=["effect", "p"]), dispositions, pd.DataFrame(frame), answers


def write_wave(base: Path, spec_text: str = SPEC, seed: int = 11) -> dict[str, Path]:
    """Data folder ``base/data``, project ``base/proj`` (sid.yaml naming the questionnaire
    and the weighting spec ``weights/synth2017.yaml``; the files and roles are the spec's),
    run folder ``base/run`` with its clean wave; returns those paths."""
    gross, dispositions, frame, answers = make_wave(seed)
    data, proj, run = base / "data", base / "proj", base / "run"
    data.mkdir(parents=True)
    (proj / "weights").mkdir(parents=True)
    (proj / "questionnaires").mkdir(parents=True)
    (run / "clean").mkdir(parents=True)
    (proj / "questionnaires" / "synth2017.yaml").write_text(QUESTIONNAIRE, encoding="utf-8")
    wave = small_wave("questionnaires/synth2017.yaml", key="person_key", group="origin",
                      strata=["origin", "province"], mode="mode", weighting="weights/synth2017.yaml",
                      data_folder=str(data))
    wave["roles"]["disposition"] = "disposition"
    write_project_file(proj, {"synth2017": wave})
    gross.to_csv(data / "gross_sample.csv", index=False)
    dispositions.to_csv(data / "dispositions.csv", index=False)
    frame.to_csv(data / "register_population.csv", index=False)
    spec = proj / "weights" / "synth2017.yaml"
    spec.write_text(spec_text, encoding="utf-8")
    save_wave_files(answers, SpssMeta.from_frame(answers), run / "clean")
    return {"data": data, "proj": proj, "run": run, "spec": spec}
