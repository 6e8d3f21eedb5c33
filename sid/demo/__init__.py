"""Synthetic SID waves: register, gross sample, fieldwork, answers, defects, truth.

:func:`make_demo` writes a complete, deterministic (from ``seed``) SID 2022 demo wave into
a folder; ``sid demo`` is its command. :data:`DEMOS` names every built-in demo (``sid demo
--wave NAME``): ``sid2022`` (this module) and ``sid2017`` (sid.demo.sid2017: a clustered
two-stage sample, three modes, Dutch names). Modules: population (register counts per cell),
sample (gross sample with register variables), fieldwork (dispositions, mode,
paradata), answers (latent traits -> items, routing, missing codes), defects (injected
fieldwork defects, documented), truth (population values of the headline quantities).
The SPSS dictionaries of the mode files come from questionnaires/sid2022.yaml
(``Questionnaire.to_spss_meta``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from sid.demo import defects as _defects
from sid.demo.admin import write_admin_demo
from sid.demo.answers import check_answered_items, simulate_answers
from sid.demo.fieldwork import DISPOSITIONS, RESPONDED, assign_dispositions, paradata
from sid.demo.municipalities import write_municipality_demo
from sid.demo.population import ORIGINS, population_counts
from sid.demo.register_extract import CODES as REGISTER_CODES
from sid.demo.register_extract import register_extract
from sid.demo.sample import draw_gross_sample, with_replacement
from sid.demo.trend_truth import concept_values, trend_info, trend_truth
from sid.demo.truth import headline, simulate_truth, truth_table
from sid.errors import SidError, SpecError
from sid.io.atomic import atomic_dir, check_output_folder
from sid.io.keys import isin
from sid.io.spss import write_spss
from sid.spec.check import load_checked_questionnaire

SPEC_PATH = Path(__file__).resolve().parents[2] / "questionnaires" / "sid2022.yaml"

N_PER_GROUP = 2500
FILES = {
    "register_population.csv": "register counts of residents aged 15-85 per origin x generation x sex x age_band x region (column count)",
    "gross_sample.csv": "register extract of the gross sample: person_key, design_weight and register variables, respondents and non-respondents alike",
    "dispositions.csv": "final fieldwork disposition per sampled person (codes in 'dispositions') and mode: the interview mode of respondents, the mode of the last attempt of the others (sequential web -> face-to-face)",
    "sid2022_web.sav": "answers of web (CAWI) respondents: person_key, paradata, questionnaire items (SPSS, labelled, user-missing codes declared)",
    "sid2022_capi.sav": "answers of face-to-face (CAPI) respondents, same dictionary as the web file",
    "defects.csv": "every injected defect: person_key, mode, variable, defect, injected_value, detail (see sid/demo/defects.py)",
    "population_truth.csv": "population truth per origin group and ALL: index means (0-100) and dutch_home share (0-1)",
    "trend_truth.csv": ("truth per trend concept (harmonised with SID 2017) and domain, with its Monte Carlo SE "
                        "(sid.demo.trend_truth; the true 2022 - 2017 differences: trend_differences.true_differences)"),
    "register_extract.parquet": ("pseudonymised register extract (KSZ/VLIM kind, 31 December 2022) of the gross sample by person_key: "
                                 "employment_status, wage_band, leefloon, social_housing, diploma (codes in 'register_codes'); "
                                 "about 1-2 % of the keys are missing (deaths, emigration) and a few keys come twice "
                                 "(extraction errors), so sid link --register has unlinked and duplicate keys to report"),
    "vlim-admin-demo/indicators.csv": "register (administrative) VLIM indicators of the demo: definitions (sid.demo.admin)",
    "vlim-admin-demo/values.csv": "their values 2019-2023, Flemish Region, by origin (BEL/EU/NEU) and generation; sid link --admin loads them",
    "municipalities.csv": ("the 39 municipalities (NIS codes) of the register and the sample: name, region, cluster of "
                           "comparable municipalities (linkage/municipality_clusters.csv), population 15-85 and register "
                           "covariates (sid.demo.municipalities)"),
    "municipality_truth.csv": ("population truth per municipality (nis, quantity, value) of the headline quantities; the "
                               "answer model has no municipality effect, so municipalities differ by composition only"),
    "municipality_register.csv": ("register counts per municipality x origin x region (nis, origin, region, count): "
                                  "the composition behind the small-area stage's register design variances"),
    "demo.json": "this description: seed, scale, sizes, disposition codes, files",
}



def make_demo(out_dir: str | Path, seed: int = 2022, scale: float = 1.0, spec_path: str | Path = SPEC_PATH) -> dict[str, Path]:
    """Write the synthetic wave into ``out_dir`` (atomically, replacing it); return the paths.

    ``scale`` multiplies the gross sample per origin group (2,500 x scale; a group smaller
    than that is drawn with replacement, design weight < 1: benchmarks only). Identical
    ``seed`` and ``scale`` give identical files.
    """
    check_output_folder(out_dir)  # a file or a read-only folder: say so before the work
    if not scale > 0:
        raise SidError(f"sid demo: --scale {scale} must be a positive number (e.g. 0.2, 1, 50)")
    spec = load_checked_questionnaire(spec_path)
    rng = np.random.default_rng(seed)
    # independent streams: sizes of one part do not shift another; a new part takes the
    # next stream (spawn(k) begins with spawn(k - 1)'s streams, so older files stay identical)
    rngs = rng.spawn(7)
    pop = population_counts()
    n_per_group = max(1, round(N_PER_GROUP * scale))
    sample = draw_gross_sample(pop, n_per_group, rngs[0])
    replaced = with_replacement(pop, n_per_group)
    disp = assign_dispositions(sample, rngs[1])
    resp = disp["disposition"].isin(RESPONDED).to_numpy()

    items = [v.name for v in spec.variables if v.source == "questionnaire"]
    answers = simulate_answers(sample[resp], rngs[2])
    check_answered_items(answers, items, spec_path, "sid/demo/answers.py")
    survey = answers[items].copy()
    survey.insert(0, "person_key", sample["person_key"].to_numpy()[resp])
    survey.insert(1, "mode", disp["mode"].to_numpy()[resp])
    partial = (disp["disposition"].to_numpy()[resp] == "PARTIAL")
    share, doc_break = _defects.breakoffs(survey, partial, items, rngs[3])
    para = paradata(survey["mode"].to_numpy(), share, rngs[3])
    survey.insert(2, "interview_date", para["interview_date"].to_numpy())
    survey.insert(3, "duration_min", para["duration_min"].to_numpy())
    dup, doc = _defects.inject(survey, ~partial, rngs[4])
    doc = pd.concat([doc_break, doc], ignore_index=True).sort_values(["defect", "person_key", "variable"], kind="stable")

    columns = [c for c in survey.columns if c != "mode"]
    meta = spec.to_spss_meta().subset(columns)
    tp, tw, ta = simulate_truth(pop, rngs[5])
    th = headline(ta, spec)
    truth = truth_table(tp, tw, th)
    trend = trend_truth(tp, tw, concept_values(ta, th, spec, "sid2022"), "sid2022")
    register = register_extract(sample, rngs[6])
    out = Path(out_dir)
    sizes: dict[str, object] = {}
    with atomic_dir(out) as tmp:
        pop.to_csv(tmp / "register_population.csv", index=False)
        sample.drop(columns=["age"]).to_csv(tmp / "gross_sample.csv", index=False)
        disp.to_csv(tmp / "dispositions.csv", index=False)
        for m in ("web", "capi"):
            part = survey[survey["mode"] == m]
            if m == "capi":
                part = pd.concat([part, dup], ignore_index=True)
            write_spss(part[columns].reset_index(drop=True), meta, tmp / f"sid2022_{m}.sav")
            sizes[f"sid2022_{m}.sav"] = int(len(part))
        doc.to_csv(tmp / "defects.csv", index=False)
        register.to_parquet(tmp / "register_extract.parquet", index=False)
        write_admin_demo(tmp, seed)
        truth.to_csv(tmp / "population_truth.csv", index=False, float_format="%.6f")
        trend.to_csv(tmp / "trend_truth.csv", index=False, float_format="%.6f")
        write_municipality_demo(tmp, pop, spec, seed)
        sizes.update({
            "population": int(pop["count"].sum()),
            "gross_sample": int(len(sample)),
            "respondents": int(resp.sum()),
            "gross_sample_per_group": {o: int((sample["stratum"] == o).sum()) for o in ORIGINS},
            "dispositions": {k: int(v) for k, v in disp["disposition"].value_counts().sort_index().items()},
            "defects": {k: int(v) for k, v in doc["defect"].value_counts().sort_index().items()},
            "register_extract": {
                "records": int(len(register)),
                "keys_missing": int((~isin(sample["person_key"], register["person_key"])).sum()),
                "keys_duplicated": int(register["person_key"].duplicated().sum()),
            },
        })
        info = {
            "seed": seed, "scale": scale, "questionnaire": str(Path(spec_path).name),
            "sizes": sizes, "dispositions": DISPOSITIONS,
            "design": (f"stratified by origin group, equal allocation of {N_PER_GROUP} x scale persons per "
                       "group, simple random sampling without replacement within a group; design_weight = "
                       "N_h / n_h; sequential mixed mode: web invitation first, face-to-face visit for web "
                       "non-respondents (mode in dispositions.csv: the mode of the last attempt)"),
            "with_replacement": {
                "groups": replaced,
                "note": ("benchmark-only regime: these groups have fewer residents than the asked sample "
                         "size, so they are drawn with replacement from their register cells (synthetic "
                         "persons) and their design weight N_h / n_h is below 1; do not read estimates "
                         "from such a sample") if replaced else "none: every group is drawn without replacement",
            },
            "defect_rates": {k: {"share": r, "minimum": m} for k, (r, m) in _defects.RATES.items()},
            "codes": {"generation": {0: "Belgian origin", 1: "first generation (born abroad)", 2: "second generation (born in Belgium)"},
                      "sex": {1: "man", 2: "woman"}, "region": {1: "Vlaams Gewest", 2: "Brussels Hoofdstedelijk Gewest"},
                      "age_band": {1: "15-24", 2: "25-34", 3: "35-44", 4: "45-54", 5: "55-64", 6: "65-85"}},
            "register_codes": REGISTER_CODES,
            "trend": trend_info(),
            "files": FILES,
        }
        (tmp / "demo.json").write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return {name: out / name for name in FILES}


# -- the built-in demos, by name (sid.yaml: a wave's `demo:`) -----------------------------
from sid.demo.sid2017 import make_sid2017  # noqa: E402  (it uses this package's modules)


class Demo(NamedTuple):
    """A built-in demo generator: ``make(out_dir, seed=, scale=) -> paths``, its default
    seed and its default data folder (relative to the working folder)."""

    make: Callable[..., dict[str, Path]]
    seed: int
    folder: str


#: The built-in demo generators, by the name a project wave gives as ``demo:`` (sid.yaml)
#: and ``sid demo --wave NAME`` takes.
DEMOS: dict[str, Demo] = {
    "sid2022": Demo(make_demo, 2022, "data/demo"),
    "sid2017": Demo(make_sid2017, 2017, "data/demo-sid2017"),
}


def demo_maker(name: str) -> Demo:
    """The demo generator called ``name`` (a SpecError naming the known ones when unknown)."""
    if name not in DEMOS:
        from sid.spec.yamlfile import suggest

        raise SpecError(f"no built-in demo generator {name!r}{suggest(name, DEMOS)}; sid has "
                        f"{', '.join(DEMOS)}")
    return DEMOS[name]


def make_wave_demo(name: str, out_dir: str | Path | None = None, seed: int | None = None,
                   scale: float = 1.0) -> dict[str, Path]:
    """Write the built-in demo ``name`` (:data:`DEMOS`) into ``out_dir`` (default: the demo's
    data folder) with ``seed`` (default: the demo's own)."""
    demo = demo_maker(name)
    return demo.make(demo.folder if out_dir is None else out_dir,
                     seed=demo.seed if seed is None else seed, scale=scale)
