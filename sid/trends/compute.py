"""The trend table: each concept's estimate per wave and its change between waves.

For two waves a (earlier) and b (later), per concept, domain category and category:

    difference = estimate_b - estimate_a
    se_difference = sqrt(se_a^2 + se_b^2)

The waves are independent samples (each drawn anew from the register), so the covariance
of their estimates is zero; each SE comes from its own wave's design (Taylor on the
clustered 2017 design, the weighting's replicates in 2022, as each wave's table plan
says). CI and two-sided p use the normal reference distribution (z), as R's
``confint()`` of a ``svycontrast`` (``df = Inf``) does: the two waves have no common
design degrees of freedom. Per-wave CIs are the estimators' own (t on the wave's design
df; logit for shares).

Rows are never dropped: a domain category or a category found in one wave only gets a row
with the other wave's values empty and status ``not_in_<wave>`` (SID: Afghan origin is
``not_in_sid2017``). Status tokens (joined by ";"; "ok" when none): ``low_n``, ``high_cv``
(sid.tables.disclosure, with each wave's own ``min_n`` and ``max_cv``), ``not_in_<wave>``,
``break`` (the concept's wording, scale or items changed: the harmonisation's ``break``),
``composition_changed`` (a pooled category holds other groups in the two waves: its
``composition_1`` and ``composition_2`` list them). A wave's values are suppressed in
published output when its n is under its ``min_n``; the difference when either wave's is,
or a wave has no row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sid.errors import EstimationError
from sid.spec.harmonisation import Harmonisation
from sid.tables.disclosure import OK, flag_cells
from sid.trends.estimate import ALL, OVERALL, compositions_of, estimates_of
from sid.trends.harmonise import harmonised_design
from sid.trends.labels import TrendLabels, default_unit

KEY = ["concept", "domain", "by_value", "category"]
WAVE_FIELDS = ["wave", "period", "estimate", "se", "ci_low", "ci_high", "cv", "n", "variance_method",
               "status", "suppressed", "composition"]
REFERENCE = "normal"  # the reference distribution of the difference's CI and p (df = Inf)
COLUMNS = (["concept", "concept_label", "statistic", "unit", "domain", "domain_label", "by_value", "by_label",
            "category", "category_label"]
           + [f"{f}_1" for f in WAVE_FIELDS] + [f"{f}_2" for f in WAVE_FIELDS]
           + ["difference", "se_difference", "ci_low", "ci_high", "z", "p_value", "level", "reference",
              "break", "break_note", "composition_changed", "status", "suppressed"])
NO_CATEGORY = ""


@dataclass(frozen=True)
class WaveInput:
    """One wave of a trend: its ``name`` (as the harmonisation spec names it), its
    processed ``design`` (sid.open_wave(...).design, with the variance the wave's table plan
    says), the disclosure rules of its table plan (``min_n``, ``max_cv``), its ``period``
    (e.g. the reference year; default the name) and the CI method of its shares."""

    name: str
    design: object
    min_n: int = 30
    max_cv: float = 0.3
    period: str | None = None
    proportion_ci: str = "logit"


def difference(est_1, se_1, est_2, se_2, level: float = 0.95) -> dict[str, np.ndarray]:
    """Change from wave 1 to wave 2 of independent samples: ``difference`` = est_2 - est_1,
    ``se`` = sqrt(se_1^2 + se_2^2), normal ``ci_low``/``ci_high`` at ``level``, ``z`` and the
    two-sided ``p``."""
    e1, s1, e2, s2 = (np.asarray(x, dtype=float) for x in (est_1, se_1, est_2, se_2))
    d = e2 - e1
    se = np.sqrt(s1 ** 2 + s2 ** 2)
    q = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = d / se
    p = 2 * stats.norm.sf(np.abs(z))
    return {"difference": d, "se": se, "ci_low": d - q * se, "ci_high": d + q * se, "z": z, "p": p}


def pairs(names: Sequence[str]) -> list[tuple[int, int]]:
    """The comparisons of waves in time order: each wave with the next, and with more than
    two waves the first with the last."""
    out = [(i, i + 1) for i in range(len(names) - 1)]
    return out + ([(0, len(names) - 1)] if len(names) > 2 else [])


def _wave_side(est: pd.DataFrame, w: WaveInput) -> pd.DataFrame:
    """The wave's estimates with its disclosure status (compositions: compare_pair)."""
    flagged = flag_cells(est, w.min_n, w.max_cv)
    flagged["wave"] = w.name
    flagged["period"] = w.period or w.name
    flagged["composition"] = None
    flagged["category"] = flagged["category"].where(flagged["category"].notna(), NO_CATEGORY)
    return flagged[KEY + WAVE_FIELDS]


