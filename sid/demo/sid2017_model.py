"""The SID 2017 demo wave's config: population, items, names and codes of a 2017 agency.

The generator (sid.demo.sid2017) runs sid2022's pieces (population, persons, answers,
fieldwork, defects, truth) with this config, then writes the files under the names and
codes of questionnaires/sid2017.yaml: Dutch file and variable names (key ``pseudo_id``,
mode ``modus``), missing codes 97/98/99 (weet niet / geen antwoord / niet van toepassing)
instead of -1/-2/-3, a 4-point agreement scale on the belonging grid (no neutral
category), a home-language item with an extra category (6: Dutch and another language
equally), a text item (the other home language) and a date item (arrival in Belgium),
three modes (web, paper, face-to-face).

Internally the pieces keep their own names (person_key, mode, q_sex ... and the
negative codes); :data:`NAMES` and :func:`to_2017` translate at the end.

Trend with SID 2022 (sid.demo.trend_truth): within each of the six origin groups the
register has 2022's composition (second-generation share, age, sex and Brussels share
per generation; the Flemish part split over the provinces by :data:`_PROVINCE_SHARE`),
the foreign-origin groups at 0.92 x their 2022 size; the items both waves ask have 2022's
parameters; and :func:`simulate` takes the planted changes
(trend_truth.PLANTED_CHANGES) off the 2022 trait means, so that the population truth
differs from 2022's by exactly those changes for the comparable concepts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.demo import population as _pop
from sid.demo.answers import AnswerModel, simulate_answers
from sid.demo.sid2017_geography import EFFECT_SD
from sid.demo.trend_truth import planted_shift

WAVE = "sid2017"
REFERENCE_YEAR = 2017
ORIGINS = ("BEL", "MAR", "TUR", "POL", "ROU", "COD")
# gross sample per origin group at scale 1, set so that each group has about 750
# completes (response differs: about 68 % for Belgian, 28 % for Romanian origin)
N_PER_GROUP = {"BEL": 1100, "MAR": 1600, "TUR": 1600, "POL": 2000, "ROU": 2650, "COD": 2050}

# Flemish province shares per origin (codes 1..5: sid.demo.sid2017_geography.PROVINCES, west
# to east; Brussels, code 6, takes the group's 2022 Brussels share per generation)
_PROVINCE_SHARE = {
    "BEL": (0.194, 0.228, 0.224, 0.129, 0.162),
    "MAR": (0.015, 0.050, 0.300, 0.040, 0.080),
    "TUR": (0.020, 0.200, 0.200, 0.280, 0.050),
    "POL": (0.120, 0.120, 0.220, 0.110, 0.150),
    "ROU": (0.050, 0.120, 0.200, 0.060, 0.120),
    "COD": (0.020, 0.070, 0.140, 0.040, 0.120),
}
GROWTH = 0.92  # a foreign-origin group's 2017 size / its 2022 size (BEL: 4.45 million)


def _shares(o: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """First and second generation province shares: Brussels as in SID 2022 per generation
    (sid.demo.population), the Flemish part split by :data:`_PROVINCE_SHARE`."""
    fl = np.asarray(_PROVINCE_SHARE[o], float)
    fl = fl / fl.sum()
    out = []
    for b in _pop._SIZE[o][2:]:  # gen 1, gen 2 Brussels shares
        out.append(tuple(float(x) for x in (*(fl * (1.0 - b)), b)))
    return out[0], out[1]


POPULATION = _pop.PopulationModel(
    origins=ORIGINS,
    size={o: (4_450_000 if o == "BEL" else GROWTH * _pop._SIZE[o][0], _pop._SIZE[o][1]) for o in ORIGINS},
    age=_pop._AGE, age_gen2=_pop._AGE_GEN2, male=_pop._MALE,
    area="province", area_codes=(1, 2, 3, 4, 5, 6),
    area_shares={o: _shares(o) for o in ORIGINS},
    reference_year=REFERENCE_YEAR,
)

# item: (trait, number of categories, loading, shift, don't-know rate) (sid.demo.answers)
ITEMS = {
    "v_ndl_thuis": ("language", 5, 1.0, 0.0, 0.0),
    "v_ndl_partner": ("language", 5, 1.0, 0.1, 0.005),
    "v_ndl_kinderen": ("language", 5, 1.0, 0.5, 0.005),
    "v_ndl_vrienden": ("language", 5, 1.0, 0.4, 0.01),
    "v_ndl_werk": ("language", 5, 0.9, 1.0, 0.01),
    "v_discr_werk": ("discrimination", 4, 1.0, -0.6, 0.02),
    "v_discr_woning": ("discrimination", 4, 1.0, -0.8, 0.03),
    "v_discr_onderwijs": ("discrimination", 4, 0.9, -1.0, 0.03),
    "v_discr_straat": ("discrimination", 4, 1.0, -0.4, 0.02),
    "v_discr_politie": ("discrimination", 4, 0.9, -1.0, 0.03),
    "v_discr_winkels": ("discrimination", 4, 1.0, -0.6, 0.02),
    "v_contact_anders": ("inclusion", 5, 0.8, 0.6, 0.01),
    "v_thuis_be": ("inclusion", 4, 1.0, 0.8, 0.015),
    "v_thuis_vl": ("inclusion", 4, 1.0, 0.3, 0.02),
    "v_thuis_gemeente": ("inclusion", 4, 1.0, 0.7, 0.015),
    "v_buitenstaander": ("inclusion", 4, -0.9, -0.6, 0.02),
    "v_rel_belang": ("religiosity", 5, 1.0, 0.0, 0.01),
    "v_rel_bidden": ("religiosity", 5, 1.0, -0.1, 0.01),
    "v_rel_bezoek": ("religiosity", 5, 1.0, -0.6, 0.01),
    "v_stemmen": ("citizenship", 5, 0.8, 0.6, 0.03),
    "v_vertr_parlement": ("citizenship", 5, 1.0, 0.0, 0.04),
    "v_vertr_regering": ("citizenship", 5, 1.0, -0.2, 0.04),
    "v_vertr_gerecht": ("citizenship", 5, 1.0, 0.0, 0.04),
    "v_vertr_politie": ("citizenship", 5, 0.9, 0.4, 0.03),
    "v_vereniging": ("citizenship", 5, 0.6, -0.5, 0.01),
    "v_gevoel_belg": ("citizenship", 5, 0.7, 0.7, 0.02),
}
ANSWERS = AnswerModel(
    items=ITEMS,
    routing={"v_ndl_partner": ("q_partner", 1), "v_ndl_kinderen": ("q_children", 1),
             "v_ndl_werk": ("q_work12", 1), "v_discr_werk": ("q_work12", 1),
             "v_stemmen": ("q_belgian", 1)},
    grids={"thuis_grid": ["v_thuis_be", "v_thuis_vl", "v_thuis_gemeente", "v_buitenstaander"],
           "vertrouwen_grid": ["v_vertr_parlement", "v_vertr_regering", "v_vertr_gerecht", "v_vertr_politie"]},
    home_item="v_ndl_thuis",
    birth_years=(1932, 2002),
    cluster_var=tuple(sd ** 2 for sd in EFFECT_SD),  # the municipality effects (sid2017_geography)
)
OUT_OF_RANGE = (0.0, 6.0, 7.0, 95.0)  # injected codes: no category, no missing code of the wave

# internal name -> the 2017 file's name (answers, paradata, key, mode; register variables)
NAMES = {
    "person_key": "pseudo_id", "mode": "modus", "interview_date": "datum_interview",
    "duration_min": "duur_min", "q_sex": "v_geslacht", "q_birth_year": "v_geboortejaar",
    "q_belgian": "v_belg", "q_education": "v_opleiding", "q_partner": "v_partner",
    "q_children": "v_kinderen", "q_work12": "v_werk12m", "q_lang_home": "v_taal_thuis",
    "q_religion": "v_godsdienst",
}
REGISTER_NAMES = {
    "person_key": "pseudo_id", "stratum": "steekproefgroep", "province": "provincie",
    "municipality": "gemeente", "point": "steekproefpunt", "generation": "generatie",
    "sex": "geslacht", "birth_year": "geboortejaar", "age_band": "leeftijdsgroep",
    "region": "gewest", "birth_country": "geboorteland", "nat_current": "nat_huidig",
    "nat_birth": "nat_geboorte", "nat_father": "nat_vader", "nat_mother": "nat_moeder",
    "residents": "personen_gemeente", "covered": "personen_kader", "points": "punten_stratum",
    "p_first": "kans_gemeente", "p_second": "kans_persoon", "pi": "inclusiekans",
    "design_weight": "ontwerpgewicht",
}
FRAME_NAMES = {"origin": "herkomst", "generation": "generatie", "sex": "geslacht",
               "age_band": "leeftijdsgroep", "province": "provincie", "region": "gewest", "count": "aantal"}
EXTRACT_NAMES = {"person_key": "pseudo_id", "employment_status": "sociaal_economische_positie",
                 "wage_band": "loonklasse", "leefloon": "leefloon", "social_housing": "sociale_huurwoning",
                 "diploma": "diploma"}
MODES = {"web": "cawi", "capi": "capi", "papi": "papi"}  # internal -> the wave's mode codes
MODE_FILES = {"cawi": "sid2017_web.sav", "capi": "sid2017_capi.sav", "papi": "sid2017_papier.zsav"}
MISSING = {-1.0: 97.0, -2.0: 98.0, -3.0: 99.0}  # don't know, no answer, not applicable

# the agency's disposition codes (numeric), from the generator's
DISPOSITION_CODES = {"COMPLETE": 11, "PARTIAL": 12, "REFUSAL": 21, "NONCONTACT": 22, "LANGUAGE": 23,
                     "UNKNOWN": 31, "NOT_ELIGIBLE": 41}
DISPOSITIONS = {
    11: "Vragenlijst volledig ingevuld", 12: "Vragenlijst begonnen en afgebroken",
    21: "Contact, weigering", 22: "Geen contact na alle pogingen",
    23: "Contact, geen interview wegens taalbarrière",
    31: "Geschiktheid onbekend (adres onvindbaar, niet bezocht)",
    41: "Niet in aanmerking (verhuisd naar het buitenland, overleden)",
}
DURATION_MEDIAN = {"web": 33.0, "capi": 45.0}  # paper: no duration recorded
FIELD = {"web": ("2017-09-18", 100), "papi": ("2017-10-09", 90), "capi": ("2017-10-16", 150)}

# other home languages named in the open item, per origin (as respondents write them)
_OTHER_LANGUAGES = {
    "BEL": ["Duits", "Spaans", "italiaans", "Engels en Frans"], "MAR": ["Berbers", "Tamazight", "berbers", "Spaans"],
    "TUR": ["Koerdisch", "koerdisch", "Arabisch"], "POL": ["Russisch", "Oekraïens", "russisch"],
    "ROU": ["Hongaars", "Romani", "hongaars"], "COD": ["Lingala", "Swahili", "lingala", "Kikongo"],
}


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def paper_mode(sample: pd.DataFrame, mode: np.ndarray, responded: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    """Modes with paper: a web respondent who answered on the paper questionnaire sent with
    the second reminder instead (more often older and first generation) gets ``papi``."""
    age = sample["age"].to_numpy()
    g1 = (sample["generation"].to_numpy() == 1).astype(float)
    p = _expit(-1.6 + 0.06 * (age - 45) + 0.4 * g1)
    paper = responded & (mode == "web") & (rng.random(len(mode)) < p)
    return np.where(paper, "papi", mode).astype(object)


def home_language(answers: pd.DataFrame, rng: np.random.Generator) -> None:
    """The 2017 home-language item's extra category 6 (Dutch and another language equally),
    in place on q_lang_home: some who speak Dutch "most of the time" and some of those
    speaking the origin language who speak Dutch at home at least sometimes."""
    lang, ndl = answers["q_lang_home"].to_numpy(), answers["v_ndl_thuis"].to_numpy()
    u = rng.random(len(lang))
    both = ((lang == 1) & (ndl == 4) & (u < 0.25)) | ((lang == 3) & (ndl >= 3) & (u < 0.30))
    answers.loc[both, "q_lang_home"] = 6.0


def simulate(persons: pd.DataFrame, rng: np.random.Generator, shift: np.ndarray) -> pd.DataFrame:
    """Answers of ``persons`` to the 2017 items (internal names and codes; sid.demo.answers):
    ``shift`` (the municipality effects) added to the traits, the planted changes
    (sid.demo.trend_truth.PLANTED_CHANGES, 2022 minus 2017) taken off."""
    out = simulate_answers(persons, rng, ANSWERS, shift - planted_shift(persons))
    home_language(out, rng)
    return out


def other_language(persons: pd.DataFrame, lang: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The open item "other home language": text where the home language is "other" (5),
    empty elsewhere; 3 % of those asked leave it empty."""
    origin = persons["origin"].to_numpy()
    out = np.full(len(lang), "", dtype=object)
    u = rng.random(len(lang))
    for o, names in _OTHER_LANGUAGES.items():  # loop over 6 groups
        sel = np.flatnonzero((lang == 5) & (origin == o) & (u >= 0.03))
        out[sel] = np.asarray(names, dtype=object)[rng.integers(0, len(names), sel.size)]
    return out


