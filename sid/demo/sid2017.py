"""Synthetic SID 2017 wave: a clustered two-stage sample, three modes, Dutch names.

:func:`make_sid2017` writes a complete, deterministic (from ``seed``) demo wave of the
shape of questionnaires/sid2017.yaml into a folder (``sid demo --wave sid2017``). It runs
the pieces of the sid2022 demo (population, persons, answers, fieldwork, defects, truth,
register extract, admin indicators) with the 2017 config (sid.demo.sid2017_model), and
draws the sample in two stages (sid.demo.clustered) from a synthetic geography of
municipalities (sid.demo.sid2017_geography):

* strata: origin group (6) x province (5 Flemish provinces and Brussels): 36 strata;
* stage 1: sampling points drawn PPS (residents of the group) among the stratum's
  municipalities, systematic; a point is the PSU; at least 2 per stratum;
* stage 2: 20 persons per point, without replacement, within the municipality;
* allocation: 1,100 (Belgian) to 2,650 (Romanian origin) x scale persons per group, so
  that each group has about 750 completes (4,500 in all), shared over the
  provinces in proportion to the group's residents there: self-weighting within a
  stratum, nearly so within a group.

The gross sample carries the design: stratum variables (steekproefgroep, provincie),
municipality and sampling point, first-stage and conditional probabilities, the inclusion
probability and the design weight, the municipality's and the stratum's numbers of
residents. ``steekproefkader_gemeenten.csv`` is the first-stage frame with each
municipality's expected hits (they add up to the stratum's points).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sid.demo import defects as _defects
from sid.demo import sid2017_model as M
from sid.demo.admin import write_admin_demo
from sid.demo.answers import check_answered_items
from sid.demo.clustered import (
    TwoStage,
    allocate,
    assign,
    cells_per_stratum,
    first_stage,
    person_design,
    sampling_points,
)
from sid.demo.fieldwork import RESPONDED, assign_dispositions, paradata
from sid.demo.population import population_counts
from sid.demo.register_extract import CODES as REGISTER_CODES
from sid.demo.register_extract import register_extract
from sid.demo.sample import persons_from_cells, random_keys
from sid.demo.sid2017_geography import (
    BRUSSELS,
    PROVINCES,
    municipalities,
    municipality_covariates,
    municipality_register,
    residents,
    stratum_effects,
)
from sid.demo.sid2017_paper import paper_routing_errors
from sid.demo.trend_truth import concept_values, trend_info, trend_truth
from sid.demo.truth import headline, simulate_truth, truth_table
from sid.errors import SidError
from sid.io.atomic import atomic_dir, check_output_folder
from sid.io.keys import isin
from sid.io.spss import write_spss
from sid.spec.check import load_checked_questionnaire
from sid.spec.questionnaire import Questionnaire

SPEC_PATH = Path(__file__).resolve().parents[2] / "questionnaires" / "sid2017.yaml"
DESIGN = TwoStage(take=20, min_points=2, min_residents=40)
ADMIN = "vlim-admin-2017"
ADMIN_YEARS = tuple(range(2013, 2018))
FILES = {
    "register_populatie.csv": "register counts of residents aged 15-85 per herkomst x generatie x geslacht x leeftijdsgroep x provincie (gewest derived; column aantal)",
    "steekproefkader_gemeenten.csv": "first-stage frame: per stratum (herkomst x provincie) and municipality the residents of the group, whether it is in the frame (>= 40 residents), the stratum's covered residents and sampling points, the expected hits (PPS), the first-stage probability and the hits drawn",
    "gemeenten.csv": "the 327 municipalities for the small-area stage: nis, name, provincie, cluster (size class, Brussels apart) and cluster_name, population 15-85, shares of foreign and non-EU origin and of each foreign group (sid.demo.sid2017_geography)",
    "gemeenten_register.csv": "register residents per municipality x herkomst x provincie (nis, herkomst, provincie, count)",
    "bruto_steekproef.csv": "register extract of the gross sample: pseudo_id, strata (steekproefgroep, provincie), gemeente, steekproefpunt (PSU), probabilities, ontwerpgewicht and register variables, respondents and non-respondents alike",
    "disposities.csv": "final disposition per sampled person (numeric agency codes in 'dispositions') and modus: cawi, papi or capi (the interview mode of respondents, the mode of the last attempt of the others)",
    "sid2017_web.sav": "answers of web (CAWI) respondents: pseudo_id, paradata, questionnaire items (SPSS, labelled, missing codes 97/98/99 declared)",
    "sid2017_capi.sav": "answers of face-to-face (CAPI) respondents, same dictionary",
    "sid2017_papier.zsav": "answers of paper (PAPI) respondents, same dictionary, compressed SPSS (.zsav); no duration (system missing), the variables in another order",
    "defects.csv": "every injected defect: pseudo_id, modus, variable, defect, injected_value, detail (sid/demo/defects.py; paper: routed_out where a skip instruction was not followed)",
    "population_truth.csv": "population truth per herkomst group and ALL: index means (0-100) and nl_thuis share (0-1)",
    "trend_truth.csv": "truth per trend concept (harmonised with SID 2022) and domain, with its Monte Carlo SE (sid.demo.trend_truth; the planted 2017 -> 2022 changes: trend_truth.PLANTED_CHANGES)",
    "registerextract.parquet": "pseudonymised register extract (31 December 2017) of the gross sample by pseudo_id: sociaal_economische_positie, loonklasse, leefloon, sociale_huurwoning, diploma (codes in 'register_codes'); a few keys missing or twice",
    f"{ADMIN}/indicators.csv": "register (administrative) VLIM indicators of the demo: definitions (sid.demo.admin)",
    f"{ADMIN}/values.csv": "their values 2013-2017, Flemish Region, by origin (BEL/EU/NEU) and generation",
    "demo.json": "this description: seed, scale, sizes, design, disposition codes, files",
}


def _items(spec: Questionnaire) -> tuple[list[str], list[str]]:
    """The spec's questionnaire items in spec order: all, and the numeric ones."""
    items = [v.name for v in spec.variables if v.source == "questionnaire"]
    numeric = [v.name for v in spec.variables if v.source == "questionnaire" and not v.is_text and v.type != "date"]
    return items, numeric


