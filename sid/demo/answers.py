"""Answers of the synthetic wave, generated from latent traits.

Five latent traits (language: use of Dutch; discrimination; inclusion; religiosity;
citizenship) are normal with a mean that depends on origin group, generation, age, sex
and region, and correlated person-level noise (SD 1 within a cell). Each ordinal item is
a cut of ``loading * trait + shift + e`` (e standard normal) at fixed thresholds, so the
items of an index correlate about 0.4-0.5 within a group (Cronbach's alpha about
0.75-0.87 in every group; the Belgian-origin spread of Dutch use is wider so that its
ceiling does not push alpha below 0.6). Routing follows the spec's ``relevant`` conditions (code -3 where an item is
not asked); don't know (-1) and no answer (-2) are sprinkled at item-specific rates.
The generator never produces a straight-line on the quality grids (it moves one answer
by one category when chance produces one), so the only straight-liners are the ones
sid.demo.defects injects and documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sid.demo.population import ORIGINS
from sid.errors import SpecError

DK, NA, NOT_APPLICABLE = -1, -2, -3
TRAITS = ("language", "discrimination", "inclusion", "religiosity", "citizenship")
# trait means per origin (ORIGINS order) and effects: 2nd generation, per decade of age
# above 45 (migrants; Belgian origin has its own), Brussels, women
_MU = {
    "language": ([2.9, -0.3, -0.9, -1.0, -1.0, -0.2, -1.1], 0.9, -0.15, -1.3, 0.0),
    "discrimination": ([-1.3, 0.4, 0.3, -0.4, -0.1, 0.7, 0.2], 0.25, -0.15, 0.15, -0.1),
    "inclusion": ([0.6, -0.1, -0.35, -0.3, -0.3, -0.15, 0.1], 0.25, 0.05, -0.15, 0.0),
    "religiosity": ([-0.9, 1.0, 0.8, 0.1, 0.4, 0.8, 1.3], -0.35, 0.15, 0.0, 0.15),
    "citizenship": ([0.3, -0.15, -0.25, -0.35, -0.35, -0.1, 0.15], 0.15, 0.05, -0.1, -0.05),
}
_BEL_LANGUAGE_SD = 1.5
_AGE_BEL = {"language": 0.0, "discrimination": -0.05, "inclusion": 0.05, "religiosity": 0.3, "citizenship": 0.05}
_CORR = np.array([
    [1.0, -0.2, 0.3, -0.2, 0.2],
    [-0.2, 1.0, -0.35, 0.1, -0.35],
    [0.3, -0.35, 1.0, 0.0, 0.35],
    [-0.2, 0.1, 0.0, 1.0, 0.05],
    [0.2, -0.35, 0.35, 0.05, 1.0],
])
# item: (trait, number of categories, loading, shift, don't-know rate)
ITEMS = {
    "q_ndl_home": ("language", 5, 1.0, 0.0, 0.0),
    "q_ndl_partner": ("language", 5, 1.0, 0.1, 0.005),
    "q_ndl_children": ("language", 5, 1.0, 0.5, 0.005),
    "q_ndl_friends": ("language", 5, 1.0, 0.4, 0.01),
    "q_ndl_work": ("language", 5, 0.9, 1.0, 0.01),
    "q_discr_work": ("discrimination", 4, 1.0, -0.6, 0.02),
    "q_discr_housing": ("discrimination", 4, 1.0, -0.8, 0.03),
    "q_discr_education": ("discrimination", 4, 0.9, -1.0, 0.03),
    "q_discr_public": ("discrimination", 4, 1.0, -0.4, 0.02),
    "q_discr_police": ("discrimination", 4, 0.9, -1.0, 0.03),
    "q_discr_shops": ("discrimination", 4, 1.0, -0.6, 0.02),
    "q_contact_other": ("inclusion", 5, 0.8, 0.6, 0.01),
    "q_belong_be": ("inclusion", 5, 1.0, 0.8, 0.015),
    "q_belong_fl": ("inclusion", 5, 1.0, 0.3, 0.02),
    "q_belong_mun": ("inclusion", 5, 1.0, 0.7, 0.015),
    "q_outsider": ("inclusion", 5, -0.9, -0.6, 0.02),
    "q_rel_importance": ("religiosity", 5, 1.0, 0.0, 0.01),
    "q_rel_prayer": ("religiosity", 5, 1.0, -0.1, 0.01),
    "q_rel_attend": ("religiosity", 5, 1.0, -0.6, 0.01),
    "q_rel_rules": ("religiosity", 5, 1.0, -0.2, 0.02),
    "q_vote": ("citizenship", 5, 0.8, 0.6, 0.03),
    "q_trust_parl": ("citizenship", 5, 1.0, 0.0, 0.04),
    "q_trust_gov": ("citizenship", 5, 1.0, -0.2, 0.04),
    "q_trust_justice": ("citizenship", 5, 1.0, 0.0, 0.04),
    "q_trust_police": ("citizenship", 5, 0.9, 0.4, 0.03),
    "q_trust_mun": ("citizenship", 5, 0.9, 0.3, 0.04),
    "q_assoc": ("citizenship", 5, 0.6, -0.5, 0.01),
    "q_ident_be": ("citizenship", 5, 0.7, 0.7, 0.02),
}
# routing: item -> (routing item, code that opens it); mirrors the spec's `relevant`
ROUTING = {
    "q_ndl_partner": ("q_partner", 1),
    "q_ndl_children": ("q_children", 1),
    "q_ndl_work": ("q_work12", 1),
    "q_discr_work": ("q_work12", 1),
    "q_vote": ("q_belgian", 1),
}
GRIDS = {  # quality grids checked for straight-lining (spec: quality.straightlining)
    "belong_grid": ["q_belong_be", "q_belong_fl", "q_belong_mun", "q_outsider"],
    "trust_grid": ["q_trust_parl", "q_trust_gov", "q_trust_justice", "q_trust_police", "q_trust_mun"],
}
NO_ANSWER_RATE = 0.005
# main home language other than Dutch, per origin: French, origin language, English, other
_HOME_LANG = {
    "BEL": [0.93, 0.0, 0.02, 0.05], "MAR": [0.35, 0.60, 0.0, 0.05], "TUR": [0.05, 0.90, 0.0, 0.05],
    "POL": [0.03, 0.85, 0.07, 0.05], "ROU": [0.05, 0.85, 0.05, 0.05], "COD": [0.85, 0.10, 0.0, 0.05],
    "AFG": [0.05, 0.85, 0.07, 0.03],
}
# religion if religious (trait above -0.3): Catholic, other Christian, Islam, other
_RELIGION = {
    "BEL": [0.85, 0.05, 0.02, 0.08], "MAR": [0.01, 0.01, 0.97, 0.01], "TUR": [0.01, 0.01, 0.96, 0.02],
    "POL": [0.92, 0.04, 0.0, 0.04], "ROU": [0.10, 0.85, 0.0, 0.05], "COD": [0.50, 0.45, 0.03, 0.02],
    "AFG": [0.0, 0.01, 0.97, 0.02],
}




@dataclass(frozen=True)
class AnswerModel:
    """The items a demo wave asks (a wave's config): ``items`` item -> (trait, number of
    categories, loading, shift, don't-know rate); ``routing`` item -> (routing item, code
    that opens it); ``grids`` the quality grids (straight-lining); ``home_item``: the item
    of Dutch spoken at home that the main home language (q_lang_home) follows;
    ``cluster_var``: per trait (TRAITS order), the variance a cluster (municipality) effect
    passed as ``shift`` carries; the person-level noise gives up that much variance, so
    that a trait's variance within a cell stays what it is without clusters (SID 2017:
    its standardised municipality effects; 0 where no cluster effect is added).

    The background items (q_sex, q_birth_year, q_belgian, q_education, q_partner,
    q_children, q_work12), q_lang_home and q_religion are always generated under these
    names; a wave with other names renames them (sid.demo.sid2017)."""

    items: Mapping[str, tuple[str, int, float, float, float]]
    routing: Mapping[str, tuple[str, int]]
    grids: Mapping[str, list[str]]
    home_item: str = "q_ndl_home"
    birth_years: tuple[int, int] = (1937, 2007)  # range of the self-reported birth year
    cluster_var: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0)

    def grid_top(self, grid: str) -> int:
        """The highest category of a grid's items."""
        return max(self.items[i][1] for i in self.grids[grid])


