"""Labels and units of a trend table, from the harmonisation spec and the waves' questionnaires.

A concept's categories are labelled by the spec (``categories:``) or else by the waves'
questionnaires (the latest wave's label of a code first; a code only an earlier wave has
keeps that wave's label). Domains likewise. A concept's unit (sid.tables.precision) is
``share_0_1`` for a share, ``index_points_0_100`` for the mean of an index (in every
wave's questionnaire), ``variable_units`` for any other mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sid.spec.harmonisation import Harmonisation
from sid.tables.labels import Labels, code_key
from sid.tables.precision import INDEX, SHARE, VARIABLE


@dataclass(frozen=True)
class TrendLabels:
    """``concepts``: concept -> {code (normal form): label}; ``domains``: domain ->
    {code: label}; ``units``: concept -> unit."""

    concepts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    domains: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)


def default_unit(statistic: str) -> str:
    """The unit of a statistic when nothing more is known: share, else the variable's."""
    return VARIABLE if statistic == "mean" else SHARE


def _merged(h: Harmonisation, maps, labels: Mapping[str, Labels]) -> dict[str, str]:
    out: dict[str, str] = {}
    for wave in h.waves:  # later waves' labels replace earlier ones
        m = maps[wave]
        if m.recode or wave not in labels:
            continue
        out.update(labels[wave].categories.get(m.variable, {}))
    return out


def trend_labels(h: Harmonisation, questionnaires: Mapping[str, object]) -> TrendLabels:
    """The labels and units of ``h``'s concepts and domains, from the waves' questionnaires
    (wave name -> sid.spec.questionnaire.Questionnaire)."""
    labels = {w: Labels.from_questionnaire(q) for w, q in questionnaires.items()}
    concepts, units = {}, {}
    for c in h.concepts.values():
        own = {code_key(k): v for k, v in c.categories.items()}
        concepts[c.name] = own or _merged(h, c.waves, labels)
        index = all(w in labels and labels[w].kinds.get(m.variable) == "index" for w, m in c.waves.items())
        units[c.name] = INDEX if (c.statistic == "mean" and index) else default_unit(c.statistic)
    domains = {}
    for d in h.domains.values():
        own = {code_key(k): v for k, v in d.categories.items()}
        domains[d.name] = own or _merged(h, d.waves, labels)
    return TrendLabels(concepts=concepts, domains=domains, units=units)


__all__ = ["TrendLabels", "default_unit", "trend_labels"]
