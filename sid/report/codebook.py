"""The codebook of the analysts' file (``report/codebook_<wave>.html`` and ``.xlsx``).

Generated from the questionnaire spec: every variable, derived variable and index of the
spec that the analysts' file holds (sid.report.spss_file.wave_frame), in spec order, with
its label, source, type and measure, and its frequencies over the file's rows (the
weighted respondents), unweighted and weighted with the final weight:

* a variable with categories: one row per category (its code and label; a declared
  category nobody chose has 0), one per code found that the spec does not declare
  ("niet gedeclareerd"), one per declared missing code (its label), and one for the
  system-missing (empty) values. ``pct`` and ``pct_w`` are shares of all rows;
  ``pct_valid`` and ``pct_valid_w`` of the valid answers (categories only);
* any other variable (numbers, indices, text, dates): one row "geldig" with the count of
  valid values and, for numbers not nominal, the unweighted and weighted mean, minimum
  and maximum;
  then its missing codes and system-missing values as above.

Counting is grouped (pandas value_counts/groupby over the distinct values), never a loop
over respondents. The words of the columns row, source, type and measure are the message
catalogue's (``analyst.codebook.*``) in the run's language (default Dutch, as above).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sid.io.spss_meta import SpssMeta, VariableMeta
from sid.messages import Catalogue, catalogue
from sid.spec.questionnaire import Questionnaire
from sid.tables.labels import code_key

COLUMNS = ["variable", "label", "source", "type", "measure", "row", "code", "value_label",
           "n", "pct", "pct_valid", "n_w", "pct_w", "pct_valid_w", "mean", "mean_w", "min", "max"]
ROW_KINDS = ("category", "undeclared", "missing", "sysmis", "valid")  # analyst.codebook.rows.<kind>


def _word(cat: Catalogue, group: str, code: str) -> str:
    """The catalogue's word for a source, type or measure code (the code when it has none)."""
    return cat.get(f"analyst.codebook.{group}.{code}", code) or code


def spec_entries(q: Questionnaire, columns: Any) -> list[dict[str, Any]]:
    """The spec's variables, derived variables and indices in the file, in spec order:
    name, label, source, type, measure and categories (code text -> label)."""
    have = set(columns)
    out = []
    for v in q.variables:
        out.append({"name": v.name, "label": v.label, "source": v.source, "type": v.type, "measure": v.measure,
                    "categories": {code_key(c): str(t) for c, t in v.categories.items()}})
    for d in q.derived:
        out.append({"name": d.name, "label": d.label, "source": "derived", "type": d.type, "measure": d.measure,
                    "categories": {code_key(c): str(t) for c, t in d.categories.items()}})
    for ix in q.indices:
        out.append({"name": ix.name, "label": ix.label, "source": "index", "type": "numeric", "measure": "scale",
                    "categories": {}})
    return [e for e in out if e["name"] in have]


def _row(cat: Catalogue, entry: dict[str, Any], kind: str, code: Any = None, label: str = "",
         **values: Any) -> dict[str, Any]:
    return {"variable": entry["name"], "label": entry["label"],
            "source": _word(cat, "sources", entry["source"]), "type": _word(cat, "types", entry["type"]),
            "measure": _word(cat, "measures", entry["measure"]), "row": cat(f"analyst.codebook.rows.{kind}"),
            "code": code, "value_label": label, **values}


def _counts(values: pd.Series, w: np.ndarray) -> pd.DataFrame:
    """n and weighted n per distinct value (NaN/None as one group ``<NA>``)."""
    frame = pd.DataFrame({"v": values.to_numpy(dtype=object), "w": w})
    g = frame.groupby("v", dropna=False, sort=False)["w"]
    out = pd.DataFrame({"n": g.size(), "n_w": g.sum()})
    return out


