"""A second survey, not SID: the test-only project of a city's neighbourhood survey.

Written from the docs alone (docs/project-file.md, questionnaire-spec.md,
weighting-spec.md, table-plan.md), shaped unlike SID on purpose:

* reporting group ``wijk`` (district), which is also the design stratum; no ``origin``;
* key ``resp_id``; ONE fieldwork file ``buurt2024.sav`` that holds the mode itself in the
  variable ``kanaal`` (web / papier), so no mode comes from file names;
* gross sample ``steekproef.csv``, dispositions ``uitkomsten.csv`` (column ``uitkomst``,
  Dutch agency codes), register frame ``bevolking.csv`` (count column ``aantal``);
* missing codes 8 (weet niet) and 9 (geen antwoord); a free-text and a date item;
* two indices over themes of its own (leefbaarheid, samenleven); no linkage spec;
* trimming with an upper bound only.

:func:`write_buurt_project` writes the project folder and the data folder; everything is
deterministic from the seed. The SPSS file is written with pyreadstat directly, as an
agency would, not with sid's own writer.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

WIJKEN = {"N": "Noord", "O": "Oost", "Z": "Zuid", "W": "West"}
POP = {"N": 21000, "O": 34000, "Z": 16000, "W": 27000}  # residents 16+ per district
N_SAMPLE = 500  # per district (equal allocation)
AGE_GROUPS = {1: "16-34", 2: "35-54", 3: "55-74", 4: "75+"}
ITEMS = ["v_tevreden", "v_veilig", "v_netheid", "v_groen", "v_contact", "v_hulp", "v_thuis"]
SCALE5 = {1: "Helemaal oneens", 2: "Oneens", 3: "Neutraal", 4: "Eens", 5: "Helemaal eens"}

PROJECT_YAML = """\
project: BUURT
title: Buurtbevraging
waves:
  buurt2024:
    questionnaire: vragenlijst/buurt2024.yaml
    weighting: weging/buurt2024.yaml
    tables: tabellen/buurt2024.yaml
    data:
      fieldwork: [buurt2024.sav]       # one file; the mode is its variable kanaal
      gross_sample: steekproef.csv
      dispositions: uitkomsten.csv
      frame: bevolking.csv
    roles:
      key: resp_id
      group: wijk
      mode: kanaal
      strata: wijk
      disposition: uitkomst
"""

QUESTIONNAIRE_YAML = """\
wave: buurt2024
title: Buurtbevraging 2024
reference_date: 2024-03-01
key: resp_id
mode_variable: kanaal
modes: {web: "Online", papier: "Papieren vragenlijst"}
missing_codes:
  8: {meaning: dont_know, label: "Weet niet"}
  9: {meaning: no_answer, label: "Geen antwoord"}
themes:
  leefbaarheid: "Leefbaarheid van de buurt"
  samenleven: "Samenleven in de buurt"
completion:
  complete: 0.80
  partial: 0.50
  items: questionnaire
variables:
  - {name: resp_id, label: "Respondentnummer", type: text, source: register, missing: []}
  - {name: kanaal, label: "Bevragingskanaal", type: text, source: paradata, missing: []}
  - {name: invuldatum, label: "Datum van invullen", type: date, source: paradata, missing: []}
  - {name: wijk, label: "Wijk", type: categorical, source: register,
     categories: {N: "Noord", O: "Oost", Z: "Zuid", W: "West"}, missing: []}
  - {name: geslacht, label: "Geslacht (register)", type: categorical, source: register,
     categories: {1: "Man", 2: "Vrouw"}, missing: []}
  - {name: leeftijdsgroep, label: "Leeftijdsgroep (register)", type: ordinal, source: register,
     categories: {1: "16-34", 2: "35-54", 3: "55-74", 4: "75+"}, missing: []}
