"""The trend page (``OUT/trend/trend.html``): the published trend as a Dutch report page.

Per headline concept of the harmonisation spec (``headline: true``) a chart of the
estimate per wave with its 95% CI, overall and per domain category
(sid.report.trend_chart, axis 0-100), and a table of differences: each wave's estimate,
the difference, its SE, CI and p, each wave's variance method and the row's status in
words (a break with its note, a group in one wave only "niet in 2017", a pooled category's
groups in each wave, suppressed cells). The other concepts: one compact table of their
overall differences. The figures are the published table's (trend.csv: rounded,
suppressed), so the page shows exactly what the CSV holds; every text is the message
catalogue's (sid.messages, section ``trend``), every code is shown by its label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sid.messages import catalogue
from sid.report.render import environment, fmt_num, fmt_p, render
from sid.report.trend_chart import Row, trend_chart
from sid.spec.harmonisation import Harmonisation
from sid.tables.precision import INDEX, SHARE

TEMPLATE = "trend.html.j2"
_KEY = ["concept", "domain", "by_value", "category"]


def _cell(x: Any, unit: str) -> str:
    """A value of the table as trend.csv holds it: shares in % (2 decimals = the CSV's 4)."""
    if unit == SHARE:
        return fmt_num(np.nan if x is None else 100.0 * float(x), 2)
    return fmt_num(x, 2)


def _method(m: str, cat) -> str:
    if m == "taylor":
        return cat("trend.taylor")
    return cat("trend.replicate", kind=cat.get(f"trend.replicate_kind.{m}", m))


class _Page:
    def __init__(self, table: pd.DataFrame, h: Harmonisation, lang: str) -> None:
        self.t, self.h, self.cat = table, h, catalogue(lang)
        self.periods = {}
        for j in (1, 2):
            self.periods.update(dict(zip(table[f"wave_{j}"], table[f"period_{j}"].astype(str), strict=True)))
        self.waves = [w for w in h.waves if w in self.periods]
        groups = table[table.domain.isin([d.composed_of for d in h.domains.values() if d.composed_of])]
        self.group_labels = {(d, str(v)): str(lab) for d, v, lab in
                             zip(groups.domain, groups.by_value, groups.by_label, strict=True)}

    def method_of(self, wave: str) -> str:
        """The variance method of ``wave``'s SEs, in words."""
        for j in (1, 2):
            m = self.t.loc[self.t[f"wave_{j}"] == wave, f"variance_method_{j}"].dropna().astype(str)
            m = m[~m.isin(["", "nan"])]
            if len(m):
                return _method(m.iloc[0], self.cat)
        return "–"

    def period(self, wave: str) -> str:
        return self.periods.get(wave, wave)

    def _groups(self, domain: str, codes: Any) -> str:
        fine = self.h.domains[domain].composed_of if domain in self.h.domains else None
        if not isinstance(codes, str) or not codes.strip():
            return "–"
        return ", ".join(self.group_labels.get((fine, c.strip()), c.strip()) for c in codes.split(","))

    def status(self, r: pd.Series) -> list[str]:
        """The row's status tokens (trend.csv's ``status``) in words."""
        out = []
        for tok in str(r.status).split(";"):
            tok = tok.strip()
            if tok in ("low_n", "high_cv"):
                for j in (1, 2):
                    if tok in str(r[f"status_{j}"]):
                        out.append(self.cat(f"trend.{tok}", period=r[f"period_{j}"]))
            elif tok.startswith("not_in_"):
                out.append(self.cat("trend.not_in", period=self.period(tok[len("not_in_"):])))
            elif tok == "break":
                out.append(self.cat("trend.break_short"))
            elif tok == "composition_changed":
                per = "; ".join(self.cat("trend.composition_wave", period=r[f"period_{j}"],
                                         groups=self._groups(r.domain, r[f"composition_{j}"])) for j in (1, 2))
                out.append(self.cat("trend.composition", periods=per))
        return out

    def wave_cell(self, r: pd.Series, j: int) -> dict[str, str]:
        unit = r.unit
        if pd.isna(r[f"estimate_{j}"]):
            st = str(r[f"status_{j}"])
            text = (self.cat("trend.not_in", period=r[f"period_{j}"]) if st.startswith("not_in_")
                    else self.cat("trend.suppressed"))
            return {"value": text, "ci": "", "gap": "1"}
        ci = f"[{_cell(r[f'ci_low_{j}'], unit)}; {_cell(r[f'ci_high_{j}'], unit)}]"
        return {"value": _cell(r[f"estimate_{j}"], unit), "ci": ci, "gap": ""}

    def table_row(self, r: pd.Series) -> dict[str, Any]:
        unit = r.unit
        has = not pd.isna(r.difference)
        return {
            "domain": r.domain_label, "domain_code": r.domain,
            "group": self.cat("trend.all") if r.domain == "overall" else r.by_label,
            "category": "" if r.category is None or pd.isna(r.category) else r.category_label,
            "waves": [self.wave_cell(r, 1), self.wave_cell(r, 2)],
            "difference": _cell(r.difference, unit) if has else self.cat("trend.suppressed") if r.suppressed
            and not any(str(r[f"status_{j}"]).startswith("not_in_") for j in (1, 2)) else "–",
            "se": _cell(r.se_difference, unit) if has else "",
            "ci": f"[{_cell(r.ci_low, unit)}; {_cell(r.ci_high, unit)}]" if has else "",
            "p": fmt_p(r.p_value) if has else "",
            "status": self.status(r), "total": r.domain == "overall", "gap": not has,
        }

    def rows(self, g: pd.DataFrame) -> list[dict[str, Any]]:
        """The table rows of one comparison; ``first``: the first row of its domain."""
        out = [self.table_row(r) for _, r in g.iterrows()]
        for i, row in enumerate(out):
            row["first"] = i == 0 or out[i - 1]["domain_code"] != row["domain_code"]
        return out

    def chart(self, rows: pd.DataFrame, concept, prefix: str, unit: str) -> str:
        per_wave: dict[tuple, dict[str, tuple]] = {}
        order: list[tuple] = []
        for _, r in rows.iterrows():
            key = (r.domain, str(r.by_value))
            if key not in per_wave:
                per_wave[key] = {}
                order.append((key, r.domain_label, r.by_label))
            for j in (1, 2):
                scale = 100.0 if unit == SHARE else 1.0
                est = r[f"estimate_{j}"]
                if pd.isna(est):
                    note = (self.cat("trend.not_in", period=r[f"period_{j}"])
                            if str(r[f"status_{j}"]).startswith("not_in_") else self.cat("trend.suppressed"))
                    per_wave[key].setdefault(r[f"wave_{j}"], (None, note))
                else:
                    v = tuple(scale * float(r[f"{c}_{j}"]) for c in ("estimate", "ci_low", "ci_high"))
                    per_wave[key][r[f"wave_{j}"]] = (v, "")
        chart_rows: list[Row] = []
        last_domain = None
        for (domain, code), dlabel, blabel in order:
            if domain != "overall" and domain != last_domain:
                chart_rows.append(Row(dlabel, heading=True))
            last_domain = domain
            vals = [per_wave[(domain, code)].get(w, (None, ""))for w in self.waves]
            chart_rows.append(Row(self.cat("trend.overall") if domain == "overall" else blabel,
                                  values=[v for v, _ in vals], notes=[n for _, n in vals]))
        xlabel = self.cat("trend.chart_index") if unit == INDEX else self.cat("trend.chart_share")
        return trend_chart(chart_rows, [self.period(w) for w in self.waves], xlabel, prefix,
                           break_text=self.cat("trend.break_legend") if concept.break_note else None)

    def headline(self, concept, i: int) -> dict[str, Any]:
        rows = self.t[self.t.concept == concept.name]
        unit = str(rows.unit.iloc[0])
        pairs = []
        for (w1, w2), g in rows.groupby(["wave_1", "wave_2"], sort=False):
            pairs.append({"first": self.period(w1), "last": self.period(w2),
                          "methods": [self.method_of(w1), self.method_of(w2)],
                          "rows": self.rows(g)})
        chartable = unit in (INDEX, SHARE)
        return {"id": f"c{i}", "label": concept.label, "break_note": concept.break_note,
                "unit_note": self.cat("trend.unit_index" if unit == INDEX else "trend.unit_share" if unit == SHARE
                                      else "trend.unit_mean"),
                "share": unit == SHARE,
                "chart": self.chart(rows, concept, f"trend{i}", unit) if chartable else "",
                "pairs": pairs}

    def others(self) -> list[dict[str, Any]]:
        out = []
        for c in self.h.concepts.values():
            if c.headline:
                continue
            rows = self.t[(self.t.concept == c.name) & (self.t.domain == "overall")]
            for _, r in rows.iterrows():
                row = self.table_row(r)
                row.update({"label": c.label, "break_note": c.break_note, "share": r.unit == SHARE,
                            "first": r.period_1, "last": r.period_2, "first_of_concept": not out
                            or out[-1]["concept"] != c.name, "concept": c.name})
                out.append(row)
        return out


def trend_context(table: pd.DataFrame, h: Harmonisation, provenance: Mapping[str, Any],
                  lang: str = "nl", survey_title: str = "") -> dict[str, Any]:
    """What trend.html.j2 shows, from the published trend table (trend.csv's frame);
    ``survey_title``: the project's title (sid.yaml ``title``)."""
    page = _Page(table, h, lang)
    cat = page.cat
    periods = [page.period(w) for w in page.waves]
    methods = [f"{page.period(w)}: {page.method_of(w)}" for w in page.waves]
    heads = [c for c in h.concepts.values() if c.headline and (table.concept == c.name).any()]
    title = cat("trend.title", first=periods[0], last=periods[-1])
    return {
        "tr": cat.section("trend"), "report_title": title, "survey_title": survey_title,
        "wave": " – ".join(periods), "nav": [], "provenance": provenance,
        "intro": cat("trend.intro", waves=cat("trend.and", first=", ".join(periods[:-1]), last=periods[-1])),
        "method_text": cat("trend.method_text", methods="; ".join(methods)),
        "headlines": [page.headline(c, i) for i, c in enumerate(heads)],
        "others": page.others(),
    }


def trend_page(table: pd.DataFrame, h: Harmonisation, provenance: Mapping[str, Any], lang: str = "nl",
               templates_dir: Any = None, survey_title: str = "") -> str:
    """The trend page's HTML (one self-contained file: inline CSS and SVG, no URL)."""
    return render(environment(templates_dir, lang), TEMPLATE,
                  trend_context(table, h, provenance, lang, survey_title))


def runs_provenance(runs: Sequence[Any], run_id: str) -> dict[str, Any]:
    """The provenance block of the trend page: each wave's run folder's clean, weight and
    score stages (files and SHA-256), under the trend's run id."""
    from sid.report.provenance import provenance
    from sid.runfolder.manifest import read_manifest

    stages: list[dict[str, Any]] = []
    base = None
    for run in runs:
        manifest = read_manifest(run)
        p = provenance(manifest, ["clean", "weight", "score"])
        base = base or p
        wave = str(manifest.get("wave", run))
        for st in p["stages"]:
            stages.append({**st, "stage": f"{wave}: {st['stage']}"})
    out = dict(base or provenance({}, []))
    out.update({"run_id": run_id, "stages": stages})
    return out


__all__ = ["TEMPLATE", "runs_provenance", "trend_context", "trend_page"]