_TOKEN_ORDER = {"low_n": 0, "high_cv": 1, "break": 3, "composition_changed": 4}  # not_in_<wave>: 2


def _tokens(parts: list[np.ndarray]) -> np.ndarray:
    """Join per-row token arrays (None or "" = no token) with ";" in one fixed order (low_n,
    high_cv, not_in_<wave>, break, composition_changed), "ok" when none."""
    n = len(parts[0]) if parts else 0
    out = np.empty(n, dtype=object)
    for i in range(n):  # over result rows (cells), not respondents
        seen = {t for p in parts for t in str(p[i] or "").split(";") if t and t != OK}
        out[i] = ";".join(sorted(seen, key=lambda t: (_TOKEN_ORDER.get(t, 2), t))) or OK
    return out


def compare_pair(a: pd.DataFrame, b: pd.DataFrame, harmonisation: Harmonisation, names: tuple[str, str],
                 level: float = 0.95, held: tuple[dict, dict] = ({}, {})) -> pd.DataFrame:
    """The rows of one comparison from the two waves' sides (:func:`_wave_side`): outer
    joined on concept, domain, domain category and category, so that a row of one wave only
    is kept and marked. ``held``: each wave's (domain, category) -> groups (a row
    absent in a wave still says what its domain category holds there)."""
    m = a.merge(b, on=KEY, how="outer", suffixes=("_1", "_2"), indicator=True)
    keys = list(zip(m["domain"], m["by_value"], strict=True))
    for j, name, side in ((1, names[0], a), (2, names[1], b)):
        absent = (m["_merge"] == ("right_only" if j == 1 else "left_only")).to_numpy()
        m.loc[absent, f"wave_{j}"] = name
        m.loc[absent, f"period_{j}"] = side["period"].iloc[0] if len(side) else name
        comp = held[j - 1]
        m[f"composition_{j}"] = [", ".join(comp[k]) if k in comp else None for k in keys]
        m.loc[absent, f"status_{j}"] = f"not_in_{name}"
        m[f"suppressed_{j}"] = m[f"suppressed_{j}"].astype(object).where(~absent, True).astype(bool)
        m[f"n_{j}"] = m[f"n_{j}"].astype("Int64")
    both = (m["_merge"] == "both").to_numpy()
    d = difference(m["estimate_1"], m["se_1"], m["estimate_2"], m["se_2"], level)
    for col, key in (("difference", "difference"), ("se_difference", "se"), ("ci_low", "ci_low"),
                     ("ci_high", "ci_high"), ("z", "z"), ("p_value", "p")):
        m[col] = np.where(both, d[key], np.nan)
    m["level"] = level
    m["reference"] = REFERENCE
    notes = {c.name: c.break_note for c in harmonisation.concepts.values()}
    m["break_note"] = m["concept"].map(notes)
    m["break"] = m["break_note"].notna()
    c1, c2 = m["composition_1"], m["composition_2"]
    m["composition_changed"] = (c1.notna().to_numpy() & c2.notna().to_numpy()
                                & (c1.fillna("") != c2.fillna("")).to_numpy())
    m["suppressed"] = m["suppressed_1"].to_numpy(dtype=bool) | m["suppressed_2"].to_numpy(dtype=bool) | ~both
    m["status"] = _tokens([m["status_1"].to_numpy(dtype=object), m["status_2"].to_numpy(dtype=object),
                           np.where(m["break"], "break", None),
                           np.where(m["composition_changed"], "composition_changed", None)])
    return m.drop(columns="_merge")