SID2022 = AnswerModel(items=ITEMS, routing=ROUTING, grids=GRIDS)


def _pick(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One column index per row of the probability matrix ``probs`` (0-based)."""
    cum = np.cumsum(probs, axis=1)
    return (rng.random(len(probs))[:, None] * cum[:, -1:] > cum).sum(axis=1)


def _cut(z: np.ndarray, k: int) -> np.ndarray:
    """Codes 1..k of a latent value cut at k-1 equally spaced thresholds in [-1.5, 1.5]."""
    return 1 + (z[:, None] > np.linspace(-1.5, 1.5, k - 1)[None, :]).sum(axis=1)


def latent_traits(persons: pd.DataFrame, rng: np.random.Generator,
                  shift: np.ndarray | None = None,
                  cluster_var: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0)) -> pd.DataFrame:
    """The five latent traits per person (columns TRAITS), in standard units.

    ``shift``: an (n, 5) array added to the traits (e.g. a municipality effect, or a
    planted trend: sid.demo.trend_truth); ``cluster_var``: per trait, the variance of the
    cluster part of ``shift``, taken from the person-level noise (AnswerModel)."""
    o = pd.Categorical(persons["origin"], categories=ORIGINS).codes
    bel = o == 0
    g2 = (persons["generation"].to_numpy() == 2).astype(float)
    dec = (persons["age"].to_numpy() - 45) / 10.0
    bxl = (persons["region"].to_numpy() == 2).astype(float)
    female = (persons["sex"].to_numpy() == 2).astype(float)
    noise = rng.standard_normal((len(persons), len(TRAITS))) @ np.linalg.cholesky(_CORR).T
    out = {}
    for j, t in enumerate(TRAITS):  # loop over 5 traits
        mu, b_g2, b_age, b_bxl, b_f = _MU[t]
        age_eff = np.where(bel, _AGE_BEL[t], b_age) * dec
        # Belgian origin: wider spread of Dutch use (French speakers in Flanders, mixed
        # homes), so the language items keep their reliability despite the ceiling
        spread = np.where(bel, _BEL_LANGUAGE_SD, 1.0) if t == "language" else 1.0
        if cluster_var[j] > 0:  # the cluster effect's variance comes out of the person's
            spread = np.sqrt(spread ** 2 - cluster_var[j])
        out[t] = np.asarray(mu)[o] + b_g2 * g2 + age_eff + b_bxl * bxl + b_f * female + spread * noise[:, j]
        if shift is not None:
            out[t] = out[t] + shift[:, j]
    return pd.DataFrame(out, index=persons.index)


def _background(p: pd.DataFrame, rng: np.random.Generator,
                birth_years: tuple[int, int] = (1937, 2007)) -> dict[str, np.ndarray]:
    n = len(p)
    age = p["age"].to_numpy()
    o = pd.Categorical(p["origin"], categories=ORIGINS).codes
    by = p["birth_year"].to_numpy()
    off = np.where(rng.random(n) < 0.03, rng.choice([-1, 1], n), 0)  # honest slips of one year
    edu_z = rng.standard_normal(n) + np.array([0.3, -0.4, -0.5, 0.1, -0.3, 0.0, -0.8])[o] - 0.02 * np.maximum(age - 45, 0)
    edu = np.where(age < 19, np.minimum(_cut(edu_z, 4), 2), 1 + (edu_z[:, None] > np.array([-1.2, -0.4, 0.5])).sum(axis=1))
    p_partner = np.interp(age, [15, 22, 30, 40, 65, 85], [0.02, 0.2, 0.6, 0.75, 0.72, 0.45])
    p_child = np.interp(age, [15, 20, 25, 35, 45, 55, 65, 85], [0, 0, 0.15, 0.6, 0.7, 0.35, 0.08, 0.02])
    p_child = np.clip(p_child + 0.1 * np.isin(o, [1, 2, 6]), 0, 0.95) * (age >= 20)
    p_work = np.interp(age, [15, 20, 25, 50, 60, 66, 85], [0.2, 0.45, 0.75, 0.78, 0.5, 0.08, 0.02])
    p_work = np.clip(p_work + np.array([0.08, -0.12, -0.1, 0.05, 0.05, -0.08, -0.15])[o], 0, 0.95)
    return {
        "q_sex": p["sex"].to_numpy(),
        "q_birth_year": np.clip(by + off, *birth_years),
        "q_belgian": np.where(p["nat_current"].to_numpy() == "BEL", 1, 2),
        "q_education": edu,
        "q_partner": np.where(rng.random(n) < p_partner, 1, 2),
        "q_children": np.where(rng.random(n) < p_child, 1, 2),
        "q_work12": np.where(rng.random(n) < p_work, 1, 2),
    }


def simulate_answers(persons: pd.DataFrame, rng: np.random.Generator, model: AnswerModel = SID2022,
                     shift: np.ndarray | None = None) -> pd.DataFrame:
    """Questionnaire answers (codes, float) of ``persons`` (register attributes).

    Columns: background items, q_lang_home, q_religion and every item of ``model.items``;
    -1 don't know, -2 no answer, -3 routed out (not applicable). No defects. ``shift``:
    added to the latent traits (:func:`latent_traits`).
    """
    n = len(persons)
    traits = latent_traits(persons, rng, shift, model.cluster_var)
    o = pd.Categorical(persons["origin"], categories=ORIGINS).codes
    out = _background(persons, rng, model.birth_years)
    z_home = None
    for item, (trait, k, loading, shift_, _) in model.items.items():  # loop over ~30 items
        z = loading * traits[trait].to_numpy() + shift_ + rng.standard_normal(n)
        out[item] = _cut(z, k)
        if item == model.home_item:
            z_home = z
    # main home language: Dutch where Dutch is spoken at home "most of the time" or more
    # and the latent is clearly high; else French / origin language / English / other
    other = 2 + _pick(np.array([_HOME_LANG[x] for x in ORIGINS])[o] + np.where(
        (persons["region"].to_numpy() == 2)[:, None] & np.isin(o, [1, 5])[:, None], [0.3, 0, 0, 0], 0), rng)
    out["q_lang_home"] = np.where((z_home > 0.8) & (out[model.home_item] >= 4), 1, other)
    rel = 1 + _pick(np.array([_RELIGION[x] for x in ORIGINS])[o], rng)
    out["q_religion"] = np.where(traits["religiosity"].to_numpy() > -0.3, rel, 0)

    df = pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in out.items()}, index=persons.index)
    rates = {item: spec[4] for item, spec in model.items.items()}
    rates.update({"q_lang_home": 0.003, "q_religion": 0.01, "q_education": 0.005})
    for item, dk in rates.items():  # loop over items
        u = rng.random(n)
        df.loc[u < dk + NO_ANSWER_RATE, item] = NA
        df.loc[u < dk, item] = DK
    _break_straight_lines(df, rng, model)
    for item, (parent, code) in model.routing.items():
        df.loc[df[parent].to_numpy() != code, item] = NOT_APPLICABLE
    return df


def _break_straight_lines(df: pd.DataFrame, rng: np.random.Generator, model: AnswerModel = SID2022,
                          min_items: int = 4) -> None:
    """Move one valid answer by one category where a quality grid is a straight line."""
    for grid, items in model.grids.items():
        top = model.grid_top(grid)
        x = df[items].to_numpy(dtype=float, copy=True)
        valid = x > 0
        ref = np.max(np.where(valid, x, -np.inf), axis=1, initial=-np.inf)
        same = (valid.sum(axis=1) >= min_items) & np.all(~valid | (x == ref[:, None]), axis=1)
        rows = np.flatnonzero(same)
        if rows.size == 0:
            continue
        col = np.argmax(valid[rows], axis=1)  # first valid item of the grid
        v = x[rows, col]
        x[rows, col] = np.where(v >= top, v - 1, np.where(v <= 1, v + 1, v + rng.choice([-1, 1], rows.size)))
        df[items] = x


def check_answered_items(answers: pd.DataFrame, items: list[str], spec_path: object, model: str) -> None:
    """SpecError unless the generator's ``answers`` hold exactly the spec's questionnaire
    ``items`` (``model``: the module that simulates them, named in the message)."""
    unknown, lacking = sorted(set(answers.columns) - set(items)), sorted(set(items) - set(answers.columns))
    if unknown or lacking:
        raise SpecError(f"{spec_path}: the demo generator answers {unknown or 'no extra item'} and lacks "
                        f"{lacking or 'no item'} of the spec's questionnaire items; keep "
                        f"{model} and the spec in step")
