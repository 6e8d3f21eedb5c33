"""Population truth of the headline quantities of the synthetic wave.

The truth is the register-weighted expectation of what a complete, error-free survey of
the whole population would estimate: a large pseudo-population sample is simulated with
the very generator of the answers (sid.demo.answers), stratified by register cell with
``m_c`` persons in cell ``c`` and weight ``N_c / m_c``, and scored with sid's own index
scoring (sid.scales.scoring.score_index / rescale, as the spec's ``indices`` say).
Monte Carlo error with the default 40,000 persons per origin group: about 0.1 point on a
0-100 index, 0.25 percentage point on a share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from sid.demo.answers import simulate_answers
from sid.demo.population import ORIGINS
from sid.demo.sample import persons_from_cells
from sid.errors import SpecError
from sid.scales.scoring import rescale, score_index, score_range
from sid.spec.questionnaire import Questionnaire

ALL = "ALL"


def index_scores(answers: pd.DataFrame, spec: Questionnaire) -> pd.DataFrame:
    """Every index of ``spec`` scored on its reporting scale (pomp/raw), one column each.

    The spec's missing codes (and system missing) count as missing answers. Item ranges
    come from the items' categories in the spec.
    """
    missing = [float(c) for c in spec.missing_codes]
    out = {}
    for ix in spec.indices:  # loop over the 5 indices
        items = list(ix.items)
        cats = {i: [float(c) for c in spec.variable(i).categories] for i in items}
        ranges = {i: (min(c), max(c)) for i, c in cats.items()}
        x = answers[items].where(~answers[items].isin(missing))
        score, _ = score_index(x, reverse=list(ix.reverse), item_ranges=ranges,
                               min_valid=int(ix.min_valid), rule=ix.scoring)
        if ix.scale not in ("raw", "pomp"):
            raise SpecError(f"index {ix.name}: the demo's truth supports raw and pomp scales, not {ix.scale!r}")
        rng = score_range(ix.scoring, ranges, items) if ix.scale == "pomp" else None
        out[ix.name] = rescale(score, ix.scale, rng)
    return pd.DataFrame(out, index=answers.index)


def headline(answers: pd.DataFrame, spec: Questionnaire, home_language: str = "q_lang_home") -> pd.DataFrame:
    """Index scores plus the binary headline indicator dutch_home (1/0, NaN if unknown):
    ``home_language`` == 1 (Dutch) among its answers that are not missing codes."""
    out = index_scores(answers, spec)
    lang = answers[home_language]
    known = lang.notna() & ~lang.isin([float(c) for c in spec.missing_codes])
    out["dutch_home"] = np.where(known, (lang == 1).astype(float), np.nan)
    return out


Expand = Callable[[pd.DataFrame, np.ndarray, np.random.Generator], pd.DataFrame]
Simulate = Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]


def simulate_truth(pop: pd.DataFrame, rng: np.random.Generator, per_group: int = 40_000, *,
                   expand: Expand = persons_from_cells,
                   simulate: Simulate = simulate_answers) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """The truth's pseudo-population: (persons, weight, answers).

    ``m_c`` persons per register cell (``per_group`` per origin group, in proportion to
    the cells, at least 20), weight ``N_c / m_c``; answers as ``simulate`` gives them (the
    wave's names and codes). :func:`population_truth` and sid.demo.trend_truth aggregate them.
    """
    counts = pop["count"].to_numpy(dtype=float)
    N_o = pop.groupby("origin")["count"].transform("sum").to_numpy(dtype=float)
    m = np.maximum(np.rint(per_group * counts / N_o), 20).astype(np.int64)
    persons = expand(pop, m, rng)
    weight = np.repeat(counts / m, m)
    return persons, weight, simulate(persons, rng)


def truth_table(persons: pd.DataFrame, weight: np.ndarray, h: pd.DataFrame,
                origins: Sequence[str] = ORIGINS) -> pd.DataFrame:
    """Weighted means of the :func:`headline` columns ``h`` per origin group and ALL:
    columns origin, quantity, value (persons with a missing value left out)."""
    rows = []
    groups = [(o, persons["origin"].to_numpy() == o) for o in origins] + [(ALL, np.ones(len(persons), bool))]
    for o, sel in groups:  # loop over 8 groups
        for q in h.columns:
            v = h[q].to_numpy()[sel]
            w = weight[sel]
            ok = ~np.isnan(v)
            rows.append((o, q, float(np.sum(w[ok] * v[ok]) / np.sum(w[ok]))))
    return pd.DataFrame(rows, columns=["origin", "quantity", "value"])


def population_truth(pop: pd.DataFrame, spec: Questionnaire, rng: np.random.Generator,
                     per_group: int = 40_000, *, expand: Expand = persons_from_cells,
                     simulate: Simulate = simulate_answers, origins: Sequence[str] = ORIGINS,
                     home_language: str = "q_lang_home") -> pd.DataFrame:
    """Truth per origin group and overall: columns origin, quantity, value.

    Index means are on their reporting scale (0-100 for pomp); dutch_home is a share
    (0-1) among those with a known main home language. A wave of another shape passes
    its own ``expand`` (cells -> persons), ``simulate`` (persons -> answers in the spec's
    names and codes), ``origins`` and ``home_language`` item (defaults: SID 2022's).
    """
    persons, weight, answers = simulate_truth(pop, rng, per_group, expand=expand, simulate=simulate)
    return truth_table(persons, weight, headline(answers, spec, home_language), origins)