def _population() -> pd.DataFrame:
    pop = population_counts(M.POPULATION)
    pop["region"] = np.where(pop["province"].to_numpy() == BRUSSELS, 2, 1)
    pop["dstratum"] = pop["origin"] + ":" + pop["province"].astype(str)
    return pop


def _expand_truth(res: pd.DataFrame):
    """Truth persons of the cells, each given a municipality in proportion to the residents
    of its stratum there (so the municipality effects enter the truth as they enter answers)."""
    def expand(pop: pd.DataFrame, m: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        p = persons_from_cells(pop, m, rng, reference_year=M.REFERENCE_YEAR, municipalities=False,
                               carry=("dstratum",))
        mun = np.empty(len(p), dtype=np.int64)
        key = p["dstratum"].to_numpy()
        for h, grp in res.groupby("dstratum"):  # loop over the 36 strata
            sel = np.flatnonzero(key == h)
            w = grp["residents"].to_numpy(dtype=float)
            mun[sel] = rng.choice(grp["municipality"].to_numpy(), size=sel.size, p=w / w.sum())
        p["municipality"] = mun
        return p
    return expand


def _shift(effects: pd.DataFrame, persons: pd.DataFrame) -> np.ndarray:
    """(n, 5) latent-trait effects of the ``persons``' municipalities within their strata
    (``effects``: sid.demo.sid2017_geography.stratum_effects)."""
    key = effects["origin"].astype(str) + ":" + effects["province"].astype(str) + ":" + effects["municipality"].astype(str)
    mine = persons["dstratum"].astype(str) + ":" + persons["municipality"].astype(str)
    pos = pd.Index(key).get_indexer(mine)
    if (pos < 0).any():
        raise SidError("sid demo: a person of the 2017 demo lives in a municipality without residents of its stratum")
    return effects[[f"eff_{j}" for j in range(5)]].to_numpy()[pos]


def _blank_after_breakoff(survey: pd.DataFrame, spec_items: list[str], numeric: list[str],
                          share: np.ndarray) -> None:
    """Text and date items after a break-off point are left empty too (in place)."""
    keep = np.rint(share * len(numeric)).astype(np.int64)
    broke = share < 1
    for name in spec_items:
        if name in numeric:
            continue
        before = sum(1 for x in spec_items[: spec_items.index(name)] if x in numeric)
        rows = broke & (keep <= before)
        if survey[name].dtype.kind == "M":
            survey.loc[rows, name] = pd.NaT
        else:
            survey.loc[rows, name] = ""


def make_sid2017(out_dir: str | Path, seed: int = 2017, scale: float = 1.0,
                 spec_path: str | Path = SPEC_PATH) -> dict[str, Path]:
    """Write the synthetic SID 2017 wave into ``out_dir`` (atomically, replacing it).

    ``scale`` multiplies the gross sample (11,000 at scale 1: sid2017_model.N_PER_GROUP). Identical
    ``seed`` and ``scale`` give identical files. Returns the paths written (FILES).
    """
    check_output_folder(out_dir)  # a file or a read-only folder: say so before the work
    if not scale > 0:
        raise SidError(f"sid demo: --scale {scale} must be a positive number (e.g. 0.2, 1, 50)")
    spec = load_checked_questionnaire(spec_path)
    rngs = np.random.default_rng(seed).spawn(9)
    pop = _population()
    mun = municipalities()
    res = residents(pop.groupby(["origin", "province"], as_index=False)["count"].sum(), mun)
    res["dstratum"] = res["origin"] + ":" + res["province"].astype(str)
    effects = stratum_effects(res, mun)
    totals = res.groupby("dstratum", sort=False)["residents"].sum()
    groups = pd.Series(totals.index.str.split(":").str[0], index=totals.index)
    n_per_group = {g: max(1, round(n * scale)) for g, n in M.N_PER_GROUP.items()}
    points = allocate(totals, groups, n_per_group, DESIGN)

    # stage 1: sampling points; stage 2: persons of the stratum's cells, dealt over the points
    drawn = first_stage(res.rename(columns={"dstratum": "stratum"}), points, DESIGN, rngs[0])
    pts = sampling_points(drawn)
    n_cell, replaced = cells_per_stratum(pop.rename(columns={"dstratum": "stratum"})[["stratum", "count"]],
                                         points * DESIGN.take, rngs[0])
    persons = persons_from_cells(pop, n_cell, rngs[0], reference_year=M.REFERENCE_YEAR,
                                 municipalities=False, carry=("province", "dstratum"))
    row = assign(persons["dstratum"].to_numpy(), pts, DESIGN.take, rngs[0])
    sample = pd.concat([persons, person_design(pts, row, DESIGN.take)], axis=1)
    sample.insert(0, "person_key", random_keys(len(sample), rngs[0]))
    sample = sample.iloc[rngs[0].permutation(len(sample))].reset_index(drop=True)

    disp = assign_dispositions(sample, rngs[1])
    resp = disp["disposition"].isin(RESPONDED).to_numpy()
    disp["mode"] = M.paper_mode(sample, disp["mode"].to_numpy(), resp, rngs[1])

    spec_items, numeric = _items(spec)
    inverse = {v: k for k, v in M.NAMES.items()}
    internal = [inverse.get(i, i) for i in spec_items]
    internal_numeric = [inverse.get(i, i) for i in numeric]
    people = sample[resp]
    answers = M.simulate(people, rngs[2], _shift(effects, people))
    answers["v_taal_thuis_anders"] = M.other_language(people, answers["q_lang_home"].to_numpy(), rngs[7])
    answers["v_datum_aankomst"] = M.arrival_date(people, rngs[7])
    check_answered_items(answers, internal, spec_path, "sid/demo/sid2017_model.py")
    survey = answers[internal].copy()
    survey.insert(0, "person_key", sample["person_key"].to_numpy()[resp])
    survey.insert(1, "mode", disp["mode"].to_numpy()[resp])
    partial = disp["disposition"].to_numpy()[resp] == "PARTIAL"
    share, doc_break = _defects.breakoffs(survey, partial, internal_numeric, rngs[3], M.ANSWERS.grids)
    _blank_after_breakoff(survey, internal, internal_numeric, share)
    para = paradata(survey["mode"].to_numpy(), share, rngs[3], M.DURATION_MEDIAN, M.FIELD)
    survey.insert(2, "interview_date", para["interview_date"].to_numpy())
    survey.insert(3, "duration_min", para["duration_min"].to_numpy())
    taken, doc_paper = paper_routing_errors(survey, ~partial, M.ANSWERS, rngs[8])
    dup, doc = _defects.inject(survey, ~partial & ~taken, rngs[4], M.ANSWERS, M.OUT_OF_RANGE)
    doc = pd.concat([doc_break, doc_paper, doc], ignore_index=True)
    doc = doc.sort_values(["defect", "person_key", "variable"], kind="stable").reset_index(drop=True)

    # the 2017 agency's names and codes
    survey = M.to_2017(pd.concat([survey, dup], ignore_index=True), numeric)
    doc["variable"] = doc["variable"].map(lambda v: M.NAMES.get(v, v))
    parents = {p for p, _ in M.ANSWERS.routing.values()}
    doc["detail"] = doc["detail"].replace({rf"\b{p}\b": M.NAMES[p] for p in parents}, regex=True)
    doc["mode"] = doc["mode"].map(M.MODES)
    doc = doc.rename(columns={"person_key": "pseudo_id", "mode": "modus"})
    columns = ["pseudo_id", "datum_interview", "duur_min"] + spec_items
    meta = spec.to_spss_meta().subset(columns)
    tp, tw, ta = simulate_truth(
        pop, rngs[5], expand=_expand_truth(res),
        simulate=lambda p, r: M.to_2017(M.simulate(p, r, _shift(effects, p)), numeric))
    th = headline(ta, spec, "v_taal_thuis")
    truth = truth_table(tp, tw, th, M.ORIGINS)
    trend = trend_truth(tp, tw, concept_values(ta, th, spec, M.WAVE), M.WAVE)
    truth["quantity"] = truth["quantity"].replace({"dutch_home": "nl_thuis"})
    register = register_extract(sample, rngs[6], reference_year=M.REFERENCE_YEAR).rename(columns=M.EXTRACT_NAMES)
    gross = sample.drop(columns=["origin", "age", "dstratum"]).rename(columns=M.REGISTER_NAMES)
    gross = gross[[c for c in _GROSS_ORDER if c in gross.columns]]
    dispositions = pd.DataFrame({
        "pseudo_id": disp["person_key"].to_numpy(),
        "dispositie": disp["disposition"].map(M.DISPOSITION_CODES).to_numpy(),
        "modus": disp["mode"].map(M.MODES).to_numpy(),
    })
    frame_psu = _psu_frame(drawn, mun)
    out = Path(out_dir)
    sizes: dict[str, object] = {}
    first_web = len(survey) - len(dup)
    with atomic_dir(out) as tmp:
        pop.drop(columns=["dstratum"]).rename(columns=M.FRAME_NAMES).to_csv(tmp / "register_populatie.csv", index=False)
        frame_psu.to_csv(tmp / "steekproefkader_gemeenten.csv", index=False)
        municipality_covariates(res, mun).to_csv(tmp / "gemeenten.csv", index=False, float_format="%.6f")
        municipality_register(res).to_csv(tmp / "gemeenten_register.csv", index=False)
        gross.to_csv(tmp / "bruto_steekproef.csv", index=False)
        dispositions.to_csv(tmp / "disposities.csv", index=False)
        for mode, name in M.MODE_FILES.items():
            sel = (survey["modus"] == mode).to_numpy().copy()
            if mode != "capi":
                sel &= np.arange(len(survey)) < first_web  # duplicates go to the capi file only
            part = survey.loc[sel, columns].reset_index(drop=True)
            cols = columns if mode != "papi" else [c for c in columns if c != "duur_min"] + ["duur_min"]
            write_spss(part[cols], meta.subset(cols), tmp / name)
            sizes[name] = int(len(part))
        doc.to_csv(tmp / "defects.csv", index=False)
        register.to_parquet(tmp / "registerextract.parquet", index=False)
        write_admin_demo(tmp, seed, wave=ADMIN, years=ADMIN_YEARS)
        truth.rename(columns={"origin": "herkomst"}).to_csv(tmp / "population_truth.csv", index=False,
                                                          float_format="%.6f")
        trend.to_csv(tmp / "trend_truth.csv", index=False, float_format="%.6f")
        sizes.update(_sizes(pop, sample, resp, disp, doc, register, points))
        info = _info(seed, scale, spec_path, sizes, drawn, points, replaced, n_per_group)
        (tmp / "demo.json").write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return {name: out / name for name in FILES}


_GROSS_ORDER = ["pseudo_id", "steekproefgroep", "provincie", "gemeente", "steekproefpunt", "ontwerpgewicht",
                "inclusiekans", "kans_gemeente", "kans_persoon", "personen_gemeente", "personen_kader",
                "punten_stratum", "generatie", "geslacht", "geboortejaar", "leeftijdsgroep", "gewest",
                "geboorteland", "nat_huidig", "nat_geboorte", "nat_vader", "nat_moeder"]


def _psu_frame(drawn: pd.DataFrame, mun: pd.DataFrame) -> pd.DataFrame:
    """The first-stage frame as written (Dutch names; steekproefkader_gemeenten.csv)."""
    names = mun.set_index("municipality")["name"]
    origin, prov = drawn["stratum"].str.split(":").str[0], drawn["stratum"].str.split(":").str[1].astype(int)
    return pd.DataFrame({
        "herkomst": origin, "provincie": prov, "gemeente": drawn["municipality"].to_numpy(),
        "naam": names.reindex(drawn["municipality"]).to_numpy(), "personen": drawn["residents"].to_numpy(),
        "in_kader": drawn["in_frame"].astype(int).to_numpy(), "personen_kader": drawn["covered"].to_numpy(),
        "punten_stratum": drawn["points"].to_numpy(), "verwachte_trekkingen": drawn["expected_hits"].to_numpy(),
        "kans_gemeente": drawn["p_first"].to_numpy(), "trekkingen": drawn["hits"].to_numpy(),
    })


def _sizes(pop, sample, resp, disp, doc, register, points) -> dict[str, object]:
    return {
        "population": int(pop["count"].sum()),
        "gross_sample": int(len(sample)),
        "respondents": int(resp.sum()),
        "gross_sample_per_group": {o: int((sample["origin"] == o).sum()) for o in M.ORIGINS},
        "respondents_per_group": {o: int(((sample["origin"] == o).to_numpy() & resp).sum()) for o in M.ORIGINS},
        "strata": int(len(points)),
        "sampling_points": int(points.sum()),
        "dispositions": {str(M.DISPOSITION_CODES[k]): int(v)
                         for k, v in disp["disposition"].value_counts().sort_index().items()},
        "modes_of_respondents": {M.MODES[k]: int(v) for k, v in
                                 pd.Series(disp["mode"].to_numpy()[resp]).value_counts().sort_index().items()},
        "defects": {k: int(v) for k, v in doc["defect"].value_counts().sort_index().items()},
        "register_extract": {
            "records": int(len(register)),
            "keys_missing": int((~isin(sample["person_key"], register["pseudo_id"])).sum()),
            "keys_duplicated": int(register["pseudo_id"].duplicated().sum()),
        },
    }


def _info(seed, scale, spec_path, sizes, drawn, points, replaced, n_per_group) -> dict[str, object]:
    cover = drawn.assign(origin=drawn["stratum"].str.split(":").str[0],
                         c=drawn["residents"] * drawn["in_frame"])
    coverage = (cover.groupby("origin")["c"].sum() / cover.groupby("origin")["residents"].sum()).round(4)
    pts = points.rename(lambda h: h.replace(":", "_"))
    return {
        "wave": M.WAVE, "seed": seed, "scale": scale, "questionnaire": str(Path(spec_path).name),
        "sizes": sizes,
        "design": {
            "description": (
                "two-stage clustered sample. Strata: steekproefgroep (origin group at the draw) x "
                "provincie (5 Flemish provinces and Brussels). Stage 1: sampling points (steekproefpunt, "
                "the PSU) drawn by systematic PPS among the stratum's municipalities, size = residents of "
                "the group aged 15-85; a municipality with an expected number of hits above 1 is taken "
                "with certainty and hit more than once (one PSU per hit); municipalities with fewer than "
                f"{DESIGN.min_residents} residents of the group are outside the first-stage frame. Stage 2: "
                f"{DESIGN.take} persons per sampling point, without replacement. Persons per group: "
                f"{', '.join(f'{g} {n}' for g, n in n_per_group.items())}, allocated to provinces in proportion to the group's residents (at least "
                f"{DESIGN.min_points} points per stratum): inclusiekans = {DESIGN.take} x punten_stratum / "
                "personen_kader, ontwerpgewicht = 1 / inclusiekans (constant within a stratum). Variance: "
                "PSU steekproefpunt within strata (steekproefgroep, provincie), no first-stage fpc "
                "(PPS treated as with replacement). Sequential mixed mode: letter with web login, paper "
                "questionnaire with the second reminder, face-to-face visit for non-respondents."),
            "take_per_point": DESIGN.take, "min_points_per_stratum": DESIGN.min_points,
            "min_residents_in_frame": DESIGN.min_residents,
            "points_per_stratum": {k: int(v) for k, v in pts.items()},
            "coverage_per_group": {k: float(v) for k, v in coverage.items()},
            "certainty_municipalities": int((drawn["expected_hits"] >= 1).sum()),
            "with_replacement": {
                "strata": list(replaced),
                "note": ("benchmark-only regime: these strata have fewer residents than the asked sample, so they "
                         "are drawn with replacement from their register cells (synthetic persons); inclusiekans "
                         "is then an expected number of selections above 1") if replaced else
                        "none: every stratum is drawn without replacement",
            },
        },
        "provinces": PROVINCES,
        "dispositions": M.DISPOSITIONS,
        "modes": {"cawi": "web", "papi": "paper (PAPI)", "capi": "face-to-face"},
        "defect_rates": {k: {"share": r, "minimum": m} for k, (r, m) in _defects.RATES.items()},
        "register_codes": REGISTER_CODES,
        "trend": trend_info(),
        "files": FILES,
    }
