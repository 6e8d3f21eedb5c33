"""Labels of a wave for tables: variable labels, category labels, kinds and index themes.

Built from the questionnaire spec (``Labels.from_questionnaire``) or from SPSS metadata
(``Labels.from_meta``). Category codes are compared in one normal form
(:func:`code_key`): a float that is a whole number is written without decimals, so the
code 1 of the spec, 1.0 in a parquet column and "1" in a CSV are the same key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

KINDS = ("index", "categorical", "numeric")


def code_key(value) -> str:
    """A category code in normal form: 1, 1.0 and "1" -> "1"; "BEL" -> "BEL"."""
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        f = float(value)
        return str(int(f)) if f.is_integer() else repr(f)
    return str(value)


@dataclass(frozen=True)
class Labels:
    """``variables`` name -> label; ``categories`` name -> {code_key: label}; ``kinds``
    name -> "index" | "categorical" | "numeric"; ``themes`` index name -> theme."""

    variables: Mapping[str, str] = field(default_factory=dict)
    categories: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    kinds: Mapping[str, str] = field(default_factory=dict)
    themes: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_questionnaire(cls, q, mode_label: str | None = None) -> Labels:
        """Labels of every variable, derived variable, index and the mode variable of ``q``;
        ``mode_label``: the mode variable's label when the spec gives none (default the
        spec's own default, :data:`sid.spec.questionnaire.MODE_LABEL`)."""
        from sid.spec.questionnaire import MODE_LABEL

        variables, categories, kinds, themes = {}, {}, {}, {}
        for v in (*q.variables, *q.derived):
            variables[v.name] = v.label
            if v.categories:
                categories[v.name] = {code_key(k): str(lab) for k, lab in v.categories.items()}
            kinds[v.name] = "categorical" if v.type in ("categorical", "ordinal", "text") or v.categories else "numeric"
        for ix in q.indices:
            variables[ix.name] = ix.label
            kinds[ix.name] = "index"
            themes[ix.name] = ix.theme
        if q.mode_variable:
            variables.setdefault(q.mode_variable, mode_label or MODE_LABEL)
            categories[q.mode_variable] = {code_key(k): str(lab) for k, lab in q.modes.items()}
            kinds[q.mode_variable] = "categorical"
        return cls(variables, categories, kinds, themes)

    @classmethod
    def from_meta(cls, meta, df: pd.DataFrame | None = None) -> Labels:
        """Labels from SPSS metadata (e.g. the clean wave's): a variable is categorical when
        it is text, or not of measure "scale" and has value labels other than those of its
        missing codes; columns of ``df`` without metadata are numeric or categorical by dtype."""
        variables, categories, kinds = {}, {}, {}
        for name, v in meta.variables.items():
            variables[name] = v.label or name
            codes = list(v.value_labels)
            missing = v.is_missing_code(pd.Series(codes)) if codes else np.zeros(0, bool)
            cats = {code_key(k): str(lab) for k, lab, m in zip(codes, v.value_labels.values(), missing, strict=True)
                    if not m}
            if cats:
                categories[name] = cats
            text = v.type == "string"
            kinds[name] = "categorical" if text or (cats and v.measure != "scale") else "numeric"
        for name in [] if df is None else df.columns:
            if name not in kinds:
                numeric = pd.api.types.is_numeric_dtype(df[name]) and not pd.api.types.is_bool_dtype(df[name])
                kinds[name] = "numeric" if numeric else "categorical"
        return cls(variables, categories, kinds, {})

    def label(self, name: str) -> str:
        """The variable's label (its name when it has none)."""
        return self.variables.get(name) or name

    def kind(self, name: str) -> str:
        """"index", "categorical" or "numeric"."""
        return self.kinds.get(name, "numeric")

    def value_labels(self, name: str, codes: pd.Series) -> pd.Series:
        """Labels of the codes (in normal form) of ``name``; the code where none is declared."""
        cats = self.categories.get(name, {})
        return codes.map(lambda c: cats.get(c, c))