"""

ITEM_LABELS = {
    "v_tevreden": "Ik ben tevreden over mijn buurt",
    "v_veilig": "Ik voel me veilig in mijn buurt",
    "v_netheid": "Mijn buurt is net",
    "v_groen": "Er is genoeg groen in mijn buurt",
    "v_contact": "Ik heb contact met mijn buren",
    "v_hulp": "Buren helpen elkaar",
    "v_thuis": "Ik voel me thuis in mijn buurt",
}


def _questionnaire_yaml() -> str:
    lines = [QUESTIONNAIRE_YAML]
    for name in ITEMS:
        lines.append(
            f"  - {{name: {name}, label: \"{ITEM_LABELS[name]}\", type: ordinal, source: questionnaire,\n"
            f"     categories: {{1: \"Helemaal oneens\", 2: \"Oneens\", 3: \"Neutraal\", 4: \"Eens\", "
            f"5: \"Helemaal eens\"}}, missing: [8, 9], grid: buurt_grid}}\n")
    lines.append(textwrap.dedent("""\
      - {name: v_fiets, label: "Fietst u wekelijks?", type: categorical, source: questionnaire,
         categories: {1: "Ja", 2: "Nee"}, missing: [9]}
      - {name: v_fiets_dagen, label: "Dagen per week met de fiets", type: numeric, source: questionnaire,
         range: [1, 7], missing: [9], relevant: "v_fiets == 1"}
      - {name: v_opmerking, label: "Opmerking over de buurt", type: text, source: questionnaire, missing: []}
    derived:
      - name: tevreden
        label: "Tevreden over de buurt"
        type: categorical
        expr: "if_else(is_missing(v_tevreden), v_tevreden, if_else(v_tevreden >= 4, 1, 0))"
        categories: {0: "Nee", 1: "Ja"}
    indices:
      - name: idx_leefbaar
        label: "Leefbaarheid (0-100)"
        theme: leefbaarheid
        items: [v_tevreden, v_veilig, v_netheid, v_groen]
        min_valid: 3
        scoring: mean
        scale: pomp
        reliability_min: 0.6
      - name: idx_samen
        label: "Sociale cohesie (0-100)"
        theme: samenleven
        items: [v_contact, v_hulp, v_thuis]
        min_valid: 2
        scoring: mean
        scale: pomp
        reliability_min: 0.6
    """))
    return "".join(lines)


WEIGHTING_YAML = """\
wave: buurt2024
sample:
  frame: bevolking.csv
  frame_count: aantal
  gross_sample: steekproef.csv
  dispositions: uitkomsten.csv
  key: resp_id
  disposition: uitkomst
  strata: [wijk]
dispositions:
  VOLLEDIG: "1.1"
  GEDEELTELIJK: "1.2"
  WEIGERING: "2.11"
  GEEN_REACTIE: "2.20"
  ONBEKEND_ADRES: "3.10"
  VERHUISD: "4.10"
eligibility: {unknown: proportional}
nonresponse:
  method: weighting_classes
  within: wijk
  predictors: [leeftijdsgroep]
calibration:
  within: wijk
  method: raking
  margins: [geslacht, leeftijdsgroep]
  tolerance: 1.0e-9
  max_iter: 200
trimming:
  upper: {ratio_to_median: 3.5}
  within: wijk
  max_rounds: 50
replicates:
  method: bootstrap
  replicates: 40
  seed: 7
  redo: [nonresponse, calibration, trimming]
"""

TABLES_YAML = """\
wave: buurt2024
defaults: {min_n: 20, max_cv: 0.3, variance: replicate}
tables:
  - id: leefbaar
    theme: leefbaarheid
    title: "Leefbaarheid naar wijk, geslacht en leeftijd"
    variables: [idx_leefbaar]
    by: [wijk, geslacht, leeftijdsgroep, "wijk:geslacht"]
    compare_to: {wijk: N}
  - id: samen
    theme: samenleven
    title: "Sociale cohesie naar wijk"
    variables: [idx_samen]
    by: [wijk, kanaal]
  - id: tevreden
    theme: leefbaarheid
    title: "Tevreden over de buurt naar wijk"
    variables: [tevreden, v_fiets]
    by: [wijk, leeftijdsgroep]
    chisq: [wijk]
