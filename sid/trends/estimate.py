"""One wave's estimates of every harmonised concept, overall and by each domain.

:func:`wave_estimates` asks the wave's Design (sid.estimation: Taylor, calibration-aware,
or replicate, as the wave's table plan says) once per (statistic, domain) for all the
concepts of that statistic: ``Design.mean`` for a mean, ``Design.proportion`` for a share
(the row of its category) or shares (every category). Domains are estimation domains
(R ``svyby``): no row is dropped before the variance is computed. :func:`compositions`
lists, for a pooled domain (``composed_of``), the groups each of its categories holds in
the wave (from the respondents of positive weight: which groups the wave sampled).

Columns of :func:`wave_estimates` (ESTIMATE_COLUMNS): concept, domain ("overall" or the
domain's name), by_value (the domain's common code as text, "all" overall), category
(the common code as text; None for a mean), estimate, se, ci_low, ci_high (the
estimator's interval: t on the design's degrees of freedom; logit for shares, as R's
``svyciprop``), cv, n (unweighted respondents with a value), df, variance_method (taylor
or the replicate type).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.spec.harmonisation import Harmonisation
from sid.tables.labels import code_key
from sid.trends.harmonise import concept_column, domain_column, harmonised_design

OVERALL, ALL = "overall", "all"
ESTIMATE_COLUMNS = ["concept", "domain", "by_value", "category", "estimate", "se", "ci_low", "ci_high",
                    "cv", "n", "df", "variance_method"]


def _asked(h: Harmonisation) -> dict[tuple[str, str], list[str]]:
    """(estimator, domain) -> concepts: one Design call each ("" = overall)."""
    asked: dict[tuple[str, str], list[str]] = {}
    for c in h.concepts.values():
        kind = "mean" if c.statistic == "mean" else "proportion"
        for dom in ("", *h.concept_domains(c)):
            asked.setdefault((kind, dom), []).append(c.name)
    return asked


def _rows(res: pd.DataFrame, names: list[str], dom: str, method: str) -> pd.DataFrame:
    concept_of = {concept_column(n): n for n in names}
    n = len(res)
    out = pd.DataFrame({
        "concept": res["variable"].map(concept_of).to_numpy(dtype=object),
        "domain": dom or OVERALL,
        "by_value": (res[domain_column(dom)].astype(object).to_numpy() if dom else np.full(n, ALL, dtype=object)),
        "category": (np.array([code_key(v) for v in res["category"]], dtype=object) if "category" in res.columns
                     else np.full(n, None, dtype=object)),
    })
    for c in ("estimate", "se", "ci_low", "ci_high", "cv", "df"):
        out[c] = res[c].to_numpy(dtype=float)
    out["n"] = res["n"].to_numpy(dtype=np.int64)
    out["variance_method"] = method
    return out


def wave_estimates(design, harmonisation: Harmonisation, wave: str, *, level: float = 0.95,
                   proportion_ci: str = "logit") -> pd.DataFrame:
    """Every concept of ``harmonisation`` in ``wave`` (its processed ``design``), overall
    and by each of the concept's domains (columns ESTIMATE_COLUMNS). A share keeps the
    row of its category only (an unobserved category has no row)."""
    return estimates_of(harmonised_design(design, harmonisation, wave), harmonisation, level=level,
                        proportion_ci=proportion_ci)


def estimates_of(d, harmonisation: Harmonisation, *, level: float = 0.95, proportion_ci: str = "logit"):
    """:func:`wave_estimates` of a design already harmonised (sid.trends.harmonise)."""
    parts = []
    for (kind, dom), names in _asked(harmonisation).items():
        cols = [concept_column(n) for n in names]
        by = [domain_column(dom)] if dom else None
        if kind == "mean":
            res = d.mean(cols, by=by, level=level)
        else:
            res = d.proportion(cols, by=by, ci=proportion_ci, level=level)
        parts.append(_rows(res, names, dom, d.method))
    out = pd.concat(parts, ignore_index=True)
    share = {c.name: code_key(c.category) for c in harmonisation.concepts.values() if c.statistic == "share"}
    wanted = out["concept"].map(share)
    keep = wanted.isna().to_numpy() | (out["category"] == wanted).to_numpy()
    order = {name: i for i, name in enumerate(harmonisation.concepts)}
    out = out[keep].assign(_o=out["concept"].map(order)).sort_values("_o", kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)[ESTIMATE_COLUMNS]


def compositions(design, harmonisation: Harmonisation, wave: str) -> dict[tuple[str, str], tuple[str, ...]]:
    """For each domain with ``composed_of``: (domain, category) -> the categories of the
    finer domain among the wave's respondents of positive weight in that category."""
    return compositions_of(harmonised_design(design, harmonisation, wave), harmonisation)


def compositions_of(d, harmonisation: Harmonisation) -> dict[tuple[str, str], tuple[str, ...]]:
    """:func:`compositions` of a design already harmonised (sid.trends.harmonise)."""
    rows = d.domain & (d.weights > 0)
    out: dict[tuple[str, str], tuple[str, ...]] = {}
    for dom in harmonisation.domains.values():
        if dom.composed_of is None:
            continue
        pairs = pd.DataFrame({"a": d.data[domain_column(dom.name)].to_numpy(dtype=object)[rows],
                              "b": d.data[domain_column(dom.composed_of)].to_numpy(dtype=object)[rows]})
        pairs = pairs.dropna().drop_duplicates().sort_values(["a", "b"])
        for a, b in pairs.groupby("a", sort=True)["b"]:
            out[(dom.name, str(a))] = tuple(str(x) for x in b)
    return out


__all__ = ["ALL", "ESTIMATE_COLUMNS", "OVERALL", "compositions", "compositions_of", "estimates_of",
           "wave_estimates"]
