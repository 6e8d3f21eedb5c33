"""``sid check`` of the harmonisation spec against each wave's questionnaire.

For every concept and domain and every wave it maps (sid.spec.harmonisation):

* the variable is one the wave's questionnaire declares (a variable, derived variable or
  index; "did you mean" otherwise);
* a share or shares, and every domain, reads a variable with categories (or recodes one);
  a share's category is a category of the concept in every wave (after the recode);
* each code a recode names is a category of the wave's variable; without the concept's own
  ``categories``, the codes after the recode are the variable's;
* a mean reads a numeric, ordinal or index variable (not text);
* the shares of a concept without a ``break`` have the same categories in every wave;
* a domain's variable is categorical.

Every problem is one :class:`~sid.spec.check.Finding` naming the spec's file, line and key.
"""

from __future__ import annotations

from collections.abc import Mapping

from sid.errors import shown
from sid.spec.check import Finding
from sid.spec.harmonisation import Harmonisation, WaveMap
from sid.spec.questionnaire import Questionnaire
from sid.spec.yamlfile import suggest
from sid.tables.labels import Labels, code_key


def _codes(labels: Labels, name: str) -> set[str]:
    return set(labels.categories.get(name, {}))


def _common_codes(m: WaveMap, var_codes: set[str]) -> set[str]:
    """The codes of the variable after ``m``'s recode."""
    table = {code_key(k): v for k, v in m.recode.items()}
    out = set()
    for c in var_codes:
        if c in table:
            if table[c] is not None:
                out.add(code_key(table[c]))
        else:
            out.add(c)
    return out


def _check_map(m: WaveMap, wave: str, q: Questionnaire, labels: Labels, *, categorical: bool,
               what: str) -> tuple[list[Finding], set[str] | None]:
    """Findings of one wave's entry, and the codes after its recode (None: not known)."""
    names = list(labels.kinds)
    if m.variable not in labels.kinds:
        return [Finding("error", f"{m.where}.variable", f"{shown(m.variable)} is not a variable, derived variable "
                        f"or index of {q.path} (wave {wave}){suggest(m.variable, names)}")], None
    found: list[Finding] = []
    kind = labels.kinds[m.variable]
    codes = _codes(labels, m.variable)
    if categorical and kind != "categorical":
        found.append(Finding("error", f"{m.where}.variable", f"{shown(m.variable)} of wave {wave} is {kind}, "
                             f"not categorical; {what} needs a variable with categories"))
        return found, None
    if not categorical and kind == "categorical" and not codes:
        found.append(Finding("error", f"{m.where}.variable", f"{shown(m.variable)} of wave {wave} has no numeric "
                             "categories to average; use statistic share or shares, or another variable"))
    bad = [k for k in m.recode if code_key(k) not in codes]
    if bad and codes:
        found.append(Finding("error", f"{m.where}.recode", f"code {shown(bad[0])} is not a category of "
                             f"{m.variable} in {q.path} (categories: {', '.join(sorted(codes))})"))
    elif bad:
        found.append(Finding("error", f"{m.where}.recode", f"{m.variable} of wave {wave} has no categories to "
                             "recode; remove the recode"))
    return found, _common_codes(m, codes) if codes else None


def check_harmonisation(h: Harmonisation, questionnaires: Mapping[str, Questionnaire]) -> list[Finding]:
    """The findings of ``h`` against the waves' questionnaires (wave name -> Questionnaire;
    a wave without one is reported once)."""
    found: list[Finding] = []
    labels: dict[str, Labels] = {}
    for w in h.waves:
        if w not in questionnaires:
            found.append(Finding("error", h.path, f"no questionnaire for wave {w}; the project must declare it"))
        else:
            labels[w] = Labels.from_questionnaire(questionnaires[w])
    for d in h.domains.values():
        for w, m in d.waves.items():
            if w in labels:
                found += _check_map(m, w, questionnaires[w], labels[w], categorical=True, what="a domain")[0]
    for c in h.concepts.values():
        own = {code_key(k) for k in c.categories}
        per_wave: dict[str, set[str]] = {}
        for w, m in c.waves.items():
            if w not in labels:
                continue
            f, common = _check_map(m, w, questionnaires[w], labels[w], categorical=c.statistic != "mean",
                                   what=f"statistic {c.statistic}")
            found += f
            if f or common is None or c.statistic == "mean":
                continue
            per_wave[w] = common
            if own and not common <= own:
                extra = sorted(common - own)
                found.append(Finding("error", f"{m.where}", f"{m.variable} of wave {w} has code(s) "
                                     f"{', '.join(extra)} that are not the concept's categories "
                                     f"({', '.join(sorted(own))}); recode them (null: missing)"))
            if c.category is not None and code_key(c.category) not in common:
                found.append(Finding("error", f"{c.where}.category", f"{shown(c.category)} is not a category of "
                                     f"{m.variable} in wave {w} after its recode (codes: {', '.join(sorted(common))})"))
        if c.statistic == "shares" and c.break_note is None and len({frozenset(v) for v in per_wave.values()}) > 1:
            found.append(Finding("error", c.where, "the waves' categories differ ("
                                 + "; ".join(f"{w}: {', '.join(sorted(v))}" for w, v in per_wave.items())
                                 + "); recode them onto common categories, or say what changed with break:"))
    return found


__all__ = ["check_harmonisation"]