def _variable_rows(entry: dict[str, Any], s: pd.Series, var: VariableMeta | None, w: np.ndarray,
                   total: int, total_w: float, cat: Catalogue) -> list[dict[str, Any]]:
    numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
    if numeric:
        x = s.to_numpy(dtype=float, na_value=np.nan)
        sysmis = np.isnan(x)
    else:
        x = None
        sysmis = s.isna().to_numpy(dtype=bool).copy()
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            sysmis |= s.astype(str).to_numpy() == ""  # an empty text is SPSS's missing text
    miss = var.is_missing_code(s) if var is not None and numeric else np.zeros(len(s), dtype=bool)
    valid = ~sysmis & ~miss
    labels = dict(var.value_labels) if var is not None else {}
    rows: list[dict[str, Any]] = []
    share = (lambda n, d: float(n) / d if d else np.nan)  # noqa: E731
    cats = entry["categories"]
    if cats:
        vals = s[valid]
        c = _counts(vals if not numeric else pd.Series(x[valid]), w[valid])
        by_key = {code_key(k): (int(r.n), float(r.n_w)) for k, r in c.iterrows()}
        n_valid, w_valid = int(valid.sum()), float(w[valid].sum())
        for key, text in cats.items():
            n, nw = by_key.pop(key, (0, 0.0))
            rows.append(_row(cat, entry, "category", key, text, n=n, pct=share(n, total), pct_valid=share(n, n_valid),
                             n_w=nw, pct_w=share(nw, total_w), pct_valid_w=share(nw, w_valid)))
        for key, (n, nw) in sorted(by_key.items()):
            rows.append(_row(cat, entry, "undeclared", key, "", n=n, pct=share(n, total), pct_valid=share(n, n_valid),
                             n_w=nw, pct_w=share(nw, total_w), pct_valid_w=share(nw, w_valid)))
    else:
        n = int(valid.sum())
        stats: dict[str, Any] = {}
        if numeric and n and entry["measure"] != "nominal":  # no mean of a code (a municipality's number)
            xv, wv = x[valid], w[valid]
            stats = {"mean": float(xv.mean()), "mean_w": float(np.sum(xv * wv) / wv.sum()) if wv.sum() else np.nan,
                     "min": float(xv.min()), "max": float(xv.max())}
        rows.append(_row(cat, entry, "valid", None, "", n=n, pct=share(n, total), n_w=float(w[valid].sum()),
                         pct_w=share(float(w[valid].sum()), total_w), **stats))
    if miss.any() or (var is not None and var.missing_values):
        c = _counts(pd.Series(x[miss]), w[miss]) if miss.any() else pd.DataFrame(columns=["n", "n_w"])
        found = {code_key(k): (int(r.n), float(r.n_w)) for k, r in c.iterrows()}
        declared = [code_key(v) for v in (var.missing_values if var is not None else [])]
        for key in list(dict.fromkeys(declared + sorted(found))):
            n, nw = found.get(key, (0, 0.0))
            text = next((t for k, t in labels.items() if code_key(k) == key), "")
            rows.append(_row(cat, entry, "missing", key, text, n=n, pct=share(n, total), n_w=nw, pct_w=share(nw, total_w)))
    n_sys = int(sysmis.sum())
    rows.append(_row(cat, entry, "sysmis", None, "", n=n_sys, pct=share(n_sys, total), n_w=float(w[sysmis].sum()),
                     pct_w=share(float(w[sysmis].sum()), total_w)))
    return rows


def codebook_frame(frame: pd.DataFrame, meta: SpssMeta, q: Questionnaire, weight: str,
                   cat: Catalogue | None = None) -> pd.DataFrame:
    """One row per variable and category (see the module doc), columns :data:`COLUMNS`;
    ``cat``: the catalogue of the words (default Dutch)."""
    cat = cat or catalogue()
    w = pd.to_numeric(frame[weight], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    total, total_w = len(frame), float(np.nansum(w))
    rows: list[dict[str, Any]] = []
    for entry in spec_entries(q, frame.columns):
        rows += _variable_rows(entry, frame[entry["name"]], meta.variables.get(entry["name"]), w, total, total_w,
                               cat)
    return pd.DataFrame(rows, columns=COLUMNS)


def codebook_context(book: pd.DataFrame, cat: Catalogue | None = None) -> list[dict[str, Any]]:
    """The codebook grouped per variable, as the HTML template shows it (``cat``: the
    catalogue ``book`` was made with)."""
    category = (cat or catalogue())("analyst.codebook.rows.category")
    out = []
    for name, rows in book.groupby("variable", sort=False):
        first = rows.iloc[0]
        records = [{k: (None if isinstance(v, float) and np.isnan(v) and k in ("code", "value_label") else v)
                    for k, v in r.items()} for r in rows.to_dict("records")]
        out.append({"name": name, "label": first["label"], "source": first["source"], "type": first["type"],
                    "measure": first["measure"], "rows": records,
                    "categorical": bool((rows["row"] == category).any())})
    return out