def _labelled(m: pd.DataFrame, h: Harmonisation, labels: TrendLabels) -> pd.DataFrame:
    concepts = h.concepts
    m["concept_label"] = m["concept"].map({n: c.label for n, c in concepts.items()})
    m["statistic"] = m["concept"].map({n: c.statistic for n, c in concepts.items()})
    m["unit"] = [labels.units.get(c, default_unit(s)) for c, s in zip(m["concept"], m["statistic"], strict=True)]
    dom_labels = {n: d.label for n, d in h.domains.items()}
    m["domain_label"] = m["domain"].map(lambda x: dom_labels.get(x, "Totaal"))
    m["by_label"] = [("Totaal" if dom == OVERALL else labels.domains.get(dom, {}).get(v, v))
                     for dom, v in zip(m["domain"], m["by_value"], strict=True)]
    cat = m["category"].where(m["category"] != NO_CATEGORY, None)
    m["category"] = cat
    m["category_label"] = [None if k is None else labels.concepts.get(c, {}).get(k, k)
                           for c, k in zip(m["concept"], cat, strict=True)]
    return m


def _order(m: pd.DataFrame, h: Harmonisation) -> pd.DataFrame:
    concept = m["concept"].map({n: i for i, n in enumerate(h.concepts)})
    domain = m["domain"].map({n: i + 1 for i, n in enumerate(h.domains)}).fillna(0)
    return m.assign(_c=concept, _d=domain).sort_values(["_c", "_d", "by_value", "category"], kind="stable",
                                                       na_position="first").drop(columns=["_c", "_d"])


def trend_table(waves: Sequence[WaveInput], harmonisation: Harmonisation, *, level: float = 0.95,
                labels: TrendLabels | None = None) -> pd.DataFrame:
    """The internal (unsuppressed) trend table of ``waves`` (two or more, in time order):
    one row per comparison (:func:`pairs`) x concept x domain category x category, columns
    COLUMNS (see the module docstring). ``labels``: category labels and units
    (sid.trends.labels.trend_labels; default: codes as labels, units from the statistic)."""
    names = [w.name for w in waves]
    if len(waves) < 2:
        raise EstimationError(f"a trend needs two or more waves, got {', '.join(names) or 'none'}")
    if len(set(names)) != len(names):
        raise EstimationError(f"a trend compares different waves; got {', '.join(names)}")
    for n in names:
        if n not in harmonisation.waves:
            raise EstimationError(f"{harmonisation.path}: wave {n!r} is not one of the spec's waves "
                                  f"({', '.join(harmonisation.waves)})")
    order = [harmonisation.waves.index(n) for n in names]
    if order != sorted(order):
        raise EstimationError(f"waves {', '.join(names)} are not in the time order of {harmonisation.path} "
                              f"({', '.join(harmonisation.waves)}); give them earliest first")
    sides, comps = [], []
    for w in waves:
        hd = harmonised_design(w.design, harmonisation, w.name)
        sides.append(_wave_side(estimates_of(hd, harmonisation, level=level, proportion_ci=w.proportion_ci), w))
        comps.append(compositions_of(hd, harmonisation))
    parts = [_order(compare_pair(sides[i], sides[j], harmonisation, (names[i], names[j]), level,
                                 (comps[i], comps[j])), harmonisation)
             for i, j in pairs(names)]
    out = _labelled(pd.concat(parts, ignore_index=True), harmonisation, labels or TrendLabels())
    return out[COLUMNS].reset_index(drop=True)


PUBLISHED_WAVE = ("estimate", "se", "ci_low", "ci_high", "cv")
PUBLISHED_DIFFERENCE = ("difference", "se_difference", "ci_low", "ci_high", "z", "p_value")


def publish(table: pd.DataFrame) -> pd.DataFrame:
    """The published form: a wave's values blank where that wave is suppressed (n under its
    min_n), the difference blank where the row is; status kept."""
    out = table.copy()
    for j in (1, 2):
        mask = out[f"suppressed_{j}"].to_numpy(dtype=bool)
        for c in PUBLISHED_WAVE:
            out[f"{c}_{j}"] = out[f"{c}_{j}"].mask(mask)
    mask = out["suppressed"].to_numpy(dtype=bool)
    for c in PUBLISHED_DIFFERENCE:
        out[c] = out[c].mask(mask)
    return out


__all__ = ["ALL", "COLUMNS", "OVERALL", "REFERENCE", "WaveInput", "compare_pair", "difference", "pairs",
           "publish", "trend_table"]