"""


def write_buurt_project(project: Path, data: Path, seed: int = 11) -> None:
    """Write the project folder ``project`` and the data folder ``data`` of the survey."""
    project, data = Path(project), Path(data)
    for sub in ("vragenlijst", "weging", "tabellen"):
        (project / sub).mkdir(parents=True, exist_ok=True)
    (project / "sid.yaml").write_text(PROJECT_YAML, encoding="utf-8")
    (project / "vragenlijst" / "buurt2024.yaml").write_text(_questionnaire_yaml(), encoding="utf-8")
    (project / "weging" / "buurt2024.yaml").write_text(WEIGHTING_YAML, encoding="utf-8")
    (project / "tabellen" / "buurt2024.yaml").write_text(TABLES_YAML, encoding="utf-8")
    data.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    # register population: district x sex x age group counts
    cells = pd.MultiIndex.from_product([list(WIJKEN), [1, 2], list(AGE_GROUPS)],
                                       names=["wijk", "geslacht", "leeftijdsgroep"]).to_frame(index=False)
    age_share = np.array([0.32, 0.33, 0.24, 0.11])
    share = age_share[cells["leeftijdsgroep"].to_numpy() - 1] * np.where(cells["geslacht"] == 1, 0.49, 0.51)
    tot = cells["wijk"].map(POP).to_numpy()
    cells["aantal"] = np.round(tot * share / share.reshape(4, 8).sum(axis=1).repeat(8)).astype(int)
    cells.to_csv(data / "bevolking.csv", index=False)

    # gross sample: SRS of N_SAMPLE persons per district from its cells
    parts = []
    for w in WIJKEN:
        sub = cells[cells["wijk"] == w]
        n_cell = rng.multivariate_hypergeometric(sub["aantal"].to_numpy(), N_SAMPLE)
        parts.append(sub.loc[sub.index.repeat(n_cell), ["wijk", "geslacht", "leeftijdsgroep"]])
    gross = pd.concat(parts, ignore_index=True)
    gross.insert(0, "resp_id", [f"B{i:05d}" for i in rng.permutation(len(gross))])
    gross = gross.sort_values("resp_id", kind="stable").reset_index(drop=True)
    gross.to_csv(data / "steekproef.csv", index=False)

    # dispositions: response rises with age, differs by district
    n = len(gross)
    age = gross["leeftijdsgroep"].to_numpy()
    p_resp = 0.25 + 0.08 * age + gross["wijk"].map({"N": 0.0, "O": 0.05, "Z": -0.05, "W": 0.02}).to_numpy()
    u = rng.random(n)
    outcome = np.where(u < p_resp, "VOLLEDIG",
                       np.where(u < p_resp + 0.03, "GEDEELTELIJK",
                                np.where(u < p_resp + 0.20, "WEIGERING",
                                         np.where(u < p_resp + 0.25, "ONBEKEND_ADRES",
                                                  np.where(u < p_resp + 0.28, "VERHUISD", "GEEN_REACTIE")))))
    kanaal = np.where(rng.random(n) < 0.35 + 0.1 * (age <= 2), "web", "papier")
    disp = pd.DataFrame({"resp_id": gross["resp_id"], "uitkomst": outcome, "kanaal": kanaal})
    disp.to_csv(data / "uitkomsten.csv", index=False)

    # answers of the respondents: two latent traits by district and age
    resp = gross[np.isin(outcome, ["VOLLEDIG", "GEDEELTELIJK"])].reset_index(drop=True)
    m = len(resp)
    shift = resp["wijk"].map({"N": 0.3, "O": -0.2, "Z": 0.1, "W": 0.0}).to_numpy()
    f1 = rng.normal(shift + 0.1 * resp["leeftijdsgroep"].to_numpy(), 1.0)
    f2 = 0.5 * f1 + rng.normal(0, 0.9, m)
    out = {"resp_id": resp["resp_id"].to_numpy(object),
           "kanaal": disp.set_index("resp_id").loc[resp["resp_id"], "kanaal"].to_numpy(object),
           "invuldatum": pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 60, m), unit="D")}
    for j, name in enumerate(ITEMS):
        f = f1 if j < 4 else f2
        x = np.clip(np.round(3 + 0.9 * f + rng.normal(0, 0.7, m)), 1, 5)
        x[rng.random(m) < 0.03] = 8
        x[rng.random(m) < 0.02] = 9
        out[name] = x
    partial = (outcome[np.isin(outcome, ["VOLLEDIG", "GEDEELTELIJK"])] == "GEDEELTELIJK")
    for name in ITEMS[4:]:  # break-offs stop before the cohesion block
        out[name] = np.where(partial, np.nan, out[name])
    fiets = np.where(rng.random(m) < 0.55, 1.0, 2.0)
    out["v_fiets"] = fiets
    out["v_fiets_dagen"] = np.where(fiets == 1, rng.integers(1, 8, m).astype(float), np.nan)
    remarks = np.array(["", "", "", "Meer groen graag", "Te veel verkeer", "Fijne buren"], dtype=object)
    out["v_opmerking"] = remarks[rng.integers(0, len(remarks), m)]
    df = pd.DataFrame(out)
    # the first rows of the date item are empty (an agency that fills it late)
    df.loc[:4, "invuldatum"] = pd.NaT
    value_labels = {name: {**{float(k): v for k, v in SCALE5.items()}, 8.0: "Weet niet", 9.0: "Geen antwoord"}
                    for name in ITEMS}
    value_labels["v_fiets"] = {1.0: "Ja", 2.0: "Nee", 9.0: "Geen antwoord"}
    labels = {"resp_id": "Respondentnummer", "kanaal": "Bevragingskanaal", "invuldatum": "Datum van invullen",
              **ITEM_LABELS, "v_fiets": "Fietst u wekelijks?", "v_fiets_dagen": "Dagen per week met de fiets",
              "v_opmerking": "Opmerking over de buurt"}
    missing = {name: [8, 9] for name in ITEMS}
    missing["v_fiets"] = [9]
    missing["v_fiets_dagen"] = [9]
    pyreadstat.write_sav(df, str(data / "buurt2024.sav"), column_labels=labels,
                         variable_value_labels=value_labels, missing_ranges=missing)