def arrival_date(persons: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Date of arrival in Belgium (``datetime64[ns]``) for the first generation, NaT for the
    others and for the 4 % who do not know it: recent EU migration arrived after 2004, the
    others at age 22 on average (SD 8), never before birth nor after 30 June 2017."""
    n = len(persons)
    origin = persons["origin"].to_numpy()
    by = persons["birth_year"].to_numpy().astype(float)
    g1 = persons["generation"].to_numpy() == 1
    year = by + np.clip(22 + 8 * rng.standard_normal(n), 0, None)
    eu = np.isin(origin, ["POL", "ROU"])
    year = np.where(eu, np.maximum(by + 16, 2004 + 13.4 * rng.random(n)), year)
    year = np.minimum(year, 2017.49)
    start = np.datetime64("1970-01-01", "D")
    days = np.floor((year - 1970) * 365.25).astype(np.int64)
    date = (start + days).astype("datetime64[ns]")
    known = g1 & (rng.random(n) >= 0.04)
    return np.where(known, date, np.datetime64("NaT", "ns"))


def to_2017(df: pd.DataFrame, numeric: list[str]) -> pd.DataFrame:
    """``df`` (internal names and codes) under the 2017 names, the ``numeric`` items'
    missing codes -1/-2/-3 recoded to 97/98/99 and the modes to the wave's codes."""
    out = df.rename(columns=NAMES)
    cols = [c for c in numeric if c in out.columns]
    x = out[cols].to_numpy(dtype=float, copy=True)
    for old, new in MISSING.items():  # 3 codes
        x[x == old] = new
    out[cols] = x
    if "modus" in out.columns:
        out["modus"] = out["modus"].map(MODES)
    return out
